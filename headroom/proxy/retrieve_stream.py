"""The ``headroom_retrieve`` loop for streamed responses (``stream: true``).

The upstream's Server-Sent Events are relayed to the client event by event as they arrive,
until the model starts a ``headroom_retrieve`` call (chat: a ``delta.tool_calls`` entry
naming it; Responses: a ``response.output_item.added`` of a ``function_call`` naming it;
Anthropic: a ``content_block_start`` of a ``tool_use`` block naming it). From
there the rest of that upstream stream is held. When it ends:

* if the model's turn called ``headroom_retrieve`` and nothing else, the calls are
  answered from the store, the continuation is sent upstream as a new streamed request,
  and its events are relayed in the same client stream, at most
  :data:`~headroom.proxy.retrieve_loop.MAX_ROUNDS` times. The held events are dropped (the
  call, the round's finish: OpenAI's ``finish_reason: tool_calls`` chunk and ``[DONE]``,
  Anthropic's ``message_delta`` and ``message_stop``); Anthropic's next ``message_start``
  is dropped too and content block indexes go on from the last block the client got, so
  the client reads one message, ``message_start`` to ``message_stop``. Responses: later
  rounds' ``response.created``/``in_progress`` are dropped, ``output_index`` and
  ``sequence_number`` go on from what the client got, and the closing response carries the
  first round's id and every output item the client was sent;
* otherwise (the client's tools were called too, or the rounds are used up) the held
  events go to the client as they came.

Usage in the last round's closing event (chat's usage chunk, Responses'
``response.completed``, Anthropic's ``message_delta``) is summed over the rounds, as in the
non-streamed loop. The body is relayed decoded (``content-encoding`` dropped). An upstream
failure after the stream began reaches the client as an error event (the status was
already sent).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import anyio
import httpx
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from headroom.client import Headroom
from headroom.proxy.forward import build_request, failure, relay, relay_headers
from headroom.proxy.retrieve import TOOL_NAME, continuation, retrieve_calls
from headroom.proxy.retrieve_loop import _DROPPED, MAX_ROUNDS, answer, summed
from headroom.proxy.wire import Format, dump, messages_key

__all__ = ["run"]

log = logging.getLogger("headroom.proxy")

_RESPONSE_ENDS: Final = frozenset({"response.completed", "response.incomplete", "response.failed"})
_EVENT_END: Final = re.compile(rb"\r\n\r\n|\n\n|\r\r")


@dataclass
class _Event:
    raw: bytes  # as the upstream sent it, without the blank line that ended it
    name: str | None
    data: Any  # the parsed JSON, the string "[DONE]", or None

    @classmethod
    def parse(cls, raw: bytes) -> _Event:
        name = None
        lines = []
        for line in raw.decode("utf-8", "replace").splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                lines.append(line[5:].removeprefix(" "))
        text = "\n".join(lines)
        try:
            data = json.loads(text) if text and text != "[DONE]" else (text or None)
        except ValueError:
            data = text
        return cls(raw, name, data)


@dataclass
class _Round:
    """One upstream stream: what it says the model did, and the events held back."""

    fmt: Format
    held: list[_Event] | None = None  # events from the first retrieve call on
    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)  # anthropic
    text: list[str] = field(default_factory=list)  # chat
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)  # chat
    usage: dict[str, Any] = field(default_factory=dict)
    several: bool = False  # chat: more than one choice
    final: dict[str, Any] = field(default_factory=dict)  # responses: the closing response

    def starts_retrieve(self, data: Any) -> bool:
        if not isinstance(data, dict):
            return False
        if self.fmt == "responses":
            item = data.get("item")
            return (
                data.get("type") == "response.output_item.added"
                and isinstance(item, dict)
                and item.get("type") == "function_call"
                and item.get("name") == TOOL_NAME
            )
        if self.fmt == "anthropic":
            block = data.get("content_block")
            return (
                data.get("type") == "content_block_start"
                and isinstance(block, dict)
                and block.get("type") == "tool_use"
                and block.get("name") == TOOL_NAME
            )
        return any(
            isinstance(call, dict)
            and isinstance(call.get("function"), dict)
            and call["function"].get("name") == TOOL_NAME
            for choice in data.get("choices") or []
            if isinstance(choice, dict) and isinstance(choice.get("delta"), dict)
            for call in choice["delta"].get("tool_calls") or []
        )

    def read(self, data: Any) -> None:
        """Take in what one event says about the model's turn."""
        if not isinstance(data, dict):
            return
        if self.fmt == "anthropic":
            self._read_anthropic(data)
            return
        if self.fmt == "responses":
            # The closing event carries the whole response: the turn is read from it.
            if data.get("type") in _RESPONSE_ENDS and isinstance(data.get("response"), dict):
                self.final = data["response"]
                if isinstance(self.final.get("usage"), dict):
                    self.usage = self.final["usage"]
            return
        if isinstance(data.get("usage"), dict):
            self.usage = data["usage"]
        for choice in data.get("choices") or []:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                continue
            if choice.get("index", 0) != 0:
                self.several = True  # n > 1: not one turn the proxy could continue
            if isinstance(delta.get("content"), str):
                self.text.append(delta["content"])
            for part in delta.get("tool_calls") or []:
                if not isinstance(part, dict):
                    continue
                call = self.calls.setdefault(
                    part.get("index", 0),
                    {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                )
                if part.get("id"):
                    call["id"] = part["id"]
                function = part.get("function") or {}
                call["function"]["name"] += function.get("name") or ""
                call["function"]["arguments"] += function.get("arguments") or ""

    def _read_anthropic(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "message_start":
            self.usage = dict((data.get("message") or {}).get("usage") or {})
        elif kind == "message_delta":
            self.usage.update(data.get("usage") or {})
        elif kind == "content_block_start" and isinstance(data.get("content_block"), dict):
            self.blocks[data.get("index", len(self.blocks))] = dict(data["content_block"])
        elif kind == "content_block_delta":
            block = self.blocks.get(data.get("index", -1))
            delta = data.get("delta")
            if block is None or not isinstance(delta, dict):
                return
            for key, into in (
                ("text", "text"),
                ("thinking", "thinking"),
                ("partial_json", "_json"),
            ):
                if key in delta:
                    block[into] = block.get(into, "") + delta[key]
            if "signature" in delta:
                block["signature"] = delta["signature"]
            if "citation" in delta:
                block.setdefault("citations", []).append(delta["citation"])

    def response(self) -> dict[str, Any]:
        """The turn as a non-streamed response would have carried it."""
        if self.fmt == "responses":
            return self.final
        if self.fmt == "anthropic":
            content = []
            for _, block in sorted(self.blocks.items()):
                block = dict(block)
                if "_json" in block:
                    partial = block.pop("_json")
                    try:
                        block["input"] = json.loads(partial) if partial else {}
                    except ValueError:
                        block["input"] = {}
                content.append(block)
            return {"content": content}
        if self.several:
            return {"choices": []}  # retrieve_calls answers None: relayed as it came
        message = {
            "role": "assistant",
            "content": "".join(self.text) or None,
            "tool_calls": [call for _, call in sorted(self.calls.items())],
        }
        return {"choices": [{"message": message}]}


class _Stream(StreamingResponse):
    """The client's stream; the current upstream response is closed however it ends."""

    def __init__(self, loop: _Loop, first: httpx.Response) -> None:
        super().__init__(loop.events(first), status_code=200)
        self.raw_headers = [
            (k, v) for k, v in relay_headers(first.headers) if k.lower() not in _DROPPED
        ]
        self._loop = loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception as error:  # the upstream broke off mid-body: nothing left to send
            log.warning("retrieve stream ended early: %s", type(error).__name__)
        finally:
            with anyio.CancelScope(shield=True):
                await self.release()

    async def release(self) -> None:
        """Close the round's upstream response however the client's stream ended."""
        if self._loop.current is not None:
            await self._loop.current.aclose()


@dataclass
class _Loop:
    http: httpx.AsyncClient
    client: Headroom
    url: str
    headers: list[tuple[bytes, bytes]]
    body: dict[str, Any]
    fmt: Format
    upstream: str
    on_error: Callable[[str], None]
    current: httpx.Response | None = None
    offset: int = 0  # anthropic: content blocks, responses: output items the client got
    items: list[Any] = field(default_factory=list)  # responses: output items the client got
    sequence: int = -1  # responses: the last sequence_number the client got
    response_id: str | None = None  # responses: the id of the response the client began
    usages: list[dict[str, Any]] = field(default_factory=list)

    async def events(self, first: httpx.Response) -> AsyncIterator[bytes]:
        key = messages_key(self.fmt)
        messages: list[Any] = list(self.body[key])
        response: httpx.Response | None = first
        for round_ in range(MAX_ROUNDS + 1):
            assert response is not None
            self.current = response
            turn = _Round(self.fmt)
            blocks = 0
            async for event in _sse(response.aiter_bytes()):
                turn.read(event.data)
                if turn.held is None and turn.starts_retrieve(event.data):
                    turn.held = []
                if turn.held is not None:
                    turn.held.append(event)
                    continue
                out = self._out(event, round_)
                if out is not None:
                    blocks += _block_started(event, self.fmt)
                    yield out
            await response.aclose()
            self.usages.append(turn.usage)
            # The response is rebuilt from its events only when the proxy held them back.
            data = turn.response() if turn.held and round_ < MAX_ROUNDS else None
            calls = None if data is None else retrieve_calls(data, self.fmt)
            if data is None or calls is None:
                for event in turn.held or []:
                    out = self._out(event, round_)
                    if out is not None:
                        yield out
                return
            self.offset += blocks
            answers = await anyio.to_thread.run_sync(answer, self.client, calls)
            store = self.body.get("store")
            turns = continuation(data, calls, answers, self.fmt, body_store=store)
            messages = [*messages, *turns]
            response, error = await self._send({**self.body, key: messages})
            if error is not None:
                yield error
                return

    async def _send(self, body: dict[str, Any]) -> tuple[httpx.Response | None, bytes | None]:
        payload = await anyio.to_thread.run_sync(dump, body)
        request = build_request(self.http, "POST", self.url, self.headers, payload)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.HTTPError as error:
            self.on_error("timeout" if isinstance(error, httpx.TimeoutException) else "unreachable")
            reply = failure(error, self.upstream)
            return None, self._error(json.loads(bytes(reply.body))["error"])
        if response.status_code != 200:
            content = await response.aread()
            await response.aclose()
            try:
                detail = json.loads(content).get("error")
            except (ValueError, AttributeError):
                detail = None
            if not isinstance(detail, dict):
                detail = {"type": "api_error", "message": content.decode("utf-8", "replace")}
            detail = {**detail, "status": response.status_code}
            return None, self._error(detail)
        return response, None

    def _error(self, detail: dict[str, Any]) -> bytes:
        if self.fmt == "anthropic":
            return _write("error", {"type": "error", "error": detail})
        return _write(None, {"error": detail})

    def _out(self, event: _Event, round_: int) -> bytes | None:
        """The bytes the client gets for ``event`` (``None``: dropped)."""
        data = event.data
        if self.fmt == "responses":
            return self._out_responses(event, round_)
        if round_ == 0:  # the client's stream as the upstream began it
            return event.raw + b"\n\n"
        if self.fmt == "anthropic" and isinstance(data, dict):
            kind = data.get("type")
            if kind == "message_start":
                return None  # the client's message started in the first round
            index = data.get("index")
            if kind in ("content_block_start", "content_block_delta", "content_block_stop") and (
                isinstance(index, int)
            ):
                return _write(event.name, {**data, "index": index + self.offset})
            if kind == "message_delta" and isinstance(data.get("usage"), dict):
                return _write(event.name, {**data, "usage": self._usage(data["usage"], round_)})
        elif isinstance(data, dict) and isinstance(data.get("usage"), dict):
            return _write(event.name, {**data, "usage": self._usage(data["usage"], round_)})
        return event.raw + b"\n\n"

    def _out_responses(self, event: _Event, round_: int) -> bytes | None:
        data = event.data
        if not isinstance(data, dict):
            return event.raw + b"\n\n"
        kind = data.get("type")
        if round_ == 0:  # as the upstream sent it; what the client got is noted
            if kind == "response.created" and isinstance(data.get("response"), dict):
                self.response_id = data["response"].get("id")
            if kind == "response.output_item.done":
                self.items.append(data.get("item"))
            if isinstance(data.get("sequence_number"), int):
                self.sequence = data["sequence_number"]
            return event.raw + b"\n\n"
        if kind in ("response.created", "response.queued", "response.in_progress"):
            return None  # the client's response began in the first round
        data = dict(data)
        if isinstance(data.get("output_index"), int):
            data["output_index"] += self.offset
        if "sequence_number" in data:
            self.sequence += 1
            data["sequence_number"] = self.sequence
        if kind == "response.output_item.done":
            self.items.append(data.get("item"))
        if kind in _RESPONSE_ENDS and isinstance(data.get("response"), dict):
            # The client's response holds every item it was sent, all rounds, under the id
            # it began with (the SDK's stream helper refuses a response whose id changed).
            response = {**data["response"], "output": list(self.items)}
            if self.response_id is not None:
                response["id"] = self.response_id
            if isinstance(response.get("usage"), dict):
                response["usage"] = self._usage(response["usage"], round_)
            data["response"] = response
        return _write(event.name, data)

    def _usage(self, final: dict[str, Any], round_: int) -> dict[str, Any]:
        # The earlier rounds as a whole, this one as its closing event says.
        return summed([*self.usages[:round_], final])


def _block_started(event: _Event, fmt: Format) -> int:
    """1 when ``event`` starts what a later round's indexes count on from."""
    data = event.data
    if not isinstance(data, dict):
        return 0
    if fmt == "responses":
        return int(data.get("type") == "response.output_item.added")
    return int(fmt == "anthropic" and data.get("type") == "content_block_start")


def _write(name: str | None, data: Any) -> bytes:
    head = f"event: {name}\n" if name else ""
    return (head + "data: " + json.dumps(data, ensure_ascii=False) + "\n\n").encode()


async def _sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[_Event]:
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while True:
            end = _EVENT_END.search(buffer)
            if end is None:
                break
            raw, buffer = buffer[: end.start()], buffer[end.end() :]
            if raw.strip():
                yield _Event.parse(raw)
    if buffer.strip():
        yield _Event.parse(buffer)


async def run(
    http: httpx.AsyncClient,
    client: Headroom,
    url: str,
    headers: list[tuple[bytes, bytes]],
    body: dict[str, Any],
    fmt: Format,
    *,
    upstream: str,
    on_error: Callable[[str], None],
) -> Response:
    """Send ``body`` (streamed, the tool offered) upstream and relay one coherent stream."""
    loop = _Loop(http, client, url, headers, body, fmt, upstream, on_error)
    payload = await anyio.to_thread.run_sync(dump, body)
    try:
        first = await http.send(build_request(http, "POST", url, headers, payload), stream=True)
    except httpx.HTTPError as error:
        on_error("timeout" if isinstance(error, httpx.TimeoutException) else "unreachable")
        return failure(error, upstream)
    if first.status_code != 200:
        return relay(first)  # the upstream's error, as it came
    return _Stream(loop, first)
