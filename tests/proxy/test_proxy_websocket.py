"""WebSocket passthrough (OpenAI Realtime's ``/v1/realtime``): the real ``openai`` SDK's
realtime client and a plain ``websockets`` client through the proxy to a loopback WebSocket
upstream the test starts; messages both ways byte for byte, close codes, refusals."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.proxy.upstream import Served

# The first event the upstream sends, unprompted, as OpenAI Realtime does.
CREATED = '{"type": "session.created", "event_id": "ev_1", "note": "h\\u00e9 \u2603 \U0001f600"}'
CLOSE_ME = "close-me"


@dataclass
class Seen:
    path: str
    query: bytes
    headers: dict[str, str]
    offered: list[str]
    received: list[tuple[str, Any]] = field(default_factory=list)
    closed: tuple[int, str] | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class WsUpstream:
    """Sends ``CREATED``, then echoes each message as it came (text as text, bytes as
    bytes); ``close-me`` makes it close with 4001. ``/v1/refused`` refuses the handshake."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)

    def app(self) -> Starlette:
        async def realtime(ws: WebSocket) -> None:
            offered = list(ws.scope.get("subprotocols", []))
            seen = Seen(
                ws.url.path,
                ws.scope["query_string"],
                {k.decode(): v.decode() for k, v in ws.scope["headers"]},
                offered,
            )
            self.seen.append(seen)
            await ws.accept(subprotocol="realtime" if "realtime" in offered else None)
            await ws.send_text(CREATED)
            try:
                while True:
                    message = await ws.receive()
                    if message["type"] == "websocket.disconnect":
                        seen.closed = (message.get("code"), message.get("reason") or "")
                        return
                    if message.get("bytes") is not None:
                        seen.received.append(("bytes", message["bytes"]))
                        await ws.send_bytes(message["bytes"])
                    else:
                        seen.received.append(("text", message["text"]))
                        if message["text"] == CLOSE_ME:
                            await ws.close(4001, "bye from upstream")
                            return
                        await ws.send_text(message["text"])
            except WebSocketDisconnect as gone:
                seen.closed = (gone.code, gone.reason or "")
            finally:
                seen.done.set()

        async def refused(ws: WebSocket) -> None:
            body = (
                b'{"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}'
            )
            await ws.send_denial_response(
                Response(body, status_code=401, media_type="application/json")
            )

        return Starlette(
            routes=[
                WebSocketRoute("/v1/realtime", realtime),
                WebSocketRoute("/v1/refused", refused),
            ]
        )


@pytest.fixture(scope="module")
def ws_upstream() -> Iterator[WsUpstream]:
    upstream = WsUpstream()
    with Served(upstream.app()) as served:
        upstream.url = served.url
        yield upstream


@pytest.fixture
def ws_proxy(start_proxy: Callable[..., Served], ws_upstream: WsUpstream) -> Served:
    ws_upstream.seen.clear()
    return start_proxy(openai_upstream=ws_upstream.url)


def _ws(served: Served) -> str:
    return served.url.replace("http://", "ws://")


def _last_closed(upstream: WsUpstream) -> tuple[int, str] | None:
    seen = upstream.seen[-1]
    assert seen.done.wait(10), "the upstream never saw the close"
    return seen.closed


def test_openai_realtime_sdk_through_the_proxy(ws_proxy: Served, ws_upstream: WsUpstream) -> None:
    client = openai.OpenAI(base_url=f"{ws_proxy.url}/v1", api_key="sk-rt-secret", max_retries=0)
    events = [
        {"type": "session.update", "session": {"instructions": "Réponds en français ☃"}},
        {"type": "input_audio_buffer.append", "audio": "AAEC/w=="},
        {"type": "response.create"},
    ]
    with client.realtime.connect(model="gpt-realtime") as conn:
        assert conn.recv_bytes() == CREATED.encode()  # the upstream's first event, unchanged
        for event in events:
            conn.send(event)  # type: ignore[arg-type]
            echoed = conn.recv_bytes()
            assert json.loads(echoed) == event
    seen = ws_upstream.seen[-1]
    assert seen.path == "/v1/realtime" and seen.query == b"model=gpt-realtime"
    assert seen.headers["authorization"] == "Bearer sk-rt-secret"  # forwarded untouched
    assert "x-headroom-key" not in seen.headers
    # What the SDK sent is what the upstream received, byte for byte, and echoed back.
    assert [json.loads(text) for _, text in seen.received] == events
    assert _last_closed(ws_upstream) == (1000, "")


def test_frames_both_ways_byte_for_byte(ws_proxy: Served, ws_upstream: WsUpstream) -> None:
    texts = ['{"a": "\\u00e9"}', "é ☃ 😀 \x00 trailing space ", "x" * 300_000]
    blobs = [b"\x00\xff\xfe invalid utf-8 \xc3", bytes(range(256)) * 4, os.urandom(2_000_000)]

    async def main() -> None:
        async with connect(
            f"{_ws(ws_proxy)}/v1/realtime?model=gpt-realtime&x=%2F",
            subprotocols=["realtime"],  # type: ignore[list-item]
            additional_headers={"OpenAI-Beta": "realtime=v1", "Authorization": "Bearer sk-x"},
            max_size=None,
        ) as ws:
            assert ws.subprotocol == "realtime"  # the upstream's choice reached the client
            assert await ws.recv() == CREATED
            for message in [*texts, *blobs]:
                await ws.send(message)
                back = await ws.recv()
                assert type(back) is type(message) and back == message
            await ws.close(4000, "client done")

    asyncio.run(main())
    seen = ws_upstream.seen[-1]
    assert seen.query == b"model=gpt-realtime&x=%2F"  # the query as the client wrote it
    assert seen.offered == ["realtime"] and seen.headers["openai-beta"] == "realtime=v1"
    assert seen.received == [("text", t) for t in texts] + [("bytes", b) for b in blobs]
    assert _last_closed(ws_upstream) == (4000, "client done")  # the client's code and reason


def test_upstream_close_reaches_the_client(ws_proxy: Served, ws_upstream: WsUpstream) -> None:
    async def main() -> tuple[int, str]:
        async with connect(f"{_ws(ws_proxy)}/v1/realtime") as ws:
            assert await ws.recv() == CREATED
            await ws.send(CLOSE_ME)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            rcvd = closed.value.rcvd
            assert rcvd is not None
            return rcvd.code, rcvd.reason

    assert asyncio.run(main()) == (4001, "bye from upstream")


def _refusal(url: str, **options: Any) -> InvalidStatus:
    async def main() -> None:
        async with connect(url, **options):
            pass

    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(main())
    return refused.value


def test_refusals(
    start_proxy: Callable[..., Served], ws_proxy: Served, ws_upstream: WsUpstream
) -> None:
    # The upstream's own refusal of the handshake: its status and body.
    refused = _refusal(f"{_ws(ws_proxy)}/v1/refused")
    assert refused.response.status_code == 401
    assert b"invalid_api_key" in bytes(refused.response.body or b"")
    # An upstream nobody listens on: 502 naming it.
    with Served(Starlette()) as gone:
        dead = gone.url
    proxy = start_proxy(openai_upstream=dead)
    unreachable = _refusal(f"{_ws(proxy)}/v1/realtime")
    assert unreachable.response.status_code == 502
    error = json.loads(bytes(unreachable.response.body or b""))["error"]
    assert error["type"] == "upstream_unreachable" and error["upstream"] == dead
    # A proxy with a key: refused without it; with it, relayed and the key not forwarded.
    keyed = start_proxy(openai_upstream=ws_upstream.url, api_key="proxy-key")
    assert _refusal(f"{_ws(keyed)}/v1/realtime").response.status_code == 403

    async def with_key() -> None:
        headers = {"x-headroom-key": "proxy-key"}
        async with connect(f"{_ws(keyed)}/v1/realtime", additional_headers=headers) as ws:
            assert await ws.recv() == CREATED

    started = time.monotonic()
    asyncio.run(with_key())
    assert time.monotonic() - started < 10
    assert "x-headroom-key" not in ws_upstream.seen[-1].headers


def test_websockets_are_counted(ws_proxy: Served) -> None:
    import httpx

    async def once() -> None:
        async with connect(f"{_ws(ws_proxy)}/v1/realtime") as ws:
            assert await ws.recv() == CREATED

    asyncio.run(once())
    stats = httpx.get(f"{ws_proxy.url}/stats").json()
    assert stats["requests"]["by_route"] == {"websocket": 1}
