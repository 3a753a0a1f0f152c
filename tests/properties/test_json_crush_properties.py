"""Hypothesis properties of lossy JSON crushing: signal survives, every record stays
identifiable (kept, or named by id and name in the marker), never larger than lossless,
purity."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom
from headroom.compressors.base import Compressed, Context
from headroom.compressors.json import smart_crusher
from headroom.compressors.json.crush import Crushed, CrushOptions, crush
from headroom.compressors.json.signals import _ERROR_KEYS, _STATUS_KEYS, _may_signal, key_words
from headroom.compressors.json.smart_crusher import SmartCrusher
from headroom.compressors.json.summary import listed_ids, listed_records
from headroom.compressors.json.text import query_words, shorten
from headroom.handles import find_markers
from headroom.relevance import tokenize
from headroom.signals import names_exception
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter, memoized

STATUSES = ["ok", "done", "queued"]


DEFAULT = CrushOptions()


def run(
    value: Any, *, query: str | None = None, options: CrushOptions = DEFAULT
) -> tuple[Crushed | None, MemoryStore]:
    store = MemoryStore()
    return crush(
        value, query=query, stash=lambda t: store.put(t, kind="json"), options=options
    ), store


WORKERS = ["alpha", "bravo", "charlie, inc", 'delta "d"', "echo; e", "fox]trot", "golf · g"]


@st.composite
def records(draw: st.DrawFn, *, int_ids: bool = False) -> list[dict[str, Any]]:
    """31-150 records with a unique id, a name, a status, a duration, a flag, free text.

    Names hold what a marker's list must quote (", ", ";", quotes, "]", " · ").
    """
    count = draw(st.integers(31, 150))
    # Ids are unique but not in order, so id runs and kept order are both exercised.
    numbers = draw(st.permutations(range(count)))
    rows = []
    for i in range(count):
        rows.append(
            {
                "id": numbers[i] * 3 if int_ids else f"job-{numbers[i]:04d}",
                "status": draw(st.sampled_from(STATUSES)),
                "ms": draw(st.integers(90, 110)),
                "flag": draw(st.booleans()),
                "note": draw(st.text(max_size=20)),
                "name": f"{draw(st.sampled_from(WORKERS))} run {draw(st.integers(0, 999))}",
                "nested": {"depth": draw(st.integers(0, 3))},
            }
        )
    return rows


@st.composite
def with_anomalies(draw: st.DrawFn) -> tuple[list[dict[str, Any]], set[str]]:
    """Records where 1-3 rows report an error or hold a status no other row has."""
    rows = draw(records())
    positions = draw(st.sets(st.integers(0, len(rows) - 1), min_size=1, max_size=3))
    for position in positions:
        kind = draw(st.sampled_from(["error", "failed", "rare"]))
        if kind == "error":
            rows[position]["error"] = draw(st.text(min_size=1, max_size=30).filter(str.strip))
        elif kind == "failed":
            rows[position]["status"] = draw(st.sampled_from(["failed", "ERROR", "timeout"]))
        else:
            rows[position]["status"] = f"quarantined-{position}"
    return rows, {rows[p]["id"] for p in positions}


options = st.builds(
    CrushOptions,
    max_rows=st.integers(0, 25),
    min_rows=st.integers(5, 30),
    keep_ids=st.just(True),
)


@given(with_anomalies(), options)
def test_injected_anomalies_are_always_kept(
    case: tuple[list[dict[str, Any]], set[str]], opts: CrushOptions
) -> None:
    rows, anomalous = case
    crushed, _ = run(rows, options=opts)
    kept = {row["id"] for row in crushed.value} if crushed else {row["id"] for row in rows}
    assert anomalous <= kept


@given(
    st.one_of(records(), records(int_ids=True)), options, st.sampled_from([None, "job 7", "queued"])
)
def test_every_id_is_kept_or_listed_and_the_original_round_trips(
    rows: list[dict[str, Any]], opts: CrushOptions, query: str | None
) -> None:
    crushed, store = run({"jobs": rows}, query=query, options=opts)
    if crushed is None:  # every row was worth keeping: nothing dropped, nothing to check
        return
    [marker] = crushed.markers
    [parsed] = find_markers(marker)
    assert parsed.summary is not None
    kept = crushed.value["jobs"]
    assert parsed.count == len(rows) - len(kept) == crushed.dropped_rows
    present = {str(row["id"]) for row in kept} | set(listed_ids(parsed.summary))
    assert {str(row["id"]) for row in rows} <= present
    # Every record is identifiable: kept, or listed with its name (cut with "…" if long);
    # a name every record shares names none of them and is not listed.
    listed = dict(listed_records(parsed.summary))
    for row in rows:
        if row not in kept:
            name = listed[str(row["id"])]
            if name is None:
                assert len({r["name"] for r in rows}) == 1
            else:
                assert row["name"].startswith(name.removesuffix("…"))
    assert json.loads(store.get(parsed.handle).text) == rows
    positions = [rows.index(row) for row in kept]
    assert positions == sorted(positions) and positions[0] == 0 and positions[-1] == len(rows) - 1


@given(
    st.one_of(records(), with_anomalies().map(lambda case: case[0])),
    st.sampled_from([None, "failed jobs"]),
)
def test_never_mutates_and_is_deterministic(rows: list[dict[str, Any]], query: str | None) -> None:
    value = {"page": 1, "jobs": rows, "text": "A sentence about jobs. " * 80}
    before = copy.deepcopy(value)
    first, _ = run(value, query=query)
    second, _ = run(value, query=query)
    assert value == before
    if first is None or second is None:  # rows worth keeping and nothing to shorten
        assert first is second is None
        return
    assert (first.value, first.markers, first.handles) == (
        second.value,
        second.markers,
        second.handles,
    )


LOSSLESS = CompressConfig(lossy=False, min_tokens=0)


@settings(max_examples=25, deadline=None)
@given(
    st.one_of(records(), records(int_ids=True), with_anomalies().map(lambda case: case[0])),
    st.sampled_from([None, 0.05, 0.3, 0.9]),
    st.sampled_from([None, "charlie failed"]),
)
def test_through_the_api_never_larger_than_lossless_and_same_bytes(
    rows: list[dict[str, Any]], ratio: float | None, query: str | None
) -> None:
    text = json.dumps(rows, ensure_ascii=False)
    lossless = Headroom(LOSSLESS, store="memory").compress_text(text, kind="json")
    config = CompressConfig(min_tokens=0, target_ratio=ratio)
    first = Headroom(config, store="memory").compress_text(text, kind="json", query=query)
    second = Headroom(config, store="memory").compress_text(text, kind="json", query=query)
    assert first.text == second.text  # deterministic bytes, store or no store
    assert first.tokens_after <= lossless.tokens_after


@given(records())
def test_a_second_pass_leaves_small_results_alone(rows: list[dict[str, Any]]) -> None:
    first, _ = run(rows)
    if first is None:  # listing the rows would cost about what they do: kept whole
        return
    again, _ = run(first.value)
    # Signal rows past min_rows would be crushed again (the value carries no memory of
    # the first pass; the compressor sees the markers instead), so only small results.
    if len(first.value) <= DEFAULT.min_rows:
        assert again is None


sentences = st.lists(
    st.builds(
        lambda words: " ".join(words).capitalize() + ".",
        st.lists(
            st.sampled_from(["river", "delta", "silt", "flood", "basin", "tide", "reed"]),
            min_size=3,
            max_size=12,
        ),
    ),
    min_size=40,
    max_size=120,
)


@given(sentences, st.sampled_from(["", "flood", "tide basin"]))
def test_shortened_text_keeps_its_head_and_every_matching_sentence(
    parts: list[str], query: str
) -> None:
    text = " ".join(parts)
    store = MemoryStore()
    words = query_words(query)
    short = shorten(text, words=words, max_chars=1200, stash=lambda t: store.put(t, kind="json"))
    if short is None:
        assert len(text) <= 1200 or words  # only query sentences can make it not worth it
        return
    [marker] = find_markers(short)
    assert store.get(marker.handle).text == text
    assert short.startswith(parts[0])
    body = short[: short.rindex(" [")]
    for sentence in parts[1:]:
        if words & set(sentence.lower().rstrip(".").split()):
            assert sentence in body
    assert shorten(short, words=words, max_chars=1200, stash=lambda t: 1 / 0) is None  # type: ignore[arg-type,return-value]


# Characters where the sentence and word rules have edge cases: punctuation before white
# space, Unicode spaces and line breaks, and letters that lower-case by context ("Σ") or to
# ASCII from outside it (Kelvin sign, dotted capital I).
_TRICKY_TEXT = st.text(
    st.sampled_from(list("ab AB.!?。\n\t\u3000\x85\u2028ΣσİK\u212a_-'1")) | st.characters(),
    max_size=60,
)


@given(_TRICKY_TEXT)
def test_sentence_boundaries_are_the_reference_regex(text: str) -> None:
    from headroom.compressors.json.text import _BOUNDARY_RE

    reference = re.compile(r"(?<=[.!?。！？])\s+|\s*\n\s*")
    assert [m.span() for m in _BOUNDARY_RE.finditer(text)] == [
        m.span() for m in reference.finditer(text)
    ]


def _reference_relevant(sentence: str, words: frozenset[str]) -> bool:
    return bool(words & set(tokenize(sentence))) or names_exception(sentence)


@given(
    st.lists(_TRICKY_TEXT | st.sampled_from(["kelvin", "IOError", "ΣaB", "k"]), max_size=6),
    st.frozensets(st.sampled_from(["k", "kelvin", "ab", "b", "σ", "ς", "i̇", "1", "io", "error"])),
)
def test_the_quick_sentence_test_agrees_with_the_tokens(
    parts: list[str], words: frozenset[str]
) -> None:
    # shorten() reads a sentence's tokens only when a substring test says it can match;
    # it must keep exactly the sentences the tokens (and names_exception) keep.
    from headroom.compressors.json.text import _relevance_test

    text = " ".join(parts)
    relevant = _relevance_test(text, words)
    for sentence in [text, *parts]:
        expected = _reference_relevant(sentence, words)
        assert (relevant is not None and relevant(sentence)) == expected


# Keys that name (or nearly name) a signal word, in the spellings records use.
SIGNAL_LIKE_KEYS = st.builds(
    lambda word, prefix, style: style(prefix + word),
    st.sampled_from(["error", "Errors", "stack", "STATUS", "state", "kind", "warn", "level"]),
    st.sampled_from(["", "build_", "x-", "http", "last"]),
    st.sampled_from([str, str.upper, str.title, lambda k: k.replace("_", "")]),
)


@given(st.one_of(st.text(max_size=30), SIGNAL_LIKE_KEYS))
def test_the_quick_key_test_agrees_with_the_words(key: str) -> None:
    # _may_signal skips splitting keys into words when no signal word is in the key at all;
    # it must say exactly what the words say.
    words = key_words(key)
    expected = bool(words & (_ERROR_KEYS | _STATUS_KEYS)) or key.lower() == "stack"
    assert _may_signal(key) == expected


@given(
    st.lists(
        st.dictionaries(st.from_regex(r"[a-z]{1,3}[0-9]{0,3}", fullmatch=True), st.integers()),
        min_size=31,
        max_size=120,
    ),
    st.integers(0, 30),
)
def test_records_with_differing_keys_keep_failures(
    rows: list[dict[str, Any]], failing: int
) -> None:
    rows = [dict(row) for row in rows]
    rows[failing]["error"] = "disk full"
    crushed, store = run(rows)
    if crushed is not None:
        assert rows[failing] in crushed.value
        assert json.loads(store.get(crushed.handles[0]).text) == rows


def _nested_record_text(value: Any, depth: int = 0) -> str:
    # The definition record_text keeps: each container's values joined with spaces.
    if depth > 200:
        return ""
    if isinstance(value, dict):
        return " ".join(_nested_record_text(item, depth + 1) for item in value.values())
    if isinstance(value, list):
        return " ".join(_nested_record_text(item, depth + 1) for item in value)
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return ""
    return str(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(json_values)
def test_record_text_joins_every_level_with_spaces(value: Any) -> None:
    from headroom.compressors.json.profile import record_text

    assert record_text(value) == _nested_record_text(value)
    deep: Any = "x"
    for _ in range(250):
        deep = [deep, 1]
    assert record_text(deep) == _nested_record_text(deep)


_FLOAT_SPELLINGS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),  # as Python writes them
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: json.dumps([x])[1:-1]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e-3, max_value=1e-3).map(
        lambda x: _orjson_spelling(x)
    ),
    st.from_regex(r"-?(0|[1-9][0-9]{0,3})\.[0-9]{1,8}([eE][-+]?[0-9]{1,3})?", fullmatch=True),
)


def _orjson_spelling(x: float) -> str:
    import orjson

    return orjson.dumps(x).decode()


@given(st.lists(_FLOAT_SPELLINGS, min_size=1, max_size=6))
def test_parsed_floats_keep_their_spelling(spellings: list[str]) -> None:
    # Whatever parser reads the text (orjson's fast path or the json module), every float
    # written back is spelled as the input spelled it.
    from headroom.compressors.json.smart_crusher import parse_json
    from headroom.jsontables.syntax import RawFloat

    text = "[" + ",".join(spellings) + "]"
    parsed = parse_json(text)
    if parsed is None:  # out of float range: left to the minifier
        assert any(abs(float(s)) == float("inf") for s in spellings)
        return
    for spelling, value in zip(spellings, parsed[0], strict=True):
        if isinstance(value, float):
            written = value.spelling if isinstance(value, RawFloat) else repr(value)
        else:
            written = str(value)
        assert written == spelling


def _smart_crush(
    text: str, options: CrushOptions, ratio: float | None, query: str | None
) -> Compressed | None:
    context = Context(
        "json",
        None,
        query,
        CompressConfig(min_tokens=0, target_ratio=ratio),
        MemoryStore(),
        memoized(get_counter("gpt-4o")),
    )
    return SmartCrusher(options).compress(text, context)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        records(),
        with_anomalies().map(lambda case: case[0]),
        # every record the first but for its id: a lossless table of few tokens
        records().map(lambda rows: [{**rows[0], "id": row["id"]} for row in rows]),
    ),
    st.floats(0, 0.99),
    st.sampled_from([None, 0.05, 0.3, 0.9]),
    st.sampled_from([None, "charlie failed"]),
)
def test_crushing_while_counting_decides_as_counting_everything_first(
    rows: list[dict[str, Any]], share: float, ratio: float | None, query: str | None
) -> None:
    """A long document is crushed while its lossless table is counted, and the table is
    counted only as far as the decisions need (``_lossless_size``). Counting everything
    first, as for a short document, must decide the same: the same result, byte for byte.
    Records that repeat themselves make a lossless table of few tokens, which a crush's
    summary of the rows it drops can outweigh: then the lossless table must win."""
    text = json.dumps(rows, ensure_ascii=False)
    # Long: over 8 characters per token of the limit (which the lossless table can be
    # under, when the records repeat themselves).
    limit = int(share * len(text) / smart_crusher._SURELY_CRUSHED)
    options = CrushOptions(lossless_up_to=limit)
    first = _smart_crush(text, options, ratio, query)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(smart_crusher, "_SURELY_CRUSHED", 10**12)  # never long
        everything = _smart_crush(text, options, ratio, query)
    assert first == everything
