"""Hypothesis: the table format round-trips every JSON value; SmartCrusher keeps the contracts."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom
from headroom.compressors.json.crush import crush
from headroom.compressors.json.minify import minify_json
from headroom.jsontables import decode, encode, loads
from headroom.jsontables.encoder import Tables
from headroom.jsontables.syntax import RawFloat
from headroom.tokens import count_tokens

# Strings chosen to hit every quoting rule: separators, reserved words, number look-alikes,
# leading/trailing spaces, the ditto mark, reference and template characters, newlines.
TRICKY = st.sampled_from(
    [
        "",
        " ",
        " a",
        "a ",
        "|",
        "a|b",
        "^",
        "null",
        "true",
        "123",
        "-1.5e3",
        "007",
        "@1",
        "&x",
        '"',
        "\\",
        "\n",
        "x\ny",
        "{x}",
        "}{",
        "a.b",
        "(key)",
        "é",
        "\u2028",
        "\x00",
        "=",
        "same",
        "https://x/1",
        "2019-01-01T00:00:00Z",
    ]
)
KEYS = st.one_of(st.sampled_from(["id", "url", "name", "a.b", "x y", "", "(key)", "same"]), TRICKY)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    TRICKY,
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)
RECORD = st.dictionaries(
    st.sampled_from(["id", "name", "url", "user", "state", "a.b"]),
    st.one_of(SCALARS, st.dictionaries(st.sampled_from(["login", "id", "x"]), SCALARS, max_size=3)),
    max_size=6,
)
RECORDS = st.lists(RECORD, min_size=2, max_size=12)


# Records whose keys differ: keys drawn from a pool larger than the arrays, so most columns
# are in one record or a few (sparse tables, key-per-record arrays, maps inside records).
SPARSE_KEY = st.one_of(st.from_regex(r"k[0-9]{1,3}", fullmatch=True), KEYS)
SPARSE_RECORD = st.dictionaries(
    SPARSE_KEY,
    st.one_of(SCALARS, st.dictionaries(SPARSE_KEY, SCALARS, min_size=1, max_size=3)),
    max_size=4,
)
HETEROGENEOUS = st.one_of(
    st.lists(SPARSE_RECORD, min_size=2, max_size=40),
    st.lists(st.one_of(RECORD, SPARSE_RECORD), min_size=2, max_size=40),
    st.lists(st.tuples(SPARSE_KEY, VALUES), min_size=2, max_size=30).map(
        lambda pairs: [{key: value} for key, value in pairs]  # one key per record
    ),
)
# Date-keyed objects of points or of numbers, beside other keys.
DATE_KEYED = st.dictionaries(
    st.dates().map(str), st.one_of(RECORD, SPARSE_RECORD, SCALARS), min_size=2, max_size=30
)


def exact(value: Any) -> str:
    """A spelling that tells 1 from 1.0 and True from 1 (``==`` does not)."""
    return json.dumps(value, sort_keys=True)


@given(VALUES)
def test_any_json_value_round_trips(value: Any) -> None:
    assert exact(decode(encode(value, len))) == exact(value)


@given(RECORDS)
def test_arrays_of_records_round_trip(records: list[dict[str, Any]]) -> None:
    for keyed in (False, True):
        value: Any = {f"k{i}": r for i, r in enumerate(records)} if keyed else records
        assert exact(decode(encode({"items": value}, len))) == exact({"items": value})


@settings(max_examples=40)
@given(RECORDS)
def test_round_trip_with_the_real_token_counter(records: list[dict[str, Any]]) -> None:
    assert exact(decode(encode(records, count_tokens))) == exact(records)


@given(RECORDS)
def test_encoding_is_deterministic(records: list[dict[str, Any]]) -> None:
    assert encode(records, count_tokens) == encode(json.loads(json.dumps(records)), count_tokens)


HR = Headroom(CompressConfig(min_tokens=0, lossy=False), store="memory")


@settings(max_examples=60)
@given(RECORDS, st.sampled_from([None, 2]))
def test_never_worse_than_minified_and_idempotent(
    records: list[dict[str, Any]], indent: int | None
) -> None:
    text = json.dumps(records, indent=indent)
    result = HR.compress_text(text)
    assert result.tokens_after <= result.tokens_before
    if result.kind == "json":  # (tiny text is "opaque" and left as it is)
        assert result.tokens_after <= count_tokens(minify_json(text))
    assert HR.compress_text(result.text).text == result.text


@given(HETEROGENEOUS)
def test_records_with_differing_keys_round_trip(records: list[dict[str, Any]]) -> None:
    for keyed in (False, True):
        value: Any = {f"k{i}": r for i, r in enumerate(records)} if keyed else records
        for count in (len, count_tokens):
            assert exact(decode(encode({"items": value}, count))) == exact({"items": value})


@given(DATE_KEYED, DATE_KEYED)
def test_date_keyed_objects_round_trip(points: dict[str, Any], other: dict[str, Any]) -> None:
    value = {"meta": {"symbol": "X"}, "series": points, "other": [points, other]}
    assert exact(decode(encode(value, count_tokens))) == exact(value)


@settings(max_examples=60)
@given(HETEROGENEOUS)
def test_differing_keys_are_never_worse_than_minified(records: list[dict[str, Any]]) -> None:
    text = json.dumps(records, indent=2)
    result = HR.compress_text(text, kind="json")
    assert result.tokens_after <= count_tokens(minify_json(text))
    assert exact(loads(result.text)) == exact(records)


def _derive_pairwise(columns: list[tuple[tuple[str, ...], list[Any]]], count: int) -> list[Any]:
    """The template search as defined: every pair in turn, each row compared. ``columns``
    are ``(path, value per row)``, ``MISSING`` where a row has none."""
    from headroom.jsontables.syntax import MISSING

    source_kinds, target_kinds = {str, int, type(MISSING)}, {str, type(MISSING)}

    def presence(values: list[Any]) -> bytes:
        return bytes([v is not MISSING for v in values])

    sources = []
    for column_path, values in columns:
        if set(map(type, values)) <= source_kinds and any(presence(values)) and "" not in values:
            spelled = [None if v is MISSING else str(v) for v in values]
            sources.append((column_path, presence(values), spelled))
    sample_len = {
        path: len(next(s for s in spelled if s is not None)) for path, _, spelled in sources
    }
    sources.sort(key=lambda source: -sample_len[source[0]])  # stable: column order on ties
    from headroom.jsontables import encoder

    work = encoder._DERIVE_MIN_WORK + encoder._DERIVE_WORK_PER_CELL * count * len(columns)
    used, targets, derived = set(), set(), []
    for column_path, wanted in columns:
        if not column_path or column_path in used or not set(map(type, wanted)) <= target_kinds:
            continue
        rows = presence(wanted)
        if not any(rows):
            continue
        sample = rows.find(1)
        for path, present, spelled in sources:
            if present != rows:
                continue
            work -= 1  # a unit per pair tried, one per row compared
            if work < 0:
                return derived
            if path == column_path or path in targets:
                continue
            seed = spelled[sample]
            if seed is None or seed not in wanted[sample]:
                continue
            work -= count
            parts = wanted[sample].split(seed)
            if all(
                (w is MISSING and g is None) or (g is not None and g.join(parts) == w)
                for g, w in zip(spelled, wanted, strict=True)
            ):
                derived.append((column_path, parts, path))
                targets.add(column_path)
                used.add(path)
                break
    return derived


# Values built from a few fragments, so that columns often are each other inside fixed text,
# sometimes in all rows but one, sometimes with the value twice, a NUL, or missing.
_FRAGMENT = st.sampled_from(["a", "b", "1", "12", "x/", "/y", "\x00", "", "a\x00b"])
_CELL = st.one_of(
    st.lists(_FRAGMENT, max_size=3).map("".join),
    st.integers(0, 12),
    st.just("MISSING"),
)


@given(
    st.integers(1, 6),
    st.lists(st.lists(_CELL, min_size=6, max_size=6), min_size=1, max_size=8),
    st.sampled_from([None, 0, 3, 10, 40, 120]),
)
@settings(max_examples=500)
def test_template_search_finds_what_the_pairwise_definition_finds(
    rows: int, cells: list[list[Any]], budget: int | None
) -> None:
    """The same templates as trying every pair in turn, and, when the work budget runs
    out (``budget`` units, no allowance per cell), the same ones found by then."""
    from headroom.jsontables import encoder
    from headroom.jsontables.encoder import _Column, _derive
    from headroom.jsontables.syntax import MISSING

    columns: list[tuple[tuple[str, ...], list[Any]]] = [
        (("base",), [f"id{row}" for row in range(rows)])
    ]
    for number, values in enumerate(cells):
        spelled = [MISSING if v == "MISSING" else v for v in values[:rows]]
        columns.append(((f"c{number}",), spelled))
        # The same column inside fixed text, and once with its last row changed.
        wrapped = [v if v is MISSING else f"p{v}s" for v in spelled]
        columns.append(((f"t{number}",), wrapped))
        if rows > 1 and wrapped[-1] is not MISSING:
            columns.append(((f"u{number}",), [*wrapped[:-1], wrapped[-1] + "!"]))

    def _column(path: tuple[str, ...], values: list[Any]) -> _Column:
        present = [i for i, v in enumerate(values) if v is not MISSING]
        found = [values[i] for i in present]
        return _Column(path, present, found, frozenset(map(type, found)))

    saved = encoder._DERIVE_MIN_WORK, encoder._DERIVE_WORK_PER_CELL
    if budget is not None:
        encoder._DERIVE_MIN_WORK, encoder._DERIVE_WORK_PER_CELL = budget, 0  # type: ignore[misc]
    try:
        found = _derive([_column(path, values) for path, values in columns], rows)
        assert found == _derive_pairwise(columns, rows)
    finally:
        encoder._DERIVE_MIN_WORK, encoder._DERIVE_WORK_PER_CELL = saved  # type: ignore[misc]


_SCALARS = st.one_of(
    st.integers(),
    st.booleans(),
    st.none(),
    st.sampled_from(["1.50", "1e5", "-0.0", "2.500E+3"]).map(RawFloat),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    st.lists(st.integers() | st.sampled_from(["1.50"]).map(RawFloat) | st.text(max_size=2)),
)


@given(st.lists(_SCALARS, min_size=1, max_size=12))
def test_scalar_columns_are_written_as_cell_by_cell(values: list[Any]) -> None:
    """The bulk writers (scalar_cells, the list branch of format_cells) write what
    format_cell writes for each value."""
    from headroom.jsontables.syntax import format_cell, format_cells, scalar_cells

    def inline(_: object) -> None:
        return None

    one_by_one = [format_cell(value, inline) for value in values]
    assert format_cells(values, inline) == one_by_one
    bulk = scalar_cells(values, frozenset(map(type, values)))
    if bulk is not None:
        assert bulk == one_by_one
    else:
        assert not set(map(type, values)) <= {int, bool, type(None), RawFloat}


# Records nested in records, so tables sit inside tables' cells at several depths.
NESTED = st.recursive(
    RECORDS,
    lambda children: st.lists(
        st.dictionaries(st.sampled_from(["id", "items", "meta", "name"]), children | SCALARS),
        min_size=2,
        max_size=6,
    ),
    max_leaves=6,
)


def _crushed_copy(value: Any, data: st.DataObject) -> Any:
    """A copy of ``value`` with rows dropped here and there, as a crush makes it: the parts
    left unchanged are the same objects, changed ones are new."""
    if type(value) is list:
        kept = [_crushed_copy(item, data) for item in value]
        if len(kept) > 1 and data.draw(st.booleans()):
            del kept[data.draw(st.integers(0, len(kept) - 1))]
        same = len(kept) == len(value) and all(a is b for a, b in zip(kept, value, strict=True))
        return value if same else kept
    if type(value) is dict:
        copied = {key: _crushed_copy(item, data) for key, item in value.items()}
        return value if all(copied[k] is v for k, v in value.items()) else copied
    return value


@settings(max_examples=200)
@given(NESTED, st.data(), st.sampled_from(["chars", "tokens"]))
def test_a_crushed_copy_writes_as_a_new_writer_writes_it(
    value: Any, data: st.DataObject, measure: str
) -> None:
    """SmartCrusher writes the lossless document and then crushed copies with one
    ``Tables``: the parts the copies share were decided once, and the documents must be
    the ones a new writer makes."""
    count = len if measure == "chars" else count_tokens
    tables = Tables(count)
    assert tables.encode(value) == encode(value, count)
    for _ in range(2):
        copy = _crushed_copy(value, data)
        assert tables.encode(copy) == encode(copy, count)
        assert decode(tables.encode(copy)) == copy


def test_a_crushed_copy_past_a_hundred_tables_writes_as_a_new_writer_writes_it() -> None:
    """Labels shared by three rows at a time: the shared writer numbers the copy's tables
    past 100 (six characters with the NULs, the ditto length) where a new writer does not;
    a repeated reference must be a ditto in both or in neither."""
    records = [
        {
            "id": i,
            "title": f"issue number {i}" + (" zebra" if 90 <= i < 96 else ""),
            "events": [{"kind": f"ev{i}-{k}", "at": 1000 + i * 10 + k} for k in range(3)],
            "labels": [{"name": f"label-{i // 3}-{k}", "color": f"c{i // 3}{k}"} for k in range(3)],
        }
        for i in range(150)
    ]
    value = {"items": records}
    crushed = crush(value, query="zebra", stash=lambda _part: "headroom:" + "0" * 12)
    assert crushed is not None
    tables = Tables(count_tokens)
    tables.encode(value)
    assert tables.encode(crushed.value) == encode(crushed.value, count_tokens)
