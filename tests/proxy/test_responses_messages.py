"""OpenAI Responses ``input`` items through compress(): tool results compressed in place,
every other field and item kept, bad shapes named, chat and Anthropic lists not mistaken."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom, InvalidMessageError, count_tokens
from headroom.messages import find_slots, last_user_text, validate_messages
from headroom.messages.responses import is_responses
from tests.conftest import read_bench


def _items(issues: str, log: str) -> list[dict[str, Any]]:
    return [
        {"type": "message", "role": "developer", "content": "You are a careful agent."},
        {"role": "user", "content": "Which HDFS blocks failed, and which issues mention it?"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAA"},
        {
            "type": "function_call",
            "call_id": "call_log",
            "name": "read_file",
            "arguments": json.dumps({"path": "logs/HDFS_2k.log"}),
            "id": "fc_1",
            "status": "completed",
        },
        {"type": "function_call_output", "call_id": "call_log", "output": log},
        {
            "type": "function_call",
            "call_id": "call_issues",
            "name": "list_issues",
            "arguments": "{}",
        },
        {
            "type": "function_call_output",
            "call_id": "call_issues",
            "output": [{"type": "input_text", "text": issues}],
        },
        {
            "type": "message",
            "role": "assistant",
            "id": "msg_1",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Looking.", "annotations": []}],
        },
    ]


@pytest.fixture(scope="module")
def items(bench_data: Path) -> list[dict[str, Any]]:
    return _items(
        read_bench(bench_data / "json" / "gh_issues_rails_admin.json"),
        read_bench(bench_data / "loghub" / "HDFS_2k.log"),
    )


def test_tool_outputs_are_compressed_and_everything_else_kept(items: list[dict[str, Any]]) -> None:
    given = copy.deepcopy(items)
    result = Headroom(store="memory").compress(items)
    assert items == given  # the input is never mutated
    out = result.messages
    assert len(out) == len(items)
    # Both tool results shrink: a string output and an input_text part of a list output.
    assert len(out[4]["output"]) < len(items[4]["output"]) / 2
    assert len(out[6]["output"][0]["text"]) < len(items[6]["output"][0]["text"]) / 2
    assert out[6]["output"][0]["type"] == "input_text"
    for i in (0, 1, 2, 3, 5, 7):
        assert out[i] == items[i]
    assert {k: v for k, v in out[4].items() if k != "output"} == {
        k: v for k, v in items[4].items() if k != "output"
    }
    assert result.tokens_after < result.tokens_before
    assert count_tokens(items) == result.tokens_before


def test_hints_query_and_protection(items: list[dict[str, Any]]) -> None:
    slots = find_slots(items, CompressConfig())
    by_path = {slot.path: slot for slot in slots}
    assert by_path[(4, "output")].hints.tool_name == "read_file"
    assert by_path[(4, "output")].hints.path == "logs/HDFS_2k.log"
    assert by_path[(6, "output", 0, "text")].hints.tool_name == "list_issues"
    assert not by_path[(0, "content")].eligible  # developer instructions are never changed
    assert not by_path[(7, "content", 0, "text")].eligible  # a recent turn
    assert last_user_text(items) == items[1]["content"]


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([{"type": "function_call_output", "call_id": "c", "output": "x"}], True),
        ([{"type": "message", "role": "user", "content": "hi"}], True),
        ([{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}], False),
        ([{"role": "tool", "tool_call_id": "c", "content": "x"}], False),
        # An Anthropic message dumped from a response carries type "message" and its blocks.
        (
            [
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}],
                }
            ],
            False,
        ),
        ([{"parts": [{"text": "hi"}]}], False),
    ],
)
def test_shape_detection(messages: list[dict[str, Any]], expected: bool) -> None:
    assert is_responses(messages) is expected


@pytest.mark.parametrize(
    ("item", "spot"),
    [
        ({"type": "message", "role": "robot", "content": "x"}, "input[0].role"),
        ({"type": "message", "role": "user", "content": None}, "input[0].content"),
        ({"type": "function_call_output", "call_id": "c", "output": 3}, "input[0].output"),
        (
            {"type": "function_call_output", "call_id": "c", "output": [{"type": "input_text"}]},
            "input[0].output[0].text",
        ),
        ({"type": "function_call", "call_id": "c", "name": 1}, "input[0].name"),
    ],
)
def test_bad_items_are_named(item: dict[str, Any], spot: str) -> None:
    with pytest.raises(InvalidMessageError, match=re.escape(spot)):
        validate_messages([item], name="input", gemini=True)
    if is_responses([item]):  # (a message item with no content is read as chat: no type proof)
        with pytest.raises(InvalidMessageError, match="Responses input items are not accepted"):
            validate_messages([item], name="input")  # the conversation layer reorders: refused


def _outputs() -> st.SearchStrategy[Any]:
    rows = st.lists(
        st.fixed_dictionaries(
            {"id": st.integers(0, 10**6), "state": st.sampled_from(["ok", "failed"])}
        ),
        min_size=0,
        max_size=120,
    ).map(lambda r: json.dumps(r, indent=2))
    text = st.text(max_size=300)
    one = st.one_of(rows, text)
    return st.one_of(
        one, st.lists(one.map(lambda t: {"type": "input_text", "text": t}), max_size=2)
    )


@st.composite
def _item_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"type": "message", "role": "user", "content": draw(st.text(max_size=40))}
    ]
    for n in range(draw(st.integers(0, 5))):
        call = f"call_{draw(st.integers(0, 3))}"  # ids may repeat, as some agents' do
        items.append({"type": "function_call", "call_id": call, "name": "f", "arguments": "{}"})
        items.append({"type": "function_call_output", "call_id": call, "output": draw(_outputs())})
        if draw(st.booleans()):
            items.append({"type": "reasoning", "id": f"rs_{n}", "summary": []})
        if draw(st.booleans()):
            items.append(
                {
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": draw(st.text(max_size=60))}],
                }
            )
    return items


@given(_item_lists())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_responses_items_keep_their_shape(items: list[dict[str, Any]]) -> None:
    given_items = copy.deepcopy(items)
    hr = Headroom(store="memory")
    out = hr.compress(items).messages
    assert items == given_items  # never mutated
    assert len(out) == len(items)
    for old, new in zip(items, out, strict=True):
        assert old.keys() == new.keys()
        if old.get("type") != "function_call_output":
            assert new == old  # only tool outputs may change
        elif isinstance(old["output"], list):
            assert [p["type"] for p in new["output"]] == [p["type"] for p in old["output"]]
    # Sent again (the same conversation), every item comes back with the same bytes.
    assert json.dumps(hr.compress(items).messages) == json.dumps(out)
    assert count_tokens(items) == hr.compress(items).tokens_before
