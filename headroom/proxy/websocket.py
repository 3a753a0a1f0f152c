"""WebSocket passthrough: a WebSocket on any path (OpenAI Realtime's ``/v1/realtime``...)
is relayed to the configured upstream, each message both ways exactly as it came.

Nothing is compressed on a WebSocket: the proxy opens the same path and query on the
upstream (``ws://`` for an ``http://`` upstream, ``wss://`` for ``https://``), with the
client's headers (minus hop-by-hop, the handshake's own and ``x-headroom-*``) and
subprotocols, accepts the client with the subprotocol the upstream chose, then copies text
messages as text and binary messages as binary until either side closes, and gives the
other side that close code and reason. Messages are relayed whole (a fragmented message
arrives as one frame); their bytes are unchanged. An upstream that refuses the handshake
gives the client its status and body; one that cannot be reached, a 502 naming it (both as
the HTTP answer to the handshake, where the server supports that, else a close with 1011).

Uses the ``websockets`` package (in the ``proxy`` extra; httpx has no WebSocket client).
Headers and messages are never logged.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import anyio
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from headroom.proxy.forward import HOP_BY_HOP, request_headers

__all__ = ["relay_websocket", "websocket_url"]

# Set by the WebSocket client library itself for the upstream handshake.
_HANDSHAKE: Final = frozenset(
    {
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"sec-websocket-accept",
        b"content-length",
    }
)
# Close codes a peer may not send in a close frame (RFC 6455 7.4.1): they say "none given".
_RESERVED: Final = frozenset({1005, 1006, 1015})


def websocket_url(http_url: str) -> str:
    """The upstream URL with the WebSocket scheme matching its HTTP one.

    >>> websocket_url("https://api.openai.com/v1/realtime?model=gpt-realtime")
    'wss://api.openai.com/v1/realtime?model=gpt-realtime'
    >>> websocket_url("http://127.0.0.1:9000/v1/realtime")
    'ws://127.0.0.1:9000/v1/realtime'
    """
    parts = urlsplit(http_url)
    return urlunsplit(parts._replace(scheme="wss" if parts.scheme == "https" else "ws"))


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in request_headers(raw)
        if name.lower() not in _HANDSHAKE
    ]


def _close_code(code: int | None) -> int:
    return 1000 if code is None or code in _RESERVED else code


async def relay_websocket(
    websocket: WebSocket, url: str, upstream: str, *, open_timeout: float
) -> None:
    """Relay ``websocket`` to ``url`` (``upstream``, its base, is named in errors)."""
    # isort: off
    from headroom.proxy import _deps  # noqa: F401  (names the extra when it is missing)

    # isort: on
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
    from websockets.typing import Subprotocol

    offered = [
        token.strip()
        for value in websocket.headers.getlist("sec-websocket-protocol")
        for token in value.split(",")
        if token.strip()
    ]
    try:
        remote = await connect(
            websocket_url(url),
            additional_headers=_headers(websocket.scope["headers"]),
            subprotocols=[Subprotocol(p) for p in offered] or None,
            user_agent_header=None,  # the client's own User-Agent goes, if it sent one
            proxy=None,  # the configured upstream, not an HTTP(S)_PROXY of the environment
            open_timeout=open_timeout,
            ping_interval=None,  # a relay: keepalive is the two ends' business
            max_size=None,
            max_queue=None,
        )
    except InvalidStatus as refused:  # the upstream answered the handshake with an error
        answer = refused.response
        headers = [
            (k, v)
            for k, v in answer.headers.raw_items()
            if k.lower().encode() not in HOP_BY_HOP and k.lower() != "content-length"
        ]
        denial = Response(bytes(answer.body or b""), status_code=answer.status_code)
        denial.raw_headers = [
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers),
            (b"content-length", str(len(answer.body or b"")).encode()),
        ]
        await _deny(websocket, denial)
        return
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as error:  # unreachable
        body = {
            "error": {
                "type": "upstream_unreachable",
                "upstream": upstream,
                "message": f"cannot open a WebSocket to {upstream}: {type(error).__name__}",
            }
        }
        await _deny(websocket, Response(json.dumps(body), 502, media_type="application/json"))
        return
    async with remote:
        await websocket.accept(subprotocol=remote.subprotocol)

        async def client_to_upstream() -> None:
            try:
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        code = _close_code(message.get("code"))
                        await remote.close(code, message.get("reason") or "")
                        return
                    if message.get("bytes") is not None:
                        await remote.send(message["bytes"])
                    elif message.get("text") is not None:
                        await remote.send(message["text"])
            except ConnectionClosed:
                return  # the upstream went first: upstream_to_client closes the client

        async def upstream_to_client() -> None:
            try:
                async for data in remote:
                    if isinstance(data, bytes):
                        await websocket.send_bytes(data)
                    else:
                        await websocket.send_text(data)
            except ConnectionClosed:
                pass
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the client is gone: client_to_upstream closes the upstream
            rcvd = remote.protocol.close_rcvd  # None: the connection dropped without one
            code, reason = (_close_code(rcvd.code), rcvd.reason) if rcvd else (1011, "")
            with contextlib.suppress(RuntimeError, OSError):  # the client closed meanwhile
                await websocket.close(code, reason)

        async with anyio.create_task_group() as tasks:

            async def run(side: Callable[[], Awaitable[None]]) -> None:
                await side()
                tasks.cancel_scope.cancel()  # one side ended: the other has nothing to do

            tasks.start_soon(run, client_to_upstream)
            tasks.start_soon(run, upstream_to_client)


async def _deny(websocket: WebSocket, response: Response) -> None:
    """Refuse the handshake with ``response`` where the server can send one, else 1011."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close(1011, bytes(response.body).decode("utf-8", "replace")[:120])
