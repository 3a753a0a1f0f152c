"""One client request through the proxy's logic, whatever carried it.

The HTTP server (:mod:`headroom.proxy.app`) and the in-process transport behind
:func:`headroom.wrap` (:mod:`headroom.proxy.inprocess`) both describe a request as an
:class:`Incoming` and call :func:`exchange`, which decides what happens to it (passed
through, compressed, offered ``headroom_retrieve`` and its calls answered), counts it, and
returns the Starlette response the client gets. There is one implementation of the
rewrite and the retrieve loop; each door only translates its own transport.

Compression runs in a worker thread (``anyio.to_thread``). Bodies and headers are never
logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# isort: off
from headroom.proxy import _deps  # noqa: F401  (first: names the extra when it is missing)

# isort: on
import anyio
import httpx
from starlette.responses import Response, StreamingResponse

from headroom.client import Headroom
from headroom.config import CompressConfig
from headroom.errors import HeadroomError
from headroom.proxy import retrieve_loop, retrieve_stream
from headroom.proxy.billed import Billed, tap
from headroom.proxy.forward import forward, request_headers
from headroom.proxy.retrieve import offer
from headroom.proxy.settings import ProxySettings
from headroom.proxy.stats import ProxyStats
from headroom.proxy.wire import FORMATS, Format, Rewrite, compress_body, dump
from headroom.store.usage import RECENT_DAYS

__all__ = ["Incoming", "State", "exchange"]

log = logging.getLogger("headroom.proxy")


@dataclass
class State:
    """What every request of one proxy (or one wrapped client) shares."""

    settings: ProxySettings
    client: Headroom
    stats: ProxyStats = field(default_factory=ProxyStats)
    http: httpx.AsyncClient | None = None
    configs: dict[CompressConfig, Headroom] = field(default_factory=dict)

    def clients(self) -> list[Headroom]:
        return [self.client, *self.configs.values()]

    def snapshot(
        self, stored: dict[str, Any] | None = None, peers: Sequence[dict[str, Any]] = ()
    ) -> dict[str, Any]:
        """The counters, the other workers' ``peers`` counts summed in; with ``stored`` (see
        :meth:`stored`) under ``savings.stored``."""
        out = self.stats.snapshot(self.clients(), peers)
        if stored is not None:
            out["savings"]["stored"] = stored
        return out

    def stored(self) -> dict[str, Any]:
        """Tokens saved by kind, and by UTC day and kind over the last 14 days, over every
        process and restart that used this store (its usage log), or the error that kept
        them from being read (blocking: run it in a thread)."""
        try:
            totals = self.client.usage.totals()
            days = self.client.usage.by_day(
                RECENT_DAYS
            )  # headroom stats --days reads the log for more
        except HeadroomError as error:
            return {"by_kind": {}, "by_day": {}, "error": str(error)}
        return {
            "by_kind": {kind: t.fields() for kind, t in totals.items()},
            "by_day": {
                day: {kind: t.fields() for kind, t in kinds.items()} for day, kinds in days.items()
            },
            "error": None,
        }


@dataclass(frozen=True, slots=True)
class Incoming:
    """A client request as the proxy's logic needs it.

    Attributes:
        method: the HTTP method.
        path: the API path that names the wire format (``/v1/chat/completions``,
            ``/v1/responses``, ``/v1/messages``, ``/v1/messages/count_tokens``; anything
            else is passed through).
        url: where the request goes upstream.
        upstream: the upstream's base URL, named in errors.
        headers: the client's raw headers.
        read: the whole body (called for requests that may be compressed).
        stream: the body as it arrives (for requests passed through).
    """

    method: str
    path: str
    url: str
    upstream: str
    headers: list[tuple[bytes, bytes]]
    read: Callable[[], Awaitable[bytes]]
    stream: Callable[[], AsyncIterator[bytes]]

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


async def exchange(state: State, incoming: Incoming) -> Response:
    """Forward one request the way the proxy does and return what the client gets."""
    settings = state.settings
    path = incoming.path
    fmt = FORMATS.get(path) if incoming.method == "POST" else None
    route = "passthrough" if fmt is None else path.removeprefix("/v1/").replace("/", "_")
    state.stats.request(route)
    bypass = (incoming.header(b"x-headroom-bypass") or b"").lower() in (b"1", b"true", b"yes")
    declared = _declared_length(incoming.header(b"content-length"))
    if fmt is None or bypass or (declared is not None and declared > settings.max_body_bytes):
        if fmt is not None:
            state.stats.outcome("bypassed" if bypass else "too_large")
        # Relayed as it streams in: nothing here needs to read it. A request that declares
        # no body (a GET) gets none, rather than an empty chunked one.
        has_body = declared is not None or incoming.header(b"transfer-encoding") is not None
        body = incoming.stream() if has_body else b""
        return await _send(state, incoming, body, keep_length=True)
    raw = await incoming.read()
    if len(raw) > settings.max_body_bytes:
        state.stats.outcome("too_large")
        return await _send(state, incoming, raw, keep_length=True)
    rewrite, offered = await anyio.to_thread.run_sync(_prepare, state.client, raw, fmt)
    state.stats.outcome(rewrite.status)
    if rewrite.status == "failed":
        state.stats.warn()
        log.warning("compression failed, forwarding the original request: %s", rewrite.error)
    elif rewrite.status != "skipped" and not path.endswith("/count_tokens"):
        state.stats.tokens(
            rewrite.model, rewrite.tokens_before, rewrite.tokens_after, rewrite.by_kind
        )
    if rewrite.warnings:
        state.stats.warn(len(rewrite.warnings))
    if path.endswith("/count_tokens"):  # counted with the tool the model will be offered
        body = rewrite.body if offered is None else dump(offered)
        return await _send(state, incoming, body, keep_length=body is raw)

    def record(billed: Billed) -> None:
        state.stats.billed_usage(rewrite.model, *billed)

    if offered is None:
        response = await _send(state, incoming, rewrite.body, keep_length=rewrite.body is raw)
        return tap(response, fmt, record)
    assert state.http is not None, "the door opens the upstream client"
    streamed = offered.get("stream") is True
    run = retrieve_stream.run if streamed else retrieve_loop.run
    response = await run(
        state.http,
        state.client,
        incoming.url,
        request_headers(incoming.headers),
        offered,
        fmt,
        upstream=incoming.upstream,
        on_error=state.stats.upstream_error,
    )
    return tap(response, fmt, record)


def _prepare(client: Headroom, raw: bytes, fmt: Format) -> tuple[Rewrite, dict[str, Any] | None]:
    """The compressed body, and that body with ``headroom_retrieve`` added when it gets the
    tool (one worker thread for both: each reads the JSON)."""
    rewrite = compress_body(client, raw, fmt)
    return rewrite, offer(rewrite.body, fmt, parsed=rewrite.parsed)


async def _send(
    state: State,
    incoming: Incoming,
    body: bytes | AsyncIterator[bytes],
    *,
    keep_length: bool,
) -> Response:
    assert state.http is not None, "the door opens the upstream client"
    headers = request_headers(incoming.headers, keep_length=keep_length)
    response = await forward(
        state.http, incoming.method, incoming.url, headers, body, upstream=incoming.upstream
    )
    if not isinstance(response, StreamingResponse):  # the proxy's own 502/504, not a relay
        state.stats.upstream_error("timeout" if response.status_code == 504 else "unreachable")
    return response


def _declared_length(value: bytes | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
