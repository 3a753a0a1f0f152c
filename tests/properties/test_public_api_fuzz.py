"""Fuzzing the public API with hostile and careless inputs.

``compress``, ``compress_text``, ``count_tokens``, ``retrieve`` and the CLI get message
lists in both providers' shapes holding adversarial content (one huge line, many tiny
lines, deep brackets, marker look-alikes, JSON Lines broken by a stack trace, bytes that
are not UTF-8, lone surrogates, real tool output) and arbitrary values where the model
writes (tool arguments). The promises checked on every example:

* no exception escapes but a ``HeadroomError`` (and valid inputs raise none);
* the input is never mutated; the output has the same messages, roles and non-text parts;
* a changed piece is either lossless JSON holding the same value or lossy with handles,
  each giving back that piece exactly;
* ``tokens_before`` equals ``count_tokens`` of the input.
"""

from __future__ import annotations

import contextlib
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom, count_tokens
from headroom.errors import HeadroomError
from headroom.handles import find_markers
from headroom.jsontables import loads
from headroom.store import MemoryStore
from tests.conftest import BENCH_DATA

_LOG_LINE = "2026-12-04 10:00:{:02d} INFO worker-{} served /api/items/{} in {} ms"


def _real(path: str, limit: int = 20_000) -> str:
    file = BENCH_DATA / path
    return file.read_text(errors="surrogateescape")[:limit] if file.is_file() else ""


HOSTILE = [
    "x" * 60_000,  # one huge line
    "a\n" * 20_000,  # many tiny lines
    "\n".join(f"unique line {i} {i * 7919 % 10007} {'z' * (i % 13)}" for i in range(3000)),
    "[" * 5000 + "]" * 5000,  # deep brackets, valid JSON
    "{" * 3000,  # deep and broken
    "[1 " * 10_000,  # the marker regex's worst case
    "[3 rows omitted · retrieve: headroom:0123456789ab]" * 200,  # marker look-alikes
    "\n".join(json.dumps({"n": i, "msg": f"user {i} logged in"}) for i in range(2000))
    + "\ngoroutine 1 [running]:\n\t/app/main.go:12 +0x1d",
    "caf\udce9 \udcff\udcfe bytes that were not UTF-8 " * 400,
    "lone \ud800 surrogate " * 400,
    '"' * 20_000 + "\\" * 20_000,
    "@@ -1 +1 @@\n" * 3000,
    '  File "x.py", line 1, in f\n' * 3000,
    ":" * 40_000,
    _real("loghub/HDFS_2k.log"),
    _real("json/gh_issues_rails_admin.json", 60_000),
    _real("squad/dev-v2.0.json", 30_000),
]
CONTENT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=300),
    st.builds(
        lambda n, i: _LOG_LINE.format(i % 60, i, n, i * 3) * 50, st.integers(), st.integers()
    ),
)
# What a model may put in tool arguments: anything JSON can carry, and what SDKs hand over.
ARGUMENT = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=30),
        st.binary(max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def openai_messages(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": draw(st.text(max_size=50))}]
    for turn in range(draw(st.integers(1, 4))):
        messages.append({"role": "user", "content": draw(CONTENT)})
        call_id = f"call_{turn}"
        arguments = draw(
            st.one_of(
                st.text(max_size=40), ARGUMENT.map(lambda value: json.dumps(value, default=repr))
            )
        )
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": draw(st.sampled_from(["bash", "read", "grep"])),
                            "arguments": arguments,
                        },
                    }
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call_id, "content": draw(CONTENT)})
    return messages


@st.composite
def anthropic_messages(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for turn in range(draw(st.integers(1, 4))):
        messages.append({"role": "user", "content": draw(CONTENT)})
        tool_id = f"toolu_{turn}"
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": draw(st.text(max_size=40))},
                    {"type": "tool_use", "id": tool_id, "name": "read", "input": draw(ARGUMENT)},
                ],
            }
        )
        result = draw(
            st.one_of(
                CONTENT,
                st.lists(CONTENT.map(lambda t: {"type": "text", "text": t}), max_size=3),
            )
        )
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tool_id, "content": result},
                    {"type": "image", "source": {"type": "base64", "data": "AAAA"}},
                ],
            }
        )
    return messages


def _texts(messages: list[dict[str, Any]]) -> list[tuple[tuple[object, ...], str]]:
    """Every string in the list with its path, to compare input and output piece by piece."""
    out: list[tuple[tuple[object, ...], str]] = []

    def walk(value: object, path: tuple[object, ...]) -> None:
        if isinstance(value, str):
            out.append((path, value))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*path, i))

    walk(messages, ())
    return out


def _same_json(before: str, after: str) -> bool:
    stripped = before.strip()
    try:
        expected = json.loads(stripped)
    except ValueError:
        expected = [json.loads(line) for line in stripped.split("\n") if line.strip()]
    try:
        return bool(loads(after) == expected)
    except ValueError:
        return [json.loads(line) for line in after.split("\n") if line.strip()] == expected


HR = Headroom(CompressConfig(min_tokens=50, protect_recent=1), store=MemoryStore())


def _check(messages: list[dict[str, Any]], query: str | None) -> None:
    snapshot = copy.deepcopy(messages)
    result = HR.compress(messages, model="gpt-4o", query=query)
    assert messages == snapshot  # never mutated
    assert result.tokens_before == count_tokens(messages)
    out = result.messages
    assert [m["role"] for m in out] == [m["role"] for m in messages]
    before, after = _texts(messages), _texts(out)
    assert [path for path, _ in before] == [path for path, _ in after]
    for (path, old), (_, new) in zip(before, after, strict=True):
        if old == new:
            continue
        markers = find_markers(new)
        if markers:
            for marker in markers:
                assert marker.handle in result.handles
                assert HR.retrieve(marker.handle) == old, path
        else:
            assert _same_json(old, new), path


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(openai_messages(), st.one_of(st.none(), st.text(max_size=30)))
def test_openai_message_lists(messages: list[dict[str, Any]], query: str | None) -> None:
    _check(messages, query)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(anthropic_messages(), st.one_of(st.none(), st.text(max_size=30)))
def test_anthropic_message_lists(messages: list[dict[str, Any]], query: str | None) -> None:
    _check(messages, query)


JUNK = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.binary(max_size=5),
)


@given(
    st.lists(
        st.one_of(
            JUNK, st.dictionaries(st.sampled_from(["role", "content", "tool_calls", "type"]), JUNK)
        ),
        max_size=4,
    )
)
def test_malformed_message_lists_raise_only_headroom_errors(messages: list[Any]) -> None:
    with contextlib.suppress(HeadroomError):
        HR.compress(messages)
    with contextlib.suppress(HeadroomError):
        count_tokens(messages)


@given(
    CONTENT,
    st.sampled_from(["auto", "json", "log", "search", "test-output", "diff", "code", "text"]),
    st.one_of(st.none(), st.text(max_size=30)),
)
def test_compress_text_on_anything(text: str, kind: str, query: str | None) -> None:
    result = HR.compress_text(text, kind=kind, query=query)
    assert result.tokens_after <= result.tokens_before
    if result.text != text:
        if result.lossless:
            assert _same_json(text, result.text)
        else:
            for handle in result.handles:
                assert HR.retrieve(handle) == text


@given(st.one_of(st.text(max_size=80), JUNK))
def test_retrieve_raises_only_headroom_errors(handle: Any) -> None:
    with contextlib.suppress(HeadroomError):
        HR.retrieve(handle)


@pytest.mark.parametrize("data", [b"", b"\xff\xfe\x00\x01" * 500, b"[1 " * 20_000, b"{" * 50_000])
def test_cli_never_crashes_on_raw_input(data: bytes, tmp_path: Path) -> None:
    for args in (["compress", "-"], ["compress", "-", "--kind", "json"], ["retrieve", "x]"]):
        out = subprocess.run(
            [sys.executable, "-m", "headroom", *args],
            input=data,
            capture_output=True,
            env={"HEADROOM_HOME": str(tmp_path), "LC_ALL": "C", "PATH": "/usr/bin:/bin"},
            timeout=120,
            check=False,
        )
        assert out.returncode in (0, 1), out.stderr
        assert b"Traceback" not in out.stderr
        if args[0] == "compress" and out.returncode == 0 and b"originals:" not in out.stderr:
            assert out.stdout in (data, data + b"\n")
