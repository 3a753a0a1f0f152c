"""A recording stand-in for the OpenAI and Anthropic APIs, and uvicorn in a thread.

The upstream answers the way the providers do (JSON bodies and SSE event sequences shaped
like theirs, so the real SDKs parse them) and keeps every request it received: method,
path, query string, headers and the exact body bytes. Test-only switches travel in
``x-test-*`` request headers (the proxy forwards every header but its own ``x-headroom-*``).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODELS_BODY = b'{"object": "list",\n  "data": [{"id": "gpt-4o", "object": "model"}]}  \n'
CHAT_TEXT = ["Block ", "blk_-1608999687919862906 ", "failed ", "on 10.250.19.102."]
RETRIEVE_CALL = "call_retrieve_1"
CLAUDE_TEXT = ["The ", "failing ", "blocks ", "are listed above."]


@dataclass
class Recorded:
    method: str
    path: str
    query: bytes
    headers: list[tuple[str, str]]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when the whole body had arrived

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Upstream:
    """The app and what it saw; ``gate`` lets a test hold a stream after its first event."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    gate_opened: list[bool] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def last(self, path: str) -> Recorded:
        with self.lock:
            return next(r for r in reversed(self.requests) if r.path == path)

    def bodies(self, path: str) -> list[bytes]:
        with self.lock:
            return [r.body for r in self.requests if r.path == path]

    async def _record(self, request: Request) -> Recorded:
        body = await request.body()
        seen = Recorded(
            request.method,
            request.url.path,
            request.scope["query_string"],
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            body,
        )
        with self.lock:
            self.requests.append(seen)
        return seen

    async def _events(self, events: list[bytes], gated: bool) -> AsyncIterator[bytes]:
        for i, event in enumerate(events):
            yield event
            if i == 0 and gated:
                # The client must see the first event before the rest is produced: a proxy
                # that buffered the stream whole would keep the gate shut until the timeout.
                deadline = time.monotonic() + 10
                while not self.gate.is_set() and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
                self.gate_opened.append(self.gate.is_set())

    def app(self) -> Starlette:
        async def chat(request: Request) -> Response:
            seen = await self._record(request)
            failure = _failure(seen)
            if failure is not None:
                return failure
            body = seen.json()
            answered = any(m.get("tool_call_id") == RETRIEVE_CALL for m in body["messages"])
            if seen.header("x-test-retrieve") == "1" and not answered:
                return Response(_retrieve_call(body), media_type="application/json")
            if body.get("stream"):
                return StreamingResponse(
                    self._events(_chat_events(body["model"]), seen.header("x-test-gate") == "1"),
                    media_type="text/event-stream",
                )
            return Response(_chat_body(body["model"]), media_type="application/json")

        async def responses(request: Request) -> Response:
            seen = await self._record(request)
            body = seen.json()
            if body.get("stream"):
                return StreamingResponse(
                    self._events(
                        _responses_events(body["model"]), seen.header("x-test-gate") == "1"
                    ),
                    media_type="text/event-stream",
                )
            return Response(_responses_body(body["model"]), media_type="application/json")

        async def messages(request: Request) -> Response:
            seen = await self._record(request)
            failure = _failure(seen)
            if failure is not None:
                return failure
            body = seen.json()
            if body.get("stream"):
                return StreamingResponse(
                    self._events(_claude_events(body["model"]), seen.header("x-test-gate") == "1"),
                    media_type="text/event-stream",
                )
            return Response(_claude_body(body["model"]), media_type="application/json")

        async def count_tokens(request: Request) -> Response:
            seen = await self._record(request)
            return JSONResponse({"input_tokens": len(seen.body) // 4})

        async def models(request: Request) -> Response:
            await self._record(request)
            return Response(MODELS_BODY, media_type="application/json", headers={"x-up": "1"})

        async def slow(request: Request) -> Response:
            await self._record(request)
            await asyncio.sleep(3)
            return Response(b"late")

        async def gzipped(request: Request) -> Response:
            await self._record(request)
            data = gzip.compress(MODELS_BODY * 50, mtime=0)
            return Response(data, headers={"content-encoding": "gzip"}, media_type="text/plain")

        async def endless(request: Request) -> Response:
            await self._record(request)

            async def forever() -> AsyncIterator[bytes]:
                try:
                    for i in range(1000):
                        yield f"data: {i}\n\n".encode()
                        await asyncio.sleep(0.02)
                finally:  # runs when the proxy closes its upstream connection
                    self.disconnected.set()

            return StreamingResponse(forever(), media_type="text/event-stream")

        async def echo(request: Request) -> Response:
            seen = await self._record(request)
            return Response(
                seen.body,
                status_code=201,
                headers={"x-query": seen.query.decode("latin-1"), "x-method": seen.method},
                media_type="application/octet-stream",
            )

        return Starlette(
            routes=[
                Route("/v1/chat/completions", chat, methods=["POST"]),
                Route("/v1/responses", responses, methods=["POST"]),
                Route("/v1/messages", messages, methods=["POST"]),
                Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
                Route("/v1/models", models, methods=["GET"]),
                Route("/slow", slow, methods=["GET"]),
                Route("/gzipped", gzipped, methods=["GET"]),
                Route("/endless", endless, methods=["GET"]),
                Route("/{path:path}", echo, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            ]
        )


def _failure(seen: Recorded) -> Response | None:
    status = seen.header("x-test-status")
    if status is None:
        return None
    body = {
        "error": {
            "message": "Rate limit reached for gpt-4o: try again in 20s.",
            "type": "requests",
            "code": "rate_limit_exceeded",
        }
    }
    return JSONResponse(body, status_code=int(status), headers={"retry-after": "20"})


def _chat_body(model: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-9",
            "object": "chat.completion",
            "created": 1733356800,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(CHAT_TEXT)},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 12, "total_tokens": 1212},
        },
        indent=2,
    ).encode()


def _retrieve_call(body: dict[str, Any]) -> bytes:
    """A chat completion calling ``headroom_retrieve`` on the first handle in the request
    (what a model does with ``x-test-retrieve: 1``; its next round, holding the tool's
    answer, gets the ordinary text)."""
    handle = re.search(r"headroom:[0-9a-f]{12}", json.dumps(body["messages"]))
    assert handle is not None, "x-test-retrieve: the request holds no handle"
    call = {
        "id": RETRIEVE_CALL,
        "type": "function",
        "function": {
            "name": "headroom_retrieve",
            "arguments": json.dumps({"handle": handle.group(0)}),
        },
    }
    data = json.loads(_chat_body(body["model"]))
    data["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": [call]}
    data["choices"][0]["finish_reason"] = "tool_calls"
    return json.dumps(data).encode()


def _chat_events(model: str) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        data = {
            "id": "chatcmpl-9",
            "object": "chat.completion.chunk",
            "created": 1733356800,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(data).encode() + b"\n\n"

    return [
        chunk({"role": "assistant", "content": ""}),
        *(chunk({"content": text}) for text in CHAT_TEXT),
        chunk({}, "stop"),
        b"data: [DONE]\n\n",
    ]


def _responses_body(model: str) -> bytes:
    return json.dumps(
        {
            "id": "resp_9",
            "object": "response",
            "created_at": 1733356800,
            "status": "completed",
            "model": model,
            "output": [
                {
                    "type": "message",
                    "id": "msg_9",
                    "status": "completed",
                    "role": "assistant",
                    "content": [
                        {"type": "output_text", "text": "".join(CHAT_TEXT), "annotations": []}
                    ],
                }
            ],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": 1200,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 12,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 1212,
            },
        }
    ).encode()


def _responses_events(model: str) -> list[bytes]:
    done = json.loads(_responses_body(model))
    started = {**done, "status": "in_progress", "output": [], "usage": None}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": started}]
    events += [
        {
            "type": "response.output_text.delta",
            "item_id": "msg_9",
            "output_index": 0,
            "content_index": 0,
            "delta": text,
            "logprobs": [],
        }
        for text in CHAT_TEXT
    ]
    events.append({"type": "response.completed", "response": done})
    return [
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': i})}\n\n".encode()
        for i, e in enumerate(events)
    ]


def _claude_body(model: str) -> bytes:
    return json.dumps(
        {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "".join(CLAUDE_TEXT)}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1200, "output_tokens": 9},
        }
    ).encode()


def _claude_events(model: str) -> list[bytes]:
    def event(name: str, data: dict[str, Any]) -> bytes:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

    start = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 1200, "output_tokens": 1},
    }
    return [
        event("message_start", {"type": "message_start", "message": start}),
        event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        event("ping", {"type": "ping"}),
        *(
            event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": t},
                },
            )
            for t in CLAUDE_TEXT
        ),
        event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 9},
            },
        ),
        event("message_stop", {"type": "message_stop"}),
    ]


class Served:
    """An ASGI app served by uvicorn on a free 127.0.0.1 port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Inherited by accepted connections: without it a response written in two parts
        # (headers, body) waits out the client's delayed ACK, 40 ms per keep-alive request.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind(("127.0.0.1", 0))  # bound before the thread starts: no port race
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            server_header=False,
            date_header=False,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
