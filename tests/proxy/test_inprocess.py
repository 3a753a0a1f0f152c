"""``headroom.wrap(client)``: the real SDK clients, sync and async, compressing in-process.

No proxy server here: the wrapped client talks straight to the recording upstream (or to
the scripted one of ``test_retrieve_loop``), and the tests assert what the upstream
received (compressed, prefix-stable from one turn to the next, the retrieve loop resolved
locally) and what the client got.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

import headroom
from headroom import Headroom, InvalidArgumentError
from headroom.handles import find_markers
from headroom.proxy.inprocess import api_path, stats
from headroom.proxy.retrieve import TOOL_NAME, tool_definition
from headroom.proxy.wire import dump
from tests.conftest import read_bench
from tests.proxy.test_retrieve_loop import (
    CLAUDE_READ_FILE,
    FINAL,
    READ_FILE,
    Scripted,
    _calls,
    _chat_messages,
    _claude_messages,
    _handle,
    _text,
)
from tests.proxy.upstream import CHAT_TEXT, CLAUDE_TEXT, Served, Upstream

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
RESPONSES = "/v1/responses"


@pytest.fixture(scope="module")
def hdfs(bench_data: Path) -> str:
    return read_bench(bench_data / "loghub" / "HDFS_2k.log")


@pytest.fixture(scope="module")
def issues(bench_data: Path) -> str:
    return read_bench(bench_data / "json" / "gh_issues_rails_admin.json")


@pytest.fixture(scope="module")
def script_server() -> Iterator[Scripted]:
    scripted = Scripted()
    with Served(scripted.app()) as served:
        scripted.url = served.url
        yield scripted


@pytest.fixture
def script(script_server: Scripted) -> Scripted:
    script_server.script.clear()
    script_server.requests.clear()
    return script_server


@pytest.fixture
def store() -> Headroom:
    return Headroom(store="memory")


def _openai(url: str, store: Headroom) -> openai.OpenAI:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test-wrap", max_retries=0)
    return headroom.wrap(client, headroom=store)


def _async_openai(url: str, store: Headroom) -> openai.AsyncOpenAI:
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-test-wrap", max_retries=0)
    return headroom.wrap(client, headroom=store)


def _anthropic(url: str, store: Headroom) -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-wrap", max_retries=0)
    return headroom.wrap(client, headroom=store)


def _async_anthropic(url: str, store: Headroom) -> anthropic.AsyncAnthropic:
    client = anthropic.AsyncAnthropic(base_url=url, api_key="sk-ant-wrap", max_retries=0)
    return headroom.wrap(client, headroom=store)


def _messages_end(body: bytes, messages: list[Any]) -> int:
    """Where the last message of ``messages`` ends in ``body`` (written by wire.dump)."""
    last = dump(messages[-1])
    assert body.count(last) == 1
    return body.index(last) + len(last)


# -- compression, both turns, sync -------------------------------------------------------------


def test_sync_openai_chat_compressed_and_prefix_stable(
    upstream: Upstream, store: Headroom, issues: str, hdfs: str
) -> None:
    client = _openai(upstream.url, store)
    messages = _chat_messages(hdfs)
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=messages,  # type: ignore[arg-type]
        tools=[READ_FILE],  # type: ignore[list-item]
        temperature=0.2,
    )
    assert completion.choices[0].message.content == "".join(CHAT_TEXT)
    first = upstream.last(CHAT)
    sent = first.json()
    assert len(sent["messages"][3]["content"]) < len(hdfs) / 10
    assert sent["messages"][:3] == messages[:3]
    assert sent["tools"] == [READ_FILE, tool_definition("chat")]
    assert sent["temperature"] == 0.2
    assert first.header("authorization") == "Bearer sk-test-wrap"

    # Turn two appends a turn and a second tool result: the upstream body begins with the
    # first body's bytes up to the end of its messages (the prompt cache's prefix).
    later = [
        *messages,
        {"role": "assistant", "content": completion.choices[0].message.content},
        {"role": "user", "content": "And the open issues?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_issues",
                    "type": "function",
                    "function": {"name": "list_issues", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_issues", "content": issues},
    ]
    client.chat.completions.create(
        model="gpt-4o",
        messages=later,  # type: ignore[arg-type]
        tools=[READ_FILE],  # type: ignore[list-item]
        temperature=0.2,
    )
    second = upstream.last(CHAT)
    prefix = _messages_end(first.body, sent["messages"])
    assert second.body[:prefix] == first.body[:prefix]
    assert len(second.json()["messages"][7]["content"]) < len(issues) / 3
    snapshot = stats(client)
    assert snapshot["requests"]["by_route"] == {"chat_completions": 2}
    assert snapshot["by_model"]["gpt-4o"]["after"] < snapshot["by_model"]["gpt-4o"]["before"]
    assert snapshot["cache"]["hits"] >= 1  # the first tool result was not compressed again
    client.close()


def test_sync_openai_stream_and_responses(upstream: Upstream, store: Headroom, hdfs: str) -> None:
    client = _openai(upstream.url, store)
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=_chat_messages(hdfs),  # type: ignore[arg-type]
        stream=True,
    )
    deltas = [chunk.choices[0].delta.content for chunk in stream if chunk.choices]
    assert "".join(d for d in deltas if d) == "".join(CHAT_TEXT)
    assert upstream.last(CHAT).json()["stream"] is True
    assert len(upstream.last(CHAT).body) < len(hdfs) / 10

    items = [
        {"role": "user", "content": "Which blocks failed?"},
        {"type": "function_call", "call_id": "c1", "name": "read_file", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": hdfs},
    ]
    response = client.responses.create(model="gpt-4.1", input=items)  # type: ignore[arg-type]
    assert response.output_text
    sent = upstream.last(RESPONSES).json()
    assert len(sent["input"][2]["output"]) < len(hdfs) / 10
    assert sent["tools"] == [tool_definition("responses")]
    client.close()


def test_sync_anthropic_stream_helper(upstream: Upstream, store: Headroom, hdfs: str) -> None:
    client = _anthropic(upstream.url, store)
    with client.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=256,
        messages=_claude_messages(hdfs),  # type: ignore[arg-type]
    ) as stream:
        text = "".join(stream.text_stream)
    assert text == "".join(CLAUDE_TEXT)
    seen = upstream.last(MESSAGES)
    assert seen.header("authorization") == "Bearer sk-ant-wrap"
    result = seen.json()["messages"][2]["content"][0]["content"]
    assert len(result) < len(hdfs) / 10 and find_markers(result)
    client.close()


# -- async -------------------------------------------------------------------------------------


def test_async_clients_compress_streamed_and_not(
    upstream: Upstream, store: Headroom, hdfs: str
) -> None:
    async def run() -> tuple[str, list[str], str]:
        claude = _async_anthropic(upstream.url, store)
        message = await claude.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=256,
            messages=_claude_messages(hdfs),  # type: ignore[arg-type]
            tools=[CLAUDE_READ_FILE],  # type: ignore[list-item]
        )
        await claude.close()
        gpt = _async_openai(upstream.url, store)
        stream = await gpt.chat.completions.create(
            model="gpt-4o",
            messages=_chat_messages(hdfs),  # type: ignore[arg-type]
            stream=True,
        )
        deltas = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        await gpt.close()
        return message.content[0].text, deltas, "done"  # type: ignore[union-attr]

    text, deltas, _ = asyncio.run(run())
    assert text == "".join(CLAUDE_TEXT)
    assert "".join(deltas) == "".join(CHAT_TEXT)
    claude_sent = upstream.last(MESSAGES).json()
    assert claude_sent["tools"] == [CLAUDE_READ_FILE, tool_definition("anthropic")]
    assert len(claude_sent["messages"][2]["content"][0]["content"]) < len(hdfs) / 10
    assert len(upstream.last(CHAT).json()["messages"][3]["content"]) < len(hdfs) / 10


# -- the retrieve loop, answered in-process ----------------------------------------------------


def test_sync_chat_retrieve_call_answered_locally(
    script: Scripted, store: Headroom, hdfs: str
) -> None:
    script.script[:] = [_calls(None), _text]
    client = _openai(script.url, store)
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=_chat_messages(hdfs),  # type: ignore[arg-type]
        tools=[READ_FILE],  # type: ignore[list-item]
    )
    message = completion.choices[0].message
    assert message.content == FINAL and message.tool_calls is None
    assert completion.usage is not None and completion.usage.prompt_tokens == 2000
    first, second = script.bodies()
    handle = _handle(first)
    call, result = second["messages"][4:]
    assert call["tool_calls"][0]["function"]["name"] == TOOL_NAME
    assert json.loads(call["tool_calls"][0]["function"]["arguments"]) == {"handle": handle}
    assert result == {"role": "tool", "tool_call_id": "call_0", "content": hdfs}
    assert second["messages"][:4] == first["messages"]
    client.close()


def test_async_anthropic_stream_retrieve_is_one_message(
    script: Scripted, store: Headroom, hdfs: str
) -> None:
    script.script[:] = [_calls(None), _text]

    async def run() -> tuple[list[str], Any]:
        client = _async_anthropic(script.url, store)
        async with client.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=512,
            messages=_claude_messages(hdfs),  # type: ignore[arg-type]
            tools=[CLAUDE_READ_FILE],  # type: ignore[list-item]
        ) as stream:
            events = [event.type async for event in stream]
            message = await stream.get_final_message()
        await client.close()
        return events, message

    events, message = asyncio.run(run())
    assert events.count("message_start") == events.count("message_stop") == 1
    texts = [block.text for block in message.content]
    assert texts == ["Let me look at the whole log.", FINAL]
    first, second = script.bodies()
    assert second["messages"][:3] == first["messages"]
    assert second["messages"][3]["content"][1]["input"] == {"handle": _handle(first)}
    assert second["messages"][4]["content"][0]["content"] == hdfs


# -- what wrap accepts and what it leaves alone ------------------------------------------------


def test_wrap_returns_a_copy_and_refuses_other_objects(upstream: Upstream) -> None:
    original = openai.OpenAI(base_url=f"{upstream.url}/v1", api_key="k", max_retries=0)
    wrapped = headroom.wrap(original)
    assert type(wrapped) is openai.OpenAI
    assert wrapped is not original and wrapped._client is not original._client
    assert wrapped.base_url == original.base_url and wrapped.api_key == "k"
    with pytest.raises(InvalidArgumentError, match=r"expected openai\.OpenAI.*got builtins\.dict"):
        headroom.wrap({})
    with pytest.raises(InvalidArgumentError, match=r"made by headroom\.wrap"):
        stats(original)
    wrapped.close()


def test_api_path_reads_the_end_of_the_url() -> None:
    assert api_path("/openai/deployments/gpt-4o/chat/completions") == CHAT
    assert api_path("/v1/responses") == RESPONSES
    assert api_path("/v1/messages/count_tokens") == "/v1/messages/count_tokens"
    assert api_path("/gateway/anthropic/v1/messages") == MESSAGES
    assert api_path("/v1/models") == "/v1/models"


def test_import_headroom_loads_no_sdk_or_http_stack() -> None:
    code = (
        "import sys, headroom\n"
        "heavy = {'httpx', 'httpx2', 'starlette', 'openai', 'anthropic'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "assert callable(headroom.wrap)\n"
        "assert 'starlette' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sync_stream_relayed_as_it_arrives(upstream: Upstream, store: Headroom, hdfs: str) -> None:
    client = _openai(upstream.url, store)
    upstream.gate.clear()
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=_chat_messages(hdfs),  # type: ignore[arg-type]
        stream=True,
        extra_headers={"x-test-gate": "1"},
    )
    deltas = []
    for chunk in stream:
        # The upstream holds the rest until the client has the first chunk: a transport
        # that read the stream whole would keep the gate shut until its timeout.
        upstream.gate.set()
        deltas.append(chunk.choices[0].delta.content if chunk.choices else None)
    assert upstream.gate_opened[-1] is True
    assert [d for d in deltas if d] == CHAT_TEXT
    client.close()


@pytest.mark.parametrize("is_async", [False, True])
def test_closing_a_stream_closes_the_upstream(
    upstream: Upstream, store: Headroom, is_async: bool
) -> None:
    upstream.disconnected.clear()
    url = f"{upstream.url}/endless"  # a passthrough path: an event every few ms, forever
    if is_async:

        async def read_one() -> bytes:
            client = _async_openai(upstream.url, store)
            async with client._client.stream("GET", url) as response:
                first = await anext(response.aiter_raw())
            await client.close()
            return first

        first = asyncio.run(read_one())
    else:
        client = _openai(upstream.url, store)
        with client._client.stream("GET", url) as response:
            first = next(response.iter_raw())
        client.close()
    assert first.startswith(b"data: 0")
    deadline = time.monotonic() + 10
    while not upstream.disconnected.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.disconnected.is_set()
