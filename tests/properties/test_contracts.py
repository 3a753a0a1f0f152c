"""Hypothesis properties for the contracts every compressor keeps (ARCHITECTURE.md)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom
from headroom.handles import find_markers
from headroom.jsontables import decode, is_table_document

HR = Headroom(CompressConfig(min_tokens=0), store="memory")
HR_FRESH_STORE = Headroom(CompressConfig(min_tokens=0), store="memory")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)
words = st.sampled_from(
    [
        "INFO",
        "WARN",
        "ERROR",
        "worker",
        "started",
        "job",
        "disk",
        "42",
        "blk_17",
        "10.0.0.1:80",
        "/var/log/x",
        "failed",
        "ok",
    ]
)
log_lines = st.lists(
    st.builds(
        lambda t, ws: f"2024-01-01 00:00:{t:02d} " + " ".join(ws),
        st.integers(0, 59),
        st.lists(words, min_size=1, max_size=8),
    ),
    min_size=3,
    max_size=80,
)
contents = (
    st.builds(
        lambda v, indent: json.dumps(v, indent=indent), json_values, st.sampled_from([None, 2, 4])
    )
    | log_lines.map("\n".join)
    | st.text(max_size=2000)
)


@given(contents)
def test_deterministic(text: str) -> None:
    a = HR.compress_text(text)
    b = HR_FRESH_STORE.compress_text(text)
    assert a.text == b.text and a.handles == b.handles


@given(contents)
def test_never_worse(text: str) -> None:
    result = HR.compress_text(text)
    assert result.tokens_after <= result.tokens_before
    if result.text != text:
        assert result.tokens_after < result.tokens_before


@given(contents)
def test_idempotent(text: str) -> None:
    once = HR.compress_text(text).text
    assert HR.compress_text(once).text == once


@given(contents)
def test_lossless_or_retrievable(text: str) -> None:
    result = HR.compress_text(text)
    if result.lossless:
        if is_table_document(result.text):
            assert decode(result.text) == json.loads(text)
        elif result.kind == "json":
            assert json.loads(result.text) == json.loads(text) or result.text == text
        elif result.kind == "search":  # lossless grouping by file: every path and match stays
            for line in text.splitlines():
                path, _, rest = line.partition(":")
                assert path in result.text and rest.partition(":")[2] in result.text
        else:
            assert result.text == text
    else:
        markers = find_markers(result.text)
        assert markers
        for marker in markers:
            original = HR.retrieve(marker.handle)
            if result.kind == "json":  # the part that was cut: an array or a string of it
                assert original in _parts(json.loads(text))
            else:
                assert original == text


def _parts(value: Any) -> list[str]:
    """Every array (as minified JSON) and string inside a JSON value."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, list):
            found.append(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


@given(log_lines)
def test_signal_lines_survive(lines: list[str]) -> None:
    from headroom.compressors.logs.clustering import analyse
    from headroom.compressors.logs.render import split_annotation

    text = "\n".join(lines)
    out = HR.compress_text(text, kind="log").text
    if out == text:
        return  # nothing dropped
    kept = {split_annotation(line)[0] for line in out.split("\n")}
    analysis = analyse(lines)
    for number, line in enumerate(lines):
        if "ERROR" in line or "failed" in line:
            # Every error line is kept, or the first line of its cluster is.
            cluster = analysis.template_clusters[analysis.line_templates[number]]
            assert line in kept or lines[analysis.clusters[cluster].first] in kept


@given(
    st.lists(st.sampled_from(["user", "assistant", "tool"]), min_size=1, max_size=12),
    st.integers(0, 6),
)
def test_tool_calls_stay_paired_and_roles_unchanged(roles: list[str], recent: int) -> None:
    messages: list[dict[str, Any]] = []
    for i, role in enumerate(roles):
        if role == "tool":
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"c{i}",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                }
            )
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": f"c{i}",
                    "content": json.dumps(list(range(200)), indent=1),
                }
            )
        else:
            messages.append(
                {"role": role, "content": json.dumps({"n": list(range(100))}, indent=2)}
            )
    hr = Headroom(
        CompressConfig(protect_recent=recent, compress_user_messages=True), store="memory"
    )
    out = hr.compress(messages).messages
    assert [m["role"] for m in out] == [m["role"] for m in messages]
    assert [m.get("tool_call_id") for m in out] == [m.get("tool_call_id") for m in messages]
    assert [m.get("tool_calls") for m in out] == [m.get("tool_calls") for m in messages]
