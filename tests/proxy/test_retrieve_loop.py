"""The ``headroom_retrieve`` loop through the proxy, with the real openai and anthropic SDKs.

The upstream here is scripted: each request it gets is answered by the next responder of
the test's script (a model that calls ``headroom_retrieve`` with the handle it finds in the
compressed tool result, then one that answers in text), and every request is recorded, so
the tests see both sides: what the upstream received on each round and what the client got.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from headroom import Headroom, retrieve_answer
from headroom.handles import find_markers
from headroom.proxy.retrieve import TOOL_NAME, tool_definition
from headroom.proxy.retrieve_loop import MAX_ROUNDS
from headroom.proxy.wire import dump
from tests.conftest import read_bench
from tests.proxy.upstream import CHAT_TEXT, CLAUDE_TEXT, Recorded, Served, Upstream

Responder = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
RESPONSES = "/v1/responses"
_IDS = itertools.count(1)
FINAL = "Blocks blk_-1608999687919862906 and blk_7503483334202473044 failed."


@dataclass
class Scripted:
    url: str = ""
    script: list[Responder] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.requests]

    def app(self) -> Starlette:
        async def answer(request: Request) -> Response:
            body = await request.body()
            seen = Recorded(request.method, request.url.path, b"", [], body)
            with self.lock:
                self.requests.append(seen)
                respond = self.script.pop(0) if self.script else _text
            status, data = respond(seen.json() | {"_path": seen.path})
            if status == 200 and seen.json().get("stream"):
                as_events = {
                    MESSAGES: _claude_events,
                    CHAT: _chat_chunks,
                    RESPONSES: _responses_events,
                }[seen.path]
                events = as_events(data, seen.json())
                return StreamingResponse(_paced(events), media_type="text/event-stream")
            return JSONResponse(data, status_code=status)

        return Starlette(
            routes=[
                Route(CHAT, answer, methods=["POST"]),
                Route(MESSAGES, answer, methods=["POST"]),
                Route(RESPONSES, answer, methods=["POST"]),
            ]
        )


@pytest.fixture(scope="module")
def served_script() -> Iterator[Scripted]:
    scripted = Scripted()
    with Served(scripted.app()) as served:
        scripted.url = served.url
        yield scripted


@pytest.fixture
def scripted(served_script: Scripted) -> Scripted:
    served_script.script.clear()
    served_script.requests.clear()
    return served_script


@pytest.fixture
def store() -> Headroom:
    return Headroom(store="memory")


@pytest.fixture
def proxy(start_proxy: Callable[..., Served], scripted: Scripted, store: Headroom) -> Served:
    return start_proxy(openai_upstream=scripted.url, anthropic_upstream=scripted.url, client=store)


@pytest.fixture(scope="module")
def hdfs(bench_data: Path) -> str:
    return read_bench(bench_data / "loghub" / "HDFS_2k.log")


# -- what the scripted model says ------------------------------------------------------------


def _handle(body: dict[str, Any]) -> str:
    """The handle of the first marker in the request's messages (what a model would copy)."""
    listed = body["input"] if "input" in body else body["messages"]
    return find_markers(json.dumps(listed, ensure_ascii=False))[0].handle


def _calls(*handles: str | None, also: str | None = None) -> Responder:
    """A model turn calling ``headroom_retrieve`` once per handle (``None``: the handle from
    the request's marker), and ``also`` (a client tool) after them."""

    def respond(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        named = [h if h is not None else _handle(body) for h in handles]
        calls = [(TOOL_NAME, {"handle": h}) for h in named]
        if also:
            calls.append((also, {"path": "HDFS_2k.log"}))
        if body["_path"] == MESSAGES:
            uses = [
                {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
                for i, (name, args) in enumerate(calls)
            ]
            content = [{"type": "text", "text": "Let me look at the whole log."}, *uses]
            return 200, _claude(body, content, "tool_use")
        if body["_path"] == RESPONSES:
            items = [
                {
                    "type": "function_call",
                    "id": f"fc_{next(_IDS)}",
                    "call_id": f"call_{i}",
                    "name": name,
                    "arguments": json.dumps(args),
                    "status": "completed",
                }
                for i, (name, args) in enumerate(calls)
            ]
            return 200, _responses(body, [_output_text("Let me look."), *items])
        tool_calls = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for i, (name, args) in enumerate(calls)
        ]
        return 200, _chat(body, {"content": None, "tool_calls": tool_calls}, "tool_calls")

    return respond


def _text(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if body["_path"] == RESPONSES:
        return 200, _responses(body, [_output_text(FINAL)])
    if body["_path"] == MESSAGES:
        return 200, _claude(body, [{"type": "text", "text": FINAL}], "end_turn")
    return 200, _chat(body, {"content": FINAL}, "stop")


def _rate_limited(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 429, {"error": {"type": "rate_limit_error", "message": "slow down"}}


def _chat(body: dict[str, Any], message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1733356800,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "refusal": None, **message},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": 20,
            "total_tokens": 1020,
            "prompt_tokens_details": {"cached_tokens": 512},
        },
    }


def _output_text(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{next(_IDS)}",  # every item its own id, as the API gives them
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _responses(body: dict[str, Any], output: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"resp_{next(_IDS)}",
        "object": "response",
        "created_at": 1733356800,
        "status": "completed",
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": body.get("tools", []),
        "usage": {
            "input_tokens": 1000,
            "input_tokens_details": {"cached_tokens": 512},
            "output_tokens": 20,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 1020,
        },
    }


def _claude(body: dict[str, Any], content: list[dict[str, Any]], stop: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 1000, "output_tokens": 20, "cache_read_input_tokens": 512},
    }


# -- the same responses as the providers stream them -----------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*", text)


async def _paced(events: list[bytes]) -> AsyncIterator[bytes]:
    for event in events:  # one write per event, as a real upstream sends them
        yield event
        await asyncio.sleep(0)


def _sse(name: str | None, data: Any) -> bytes:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def _chat_chunks(done: dict[str, Any], request: dict[str, Any]) -> list[bytes]:
    """A chat completion as OpenAI streams it: role, content words, tool call deltas (id
    and name first, arguments in two parts), the finish chunk, the usage chunk when asked."""
    message = done["choices"][0]["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        base = {key: done[key] for key in ("id", "created", "model")}
        return _sse(None, {**base, "object": "chat.completion.chunk", "choices": [choice]})

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": word}) for word in _words(message.get("content") or "")]
    for i, call in enumerate(message.get("tool_calls") or []):
        args = call["function"]["arguments"]
        start = {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        out.append(chunk({"tool_calls": [{"index": i, **start}]}))
        for part in (args[: len(args) // 2], args[len(args) // 2 :]):
            out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]}))
    out.append(chunk({}, done["choices"][0]["finish_reason"]))
    if (request.get("stream_options") or {}).get("include_usage"):
        base = {key: done[key] for key in ("id", "created", "model")}
        usage = {**base, "object": "chat.completion.chunk", "choices": [], "usage": done["usage"]}
        out.append(_sse(None, usage))
    return [*out, b"data: [DONE]\n\n"]


def _responses_events(done: dict[str, Any], request: dict[str, Any]) -> list[bytes]:
    """A response as the Responses API streams it: created, in_progress, each output item
    added, its text or argument deltas and done events, then completed (the whole
    response); every event numbered by sequence_number."""
    started = {**done, "status": "in_progress", "output": [], "usage": None}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
    ]
    for i, item in enumerate(done["output"]):
        at = {"output_index": i, "item_id": item["id"]}
        if item["type"] == "message":
            text = item["content"][0]["text"]
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": i,
                    "item": {**item, "content": []},
                }
            )
            part = {"type": "output_text", "text": "", "annotations": []}
            events.append(
                {"type": "response.content_part.added", **at, "content_index": 0, "part": part}
            )
            events += [
                {
                    "type": "response.output_text.delta",
                    **at,
                    "content_index": 0,
                    "delta": w,
                    "logprobs": [],
                }
                for w in _words(text)
            ]
            events.append(
                {
                    "type": "response.output_text.done",
                    **at,
                    "content_index": 0,
                    "text": text,
                    "logprobs": [],
                }
            )
            events.append(
                {
                    "type": "response.content_part.done",
                    **at,
                    "content_index": 0,
                    "part": item["content"][0],
                }
            )
        else:
            args = item["arguments"]
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": i,
                    "item": {**item, "arguments": "", "status": "in_progress"},
                }
            )
            events += [
                {"type": "response.function_call_arguments.delta", **at, "delta": part}
                for part in (args[: len(args) // 2], args[len(args) // 2 :])
            ]
            events.append(
                {"type": "response.function_call_arguments.done", **at, "arguments": args}
            )
        events.append({"type": "response.output_item.done", "output_index": i, "item": item})
    events.append({"type": "response.completed", "response": done})
    return [_sse(e["type"], {**e, "sequence_number": n}) for n, e in enumerate(events)]


def _claude_events(done: dict[str, Any], request: dict[str, Any]) -> list[bytes]:
    """A message as Anthropic streams it: message_start, each block's start, deltas and
    stop (tool input as two input_json_delta parts), message_delta, message_stop."""
    usage = done["usage"]
    start = {**done, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    out = [_sse("message_start", {"type": "message_start", "message": start})]
    for i, block in enumerate(done["content"]):
        if block["type"] == "text":
            first, deltas = (
                {"type": "text", "text": ""},
                [{"type": "text_delta", "text": w} for w in _words(block["text"])],
            )
        else:
            args = json.dumps(block["input"])
            first = {**block, "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": p}
                for p in (args[: len(args) // 2], args[len(args) // 2 :])
            ]
        out.append(
            _sse(
                "content_block_start",
                {"type": "content_block_start", "index": i, "content_block": first},
            )
        )
        out += [
            _sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d})
            for d in deltas
        ]
        out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": i}))
    delta = {"stop_reason": done["stop_reason"], "stop_sequence": None}
    out.append(
        _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": delta,
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
    )
    return [*out, _sse("message_stop", {"type": "message_stop"})]


# -- the client side -------------------------------------------------------------------------

READ_FILE = {
    "type": "function",
    "function": {
        "name": "read_file",
        "description": "Read a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
    },
}
CLAUDE_READ_FILE = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}


def _openai(proxy: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", max_retries=0)


def _anthropic(proxy: Served) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)


def _chat_messages(log: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You triage incidents."},
        {"role": "user", "content": "Which HDFS blocks failed?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_log",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "HDFS_2k.log"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_log", "content": log},
    ]


def _claude_messages(log: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Which HDFS blocks failed?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "tu_log", "name": "read_file", "input": {"path": "x"}}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "tu_log", "content": log}],
        },
    ]


def _create_chat(proxy: Served, messages: list[dict[str, Any]], **options: Any) -> Any:
    options.setdefault("tools", [READ_FILE])
    return _openai(proxy).chat.completions.create(
        model="gpt-4o",
        messages=messages,  # type: ignore[arg-type]
        **options,
    )


def _create_claude(proxy: Served, messages: list[dict[str, Any]], **options: Any) -> Any:
    options.setdefault("tools", [CLAUDE_READ_FILE])
    return _anthropic(proxy).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=messages,  # type: ignore[arg-type]
        **options,
    )


# -- OpenAI Chat Completions -----------------------------------------------------------------


def test_chat_retrieve_call_answered_by_the_proxy(
    proxy: Served, scripted: Scripted, store: Headroom, hdfs: str
) -> None:
    scripted.script[:] = [_calls(None), _text]
    completion = _create_chat(proxy, _chat_messages(hdfs))
    # The client sees one ordinary answer: no tool call, the final round's text.
    message = completion.choices[0].message
    assert message.content == FINAL and message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"
    # Tokens of both rounds, nested fields too: the client was billed for both.
    assert completion.usage.prompt_tokens == 2000
    assert completion.usage.total_tokens == 2040
    assert completion.usage.prompt_tokens_details.cached_tokens == 1024

    first, second = scripted.bodies()
    assert first["tools"] == [READ_FILE, tool_definition("chat")]
    compressed = first["messages"][3]["content"]
    handle = find_markers(compressed)[0].handle
    assert len(compressed) < len(hdfs) / 10
    # Round two: the same messages, then the model's call and the original from the store.
    assert second["messages"][:4] == first["messages"]
    call, result = second["messages"][4:]
    assert call["role"] == "assistant" and call["tool_calls"][0]["function"]["name"] == TOOL_NAME
    assert json.loads(call["tool_calls"][0]["function"]["arguments"]) == {"handle": handle}
    assert result == {"role": "tool", "tool_call_id": "call_0", "content": hdfs}
    assert store.retrieve(handle) == hdfs
    assert second["tools"] == first["tools"]


def test_chat_next_request_does_not_resend_the_original(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    scripted.script[:] = [_calls(None), _text, _text]
    messages = _chat_messages(hdfs)
    answer = _create_chat(proxy, messages).choices[0].message.content
    later = [
        *messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "Thanks. Which node served them?"},
    ]
    _create_chat(proxy, later)
    first, second, third = scripted.requests
    # The retrieved log went upstream once, inside the proxy's round trip; the client's next
    # request carries only what the client saw, and goes out compressed as before.
    assert len(second.body) > len(hdfs)
    assert len(third.body) < len(hdfs) / 10
    assert third.json()["messages"][:4] == first.json()["messages"]
    assert [m["role"] for m in third.json()["messages"]][4:] == ["assistant", "user"]
    # The offered tool is the same bytes on every request, at the end of tools.
    tool = dump(tool_definition("chat"))
    for seen in (first, second, third):
        assert seen.body.count(tool) == 1
        assert seen.json()["tools"][-1] == tool_definition("chat")


def test_chat_bad_handles_answered_with_a_message(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    scripted.script[:] = [_calls("headroom:000000000000", "the log please"), _text]
    completion = _create_chat(proxy, _chat_messages(hdfs))
    assert completion.choices[0].message.content == FINAL
    results = scripted.bodies()[1]["messages"][5:]
    assert [r["tool_call_id"] for r in results] == ["call_0", "call_1"]
    assert results[0]["content"] == retrieve_answer("headroom:000000000000")
    assert results[0]["content"].startswith("No original is stored under 'headroom:000000000000'")
    assert results[1]["content"] == retrieve_answer("the log please")
    assert results[1]["content"].startswith("Cannot retrieve")


def test_chat_client_tool_of_the_same_name_is_the_clients(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    own = {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": "The client's own",
            "parameters": {"type": "object", "properties": {"handle": {"type": "string"}}},
        },
    }
    scripted.script[:] = [_calls(None)]
    completion = _create_chat(proxy, _chat_messages(hdfs), tools=[own])
    # Not added twice, and the call is the client's to answer: one upstream round.
    assert [r.json()["tools"] for r in scripted.requests] == [[own]]
    assert completion.choices[0].message.tool_calls[0].function.name == TOOL_NAME


def test_chat_mixed_calls_go_to_the_client(proxy: Served, scripted: Scripted, hdfs: str) -> None:
    scripted.script[:] = [_calls(None, also="read_file")]
    completion = _create_chat(proxy, _chat_messages(hdfs))
    names = [c.function.name for c in completion.choices[0].message.tool_calls]
    assert names == [TOOL_NAME, "read_file"]
    assert len(scripted.requests) == 1


def test_chat_rounds_are_bounded(proxy: Served, scripted: Scripted, hdfs: str) -> None:
    scripted.script[:] = [_calls(None)] * (MAX_ROUNDS + 5)
    completion = _create_chat(proxy, _chat_messages(hdfs))
    # One request, then MAX_ROUNDS continuations; the last response is the client's.
    assert len(scripted.requests) == 1 + MAX_ROUNDS
    assert completion.choices[0].message.tool_calls[0].function.name == TOOL_NAME
    assert len(scripted.bodies()[-1]["messages"]) == 4 + 2 * MAX_ROUNDS
    assert completion.usage.prompt_tokens == 1000 * (1 + MAX_ROUNDS)


def test_chat_upstream_error_mid_loop_reaches_the_client(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    scripted.script[:] = [_calls(None), _rate_limited]
    with pytest.raises(openai.RateLimitError) as raised:
        _create_chat(proxy, _chat_messages(hdfs))
    assert raised.value.status_code == 429
    assert raised.value.body == {"type": "rate_limit_error", "message": "slow down"}


def test_no_marker_no_tool(proxy: Served, scripted: Scripted) -> None:
    messages = _chat_messages("disk /dev/sda1 is 93% full")
    _create_chat(proxy, messages)
    _create_chat(proxy, messages, tools=openai.NOT_GIVEN)
    first, second = scripted.bodies()
    assert first["tools"] == [READ_FILE]
    assert "tools" not in second


def test_chat_stream_retrieve_call_answered_in_one_stream(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    scripted.script[:] = [_calls(None), _text]
    chunks = list(
        _create_chat(
            proxy, _chat_messages(hdfs), stream=True, stream_options={"include_usage": True}
        )
    )
    # One stream: no tool call, no finish before the end, one usage chunk summed over both
    # rounds; the text is the second round's, word by word.
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert all(d.tool_calls is None for d in deltas)
    assert [d.content for d in deltas if d.content] == _words(FINAL)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert [f for f in finishes if f] == ["stop"] and finishes[-1] == "stop"
    usages = [c.usage for c in chunks if c.usage]
    assert len(usages) == 1 and usages[0].prompt_tokens == 2000
    assert usages[0].prompt_tokens_details.cached_tokens == 1024
    first, second = scripted.bodies()
    assert first["stream"] is second["stream"] is True
    assert first["tools"][-1] == tool_definition("chat")
    assert second["messages"][4]["tool_calls"][0]["function"]["name"] == TOOL_NAME
    assert second["messages"][5] == {"role": "tool", "tool_call_id": "call_0", "content": hdfs}


def test_chat_stream_helper_reads_one_completion(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    # The SDK's own accumulator (the ``.stream()`` helper) makes one completion of it.
    scripted.script[:] = [_calls(None), _calls(None), _text]
    with _openai(proxy).chat.completions.stream(
        model="gpt-4o",
        messages=_chat_messages(hdfs),  # type: ignore[arg-type]
        tools=[READ_FILE],  # type: ignore[list-item]
    ) as stream:
        completion = stream.get_final_completion()
    assert completion.choices[0].message.content == FINAL
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"
    assert len(scripted.requests) == 3


def test_chat_stream_mixed_calls_and_bound(proxy: Served, scripted: Scripted, hdfs: str) -> None:
    scripted.script[:] = [_calls(None, also="read_file")]
    chunks = list(_create_chat(proxy, _chat_messages(hdfs), stream=True))
    names = [
        call.function.name
        for c in chunks
        if c.choices
        for call in c.choices[0].delta.tool_calls or []
        if call.function and call.function.name
    ]
    assert names == [TOOL_NAME, "read_file"] and len(scripted.requests) == 1
    scripted.requests.clear()
    scripted.script[:] = [_calls(None)] * (MAX_ROUNDS + 5)
    chunks = list(_create_chat(proxy, _chat_messages(hdfs), stream=True))
    assert len(scripted.requests) == 1 + MAX_ROUNDS
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_chat_stream_upstream_error_mid_loop(proxy: Served, scripted: Scripted, hdfs: str) -> None:
    scripted.script[:] = [_calls(None), _rate_limited]
    with pytest.raises(openai.APIError) as raised:
        list(_create_chat(proxy, _chat_messages(hdfs), stream=True))
    assert "slow down" in str(raised.value)


def test_stream_without_a_call_relayed_as_it_came(
    start_proxy: Callable[..., Served], upstream: Upstream, hdfs: str
) -> None:
    # The session's recording upstream streams a text answer: offered the tool, the model
    # does not call it, and the client gets the upstream's stream, event by event.
    # The upstream holds its stream after the first event until the client has that event:
    # the proxy reads events as they come, it does not wait for the whole stream.
    proxy = start_proxy()
    upstream.gate.clear()
    stream = _create_chat(
        proxy, _chat_messages(hdfs), stream=True, extra_headers={"x-test-gate": "1"}
    )
    texts = []
    for chunk in stream:
        upstream.gate.set()
        if chunk.choices and chunk.choices[0].delta.content:
            texts.append(chunk.choices[0].delta.content)
    assert upstream.gate_opened[-1] is True
    assert texts == CHAT_TEXT
    sent = upstream.last(CHAT).json()
    assert sent["tools"] == [READ_FILE, tool_definition("chat")]
    with _create_claude(proxy, _claude_messages(hdfs), stream=True) as events:
        got = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert got == CLAUDE_TEXT
    assert upstream.last(MESSAGES).json()["tools"] == [
        CLAUDE_READ_FILE,
        tool_definition("anthropic"),
    ]


# -- Anthropic Messages ----------------------------------------------------------------------


def test_anthropic_retrieve_call_answered_by_the_proxy(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    scripted.script[:] = [_calls(None), _text]
    message = _create_claude(proxy, _claude_messages(hdfs), tool_choice={"type": "auto"})
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == FINAL and message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 2000
    assert message.usage.cache_read_input_tokens == 1024

    first, second = scripted.bodies()
    assert first["tools"] == [CLAUDE_READ_FILE, tool_definition("anthropic")]
    assert first["tool_choice"] == {"type": "auto"}  # the client's, as it was
    handle = find_markers(first["messages"][2]["content"][0]["content"])[0].handle
    assert second["messages"][:3] == first["messages"]
    turn, results = second["messages"][3:]
    assert turn["role"] == "assistant"
    assert turn["content"][0] == {"type": "text", "text": "Let me look at the whole log."}
    assert turn["content"][1]["name"] == TOOL_NAME
    assert turn["content"][1]["input"] == {"handle": handle}
    assert results == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_0", "content": hdfs}],
    }


def test_anthropic_next_request_and_bad_handle(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    scripted.script[:] = [_calls(None, "headroom:ffffffffffff"), _text, _text]
    messages = _claude_messages(hdfs)
    answer = _create_claude(proxy, messages).content[0].text
    results = scripted.bodies()[1]["messages"][4]["content"]
    assert [r["content"] for r in results] == [hdfs, retrieve_answer("headroom:ffffffffffff")]
    later = [
        *messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "Thanks. Which node served them?"},
    ]
    _create_claude(proxy, later)
    first, _, third = scripted.requests
    assert len(third.body) < len(hdfs) / 10
    assert third.json()["messages"][:3] == first.json()["messages"]
    tool = dump(tool_definition("anthropic"))
    assert first.body.count(tool) == third.body.count(tool) == 1


def test_anthropic_client_tool_of_the_same_name_is_the_clients(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    own = {"name": TOOL_NAME, "input_schema": {"type": "object"}}
    scripted.script[:] = [_calls(None)]
    message = _create_claude(proxy, _claude_messages(hdfs), tools=[own])
    assert [r.json()["tools"] for r in scripted.requests] == [[own]]
    assert message.stop_reason == "tool_use"
    assert message.content[1].name == TOOL_NAME


def test_anthropic_stream_is_one_message(proxy: Served, scripted: Scripted, hdfs: str) -> None:
    scripted.script[:] = [_calls(None), _calls(None), _text]
    events = []
    with _anthropic(proxy).messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=_claude_messages(hdfs),  # type: ignore[arg-type]
        tools=[CLAUDE_READ_FILE],  # type: ignore[list-item]
    ) as stream:
        events = [e.type for e in stream]
        message = stream.get_final_message()
    # One message_start ... message_stop; the client's blocks: each round's text, numbered
    # on from the last block it got, and no tool use.
    assert events.count("message_start") == events.count("message_stop") == 1
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert [b.type for b in message.content] == ["text", "text", "text"]
    texts = [b.text for b in message.content]  # type: ignore[union-attr]
    assert texts == ["Let me look at the whole log."] * 2 + [FINAL]
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 60  # 20 a round, three rounds
    bodies = scripted.bodies()
    assert len(bodies) == 3
    assert bodies[2]["messages"][:5] == bodies[1]["messages"]
    assert bodies[1]["messages"][3]["content"][1]["input"] == {"handle": _handle(bodies[0])}
    assert bodies[1]["messages"][4]["content"][0]["content"] == hdfs


def test_anthropic_stream_mixed_calls_go_to_the_client(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    scripted.script[:] = [_calls(None, also="read_file")]
    with _anthropic(proxy).messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=_claude_messages(hdfs),  # type: ignore[arg-type]
        tools=[CLAUDE_READ_FILE],  # type: ignore[list-item]
    ) as stream:
        message = stream.get_final_message()
    assert [getattr(b, "name", None) for b in message.content] == [None, TOOL_NAME, "read_file"]
    assert message.content[1].input == {"handle": _handle(scripted.bodies()[0])}  # type: ignore[union-attr]
    assert message.stop_reason == "tool_use" and len(scripted.requests) == 1


# -- OpenAI Responses ------------------------------------------------------------------------

RESPONSES_READ_FILE = {
    "type": "function",
    "name": "read_file",
    "description": "Read a file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
    "strict": False,
}


def _items(log: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Which HDFS blocks failed?"},
        {"type": "function_call", "call_id": "c_log", "name": "read_file", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c_log", "output": log},
    ]


def test_responses_retrieve_call_answered_by_the_proxy(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    scripted.script[:] = [_calls(None, "headroom:000000000000"), _text]
    response = _openai(proxy).responses.create(
        model="gpt-4.1",
        instructions="You triage incidents.",
        input=_items(hdfs),  # type: ignore[arg-type]
        tools=[RESPONSES_READ_FILE],  # type: ignore[list-item]
    )
    assert response.output_text == FINAL
    assert [item.type for item in response.output] == ["message"]
    assert response.usage is not None and response.usage.input_tokens == 2000
    first, second = scripted.bodies()
    assert first["tools"] == [RESPONSES_READ_FILE, tool_definition("responses")]
    assert second["instructions"] == "You triage incidents."
    handle = find_markers(first["input"][2]["output"])[0].handle
    assert second["input"][:3] == first["input"]
    turn = second["input"][3:]
    # The model's output items as they came, then one output per call.
    assert [item["type"] for item in turn] == ["message"] + ["function_call"] * 2 + [
        "function_call_output"
    ] * 2
    assert json.loads(turn[1]["arguments"]) == {"handle": handle}
    assert turn[3] == {"type": "function_call_output", "call_id": "call_0", "output": hdfs}
    assert turn[4]["output"] == retrieve_answer("headroom:000000000000")


def test_responses_mixed_calls_and_streams(
    proxy: Served,
    scripted: Scripted,
    start_proxy: Callable[..., Served],
    upstream: Upstream,
    hdfs: str,
) -> None:
    scripted.script[:] = [_calls(None, also="read_file")]
    response = _openai(proxy).responses.create(
        model="gpt-4.1",
        input=_items(hdfs),  # type: ignore[arg-type]
        tools=[RESPONSES_READ_FILE],  # type: ignore[list-item]
    )
    calls = [item.name for item in response.output if item.type == "function_call"]
    assert calls == [TOOL_NAME, "read_file"] and len(scripted.requests) == 1
    # Streamed, the model not calling the tool: the recording upstream's stream as it came.
    stream = _openai(start_proxy()).responses.create(
        model="gpt-4.1",
        input=_items(hdfs),  # type: ignore[arg-type]
        tools=[RESPONSES_READ_FILE],  # type: ignore[list-item]
        stream=True,
    )
    assert [e.type for e in stream][-1] == "response.completed"
    sent = upstream.last(RESPONSES).json()
    assert sent["tools"] == [RESPONSES_READ_FILE, tool_definition("responses")]
    assert find_markers(sent["input"][2]["output"])


def test_responses_stream_is_one_response(proxy: Served, scripted: Scripted, hdfs: str) -> None:
    scripted.script[:] = [_calls(None), _calls(None), _text]
    with _openai(proxy).responses.stream(
        model="gpt-4.1",
        input=_items(hdfs),  # type: ignore[arg-type]
        tools=[RESPONSES_READ_FILE],  # type: ignore[list-item]
        store=False,
    ) as stream:
        events = list(stream)
        response = stream.get_final_response()
    kinds = [e.type for e in events]
    # One response.created ... response.completed, numbered on without a gap; the client's
    # items: each round's message, at output indexes that go on, and no function call.
    assert kinds.count("response.created") == kinds.count("response.completed") == 1
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    added = [e.output_index for e in events if e.type == "response.output_item.added"]
    assert added == [0, 1, 2]
    assert [item.type for item in response.output] == ["message"] * 3
    assert response.output_text == "Let me look." * 2 + FINAL
    assert response.usage is not None and response.usage.input_tokens == 3000
    bodies = scripted.bodies()
    assert len(bodies) == 3 and all(b["stream"] is True for b in bodies)
    assert bodies[1]["input"][:3] == bodies[0]["input"]
    # Round three: the client's items, then each earlier round's output items and answers
    # (the model's own messages among them: the upstream sees the whole exchange).
    replayed = bodies[2]["input"][3:]
    assert [i["type"] for i in replayed] == ["message", "function_call", "function_call_output"] * 2
    assert [i["output"] for i in replayed[2::3]] == [hdfs, hdfs]


def test_anthropic_stream_upstream_error_mid_loop(
    proxy: Served, scripted: Scripted, hdfs: str
) -> None:
    # The 200 and the first round's events were sent: the failure of the second round
    # arrives as Anthropic's error event, which the SDK raises.
    scripted.script[:] = [_calls(None), _rate_limited]
    with (
        pytest.raises(anthropic.APIStatusError, match="slow down"),
        _create_claude(proxy, _claude_messages(hdfs), stream=True) as events,
    ):
        for _ in events:
            pass
    assert len(scripted.requests) == 2
