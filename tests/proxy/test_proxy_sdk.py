"""The real openai and anthropic SDKs through the proxy: what the upstream received
(compressed tool results, every other field and the auth headers as sent) and what the
client got back (the upstream's answer, streamed event by event)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from headroom.proxy.retrieve import tool_definition
from tests.conftest import read_bench
from tests.proxy.upstream import CHAT_TEXT, CLAUDE_TEXT, Served, Upstream

OPENAI_KEY = "sk-test-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-test-0123456789"


@pytest.fixture(scope="module")
def issues(bench_data: Path) -> str:
    return read_bench(bench_data / "json" / "gh_issues_rails_admin.json")


@pytest.fixture(scope="module")
def hdfs(bench_data: Path) -> str:
    return read_bench(bench_data / "loghub" / "HDFS_2k.log")


def _openai(proxy: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=OPENAI_KEY, max_retries=0)


def _anthropic(proxy: Served) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key=ANTHROPIC_KEY, max_retries=0)


def _chat(issues: str, hdfs: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You triage incidents."},
        {"role": "user", "content": "Which HDFS blocks failed, and is there an open issue?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_log",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "HDFS_2k.log"}'},
                },
                {
                    "id": "call_issues",
                    "type": "function",
                    "function": {"name": "list_issues", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_log", "content": hdfs},
        {"role": "tool", "tool_call_id": "call_issues", "content": issues},
    ]


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
]


def test_openai_chat_tool_results_compressed(
    proxy: Served, upstream: Upstream, issues: str, hdfs: str
) -> None:
    messages = _chat(issues, hdfs)
    raw = _openai(proxy).chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=messages,  # type: ignore[arg-type]
        tools=TOOLS,  # type: ignore[arg-type]
        temperature=0.2,
        extra_body={"some_future_field": {"kept": [1, 2.5, None]}},
    )
    seen = upstream.last("/v1/chat/completions")
    sent = seen.json()
    # Both tool results went out much smaller; everything else as the SDK wrote it.
    assert len(sent["messages"][3]["content"]) < len(hdfs) / 3
    assert len(sent["messages"][4]["content"]) < len(issues) / 3
    assert sent["messages"][:3] == messages[:3]
    # The client's tools, then headroom_retrieve: the results now carry markers
    # (tests/proxy/test_retrieve_loop.py).
    assert sent["tools"] == [*TOOLS, tool_definition("chat")]
    assert sent["temperature"] == 0.2
    assert sent["some_future_field"] == {"kept": [1, 2.5, None]}
    assert seen.header("authorization") == f"Bearer {OPENAI_KEY}"
    assert seen.header("content-length") == str(len(seen.body))
    # The client got the upstream's body byte for byte, and the SDK parsed it.
    completion = raw.parse()
    assert raw.http_response.content == _upstream_chat_body()
    assert completion.choices[0].message.content == "".join(CHAT_TEXT)


def _upstream_chat_body() -> bytes:
    from tests.proxy.upstream import _chat_body

    return _chat_body("gpt-4o")


def test_openai_chat_stream_relayed_as_it_arrives(
    proxy: Served, upstream: Upstream, issues: str, hdfs: str
) -> None:
    upstream.gate.clear()
    stream = _openai(proxy).chat.completions.create(
        model="gpt-4o",
        messages=_chat(issues, hdfs),  # type: ignore[arg-type]
        stream=True,
        extra_headers={"x-test-gate": "1"},
    )
    deltas = []
    for chunk in stream:
        # The upstream holds the rest of the stream until the client has the first chunk:
        # the proxy must relay it before the response is complete.
        upstream.gate.set()
        deltas.append(chunk.choices[0].delta.content if chunk.choices else None)
    assert upstream.gate_opened[-1] is True
    assert "".join(d for d in deltas if d) == "".join(CHAT_TEXT)
    assert [d for d in deltas if d] == CHAT_TEXT  # in order, one per upstream event
    assert len(upstream.last("/v1/chat/completions").json()["messages"][3]["content"]) < len(hdfs)


def test_openai_responses_function_call_output_compressed(
    proxy: Served, upstream: Upstream, issues: str, hdfs: str
) -> None:
    items: list[dict[str, Any]] = [
        {"role": "user", "content": "Which HDFS blocks failed?"},
        {
            "type": "function_call",
            "call_id": "call_log",
            "name": "read_file",
            "arguments": '{"path": "HDFS_2k.log"}',
        },
        {"type": "function_call_output", "call_id": "call_log", "output": hdfs},
        {"type": "function_call", "call_id": "call_is", "name": "list_issues", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_is", "output": issues},
    ]
    response = _openai(proxy).responses.create(
        model="gpt-4.1",
        instructions="You triage incidents.",
        input=items,  # type: ignore[arg-type]
        store=False,
    )
    sent = upstream.last("/v1/responses").json()
    assert sent["instructions"] == "You triage incidents."
    assert sent["store"] is False
    assert len(sent["input"][2]["output"]) < len(hdfs) / 3
    assert len(sent["input"][4]["output"]) < len(issues) / 3
    for i in (0, 1, 3):
        assert sent["input"][i] == items[i]
    assert response.output_text == "".join(CHAT_TEXT)


def test_openai_responses_stream(proxy: Served, upstream: Upstream, hdfs: str) -> None:
    upstream.gate.clear()
    items = [
        {"role": "user", "content": "Which HDFS blocks failed?"},
        {"type": "function_call", "call_id": "c", "name": "read_file", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c", "output": hdfs},
    ]
    stream = _openai(proxy).responses.create(
        model="gpt-4.1",
        input=items,  # type: ignore[arg-type]
        stream=True,
        extra_headers={"x-test-gate": "1"},
    )
    events = []
    for event in stream:
        upstream.gate.set()  # as in the chat stream test: the first event came on its own
        events.append(event)
    assert upstream.gate_opened[-1] is True
    assert [e.type for e in events] == [
        "response.created",
        *["response.output_text.delta"] * len(CHAT_TEXT),
        "response.completed",
    ]
    assert [e.delta for e in events[1:-1]] == CHAT_TEXT  # type: ignore[union-attr]
    assert events[-1].response.output_text == "".join(CHAT_TEXT)  # type: ignore[union-attr]
    assert len(upstream.last("/v1/responses").json()["input"][2]["output"]) < len(hdfs) / 3


def _claude(issues: str, hdfs: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Which HDFS blocks failed, and is there an open issue?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Reading the log and the issues."},
                {"type": "tool_use", "id": "tu_log", "name": "read_file", "input": {"path": "x"}},
                {"type": "tool_use", "id": "tu_is", "name": "list_issues", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "tu_log", "content": hdfs},
                {
                    "type": "tool_result",
                    "tool_use_id": "tu_is",
                    "content": [{"type": "text", "text": issues}],
                    "cache_control": {"type": "ephemeral"},
                },
            ],
        },
    ]


SYSTEM = [
    {"type": "text", "text": "You triage incidents. " * 50, "cache_control": {"type": "ephemeral"}}
]


def test_anthropic_messages_tool_results_compressed(
    proxy: Served, upstream: Upstream, issues: str, hdfs: str
) -> None:
    messages = _claude(issues, hdfs)
    message = _anthropic(proxy).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=512,
        system=SYSTEM,  # type: ignore[arg-type]
        messages=messages,  # type: ignore[arg-type]
        metadata={"user_id": "u-1"},
    )
    seen = upstream.last("/v1/messages")
    sent = seen.json()
    assert sent["system"] == SYSTEM  # never compressed
    assert sent["metadata"] == {"user_id": "u-1"}
    assert sent["max_tokens"] == 512
    assert sent["messages"][:2] == messages[:2]
    results = sent["messages"][2]["content"]
    assert len(results[0]["content"]) < len(hdfs) / 3
    assert len(results[1]["content"][0]["text"]) < len(issues) / 3
    assert results[1]["cache_control"] == {"type": "ephemeral"}  # the breakpoint stays put
    # Whichever header this SDK version puts its key in (x-api-key, or a bearer token in
    # newer ones) arrived as the SDK wrote it.
    auth = _anthropic(proxy).auth_headers
    assert auth and all(seen.header(k.lower()) == v for k, v in auth.items())
    assert ANTHROPIC_KEY in "".join(auth.values())
    assert seen.header("anthropic-version") is not None
    assert message.content[0].text == "".join(CLAUDE_TEXT)  # type: ignore[union-attr]


def test_anthropic_stream_events_in_order(
    proxy: Served, upstream: Upstream, issues: str, hdfs: str
) -> None:
    upstream.gate.clear()
    events = []
    with _anthropic(proxy).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=_claude(issues, hdfs),  # type: ignore[arg-type]
        stream=True,
        extra_headers={"x-test-gate": "1"},
    ) as stream:
        for event in stream:
            upstream.gate.set()
            events.append(event)
    assert upstream.gate_opened[-1] is True
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * len(CLAUDE_TEXT),
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    texts = [e.delta.text for e in events if e.type == "content_block_delta"]  # type: ignore[union-attr]
    assert texts == CLAUDE_TEXT


def test_anthropic_count_tokens_on_the_compressed_body(
    proxy: Served, upstream: Upstream, issues: str, hdfs: str
) -> None:
    counted = _anthropic(proxy).messages.count_tokens(
        model="claude-sonnet-4-5",
        messages=_claude(issues, hdfs),  # type: ignore[arg-type]
    )
    seen = upstream.last("/v1/messages/count_tokens")
    assert len(seen.body) < (len(hdfs) + len(issues)) / 3
    assert counted.input_tokens == len(seen.body) // 4
    assert json.loads(seen.body)["messages"][0]["content"].startswith("Which HDFS")
