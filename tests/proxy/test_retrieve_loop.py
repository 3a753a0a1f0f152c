"""The ``headroom_retrieve`` loop through the proxy, with the real openai and anthropic SDKs.

The upstream here is scripted: each request it gets is answered by the next responder of
the test's script (a model that calls ``headroom_retrieve`` with the handle it finds in the
compressed tool result, then one that answers in text), and every request is recorded, so
the tests see both sides: what the upstream received on each round and what the client got.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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
            return JSONResponse(data, status_code=status)

        return Starlette(
            routes=[
                Route(CHAT, answer, methods=["POST"]),
                Route(MESSAGES, answer, methods=["POST"]),
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
    return find_markers(json.dumps(body["messages"], ensure_ascii=False))[0].handle


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


def test_stream_with_markers_gets_no_tool(
    start_proxy: Callable[..., Served], upstream: Upstream, hdfs: str
) -> None:
    # A stream is relayed as it arrives, so the proxy could not take a call out of it: a
    # streamed request is not offered the tool (docs/proxy.md). The session's recording
    # upstream streams a text answer, relayed as ever.
    proxy = start_proxy()
    stream = _create_chat(proxy, _chat_messages(hdfs), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "".join(
        CHAT_TEXT
    )
    sent = upstream.last(CHAT).json()
    assert sent["tools"] == [READ_FILE]
    assert find_markers(sent["messages"][3]["content"])
    with _create_claude(proxy, _claude_messages(hdfs), stream=True) as events:
        texts = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert texts == CLAUDE_TEXT
    assert upstream.last(MESSAGES).json()["tools"] == [CLAUDE_READ_FILE]


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
