"""Messages layer: both provider shapes in and out, protection rules, pairing, validation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from headroom import CompressConfig, Headroom, InvalidMessageError
from headroom.jsontables import decode, loads
from tests.conftest import read_bench

BIG_JSON = json.dumps(
    [{"id": i, "name": f"item-{i}", "status": "active", "tags": ["a", "b"]} for i in range(80)],
    indent=2,
)


def _hr(**options: Any) -> Headroom:
    return Headroom(CompressConfig(**options), store="memory")


def openai_conversation(tool_output: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You are a careful assistant. " + BIG_JSON},
        {"role": "user", "content": BIG_JSON},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "list_items", "arguments": '{"path": "items.json"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": tool_output},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "And this picture?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {"role": "assistant", "content": "Here is what I found."},
    ]


def anthropic_conversation(tool_output: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": [{"type": "text", "text": "List the items."}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "list_items", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": tool_output}],
                },
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
                },
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "Done."}]},
    ]


def test_openai_shape_round_trips_with_only_tool_output_changed() -> None:
    messages = openai_conversation(BIG_JSON)
    before = copy.deepcopy(messages)
    result = _hr().compress(messages)
    assert messages == before, "input must not be mutated"
    out = result.messages
    assert len(out) == len(messages)
    for i, (a, b) in enumerate(zip(out, messages, strict=True)):
        if i == 3:
            assert decode(a["content"]) == json.loads(BIG_JSON)
            assert {k: v for k, v in a.items() if k != "content"} == {
                k: v for k, v in b.items() if k != "content"
            }
        else:
            assert a == b, f"message {i} changed"
    assert out[4]["content"][1] is messages[4]["content"][1], "image parts are shared, not copied"
    assert result.transforms_applied == ["json.minify", "json.tables"]
    assert result.tokens_saved > 0
    assert result.tokens_after == result.tokens_before - result.tokens_saved
    assert 0 < result.compression_ratio < 1


def test_anthropic_shape_round_trips_with_only_tool_result_changed() -> None:
    messages = anthropic_conversation(BIG_JSON)
    before = copy.deepcopy(messages)
    result = _hr().compress(messages)
    assert messages == before
    out = result.messages
    block = out[2]["content"][0]
    assert block["type"] == "tool_result" and block["tool_use_id"] == "toolu_1"
    assert decode(block["content"][0]["text"]) == json.loads(BIG_JSON)
    assert out[2]["content"][1] == messages[2]["content"][1]
    assert [m["role"] for m in out] == [m["role"] for m in messages]
    assert out[0] == messages[0] and out[1] == messages[1] and out[3] == messages[3]


def test_anthropic_tool_result_as_plain_string() -> None:
    messages = anthropic_conversation("x")
    messages[2]["content"][0]["content"] = BIG_JSON
    out = _hr().compress(messages).messages
    assert decode(out[2]["content"][0]["content"]) == json.loads(BIG_JSON)


def tool_pairs(messages: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(index of the call, index of its result) for every OpenAI/Anthropic tool call."""
    calls: dict[str, int] = {}
    pairs = []
    for i, m in enumerate(messages):
        for call in m.get("tool_calls") or []:
            calls[call["id"]] = i
        content = m.get("content")
        if m["role"] == "tool":
            pairs.append((calls[m["tool_call_id"]], i))
        if isinstance(content, list):
            for block in content:
                if block.get("type") == "tool_use":
                    calls[block["id"]] = i
                if block.get("type") == "tool_result":
                    pairs.append((calls[block["tool_use_id"]], i))
    return pairs


def test_real_transcript_keeps_every_tool_call_paired(bench_data: Path) -> None:
    for path in sorted((bench_data / "transcripts").glob("taubench_*[0-9].json")):
        messages = json.loads(read_bench(path))["traj"]
        result = _hr(min_tokens=10).compress(messages)
        assert tool_pairs(result.messages) == tool_pairs(messages), path.name
        assert [m["role"] for m in result.messages] == [m["role"] for m in messages]
        for a, b in zip(result.messages, messages, strict=True):
            if a["role"] == "tool" and a["content"] != b["content"]:
                assert loads(a["content"]) == json.loads(b["content"])  # lossless here
            else:
                assert a == b


def test_system_prompt_and_user_turns_are_protected_by_default() -> None:
    messages = openai_conversation("short")
    out = _hr().compress(messages).messages
    assert out[0] == messages[0] and out[1] == messages[1]


def test_user_turns_compressed_when_asked_but_recent_turns_stay() -> None:
    messages = openai_conversation("short")
    out = _hr(compress_user_messages=True, protect_recent=2).compress(messages).messages
    assert out[0] == messages[0], "system prompt is never compressed"
    assert out[1]["content"] != messages[1]["content"], "old user turn with JSON compressed"
    out = _hr(compress_user_messages=True, protect_recent=10).compress(messages).messages
    assert out[1] == messages[1], "within protect_recent"


def test_tool_results_are_compressed_even_when_recent_unless_disabled() -> None:
    messages = openai_conversation(BIG_JSON)[:4]
    assert _hr(protect_recent=100).compress(messages).messages[3]["content"] != BIG_JSON
    assert _hr(compress_tool_results=False).compress(messages).messages[3]["content"] == BIG_JSON


def test_tool_name_and_path_hints_reach_the_router() -> None:
    from headroom.router import detect

    # The module's docstring: prose with examples, not code by content.
    source = json.__doc__ or ""
    assert detect(source).kind != "code", "premise: only the path hint makes this code"
    messages = openai_conversation(source)
    messages[2]["tool_calls"][0]["function"]["arguments"] = '{"path": "json/__init__.py"}'
    hr = _hr()
    hr.compress(messages)
    assert "code" in hr.stats.by_kind


@pytest.mark.parametrize(
    ("messages", "where"),
    [
        ("not a list", "messages"),
        ([{"role": "user", "content": "ok"}, "oops"], "messages[1]"),
        ([{"content": "no role"}], "messages[0].role"),
        ([{"role": "wizard", "content": "x"}], "messages[0].role"),
        ([{"role": "user", "content": 42}], "messages[0].content"),
        ([{"role": "user", "content": None}], "messages[0].content"),
        ([{"role": "user", "content": ["text"]}], "messages[0].content[0]"),
        ([{"role": "user", "content": [{"text": "no type"}]}], "messages[0].content[0].type"),
        (
            [{"role": "user", "content": [{"type": "text", "text": 1}]}],
            "messages[0].content[0].text",
        ),
        (
            [{"role": "user", "content": [{"type": "tool_result", "content": 5}]}],
            "messages[0].content[0].content",
        ),
        ([{"role": "assistant", "content": None, "tool_calls": "x"}], "messages[0].tool_calls"),
    ],
)
def test_bad_shapes_raise_an_error_naming_index_and_field(messages: Any, where: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        _hr().compress(messages)
    assert caught.value.path == where
    assert str(caught.value).startswith(where + ": ")
    assert isinstance(caught.value, ValueError)


def test_token_counts_follow_openai_rules() -> None:
    from headroom.tokens import count_tokens

    messages = [{"role": "user", "content": "hello world"}]
    result = _hr().compress(messages)
    # 3 framing + role + text + 3 reply priming
    assert result.tokens_before == 3 + count_tokens("user") + count_tokens("hello world") + 3
    assert result.tokens_after == result.tokens_before and result.tokens_saved == 0
