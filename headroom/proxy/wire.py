"""Which requests are compressed, and how their JSON body is rewritten.

Three wire formats carry a conversation:

====================================  ===========  ==================================
path (POST)                           format       message list
====================================  ===========  ==================================
``/v1/chat/completions``              chat         ``messages``
``/v1/responses``                     responses    ``input`` (when it is a list)
``/v1/messages``                      anthropic    ``messages`` (``system`` untouched)
``/v1/messages/count_tokens``         anthropic    ``messages``
====================================  ===========  ==================================

Only the message list changes, and only its text (the messages layer guarantees the rest:
same items, same order, every other field the same object). Every other field of the body
(``model``, ``tools``, ``temperature``, ``metadata``, ``cache_control`` blocks, fields this
code has never heard of) is kept in place. The body is serialized again only when a message
changed; otherwise the client's own bytes go upstream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from headroom.client import Headroom
from headroom.results import CompressResult

__all__ = [
    "FORMATS",
    "Rewrite",
    "compress_body",
    "dump",
    "loads",
    "messages_key",
    "tokens_by_kind",
]

Format = Literal["chat", "responses", "anthropic"]

FORMATS: Final[Mapping[str, Format]] = {
    "/v1/chat/completions": "chat",
    "/v1/responses": "responses",
    "/v1/messages": "anthropic",
    "/v1/messages/count_tokens": "anthropic",
}
"""Path -> wire format of the requests whose messages are compressed."""


def messages_key(fmt: Format) -> str:
    return "input" if fmt == "responses" else "messages"


@dataclass(frozen=True, slots=True)
class Rewrite:
    """What compression made of a body; ``body`` is what goes upstream.

    ``status`` is ``compressed`` (a message changed), ``unchanged`` (nothing to gain),
    ``skipped`` (not JSON, not an object, no message list: forwarded as it came) or
    ``failed`` (compression raised: forwarded as it came, ``error`` names the exception
    and, for a bad message, the field).
    """

    body: bytes
    status: Literal["compressed", "unchanged", "skipped", "failed"]
    model: str | None = None
    tokens_before: int = 0
    tokens_after: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Tokens before and after of the pieces compression considered, by content kind."""
    parsed: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """The object ``body`` is the JSON of (``None`` when skipped or failed): read once, so
    whoever adds to the body next need not parse it again."""


def compress_body(client: Headroom, raw: bytes, fmt: Format) -> Rewrite:
    """Compress the message list inside a request body (blocking: run it in a thread)."""
    try:
        body = loads(raw)
    except ValueError:  # also UnicodeDecodeError: the provider answers a malformed body
        return Rewrite(raw, "skipped")
    if not isinstance(body, dict):
        return Rewrite(raw, "skipped")
    key = messages_key(fmt)
    messages = body.get(key)
    if not isinstance(messages, list) or not messages:
        return Rewrite(raw, "skipped")  # a Responses ``input`` string has no tool results
    model = body.get("model") if isinstance(body.get("model"), str) else None
    try:
        result = client.compress(messages, model=model)
    except Exception as error:  # fails safe: the original request goes out
        # Named by type and place only: an error's message may quote the request's content,
        # and request contents are never logged.
        where = getattr(error, "path", None)
        name = type(error).__name__
        return Rewrite(raw, "failed", model, error=f"{name} at {where}" if where else name)
    changed = any(new is not old for new, old in zip(result.messages, messages, strict=True))
    by_kind = tokens_by_kind(result)
    if not changed:
        return Rewrite(
            raw,
            "unchanged",
            model,
            result.tokens_before,
            result.tokens_after,
            result.warnings,
            by_kind=by_kind,
            parsed=body,
        )
    rewritten: dict[str, Any] = dict(body)  # same key order: only the list is swapped
    rewritten[key] = result.messages
    return Rewrite(
        dump(rewritten),
        "compressed",
        model,
        result.tokens_before,
        result.tokens_after,
        result.warnings,
        by_kind=by_kind,
        parsed=rewritten,
    )


def tokens_by_kind(result: CompressResult) -> dict[str, tuple[int, int]]:
    """Tokens before and after of the pieces compression considered, by content kind."""
    by_kind: dict[str, tuple[int, int]] = {}
    for piece in result.diagnostics:
        before, after = by_kind.get(piece.kind, (0, 0))
        by_kind[piece.kind] = (before + piece.tokens_before, after + piece.tokens_after)
    return by_kind


def dump(body: object) -> bytes:
    """A body as the proxy writes one.

    Compact and deterministic: the same messages always give the same bytes, whatever
    the messages after them, which is what keeps a provider's cached prefix valid from one
    request to the next.

    >>> dump({"a": [1e-05, "é"]})
    b'{"a":[0.00001,"\xc3\xa9"]}'
    >>> dump({"a": [1e-05, "é"], "b": 2**70})  # "a" is written the same way
    b'{"a":[0.00001,"\xc3\xa9"],"b":1180591620717411303424}'
    """
    try:
        # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) writes,
        # floats below 1e-4 aside (spelled out, as "0.00001"), several times faster; a
        # body read by loads() holds no NaN, which it would write as null.
        return orjson.dumps(body)
    except orjson.JSONEncodeError:  # integers beyond 64 bits, lone surrogates
        pass
    # Only the parts orjson refuses are written by the json module: writing the whole body
    # that way would spell every float and (escaped) non-ASCII character of the earlier
    # messages differently as soon as a later one held such a value.
    if isinstance(body, dict):
        return b"{" + b",".join(dump(k) + b":" + dump(v) for k, v in body.items()) + b"}"
    if isinstance(body, list):
        return b"[" + b",".join(dump(item) for item in body) + b"]"
    text = json.dumps(body, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a "\ud800" escape): keep it escaped
        return json.dumps(body).encode("ascii")


def loads(raw: bytes | str) -> Any:
    """A request body's JSON, read by the json module: orjson would read an integer beyond
    64 bits as a float, changing it. ``NaN`` and ``Infinity`` are refused (no provider takes
    them, and :func:`dump`'s orjson would write them as ``null``).

    Raises:
        ValueError: it is not JSON (also UnicodeDecodeError for bytes that are not UTF-8).
    """
    return json.loads(raw, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
