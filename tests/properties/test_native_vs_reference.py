"""Differential tests: the Rust kernels return exactly what the Python reference returns.

The native module is called directly here (not through ``headroom._core``) so that a native
failure cannot hide behind ``_core``'s fallback to the reference.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from headroom import _core, _reference

ALLOW_PURE_PYTHON = os.environ.get("HEADROOM_ALLOW_PURE_PYTHON") == "1"

needs_native = pytest.mark.skipif(
    not _core.NATIVE_AVAILABLE,
    reason="headroom._native is not built, so there is nothing to compare the reference with "
    "(build it with `maturin develop`)",
)


def native() -> ModuleType:
    from headroom import _native

    return _native


SEPARATORS = " \t\n\r\x0b\x0c,;=()[]{}<>\"'|"

# Characters the rules single out, their look-alikes, and multi-byte UTF-8 of every length.
interesting_chars = st.sampled_from(
    [
        *SEPARATORS,
        *"0123456789",
        "/",
        "/",  # twice: a path needs two
        ".",
        ".",  # twice: a run of dots separates, a lone dot does not
        "*",
        "a",
        "Z",
        "_",
        "-",
        ".",
        ":",
        "\x00",
        "\x1c",  # ASCII "file separator": whitespace to str.split, a token character here
        "\x85",  # NEL: Unicode whitespace, token character
        "\u00a0",  # no-break space
        "\u2028",  # line separator
        "\u3000",  # ideographic space
        "é",
        "ß",
        "٣",  # Arabic-Indic digit three: Unicode digit, not ASCII
        "５",  # fullwidth digit five
        "𝟘",  # mathematical double-struck zero
        "／",  # fullwidth solidus
        "😀",
        "\u200d",  # zero-width joiner
        "💻",
    ]
)

lines_interesting = st.text(alphabet=interesting_chars, max_size=80)
# Any Unicode scalar value: everything Rust can receive.
lines_encodable = st.text(alphabet=st.characters(exclude_categories=["Cs"]))
# Hypothesis' default alphabet, lone surrogates included.
lines_any = st.text()

lines = st.one_of(lines_interesting, lines_encodable)
line_lists = st.lists(lines, max_size=30) | st.lists(
    st.sampled_from(
        ["a 1", "a 2", "b", "", "/x/y", "/x", "c=3;d=4", "a 1\r", "x..1", "é 1", "a\u00a02"]
    ),
    max_size=30,
)

# Templates built from few words, so that holes with several distinct words appear.
template_words = st.sampled_from(["a", "b", "c", "d", "e", "*", "<*>", "x.y", "1", "é", "😀"])
template_separators = st.sampled_from([" ", " ", ", ", "=", ": ", "..", "\r\n", "\t"])
templates_small = st.builds(
    lambda words, seps: "".join(w + s for w, s in zip(words, seps, strict=False)),
    st.lists(template_words, min_size=0, max_size=6),
    st.lists(template_separators, min_size=6, max_size=6),
)
cluster_inputs = st.lists(
    st.tuples(
        templates_small | lines_interesting,
        st.sampled_from(["", "k", "é"]),
        st.integers(0, 3),
    ),
    max_size=40,
)


def has_lone_surrogate(s: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in s)


@needs_native
@given(lines)
def test_mask_line(line: str) -> None:
    assert native().mask_line(line) == _reference.mask_line(line)


@needs_native
@given(line_lists)
def test_mask_lines(lines: list[str]) -> None:
    assert native().mask_lines(lines) == _reference.mask_lines(lines)


@needs_native
@given(line_lists)
def test_group_templates(lines: list[str]) -> None:
    assert native().group_templates(lines) == _reference.group_templates(lines)


@needs_native
@given(line_lists)
def test_mine_templates(lines: list[str]) -> None:
    assert native().mine_templates(lines) == _reference.mine_templates(lines)


@needs_native
@given(cluster_inputs, st.integers(0, 4))
def test_cluster_templates(rows: list[tuple[str, str, int]], min_values: int) -> None:
    templates = [t for t, _, _ in rows]
    keys = [k for _, k, _ in rows]
    starts = [s for _, _, s in rows]
    assert native().cluster_templates(
        templates, keys, starts, min_values
    ) == _reference.cluster_templates(templates, keys, starts, min_values)


@needs_native
@given(line_lists, st.data(), st.integers(0, 4))
def test_variable_values(lines: list[str], data: st.DataObject, max_values: int) -> None:
    ids = data.draw(st.lists(st.integers(0, 3), min_size=len(lines), max_size=len(lines)))
    wanted = data.draw(st.lists(st.integers(0, 4), max_size=5))
    assert native().variable_values(lines, ids, wanted, max_values) == (
        _reference.variable_values(lines, ids, wanted, max_values)
    )


@needs_native
@given(st.lists(lines_any, max_size=10))
def test_core_equals_reference_for_every_str(lines: list[str]) -> None:
    for line in lines:
        assert _core.mask_line(line) == _reference.mask_line(line)
    assert _core.mask_lines(lines) == _reference.mask_lines(lines)
    assert _core.group_templates(lines) == _reference.group_templates(lines)
    assert _core.mine_templates(lines) == _reference.mine_templates(lines)
    starts = [i % 3 for i in range(len(lines))]
    assert _core.cluster_templates(lines, lines, starts, 1) == _reference.cluster_templates(
        lines, lines, starts, 1
    )
    ids = [i % 2 for i in range(len(lines))]
    assert _core.variable_values(lines, ids, [0, 1], 2) == _reference.variable_values(
        lines, ids, [0, 1], 2
    )
    # The native side agrees whenever it can receive the input at all.
    if not any(has_lone_surrogate(line) for line in lines):
        assert native().mask_lines(lines) == _reference.mask_lines(lines)
    else:
        with pytest.raises(UnicodeEncodeError):
            native().mask_lines(lines)


@given(lines_interesting)
def test_reference_is_idempotent_and_round_trips(line: str) -> None:
    template, values = _reference.mask_line(line)
    assert _reference.mask_line(template) == (template, [])
    assume("<*>" not in line)  # a literal wildcard in the input cannot be told apart
    parts = template.split("<*>")
    assert parts[0] + "".join(v + p for v, p in zip(values, parts[1:], strict=True)) == line


@needs_native
def test_clusters_of_real_logs_are_identical(bench_data: Path) -> None:
    from headroom.compressors.logs.clustering import MIN_VALUES

    for path in sorted((bench_data / "loghub").glob("*_2k.log")):
        lines = path.read_text(encoding="utf-8").split("\n")
        mined = native().mine_templates(lines)
        assert mined == _reference.mine_templates(lines)
        templates = mined[1]
        keys = [t[:3] for t in templates]
        starts = [len(_reference.tokenize(t)) // 3 for t in templates]
        assert native().cluster_templates(templates, keys, starts, MIN_VALUES) == (
            _reference.cluster_templates(templates, keys, starts, MIN_VALUES)
        )
        wanted = list(range(0, len(templates), 3))
        assert native().variable_values(lines, mined[0], wanted, 5) == (
            _reference.variable_values(lines, mined[0], wanted, 5)
        )


def test_native_extension_is_built() -> None:
    if ALLOW_PURE_PYTHON:
        pytest.skip("HEADROOM_ALLOW_PURE_PYTHON=1: running without the native extension")
    assert _core.NATIVE_AVAILABLE, (
        "headroom._native could not be imported: build it with `maturin develop --release`, "
        "or set HEADROOM_ALLOW_PURE_PYTHON=1 to test the pure-Python fallback on purpose"
    )


json_chars = st.sampled_from([*'"\\ \t\r\n{}[]:,', "a", "1", "é", "日", "😀", "\u2028", "\x00"])


@needs_native
@given(st.text(alphabet=json_chars, max_size=80) | lines_encodable)
def test_json_strip(document: str) -> None:
    assert native().json_strip(document) == _reference.json_strip(document)


@given(lines_any)
def test_json_strip_core_takes_every_str(document: str) -> None:
    assert _core.json_strip(document) == _reference.json_strip(document)


# Texts that differ in escapes, quotes, numbers and keys, as parsed-and-written JSON does.
spelled_chars = st.sampled_from([*'"\\{}[]:,', "a", "/", "u", "0", "1", ".", "e", "E", "-", "é"])
spelled = st.text(alphabet=spelled_chars, max_size=40)


@st.composite
def spelled_pairs(draw: st.DrawFn) -> tuple[str, bytes]:
    """A text and a variant: itself, or with one edit (a literal's escapes, a character)."""
    text = draw(spelled)
    other = text
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        other = text[:at] + draw(spelled) + text[at + draw(st.integers(0, 3)) :]
    return text, other.encode()


@needs_native
@given(spelled_pairs())
def test_json_same_outside_strings(pair: tuple[str, bytes]) -> None:
    text, written = pair
    assert native().json_same_outside_strings(text, written) == (
        _reference.json_same_outside_strings(text, written)
    )


def test_json_same_outside_strings_on_real_json(bench_data: Path) -> None:
    import orjson

    from headroom.compressors.json.minify import minify_json

    for path in sorted((bench_data / "json").glob("*.json")):
        text = minify_json(path.read_text(encoding="utf-8"))
        written = orjson.dumps(orjson.loads(text))
        assert _core.json_same_outside_strings(text, written) == (
            _reference.json_same_outside_strings(text, written)
        )
        # One key written twice is caught whatever the escapes.
        doubled = text.replace("{", '{"k":1,"k":2,', 1)
        assert not _core.json_same_outside_strings(doubled, orjson.dumps(orjson.loads(doubled)))


# Case changes, letter/digit mixes and separators of words, ASCII and not.
word_chars = st.sampled_from([*"aAbBzZ09_- .\n", "é", "É", "ß", "٣", "ǅ", "\u0301", "日"])
words_text = st.text(alphabet=word_chars, max_size=40)
ascii_words = st.text(alphabet=st.sampled_from([*"aAbBzZyY09_- .\n"]), max_size=40)


def _terms(texts: list[str]) -> list[str]:
    return [
        token
        for text in texts
        for word in _reference.WORD_RE.findall(text)
        for token in _reference.word_tokens(word)
    ]


@needs_native
@given(st.lists(ascii_words, max_size=6), st.lists(ascii_words | words_text, max_size=4))
def test_term_counts_native_on_ascii(documents: list[str], query: list[str]) -> None:
    terms = _terms(query + documents[:2])
    assert native().term_counts(documents, terms) == _reference.term_counts(documents, terms)


@given(st.lists(words_text | ascii_words, max_size=6), st.lists(words_text, max_size=4))
def test_term_counts_core_takes_every_str(documents: list[str], query: list[str]) -> None:
    terms = _terms(query + documents[1:3])
    assert _core.term_counts(documents, terms) == _reference.term_counts(documents, terms)


@needs_native
def test_term_counts_native_leaves_non_ascii_to_the_reference() -> None:
    assert native().term_counts(["ok", "café"], ["ok"]) == [(1, [(0, 1)]), None]


@needs_native
@given(st.lists(ascii_words | words_text, max_size=6))
def test_token_lists(texts: list[str]) -> None:
    want = _reference.token_lists(texts)
    got = native().token_lists(texts)
    assert [g for g in got if g is not None] == [
        w for w, g in zip(want, got, strict=True) if g is not None
    ]
    assert all((g is None) == (not t.isascii()) for t, g in zip(texts, got, strict=True))
    assert _core.token_lists(texts) == want


# Table cells of strings: everything the bare/quoted rule singles out, and text around it.
cell_chars = st.sampled_from(
    [*'|@&[{"\\ -.eE+019aZ^', *"\t\n\r\b\f\x00\x1f\x7f", "é", "\u2028", "日", "😀", "\x85"]
)
cell_words = st.sampled_from(
    ["null", "true", "false", "^", "007", "-1.5e3", "1e5", "-", "0", "1.", "Null", " ", ""]
)
cell_texts = (
    st.text(alphabet=cell_chars, max_size=12)
    # Long runs of ordinary characters around a special one: the kernel reads 8 bytes at once.
    | st.builds(
        lambda head, special, tail: head + special + tail,
        st.text(alphabet="ab é日😀", max_size=30),
        st.sampled_from(["", *'|"\\', "\n", "\x00", "\x1f", "\x7f", " "]),
        st.text(alphabet="ab é日😀", max_size=30),
    )
    | st.builds(
        "".join, st.lists(cell_words | st.text(alphabet=cell_chars, max_size=2), max_size=4)
    )
    | lines_encodable
)


@needs_native
@given(st.lists(cell_texts, max_size=20))
def test_string_cells(values: list[str]) -> None:
    got = native().string_cells(values)
    assert got == _reference.string_cells(values)
    # A bare cell is the input object itself, not a copy.
    assert all((g is v) == (g == v) for g, v in zip(got, values, strict=True))


@given(st.lists(cell_texts | lines_any, max_size=20))
def test_string_cells_core_takes_every_str(values: list[str]) -> None:
    assert _core.string_cells(values) == _reference.string_cells(values)


@needs_native
@given(st.lists(cell_texts, max_size=20))
def test_text_cells(values: list[str]) -> None:
    got = native().text_cells(values)
    assert got == _reference.text_cells(values)
    if got is not None:  # a bare cell is the input object itself, not a copy
        assert all((g is v) == (g == v) for g, v in zip(got, values, strict=True))


@given(st.lists(cell_texts | lines_any, max_size=20))
def test_text_cells_core_takes_every_str(values: list[str]) -> None:
    assert _core.text_cells(values) == _reference.text_cells(values)


# Columns of a table: cells from few values (so that repeats, long and short, are common),
# each column in every row or in some of them.
_ROW_CELLS = st.sampled_from(
    [
        *["", "a", "abcdef", "abcdefg", "ééééé", "éééééé", "😀😀😀😀😀😀", "|"],
        # provisional table references, alone and in inline JSON (a number counts as one)
        *["@\x00123\x00", "@\x007\x00", "[@\x0012\x00,1]", "\x00\x00", "a\x00bcdefgh"],
    ]
)


@st.composite
def table_columns(draw: st.DrawFn) -> tuple[int, list[list[str]], list[list[int]]]:
    count = draw(st.integers(0, 8))
    columns: list[list[str]] = []
    rows: list[list[int]] = []
    for _ in range(draw(st.integers(0, 4))):
        present = sorted(draw(st.sets(st.integers(0, max(count - 1, 0)), max_size=count)))
        dense = not present or len(present) == count or draw(st.booleans())
        present = [] if dense else present
        cells = draw(st.lists(_ROW_CELLS | cell_texts, min_size=len(present) or count))
        columns.append(cells[: len(present) or count])
        rows.append(present)
    return count, columns, rows


@needs_native
@given(table_columns(), st.integers(0, 7))
def test_table_rows(table: tuple[int, list[list[str]], list[list[int]]], min_ditto: int) -> None:
    count, columns, rows = table
    # The kernel takes each column as its cells joined by "\n", which no table cell holds.
    columns = [[cell.replace("\n", " ") for cell in cells] for cells in columns]
    joined = ["\n".join(cells) for cells in columns]
    assert native().table_rows(count, joined, rows, min_ditto) == _reference.table_rows(
        count, columns, rows, min_ditto
    )


@needs_native
def test_table_rows_sees_a_cell_holding_a_newline_as_two() -> None:
    with pytest.raises(ValueError):
        native().table_rows(2, ["a\nb\nc"], [[]], 6)
    with pytest.raises(ValueError):
        native().table_rows(2, ["a\nb"], [[1]], 6)
    assert native().table_rows(1, [""], [[]], 6) == ""  # one empty cell
    assert native().table_rows(0, [""], [[]], 6) == ""  # no cells
    # _core answers with the reference, which takes any cell.
    assert _core.table_rows(2, [["a\nb", "c"]], [[]], 6) == "a\nb\nc"


@given(table_columns(), st.lists(lines_any, max_size=2))
def test_table_rows_core_takes_every_str(
    table: tuple[int, list[list[str]], list[list[int]]], extra: list[str]
) -> None:
    count, columns, rows = table
    if extra and count:  # a column of any strings, lone surrogates included
        columns = [*columns, (extra * count)[:count]]
        rows = [*rows, []]
    assert _core.table_rows(count, columns, rows, 6) == _reference.table_rows(
        count, columns, rows, 6
    )


@pytest.mark.parametrize(
    ("count", "columns", "rows"),
    [
        (2, [["a", "b"]], []),  # a row list missing
        (3, [["a", "b"]], [[]]),  # a dense column too short
        (3, [["a", "b"]], [[1]]),  # cells and rows differ
        (3, [["a", "b"]], [[2, 1]]),  # rows not ascending
        (3, [["a", "b"]], [[1, 1]]),
        (2, [["a"]], [[2]]),  # a row past the end
        (2, [["a"]], [[-1]]),  # a negative row
        (-1, [], []),  # a negative count
        (1, [[]], [[]]),  # an empty column in a table of one row
    ],
)
def test_table_rows_rejects_rows_that_do_not_fit(
    count: int, columns: list[list[str]], rows: list[list[int]]
) -> None:
    with pytest.raises(ValueError):
        _reference.table_rows(count, columns, rows, 6)
    with pytest.raises(ValueError):
        _core.table_rows(count, columns, rows, 6)


_SEEDS = st.lists(st.sampled_from(["a", "ab", "b", "é", "😀", "ba", "", "x/1", "1"]), max_size=8)


@needs_native
@given(_SEEDS, st.lists(st.text(alphabet="ab1x/é😀", max_size=300), max_size=6), st.data())
def test_seeds_inside(seeds: list[str], texts: list[str], data: st.DataObject) -> None:
    starts = data.draw(st.lists(st.integers(0, 10), min_size=len(texts), max_size=len(texts)))
    got = native().seeds_inside(seeds, texts, starts)
    assert got == _reference.seeds_inside(seeds, texts, starts)


@given(_SEEDS | st.lists(lines_any, max_size=4), st.lists(lines_any, max_size=4))
def test_seeds_inside_core_takes_every_str(seeds: list[str], texts: list[str]) -> None:
    starts = [0] * len(texts)
    assert _core.seeds_inside(seeds, texts, starts) == _reference.seeds_inside(seeds, texts, starts)
    with pytest.raises(ValueError):
        _core.seeds_inside(seeds, texts, [*starts, 0])
    with pytest.raises(ValueError):
        _core.seeds_inside(seeds, ["x"], [-1])


@needs_native
@given(st.lists(cell_texts, max_size=20))
def test_string_column(values: list[str]) -> None:
    quoted, literals, gains = native().string_column(values)
    cells = list(values)
    for index, literal in zip(quoted, literals, strict=True):
        cells[index] = literal
    assert (cells, gains) == _reference.string_column(values)
    assert quoted == sorted(set(quoted))
    assert cells == native().string_cells(values)
    assert gains == (_reference.text_cells(values) is not None)


@given(st.lists(cell_texts | lines_any, max_size=20))
def test_string_column_core_takes_every_str(values: list[str]) -> None:
    assert _core.string_column(values) == _reference.string_column(values)


@pytest.mark.parametrize("values", [["a", 1], [None], ["a\x00b", 2.5]])
def test_string_column_of_a_value_that_is_not_a_str_is_a_type_error(values: list[object]) -> None:
    with pytest.raises(TypeError):
        _core.string_column(values)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _reference.string_column(values)  # type: ignore[arg-type]


def test_string_column_with_a_nul_agrees_with_the_reference() -> None:
    values = ["a\x00b", "true", "ok"]
    assert _core.string_column(values) == _reference.string_column(values)
    assert _core.string_column(values) == (['"a\\u0000b"', '"true"', "ok"], True)


@pytest.mark.parametrize("count", [2**60, 2**63])
def test_a_row_count_no_memory_holds_is_an_error_not_a_panic(count: int) -> None:
    # A Rust panic reaches Python as a BaseException that no fallback catches.
    with pytest.raises((MemoryError, OverflowError, ValueError)):
        _core.table_rows(count, [["a"], ["b"]], [[0], [0]], 6)


def test_a_negative_min_ditto_is_refused_by_both() -> None:
    for table_rows in (_core.table_rows, _reference.table_rows):
        with pytest.raises(ValueError, match="from 0 to 2"):
            table_rows(2, [["abcdef", "abcdef"]], [[]], -1)


# Records for table_columns: few keys (so that records share some), some spelled as new
# string objects (equal keys found by ==, not by identity), nested objects to any depth,
# empty objects, lists and dict subclasses (never flattened: only exact dicts are).
_KEYS = st.sampled_from(["a", "b", "id", "user", "x y"]) | st.sampled_from(["a", "id"]).map(
    lambda key: "".join(list(key))
)


class _Mapping(dict):  # type: ignore[type-arg]
    pass


_record_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "s", "é"]),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(_KEYS, inner, max_size=3)
        | st.dictionaries(_KEYS, inner, max_size=2).map(_Mapping)
    ),
    max_leaves=12,
)
_records = st.lists(st.dictionaries(_KEYS, _record_values, max_size=4), max_size=7)
_limits = st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(1, 16))


def _comparable(columns: list[_reference.TableColumn] | None) -> object:
    """Columns with their rows as lists and their values by identity (the kernel must give
    the records' own objects)."""
    if columns is None:
        return None
    return [(path, list(rows), [id(value) for value in values]) for path, rows, values in columns]


@needs_native
@given(_records, _limits)
def test_table_columns(records: list[dict[str, object]], limits: tuple[int, int, int]) -> None:
    rows = range(len(records))
    native_columns = native().table_columns(records, rows, len(records), *limits)
    reference_columns = _reference.table_columns(records, rows, len(records), *limits)
    assert _comparable(native_columns) == _comparable(reference_columns)


@needs_native
@given(_records, _limits, st.integers(0, 3))
def test_table_columns_of_some_rows(
    records: list[dict[str, object]], limits: tuple[int, int, int], skip: int
) -> None:
    # Records that are some rows of a larger table: the columns name those rows.
    rows = [skip + 2 * index for index in range(len(records))]
    count = rows[-1] + 1 if rows else 0
    native_columns = native().table_columns(records, rows, count, *limits)
    reference_columns = _reference.table_columns(records, rows, count, *limits)
    assert _comparable(native_columns) == _comparable(reference_columns)


def _bench_arrays(bench_data: Path) -> Iterator[tuple[str, list[Any]]]:
    """Every array in the bench data's JSON responses, with its file's name."""

    def arrays(value: object) -> Iterator[list[Any]]:
        if isinstance(value, list):
            yield value
            for item in value:
                yield from arrays(item)
        elif isinstance(value, dict):
            for item in value.values():
                yield from arrays(item)

    for path in sorted((bench_data / "json").glob("*.json")):
        for array in arrays(json.loads(path.read_text(encoding="utf-8"))):
            yield path.name, array


@needs_native
def test_table_columns_of_every_array_of_objects_in_the_bench_data(bench_data: Path) -> None:
    tables = 0
    for name, records in _bench_arrays(bench_data):
        if len(records) < 2 or not all(type(item) is dict for item in records):
            continue
        rows = range(len(records))
        native_columns = native().table_columns(records, rows, len(records), 6, 256, 16)
        reference_columns = _reference.table_columns(records, rows, len(records), 6, 256, 16)
        assert _comparable(native_columns) == _comparable(reference_columns), name
        tables += 1
    assert tables > 100


@pytest.mark.parametrize("table_columns", [_core.table_columns, _reference.table_columns])
def test_table_columns_refuses_what_is_not_a_list_of_dicts(
    table_columns: Callable[..., object],
) -> None:
    with pytest.raises(TypeError, match="every record must be a dict"):
        table_columns([{"a": 1}, [("a", 1)]], range(2), 2, 6, 256, 16)
    with pytest.raises(TypeError, match="every record must be a dict"):
        table_columns([{"a": 1}, _Mapping(a=1)], range(2), 2, 6, 256, 16)
    with pytest.raises(ValueError, match="differ in length"):
        table_columns([{"a": 1}, {"a": 2}], range(3), 3, 6, 256, 16)
    assert table_columns([], range(0), 0, 6, 256, 16) == []


@needs_native
def test_table_columns_share_the_row_list_of_a_nested_object() -> None:
    # The columns flattened from one nested object present in some rows share its row list
    # (the template search numbers a list of rows once).
    records = [
        {"id": 1, "user": {"login": "a", "uid": 7}},
        {"id": 2},
        {"id": 3, "user": {"login": "b", "uid": 8}},
    ]
    columns = native().table_columns(records, range(3), 3, 6, 256, 16)
    assert columns is not None
    (_, id_rows, _), (_, login_rows, _), (_, uid_rows, _) = columns
    assert id_rows == range(3) and login_rows == [0, 2] and login_rows is uid_rows


@needs_native
@pytest.mark.parametrize("max_keys", range(4))
@pytest.mark.parametrize("max_depth", range(3))
def test_table_columns_at_the_limits(max_keys: int, max_depth: int) -> None:
    # A nested object of exactly two keys, and one with a nested object of its own.
    records = [
        {"id": i, "user": {"login": f"u{i}", "site": {"name": "x", "url": f"/{i}"}}}
        for i in range(3)
    ]
    rows = range(3)
    native_columns = native().table_columns(records, rows, 3, max_depth, max_keys, 16)
    reference_columns = _reference.table_columns(records, rows, 3, max_depth, max_keys, 16)
    assert _comparable(native_columns) == _comparable(reference_columns)
    paths = [path for path, _, _ in reference_columns or []]
    assert (("user", "site", "url") in paths) == (max_depth >= 2 and max_keys >= 2)


class _Text(str):
    pass


class _Number(float):
    pass


_leaf_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, max_value=9, min_value=-9)
    | st.sampled_from(["", "s", "é"])
    | st.sampled_from([_Text("t"), _Number(1.5)]),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(_KEYS, inner, max_size=3)
        | st.dictionaries(_KEYS, inner, max_size=2).map(_Mapping)
    ),
    max_leaves=12,
)
_items = st.lists(st.dictionaries(_KEYS, _leaf_values, max_size=4) | _leaf_values, max_size=7)


def _leaves_comparable(columns: list[_reference.LeafColumn]) -> object:
    return [(path, rows, [id(value) for value in values]) for path, rows, values in columns]


@needs_native
@given(_items, st.integers(0, 4), st.booleans())
def test_leaf_columns(items: list[object], max_depth: int, as_tuple: bool) -> None:
    given_items = tuple(items) if as_tuple else items
    assert _leaves_comparable(native().leaf_columns(given_items, max_depth)) == _leaves_comparable(
        _reference.leaf_columns(given_items, max_depth)
    )


@needs_native
def test_leaf_columns_of_every_array_in_the_bench_data(bench_data: Path) -> None:
    cells = 0
    for name, items in _bench_arrays(bench_data):
        native_columns = native().leaf_columns(items, 6)
        assert _leaves_comparable(native_columns) == _leaves_comparable(
            _reference.leaf_columns(items, 6)
        ), name
        cells += sum(len(values) for _, _, values in native_columns)
    assert cells > 10_000


# Inline JSON of Python values: every JSON type, numbers beyond 64 bits, exactly spelled
# floats, escapes and non-ASCII text, subclasses (written by the Python writer's rules) and
# candidate tables (lists and dicts of objects), some of which the table_ref below takes.
class _Count(int):
    pass


class _Items(list):  # type: ignore[type-arg]
    pass


def _raw(spelling: str) -> object:
    from headroom.jsontables.syntax import RawFloat

    return RawFloat(spelling)


_inline_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8"), max_size=6),
    st.sampled_from(['a"b\\c', "\x00\x1f\x7f\u2028", "é😀", _Text("sub"), _Count(7), True]),
    st.sampled_from(["1.50", "2e3", "-0.0"]).map(_raw),
)
_inline_values = st.recursive(
    _inline_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(st.dictionaries(_KEYS, inner, min_size=1, max_size=2), min_size=2, max_size=3)
        | st.dictionaries(_KEYS, inner, max_size=3)
        | st.dictionaries(_KEYS, st.dictionaries(_KEYS, inner, max_size=2), min_size=2, max_size=3)
        | st.lists(inner, max_size=2).map(_Items)
        | st.dictionaries(_KEYS, inner, max_size=2).map(_Mapping)
    ),
    max_leaves=16,
)


def _recording_table_ref(asked: list[int]) -> Callable[[Any], str | None]:
    def table_ref(value: Any) -> str | None:
        asked.append(id(value))
        return f"@\x00{len(value)}\x00" if len(value) % 2 == 0 else None

    return table_ref


def _both_writers(value: object) -> tuple[object, object]:
    """What the native writer and the Python one write (or raise), and the containers each
    asked ``table_ref`` about, in order."""
    from headroom.jsontables import syntax

    results = []
    for write in (
        lambda ref: native().format_value(
            value, ref, syntax.RawFloat, syntax._dumps, syntax._encode_string
        ),
        lambda ref: syntax._format_value(value, ref),
    ):
        asked: list[int] = []
        try:
            written: object = write(_recording_table_ref(asked))
        except (TypeError, ValueError) as error:
            written = type(error)
        results.append((written, asked))
    return results[0], results[1]


@needs_native
@given(_inline_values)
def test_format_value(value: object) -> None:
    native_result, reference_result = _both_writers(value)
    assert native_result == reference_result


@needs_native
@pytest.mark.parametrize(
    "value",
    [
        float("inf"),
        [1, float("nan")],
        {1: "a"},  # a key that is not a str: json's error
        {"a": {2: 1}, "b": {"c": 1}},
        [{"a": 1}, {"a": 2}],
        {"x": {"a": 1}, "y": 2},  # first value a dict, the next not: still asked
        10**30,
        _Items([1, 2]),
    ],
)
def test_format_value_cases(value: object) -> None:
    native_result, reference_result = _both_writers(value)
    assert native_result == reference_result


def test_format_value_leaves_to_python_what_the_native_writer_cannot_take() -> None:
    from headroom.jsontables.syntax import _format_value, format_value

    def inline(_: object) -> None:
        return None

    deep: object = 1
    for _ in range(420):  # deeper than the native writer goes, within Python's limit
        deep = [deep]
    for value in (["\ud800", {"k\udfff": 1}], deep):
        assert format_value(value, inline) == _format_value(value, inline)


_text_values = st.recursive(
    _inline_scalars | st.sampled_from([_Number(2.5), float("inf"), -0.0]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_KEYS, inner, max_size=3)
        | st.lists(inner, max_size=2).map(_Items)
        | st.dictionaries(_KEYS, inner, max_size=2).map(_Mapping)
    ),
    max_leaves=16,
)


@needs_native
@given(st.lists(_text_values, max_size=5), st.integers(0, 4), st.booleans())
def test_record_texts(items: list[object], max_depth: int, as_tuple: bool) -> None:
    given_items = tuple(items) if as_tuple else items
    assert native().record_texts(given_items, max_depth) == _reference.record_texts(
        given_items, max_depth
    )


@needs_native
def test_column_kernels_take_items_an_iterator_frees_as_it_goes() -> None:
    # Each item is freed once read: an address the kernel saw may name a new key object.
    def items() -> Iterator[dict[str, int]]:
        yield json.loads('{"key_a": 0}')
        yield json.loads('{"key_a": 1}')
        yield json.loads('{"key_b": 2}')

    assert _leaves_comparable(native().leaf_columns(items(), 6)) == _leaves_comparable(
        _reference.leaf_columns(items(), 6)
    )
    assert [path for path, _, _ in native().leaf_columns(items(), 6)] == [("key_a",), ("key_b",)]


@needs_native
def test_native_writers_raise_as_python_when_a_callback_changes_a_dict() -> None:
    from headroom.jsontables import syntax

    def grow(outer: dict[str, Any]) -> Callable[[Any], None]:
        def table_ref(_: Any) -> None:
            outer["added"] = 1

        return table_ref

    for write in (
        lambda value, ref: native().format_value(
            value, ref, syntax.RawFloat, syntax._dumps, syntax._encode_string
        ),
        syntax._format_value,
    ):
        outer: dict[str, Any] = {"t": [{"a": 1}, {"a": 2}], "z": 1}
        with pytest.raises(RuntimeError, match="changed size"):
            write(outer, grow(outer))
    # A list that grows is read to its new end, as Python reads it.
    written = []
    for write in (
        lambda value, ref: native().format_value(
            value, ref, syntax.RawFloat, syntax._dumps, syntax._encode_string
        ),
        syntax._format_value,
    ):
        items: list[Any] = [[{"a": 1}, {"a": 2}], 1]

        def append(_: Any, items: list[Any] = items) -> None:
            if len(items) < 3:
                items.append(3)

        written.append(write(items, append))
    assert written == ['[[{"a":1},{"a":2}],1,3]'] * 2

    class Changing(float):
        def __str__(self) -> str:
            record["more"] = 1
            return "F"

    for record_texts in (native().record_texts, _reference.record_texts):
        record: dict[str, Any] = {"x": Changing(1.0), "y": 2}
        with pytest.raises(RuntimeError, match="changed size"):
            record_texts([record], 9)
