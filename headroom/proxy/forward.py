"""Forwarding to the upstream and relaying its answer as it arrives.

Requests keep their method, path, query string, headers (minus hop-by-hop ones and the
proxy's own ``x-headroom-*``) and body; authentication headers go through untouched and are
never logged. Responses keep their status, headers and raw bytes: the body is relayed chunk
by chunk from ``aiter_raw()`` (still encoded as the upstream sent it, so ``content-encoding``
and ``content-length`` stay true), never buffered whole, and the upstream response is closed
when the client goes away. An upstream that cannot be reached or does not answer in time
gives a JSON error naming it (502 / 504).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Iterable
from typing import Final

import anyio
import httpx
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

__all__ = [
    "build_request",
    "failure",
    "forward",
    "relay",
    "relay_headers",
    "request_headers",
    "upstream_url",
]

log = logging.getLogger("headroom.proxy")

HOP_BY_HOP: Final = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# httpx adds these when a request lacks them; a client that did not send them must not be
# made to (accept-encoding in particular would change what the upstream sends back).
_DEFAULTS: Final = ("accept", "accept-encoding", "user-agent")


def request_headers(
    raw: Iterable[tuple[bytes, bytes]], *, keep_length: bool = False
) -> list[tuple[bytes, bytes]]:
    """The client's headers to send upstream: hop-by-hop, ``host`` and ``x-headroom-*``
    dropped; ``content-length`` too unless the body is relayed as it came."""
    raw = list(raw)
    # Headers the Connection header names are hop-by-hop too (RFC 9110 7.6.1); Expect was
    # answered by this server (100 Continue), not to be asked of the upstream again.
    listed = {
        token.strip().lower()
        for name, value in raw
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    out = []
    for name, value in raw:
        low = name.lower()
        if (
            low in HOP_BY_HOP
            or low in listed
            or low in (b"host", b"expect")
            or low.startswith(b"x-headroom-")
        ):
            continue
        if low == b"content-length" and not keep_length:
            continue  # the body changed, or httpx sets it from the bytes it sends
        out.append((name, value))
    return out


def relay_headers(headers: httpx.Headers) -> list[tuple[bytes, bytes]]:
    """The upstream's response headers to give the client (raw bytes are relayed, so
    ``content-encoding`` and ``content-length`` still describe them)."""
    listed = {token.strip().lower() for token in headers.get("connection", "").encode().split(b",")}
    return [
        (name, value)
        for name, value in headers.raw
        if name.lower() not in HOP_BY_HOP and name.lower() not in listed
    ]


def upstream_url(base: str, raw_path: bytes, query: bytes) -> str:
    """``base`` + the request's path and query, as the client wrote them.

    A base ending in ``/v1`` (as SDK base URLs do) is not doubled for a ``/v1/...`` path.
    """
    base = base.rstrip("/")
    path = raw_path.decode("latin-1")
    if base.endswith("/v1") and (path == "/v1" or path.startswith("/v1/")):
        base = base[:-3]
    url = base + path
    return f"{url}?{query.decode('latin-1')}" if query else url


class _Relay(StreamingResponse):
    """A streaming response that closes the upstream response however the relay ends
    (finished, client gone, cancelled)."""

    def __init__(self, upstream: httpx.Response) -> None:
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code)
        self.raw_headers = relay_headers(upstream.headers)
        self._upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception as error:  # the upstream broke off mid-body: nothing left to send
            log.warning(
                "relay of %s ended early: %s", self._upstream.url.path, type(error).__name__
            )
        finally:
            with anyio.CancelScope(shield=True):
                await self.release()

    async def release(self) -> None:
        """Close the upstream response (the in-process transport calls it when its reader
        closes the stream, as this server does when the relay ends)."""
        await self._upstream.aclose()


async def forward(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes | AsyncIterable[bytes],
    *,
    upstream: str,
) -> Response:
    """Send the request upstream and relay the answer; 502/504 JSON when it fails."""
    request = build_request(http, method, url, headers, body)
    try:
        response = await http.send(request, stream=True)
    except httpx.HTTPError as error:
        return failure(error, upstream)
    return _Relay(response)


def relay(response: httpx.Response) -> StreamingResponse:
    """The upstream's answer relayed as it arrives (its status, headers and raw bytes)."""
    return _Relay(response)


def build_request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes | AsyncIterable[bytes],
) -> httpx.Request:
    """The upstream request, with none of the headers httpx adds that the client did not
    send."""
    request = http.build_request(method, url, headers=headers, content=body)
    sent = {name.lower() for name, _ in headers}
    for name in _DEFAULTS:
        if name.encode() not in sent:
            request.headers.pop(name, None)
    return request


def failure(error: httpx.HTTPError, upstream: str) -> JSONResponse:
    """The 504 (timeout) or 502 (refused, reset, DNS, TLS) JSON error naming ``upstream``."""
    if isinstance(error, httpx.TimeoutException):
        return _failure(504, "upstream_timeout", f"{upstream} did not answer in time", error)
    return _failure(502, "upstream_unreachable", f"{upstream} could not be reached", error)


def _failure(status: int, kind: str, message: str, error: Exception) -> JSONResponse:
    where = _url(error)
    log.warning("%s: %s (%s)", kind, message, type(error).__name__)
    return JSONResponse(
        {
            "error": {
                "type": kind,
                "message": f"{message}: {type(error).__name__}: {error}",
                "upstream": where,
            }
        },
        status_code=status,
    )


def _url(error: Exception) -> str | None:
    """The URL that failed, without its query string (it may carry a key)."""
    if not isinstance(error, httpx.RequestError):
        return None
    try:
        return str(error.request.url.copy_with(query=None))
    except RuntimeError:  # httpx raises when the error was made without a request
        return None
