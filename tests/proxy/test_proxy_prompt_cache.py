"""Prompt-cache safety through the proxy: a 30-turn agent conversation replayed turn by
turn, through the OpenAI SDK and through the Anthropic SDK. Every request extends the one
before it, so what the upstream receives must too: each earlier message byte-identical, the
longest common prefix of consecutive upstream message lists only growing, and the
``cache_control`` breakpoints where the client put them."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from headroom.proxy.retrieve import tool_definition
from headroom.proxy.wire import dump
from tests.conftest import read_bench
from tests.proxy.upstream import Served, Upstream

# A real tau-bench airline run (30 model calls), with four of its tool results replaced by
# large real tool outputs so that there is something to compress on the way.
TRANSCRIPT = "transcripts/taubench_airline_gpt4o_task02_trial1.json"
BIG = {
    0: "json/gh_issues_rails_admin.json",
    2: "loghub/HDFS_2k.log",
    5: "json/gh_pulls_octokit_rb.json",
    9: "loghub/Apache_2k.log",
}


@pytest.fixture(scope="module")
def conversation(bench_data: Path) -> list[dict[str, Any]]:
    traj = json.loads(read_bench(bench_data / TRANSCRIPT))["traj"]
    out: list[dict[str, Any]] = []
    tools = 0
    for message in traj:
        message = {k: v for k, v in message.items() if v is not None or k == "content"}
        if message["role"] == "tool":
            if tools in BIG:
                message["content"] = read_bench(bench_data / BIG[tools])
            tools += 1
        out.append(message)
    return out


def _tool_names(messages: list[dict[str, Any]]) -> list[str]:
    """The tools the transcript's model called, in order of first use."""
    names = [c["function"]["name"] for m in messages for c in m.get("tool_calls") or []]
    return list(dict.fromkeys(names))


def _schema(name: str) -> dict[str, Any]:
    return {"type": "object", "properties": {"arg": {"type": "string"}}, "description": name}


def _check_tools(bodies: list[bytes], given: list[dict[str, Any]], fmt: Any) -> int:
    """Assert the upstream got the client's tools as they were until a request first
    carried a marker, and from then on the client's tools and ``headroom_retrieve``, the
    same bytes on every request (the tools come first in a provider's cached prefix: a
    tool list that changed from one request to the next would cost the whole cache).
    Returns the index of the first request offered the tool."""
    offered = [*given, tool_definition(fmt)]
    sent = [json.loads(body)["tools"] for body in bodies]
    first = sent.index(offered)
    assert sent[:first] == [given] * first
    for body in bodies[first:]:
        assert body.count(dump(offered)) == 1
    return first


def _first_marker(bodies: list[bytes]) -> int:
    """The first request whose history holds a compressed result's marker (early: the first
    tool result of the transcript is an 86 kB JSON list)."""
    first = next(i for i, body in enumerate(bodies) if b" retrieve: headroom:" in body)
    assert first < 5
    return first


def _turns(messages: list[dict[str, Any]]) -> list[int]:
    """Where the model is called: the length of the history before each assistant turn."""
    return [i for i, m in enumerate(messages) if m["role"] == "assistant"]


def _serialized(messages: list[Any]) -> list[bytes]:
    return [json.dumps(m, ensure_ascii=False, separators=(",", ":")).encode() for m in messages]


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _check_prefix_stable(bodies: list[bytes], key: str) -> list[int]:
    """Assert each upstream message list extends the one before byte for byte; return the
    longest common prefix (bytes) of each consecutive pair."""
    lists = [_serialized(json.loads(body)[key]) for body in bodies]
    prefixes = []
    for before, after in itertools.pairwise(lists):
        assert len(after) > len(before)
        for i, (old, new) in enumerate(zip(before, after, strict=False)):
            assert old == new, f"message {i} changed between requests"
        prefixes.append(_common_prefix(b"".join(before), b"".join(after)))
    assert prefixes == sorted(prefixes)  # only grows
    assert prefixes[-1] == len(b"".join(lists[-2]))  # all of the previous request
    # The whole bodies too, as the upstream got them: their common prefix only grows
    # (it ends where the previous message list ends, or where a field after it starts).
    raw = [_common_prefix(a, b) for a, b in itertools.pairwise(bodies)]
    assert raw == sorted(raw)
    return prefixes


def test_openai_replay_is_prefix_stable(
    start_proxy: Callable[..., Served], upstream: Upstream, conversation: list[dict[str, Any]]
) -> None:
    proxy = start_proxy()
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", max_retries=0)
    turns = _turns(conversation)
    assert len(turns) == 30
    start = len(upstream.bodies("/v1/chat/completions"))
    tools = [
        {"type": "function", "function": {"name": name, "parameters": _schema(name)}}
        for name in _tool_names(conversation)
    ]
    for end in turns:
        client.chat.completions.create(
            model="gpt-4o",
            messages=conversation[:end],  # type: ignore[arg-type]
            tools=tools,  # type: ignore[arg-type]
        )
    bodies = upstream.bodies("/v1/chat/completions")[start:]
    assert len(bodies) == 30
    _check_prefix_stable(bodies, "messages")
    assert _check_tools(bodies, tools, "chat") == _first_marker(bodies)
    sent = json.loads(bodies[-1])["messages"]
    given = conversation[: turns[-1]]
    assert sum(map(len, _serialized(sent))) < sum(map(len, _serialized(given))) / 2


def _anthropic_shape(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAI-shaped transcript as Anthropic messages: tool calls as tool_use blocks,
    consecutive tool results and user text merged into one user turn; a breakpoint on
    every fifth tool result (fixed once placed, as a client keeping stable breakpoints does)."""
    system = messages[0]["content"]
    out: list[dict[str, Any]] = []
    results = 0
    for m in messages[1:]:
        if m["role"] == "assistant":
            blocks: list[dict[str, Any]] = []
            if m.get("content"):
                blocks.append({"type": "text", "text": m["content"]})
            for call in m.get("tool_calls", []):
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call["id"],
                        "name": call["function"]["name"],
                        "input": json.loads(call["function"]["arguments"]),
                    }
                )
            out.append({"role": "assistant", "content": blocks})
            continue
        if m["role"] == "tool":
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": m["tool_call_id"],
                "content": m["content"] or "(no output)",
            }
            if results % 5 == 0:
                block["cache_control"] = {"type": "ephemeral"}
            results += 1
        else:
            block = {"type": "text", "text": m["content"]}
        if out and out[-1]["role"] == "user":
            out[-1]["content"].append(block)
        else:
            out.append({"role": "user", "content": [block]})
    return system, out


def _breakpoints(messages: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, m in enumerate(messages)
        for j, block in enumerate(m["content"])
        if isinstance(block, dict) and "cache_control" in block
    ]


def test_anthropic_replay_is_prefix_stable(
    start_proxy: Callable[..., Served], upstream: Upstream, conversation: list[dict[str, Any]]
) -> None:
    proxy = start_proxy()
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    system_text, messages = _anthropic_shape(conversation)
    system = [{"type": "text", "text": system_text, "cache_control": {"type": "ephemeral"}}]
    turns = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    assert len(turns) == 30
    start = len(upstream.bodies("/v1/messages"))
    tools = [{"name": name, "input_schema": _schema(name)} for name in _tool_names(conversation)]
    for end in turns:
        client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            system=system,  # type: ignore[arg-type]
            messages=messages[:end],  # type: ignore[arg-type]
            tools=tools,  # type: ignore[arg-type]
        )
    bodies = upstream.bodies("/v1/messages")[start:]
    assert len(bodies) == 30
    _check_prefix_stable(bodies, "messages")
    assert _check_tools(bodies, tools, "anthropic") == _first_marker(bodies)
    for body, end in zip(bodies, turns, strict=True):
        sent = json.loads(body)
        assert sent["system"] == system
        assert _breakpoints(sent["messages"]) == _breakpoints(messages[:end])
    last = json.loads(bodies[-1])["messages"]
    assert sum(map(len, _serialized(last))) < sum(map(len, _serialized(messages[: turns[-1]]))) / 2
