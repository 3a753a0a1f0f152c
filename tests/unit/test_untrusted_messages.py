"""Tool-call arguments hold anything: counting and compressing never crash on them.

Anthropic ``tool_use.input`` and OpenAI ``tool_calls[].function.arguments`` are written
by a model (or put there by application code) and never compressed. Whatever they hold —
sets, datetimes, Decimals, bytes, cycles, NaN, non-string keys, nesting 100,000 deep — they
are counted, passed through as the very same objects, and ``count_tokens(messages)``
equals ``compress(messages).tokens_before``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import math
import uuid
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom import (
    CacheAligner,
    CompressConfig,
    Headroom,
    RollingSummarizer,
    compress,
    count_tokens,
)
from headroom.messages import untrusted_json
from headroom.messages.untrusted import REPEAT_BUDGET

CONFIG = CompressConfig(store="memory")
LOG = "\n".join(
    f"2024-01-01 10:00:{i % 60:02d} INFO worker {i} finished job {i}" for i in range(300)
)


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


def _cyclic_dict() -> dict[str, Any]:
    value: dict[str, Any] = {"name": "loop"}
    value["self"] = value
    return value


def _cyclic_list() -> list[Any]:
    value: list[Any] = [1]
    value.append(value)
    return value


def _nested(depth: int, kind: str = "list") -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def _mutual() -> dict[str, Any]:
    a: dict[str, Any] = {}
    b: list[Any] = [a]
    a["b"] = b
    return a


def _shared_exponential(levels: int) -> list[Any]:
    # 2**levels paths, levels + 1 objects: expanded, it would never finish.
    value: list[Any] = []
    for _ in range(levels):
        value = [value, value]
    return value


WEIRD: dict[str, Any] = {
    "set": {"tags": {"b", "a", "c"}},
    "frozenset": {"tags": frozenset({1, 2})},
    "datetime": {"when": datetime.datetime(2024, 5, 15, 15, 0, tzinfo=datetime.timezone.utc)},
    "date": {"day": datetime.date(2024, 5, 15)},
    "decimal": {"amount": decimal.Decimal("10.10")},
    "decimal-nan": {"amount": decimal.Decimal("NaN")},
    "bytes": {"blob": b"\x00\xff binary"},
    "bytearray": {"blob": bytearray(b"abc")},
    "cyclic-dict": _cyclic_dict(),
    "cyclic-list": {"items": _cyclic_list()},
    "mutual-cycle": _mutual(),
    "nan": {"x": math.nan, "y": math.inf, "z": -math.inf},
    "int-keys": {1: "a", 2: "b"},
    "mixed-keys": {1: "a", "b": 2, None: 3, (1, 2): 4, 2.5: 5, False: 6},
    "tuple-key": {(1, (2, (3,))): "x"},
    "deep-list-1000": _nested(1_000),
    "deep-list-100000": _nested(100_000),
    "deep-dict-5000": _nested(5_000, "dict"),
    "shared-exponential": _shared_exponential(200),
    "huge-int": {"n": 10**5000},
    "complex": {"z": 1 + 2j},
    "uuid": {"id": uuid.UUID(int=7)},
    "enum": {"colour": Colour.RED, "level": Level.HIGH},
    "bad-repr": {"thing": BadRepr()},
    "object": {"thing": object()},
    "mappingproxy": MappingProxyType({"a": 1}),
    "ordered": OrderedDict([("z", 1), ("a", 2)]),
    "lone-surrogate": {"s": "\ud800"},
    "non-dict-input": [1, 2, 3],
    "none": None,
    "string": "plain text input",
}


def _anthropic(value: Any) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "What failed?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Reading the log."},
                {"type": "tool_use", "id": "t1", "name": "read_log", "input": value},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": LOG}],
        },
    ]


def _openai(value: Any) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "What failed?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "read_log", "arguments": value},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": LOG},
    ]


def _check_compress(messages: list[dict[str, Any]], at: tuple[Any, ...]) -> None:
    """Compressing never raises, keeps the argument object itself, and counts consistently."""
    result = compress(messages, config=CONFIG)
    assert result.tokens_after < result.tokens_before  # the log was still compressed
    assert count_tokens(messages) == result.tokens_before
    original, passed = messages, result.messages
    for key in at:
        original, passed = original[key], passed[key]
    assert passed is original


@pytest.mark.parametrize("value", list(WEIRD.values()), ids=list(WEIRD))
def test_anthropic_tool_use_input_holding_anything(value: Any) -> None:
    _check_compress(_anthropic(value), (1, "content", 1, "input"))


@pytest.mark.parametrize("value", list(WEIRD.values()), ids=list(WEIRD))
def test_openai_arguments_holding_anything(value: Any) -> None:
    _check_compress(_openai(value), (1, "tool_calls", 0, "function", "arguments"))


@pytest.mark.parametrize(
    "arguments",
    [
        '{"path": "hdfs.log"}',
        "not json at all",
        '{"a":' * 100_000 + "1" + "}" * 100_000,  # json.loads raises RecursionError
        "[" * 100_000 + "]" * 100_000,
        "{" * 50_000,
        "",
    ],
    ids=["json", "not-json", "deep-object", "deep-array", "unclosed", "empty"],
)
def test_openai_arguments_as_a_string(arguments: str) -> None:
    _check_compress(_openai(arguments), (1, "tool_calls", 0, "function", "arguments"))


def test_a_string_argument_is_counted_as_sent() -> None:
    arguments = '{"path": "hdfs.log",   "lines": 10}'
    with_args = count_tokens(_openai(arguments))
    without = count_tokens(_openai(""))
    assert with_args - without == count_tokens(arguments)


# The conversation layer reads each call's arguments a few times per summary: the 100,000
# deep case is linear there too, but slow enough to leave to the tests above.
SUMMARIZED = {k: v for k, v in WEIRD.items() if k != "deep-list-100000"}


@pytest.mark.parametrize("value", list(SUMMARIZED.values()), ids=list(SUMMARIZED))
def test_conversation_layer_reads_them_too(value: Any) -> None:
    history = [
        {"role": "system", "content": "You read logs."},
        *_anthropic(value),
        {"role": "assistant", "content": "All workers finished."},
        *_openai(value),
        {"role": "assistant", "content": "Still fine."},
        {"role": "user", "content": "And now?"},
    ]
    out = RollingSummarizer(max_messages=4, keep_recent=2, store="memory").summarize(history)
    assert out.summarized > 0
    assert out.messages[-1] is history[-1]
    aligned = CacheAligner(prefix_turns=4).align(history)
    assert aligned.messages[2]["content"][1]["input"] is value


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": decimal.Decimal("9.99")},
        {"raw": b"\x00\x01"},
        {"meta": {"when": datetime.date(2024, 1, 1), "ids": {3, 1}}},
    ],
    ids=["decimal", "bytes", "nested"],
)
def test_rolling_summarizer_on_message_fields_json_cannot_hold(fields: dict[str, Any]) -> None:
    history = [
        {"role": "user", "content": f"Turn {i}: check order ORD-{i}.", **fields} for i in range(6)
    ]
    rs = RollingSummarizer(max_messages=3, keep_recent=1, store="memory")
    out = rs.summarize(history)
    assert out.summarized > 0
    stored = rs.store.get(out.handles[0]).text
    assert json.loads(stored)[0]["content"] == "Turn 0: check order ORD-0."


# --- untrusted_json itself -------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


@given(JSON_VALUES, st.booleans(), st.booleans())
def test_json_values_are_written_exactly_as_json_dumps(
    value: Any, sort_keys: bool, ensure_ascii: bool
) -> None:
    assert untrusted_json(value, sort_keys=sort_keys, ensure_ascii=ensure_ascii) == json.dumps(
        value, sort_keys=sort_keys, ensure_ascii=ensure_ascii
    )


HASHABLE = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8)
    | st.decimals(allow_nan=False)  # a signalling NaN cannot be hashed into a set
    | st.datetimes()
    | st.dates()
    | st.complex_numbers()
)
ANY_VALUES = st.recursive(
    HASHABLE | st.decimals() | st.just(math.nan),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(HASHABLE, children, max_size=4)
        | st.frozensets(HASHABLE, max_size=4)
        | st.sets(HASHABLE, max_size=4)
    ),
    max_leaves=30,
)


@given(ANY_VALUES)
def test_arbitrary_arguments_never_raise_and_come_back_identical(value: Any) -> None:
    for messages, at in (
        (_anthropic(value), (1, "content", 1, "input")),
        (_openai(value), (1, "tool_calls", 0, "function", "arguments")),
    ):
        result = Headroom(store="memory").compress(messages)
        assert count_tokens(messages) == result.tokens_before
        original, passed = messages, result.messages
        for key in at:
            original, passed = original[key], passed[key]
        assert passed is original
    text = untrusted_json(value)
    assert isinstance(text, str) and untrusted_json(value) == text


@given(st.sets(st.text(max_size=8), max_size=8))
def test_sets_are_written_in_an_order_independent_of_hashing(items: set[str]) -> None:
    reordered = set(sorted(items, reverse=True))
    assert untrusted_json(items) == untrusted_json(reordered) == untrusted_json(frozenset(items))


def test_cycles_are_cut_and_repeats_written_within_a_budget() -> None:
    assert untrusted_json(_cyclic_dict()) == '{"name": "loop", "self": "<ref>"}'
    assert untrusted_json(_mutual()) == '{"b": ["<ref>"]}'
    shared = {"k": 1}
    assert untrusted_json([shared, shared]) == json.dumps([shared, shared])
    # 2**200 paths through 201 objects: the work stops at the budget.
    text = untrusted_json(_shared_exponential(200))
    assert text.count("[]") <= REPEAT_BUDGET and '"<ref>"' in text


def test_deep_nesting_is_written_whole() -> None:
    text = untrusted_json(_nested(100_000))
    assert text == "[" * 100_000 + '"bottom"' + "]" * 100_000
