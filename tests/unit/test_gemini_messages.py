"""Gemini ``contents`` through compress() and count_tokens(): real transcripts, bad shapes,
and a property over generated contents (both the REST camelCase and the SDK snake_case)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom import (
    CacheAligner,
    CompressConfig,
    Headroom,
    InvalidMessageError,
    RollingSummarizer,
    count_tokens,
)
from headroom.messages import find_slots, last_user_text
from headroom.router import Hints
from tests.conftest import read_bench

IMAGE = {
    "mimeType": "image/png",
    "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4",
}
PDF = {"mimeType": "application/pdf", "fileUri": "https://example.com/files/report.pdf"}


def _hr(**options: Any) -> Headroom:
    return Headroom(CompressConfig(**options), store="memory")


def _transcript(log: str, issues_text: str, issues: Any) -> list[dict[str, Any]]:
    """An agent run as the Gemini REST API carries it: reads a log, fetches issues twice
    (once as raw text, once as parsed JSON the SDK wraps in ``result``)."""
    return [
        {
            "role": "user",
            "parts": [{"text": "Why are HDFS blocks being deleted? Check the datanode log."}],
        },
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "read_file", "args": {"path": "logs/HDFS_2k.log"}}}
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "read_file", "response": {"output": log}}}],
        },
        {
            "role": "model",
            "parts": [
                {"text": "The log shows blocks being replicated and deleted. Related issues:"},
                {
                    "functionCall": {
                        "name": "run_shell",
                        "args": {"command": "curl -s https://api.github.com/repos/x/issues"},
                    }
                },
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "name": "run_shell",
                        "response": {"content": issues_text, "exit_code": 0},
                    }
                }
            ],
        },
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {
                        "id": "call-7",
                        "name": "get_issues",
                        "args": {"repo": "sferik/rails_admin", "state": "open"},
                    },
                    "thoughtSignature": "CiQBVKhc7h0Y2FsbC03",
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "id": "call-7",
                        "name": "get_issues",
                        "response": {"result": issues},
                    }
                }
            ],
        },
        {"role": "model", "parts": [{"text": "I found the issues and the log lines."}]},
        {
            "role": "user",
            "parts": [
                {"text": "Summarise both, and look at this screenshot and report."},
                {"inlineData": IMAGE},
                {"fileData": PDF},
            ],
        },
    ]


@pytest.fixture(scope="module")
def real_data(bench_data: Path) -> tuple[str, str, Any]:
    log = read_bench(bench_data / "loghub" / "HDFS_2k.log")
    issues_text = read_bench(bench_data / "json" / "gh_issues_rails_admin.json")
    return log, issues_text, json.loads(issues_text)


RESPONSE_PATHS = {
    (2, "output"): "log",
    (4, "content"): "text",
    (6, "result"): "json",
}


def test_real_transcript_compressed_and_exactly_retrievable(real_data: tuple[str, str, Any]):
    log, issues_text, issues = real_data
    contents = _transcript(log, issues_text, issues)
    snapshot = copy.deepcopy(contents)
    hr = _hr()

    result = hr.compress(contents)

    assert contents == snapshot  # never mutated
    assert result.tokens_before == count_tokens(contents)
    assert result.tokens_after < result.tokens_before / 4
    out = result.messages
    assert len(out) == len(contents)
    for before, after in zip(contents, out, strict=True):
        assert after["role"] == before["role"]
        assert len(after["parts"]) == len(before["parts"])

    log_out = out[2]["parts"][0]["functionResponse"]["response"]["output"]
    text_out = out[4]["parts"][0]["functionResponse"]["response"]["content"]
    json_out = out[6]["parts"][0]["functionResponse"]["response"]["result"]
    assert len(log_out) < len(log) / 4 and "WARN" in log_out
    assert len(text_out) < len(issues_text) / 2
    # The structured value became the compressed text under the same key.
    assert isinstance(json_out, str) and len(json_out) < len(json.dumps(issues)) / 2
    assert out[4]["parts"][0]["functionResponse"]["response"]["exit_code"] == 0
    assert set(out[6]["parts"][0]["functionResponse"]["response"]) == {"result"}

    originals = [hr.retrieve(handle) for handle in result.handles]
    assert log in originals
    assert issues_text in originals
    compact = json.dumps(issues, separators=(",", ":"), ensure_ascii=False)
    assert compact in originals and json.loads(compact) == issues
    assert any(h in log_out for h in result.handles)

    # Everything else is the same object: user and model text, calls, signatures, data.
    for i in (0, 1, 3, 5, 7, 8):
        assert out[i] is contents[i]
    assert out[8]["parts"][1]["inlineData"] is IMAGE
    assert out[8]["parts"][2]["fileData"] is PDF


def test_sdk_snake_case_dicts(real_data: tuple[str, str, Any]):
    """The google-genai SDK's ``model_dump()`` form: snake_case, unset fields as None."""
    log, _, issues = real_data
    unset = {"text": None, "inline_data": None, "function_call": None, "thought": None}
    contents = [
        {"role": "user", "parts": [{**unset, "text": "Any errors in the log?"}]},
        {
            "role": "model",
            "parts": [
                {
                    **unset,
                    "function_call": {
                        "id": None,
                        "name": "run_shell",
                        "args": {"command": "cat /var/log/hdfs.log"},
                    },
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    **unset,
                    "function_response": {
                        "id": None,
                        "name": "run_shell",
                        "will_continue": None,
                        "response": {"output": log, "error": None},
                    },
                },
                {
                    **unset,
                    "function_response": {
                        "name": "list_issues",
                        "response": {"result": issues[:60]},
                    },
                },
                {**unset, "inline_data": {"mime_type": "image/png", "data": b"\x89PNG"}},
            ],
        },
        {"role": "model", "parts": [{**unset, "text": "Looking."}]},
    ]
    snapshot = copy.deepcopy(contents)
    hr = _hr()
    result = hr.compress(contents)
    assert contents == snapshot
    assert result.tokens_before == count_tokens(contents)
    reply = result.messages[2]["parts"][0]["function_response"]
    assert set(reply) == set(contents[2]["parts"][0]["function_response"])
    assert reply["response"]["error"] is None
    assert len(reply["response"]["output"]) < len(log) / 4
    assert log in [hr.retrieve(h) for h in result.handles]
    rows = result.messages[2]["parts"][1]["function_response"]["response"]["result"]
    assert isinstance(rows, str)
    assert result.messages[2]["parts"][2] is contents[2]["parts"][2]
    assert result.messages[0] is contents[0] and result.messages[1] is contents[1]


def test_structured_value_left_as_is_when_compression_does_not_help():
    small = {"ok": True, "files": ["a.py", "b.py"]}
    contents = [
        {"role": "model", "parts": [{"functionCall": {"name": "ls", "args": {}}}]},
        {"parts": [{"functionResponse": {"name": "ls", "response": {"result": small}}}]},
    ]
    result = _hr(min_tokens=1).compress(contents)
    assert result.messages[1]["parts"][0]["functionResponse"]["response"]["result"] is small
    assert result.tokens_before == result.tokens_after == count_tokens(contents)


def _long_prose(n: int) -> str:
    return " ".join(
        f"Sentence {i} says the deploy of service-{i % 7} finished in {i * 3} seconds."
        for i in range(n)
    )


def test_protection_rules_match_the_chat_shapes():
    text = _long_prose(120)
    contents = [
        {"role": "user", "parts": [{"text": text}]},
        {"role": "model", "parts": [{"text": text}]},
        {"role": "model", "parts": [{"text": text, "thoughtSignature": "c2ln"}]},
        {"role": "model", "parts": [{"text": text, "thought": True}]},
        {"role": "user", "parts": [{"text": "ok"}]},
        {"role": "model", "parts": [{"text": "a"}]},
        {"role": "user", "parts": [{"text": "b"}]},
        {"role": "model", "parts": [{"text": "c"}]},
    ]
    slots = {slot.path: slot for slot in find_slots(contents, CompressConfig())}
    assert slots[(0, "parts", 0, "text")].source == "user"
    assert not slots[(0, "parts", 0, "text")].eligible  # user text protected by default
    assert slots[(1, "parts", 0, "text")].source == "assistant"
    assert slots[(1, "parts", 0, "text")].eligible  # older model text
    assert not slots[(2, "parts", 0, "text")].eligible  # signed part
    assert not slots[(3, "parts", 0, "text")].eligible  # thought
    assert not any(slots[(i, "parts", 0, "text")].eligible for i in range(4, 8))  # recent
    user_on = {s.path: s for s in find_slots(contents, CompressConfig(compress_user_messages=True))}
    assert user_on[(0, "parts", 0, "text")].eligible
    assert not user_on[(6, "parts", 0, "text")].eligible


def test_function_calls_give_hints_by_id_then_by_name_in_order():
    contents = [
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "read_file", "args": {"path": "a.py"}}},
                {"functionCall": {"name": "read_file", "args": {"file_path": "b.rs"}}},
                {"functionCall": {"id": "x1", "name": "fetch", "args": {"url": "https://a.b/c"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"id": "x1", "name": "fetch", "response": {"output": "1"}}},
                {"functionResponse": {"name": "read_file", "response": {"output": "2"}}},
                {"functionResponse": {"name": "read_file", "response": {"output": "3"}}},
                {"functionResponse": {"name": "unknown", "response": {"output": "4"}}},
            ],
        },
    ]
    hints = [slot.hints for slot in find_slots(contents, CompressConfig()) if slot.source == "tool"]
    assert hints == [
        Hints("fetch", "https://a.b/c"),
        Hints("read_file", "a.py"),
        Hints("read_file", "b.rs"),
        Hints("unknown"),
    ]


def test_query_is_the_last_user_text_not_a_function_response():
    contents = [
        {"role": "user", "parts": [{"text": "first"}]},
        {"role": "user", "parts": [{"text": "which block failed?"}, {"inlineData": IMAGE}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
    ]
    assert last_user_text(contents) == "which block failed?"


OK_CALL = {"functionCall": {"name": "f", "args": {}}}

BAD_SHAPES: list[tuple[list[Any], str]] = [
    ([{"role": "user", "parts": "hi"}], "messages[0].parts: expected a list"),
    ([{"role": "assistant", "parts": []}], "messages[0].role:"),
    ([{"role": None, "parts": [{"text": 1}]}], "messages[0].parts[0].text: expected str"),
    ([{"role": "user", "parts": [{"text": "a"}, "b"]}], "messages[0].parts[1]: expected a dict"),
    (
        [
            {"role": "model", "parts": [OK_CALL]},
            {"parts": [{"text": "x"}, {"functionResponse": "x"}]},
        ],
        "messages[1].parts[1].functionResponse: expected a dict",
    ),
    (
        [{"parts": [{"function_response": {"name": "f", "response": ["a", "b"]}}]}],
        "messages[0].parts[0].function_response.response: expected a dict",
    ),
    (
        [{"parts": [{"functionResponse": {"name": 3, "response": {}}}]}],
        "messages[0].parts[0].functionResponse.name:",
    ),
    (
        [{"role": "model", "parts": [{"functionCall": {"args": {}}}]}],
        "messages[0].parts[0].functionCall.name:",
    ),
    (
        [{"role": "model", "parts": [{"function_call": {"name": "f", "args": "{}"}}]}],
        "messages[0].parts[0].function_call.args: expected a dict",
    ),
    (
        [{"role": "user", "content": "hi"}, {"role": "model", "parts": []}],
        "messages[0].parts: missing",
    ),
    ([{"role": "user", "parts": []}, 7], "messages[1]: expected a dict"),
]


@pytest.mark.parametrize(("contents", "spot"), BAD_SHAPES)
def test_malformed_gemini_shapes_name_the_spot(contents: list[Any], spot: str):
    snapshot = copy.deepcopy(contents)
    with pytest.raises(InvalidMessageError) as error:
        _hr().compress(contents)
    assert str(error.value).startswith(spot), str(error.value)
    with pytest.raises(InvalidMessageError) as error:
        count_tokens(contents)
    assert str(error.value).startswith("content" + spot.removeprefix("messages"))
    assert contents == snapshot


def test_conversation_layer_refuses_gemini_by_name():
    contents = [{"role": "user", "parts": [{"text": "hello " * 50}]}] * 6
    with pytest.raises(InvalidMessageError, match=r"messages\[0\]\.parts: Gemini"):
        RollingSummarizer(max_messages=3, store="memory").summarize(contents)
    with pytest.raises(InvalidMessageError, match=r"messages\[0\]\.parts: Gemini"):
        CacheAligner().align(contents)


# --- property: generated Gemini contents --------------------------------------------------

LOG_LINES = [
    "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
    "081109 203807 222 INFO dfs.DataNode$PacketResponder: Received block blk_-16 of size 91",
    "081109 204005 35 WARN dfs.FSNamesystem: BLOCK* NameSystem.delete: blk_-33 is invalid",
]
_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(LOG_LINES), min_size=20, max_size=120).map("\n".join),
    st.integers(5, 60).map(lambda n: json.dumps([{"id": i, "ok": i % 3 > 0} for i in range(n)])),
)
_json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=10)
)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
_rows = st.integers(5, 40).map(
    lambda n: [{"id": i, "name": f"n{i}", "state": "open"} for i in range(n)]
)
_odd = st.one_of(st.sets(st.integers(), max_size=3), st.just(float("nan")), st.just(math.inf))
_response = st.dictionaries(
    st.sampled_from(["output", "result", "content", "error", "stdout", "items"]),
    st.one_of(_text, _json, _rows, _odd),
    max_size=3,
)


@st.composite
def _part(draw: st.DrawFn, snake: bool) -> dict[str, Any]:
    call, reply, inline = (
        ("function_call", "function_response", "inline_data")
        if snake
        else ("functionCall", "functionResponse", "inlineData")
    )
    kind = draw(st.sampled_from(["text", "thought", "call", "reply", "inline", "file", "code"]))
    name = draw(st.sampled_from(["read_file", "run_shell", "get_issues"]))
    if kind == "text":
        return {"text": draw(_text)}
    if kind == "thought":
        return {"text": draw(_text), "thought": True, "thoughtSignature": "c2ln"}
    if kind == "call":
        args = draw(st.dictionaries(st.sampled_from(["path", "command", "n"]), _json, max_size=3))
        return {call: {"name": name, "args": args}}
    if kind == "reply":
        body: dict[str, Any] = {"name": name, "response": draw(_response)}
        if draw(st.booleans()):
            body["id"] = draw(st.sampled_from(["a", "b"]))
        return {reply: body}
    if kind == "inline":
        return {inline: {"mimeType": "image/png", "data": "AAAA"}}
    if kind == "file":
        return {"fileData": {"mimeType": "text/plain", "fileUri": "gs://b/f.txt"}}
    return {"executableCode": {"language": "PYTHON", "code": "print(1)"}}


@st.composite
def gemini_contents(draw: st.DrawFn) -> list[dict[str, Any]]:
    snake = draw(st.booleans())
    out = []
    for _ in range(draw(st.integers(0, 6))):
        content: dict[str, Any] = {"parts": draw(st.lists(_part(snake), max_size=4))}
        role = draw(st.sampled_from(["user", "model", None]))
        if role is not None:
            content["role"] = role
        out.append(content)
    return out


def _same_objects_outside_slots(before: Any, after: Any) -> None:
    """Non-text parts and function calls are the very same objects."""
    for content_in, content_out in zip(before, after, strict=True):
        assert set(content_in) == set(content_out)
        assert content_in.get("role") == content_out.get("role")
        assert len(content_in["parts"]) == len(content_out["parts"])
        for part_in, part_out in zip(content_in["parts"], content_out["parts"], strict=True):
            assert set(part_in) == set(part_out)
            for key, value in part_in.items():
                if key in ("functionResponse", "function_response"):
                    assert set(value) == set(part_out[key])
                    assert set(value["response"]) == set(part_out[key]["response"])
                elif key != "text":
                    assert part_out[key] is value


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(contents=gemini_contents(), tools=st.booleans(), protect=st.integers(0, 3))
def test_generated_contents_never_raise_never_mutate_keep_structure(
    contents: list[dict[str, Any]], tools: bool, protect: int
):
    hr = _hr(min_tokens=20, compress_tool_results=tools, protect_recent=protect)
    snapshot = repr(contents)
    result = hr.compress(contents)
    assert repr(contents) == snapshot
    assert result.tokens_before == count_tokens(contents)
    assert result.tokens_after <= result.tokens_before
    assert len(result.messages) == len(contents)
    _same_objects_outside_slots(contents, result.messages)
    for handle in result.handles:
        assert hr.retrieve(handle)
    if not tools:
        for content_in, content_out in zip(contents, result.messages, strict=True):
            for part_in, part_out in zip(content_in["parts"], content_out["parts"], strict=True):
                for key in ("functionResponse", "function_response"):
                    if key in part_in:
                        assert part_out[key] is part_in[key]
    again = hr.compress(result.messages)
    assert again.messages == result.messages  # idempotent
