"""What an upstream response says it billed: input tokens, and the cached prefix apart.

The proxy's savings are estimates at list prices; the provider's own count of what it
served from its prompt cache is read from the responses as they pass, so ``/stats`` can
show it beside them (OpenAI ``usage.prompt_tokens_details.cached_tokens`` or
``usage.input_tokens_details.cached_tokens``, Anthropic ``usage.cache_read_input_tokens``).

:func:`tap` wraps a response on its way to the client: a streamed body is read chunk by
chunk as it is relayed (never held back: the chunks go on unchanged), decoded when it was
sent gzip- or deflate-encoded; Server-Sent Events are read line by line, a JSON body whole
(up to :data:`MAX_JSON_BYTES`). When the body ends, the counts go to ``record``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, Final

from starlette.responses import Response, StreamingResponse

from headroom.proxy.wire import Format

__all__ = ["MAX_JSON_BYTES", "Billed", "tap", "usage_of"]

MAX_JSON_BYTES: Final = 8 * 1024 * 1024
_MAX_EVENT_LINE: Final = 1024 * 1024  # a usage event is a few hundred bytes
"""A JSON response body larger than this is relayed but not read."""

Billed = tuple[int, int]
"""Input tokens and, of those, cached-prefix tokens."""


def usage_of(data: object, fmt: Format) -> Billed | None:
    """The billed input and cached tokens in a response body or one of its events."""
    if not isinstance(data, dict):
        return None
    usage = data.get("usage")
    for holder in ("response", "message"):  # Responses' closing event, Anthropic's start
        inner = data.get(holder)
        if not isinstance(usage, dict) and isinstance(inner, dict):
            usage = inner.get("usage")
    if not isinstance(usage, dict):
        return None
    if fmt == "anthropic":
        # Anthropic's input_tokens leaves out what was read from or written to the cache.
        read = _int(usage.get("cache_read_input_tokens"))
        written = _int(usage.get("cache_creation_input_tokens"))
        return _int(usage.get("input_tokens")) + read + written, read
    if "prompt_tokens" in usage:  # chat
        details = usage.get("prompt_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else None
        return _int(usage.get("prompt_tokens")), _int(cached)
    details = usage.get("input_tokens_details")  # responses
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if "input_tokens" not in usage:
        return None
    return _int(usage.get("input_tokens")), _int(cached)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class _Reader:
    """Reads usage out of a body fed to it chunk by chunk."""

    def __init__(self, fmt: Format, events: bool, encoding: str | None) -> None:
        self.fmt = fmt
        self.events = events
        self.decoder = (
            zlib.decompressobj(wbits=47) if encoding in ("gzip", "deflate", "x-gzip") else None
        )
        self.unreadable = encoding not in (None, "", "identity", "gzip", "deflate", "x-gzip")
        self.buffer = bytearray()
        self.skipping = False
        self.billed: Billed | None = None

    def feed(self, chunk: bytes) -> None:
        if self.unreadable:
            return
        if self.decoder is not None:
            try:
                # Bounded: a small compressed chunk can inflate a thousandfold.
                chunk = self.decoder.decompress(chunk, MAX_JSON_BYTES)
            except zlib.error:
                self.unreadable = True
                return
            if self.decoder.unconsumed_tail:
                self.unreadable = True
                self.buffer.clear()
                return
        self.buffer += chunk
        if not self.events:
            if len(self.buffer) > MAX_JSON_BYTES:
                self.unreadable = True
                self.buffer.clear()
            return
        if b"\n" not in chunk:
            # A long line arriving in pieces (an image's base64): split only once it ends,
            # or the unfinished line is copied again for every piece.
            if len(self.buffer) > _MAX_EVENT_LINE:  # usage lines are short: not one of them
                self.buffer.clear()
                self.skipping = True
            return
        *lines, rest = bytes(self.buffer).split(b"\n")
        self.buffer = bytearray(rest)
        if self.skipping:  # the first line ended the long line being skipped
            self.skipping = False
            lines = lines[1:]
        for line in lines:
            self._line(line)

    def _line(self, line: bytes) -> None:
        if not line.startswith(b"data:") or b'"usage"' not in line:
            return
        try:
            billed = usage_of(json.loads(line[5:]), self.fmt)
        except ValueError:
            return
        if billed is not None:
            # Events of one stream repeat or extend the count: keep the largest seen.
            old = self.billed or (0, 0)
            self.billed = (max(old[0], billed[0]), max(old[1], billed[1]))

    def finish(self) -> Billed | None:
        if self.unreadable:
            return None
        if self.events:
            self._line(bytes(self.buffer).rstrip(b"\r"))
            return self.billed
        try:
            return usage_of(json.loads(self.buffer), self.fmt)
        except ValueError:
            return None


def tap(response: Response, fmt: Format, record: Callable[[Billed], None]) -> Response:
    """``response``, whose usage is given to ``record`` when its body has been sent."""
    if response.status_code != 200:
        return response
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.raw_headers}
    events = "text/event-stream" in headers.get("content-type", "")
    encoding = headers.get("content-encoding", "").strip().lower() or None
    reader = _Reader(fmt, events, encoding)
    if not isinstance(response, StreamingResponse):
        reader.feed(bytes(response.body))
        billed = reader.finish()
        if billed is not None:
            record(billed)
        return response
    response.body_iterator = _read_along(response.body_iterator, reader, record)
    return response


async def _read_along(
    chunks: AsyncIterable[Any], reader: _Reader, record: Callable[[Billed], None]
) -> AsyncIterator[Any]:
    try:
        async for chunk in chunks:
            reader.feed(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk))
            yield chunk
    finally:
        closing = getattr(chunks, "aclose", None)
        if callable(closing):
            await closing()
        billed = reader.finish()
        if billed is not None:
            record(billed)
