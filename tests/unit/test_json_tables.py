"""The table format: each factoring rule, the decoder's errors, exact parsing, real files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from headroom import CompressConfig, Headroom
from headroom.compressors.json.minify import minify_json
from headroom.compressors.json.smart_crusher import parse_json
from headroom.jsontables import FormatError, decode, decode_text, encode, is_table_document, loads
from headroom.jsontables.syntax import split_cells
from headroom.tokens import count_tokens
from tests.benchmarks.test_bench_json_shapes import SHAPES
from tests.conftest import read_bench


def rows(document: str) -> list[str]:
    return document.split("\n")


def table(document: str) -> list[str]:
    """The lines of the first table block."""
    lines = rows(document)
    start = next(i for i, line in enumerate(lines) if line.startswith("@1 = "))
    return lines[start:]


ISSUES = [
    {
        "number": n,
        "url": f"https://api.github.com/repos/o/r/issues/{n}",
        "html_url": f"https://github.com/o/r/issues/{n}",
        "user": {"login": login, "id": uid, "type": "User"},
        "state": "open",
        "labels": [],
    }
    for n, login, uid in [(7, "ann", 11), (9, "bob", 12), (12, "cy", 13)]
]

# (name, value, lines that must appear in the document, lines that must not)
CASES: list[tuple[str, Any, list[str], list[str]]] = [
    (
        "uniform nested objects flatten to dotted paths",
        ISSUES,
        ["@1 = 3 rows: number|user.login|user.id"],
        [],
    ),
    (
        "a column with one value is stated once",
        ISSUES,
        ["  same state=open", "  same user.type=User", "  same labels=[]"],
        [],
    ),
    (
        "a column that is another column inside fixed text is a template",
        ISSUES,
        [
            '  derived url="https://api.github.com/repos/o/r/issues/{number}"',
            '  derived html_url="https://github.com/o/r/issues/{number}"',
        ],
        [],
    ),
    (
        "literal braces in a template are doubled",
        [{"a": f"x{i}", "b": f"{{/x{i}}}"} for i in range(3)],
        ['  derived b="{{/{a}}}"'],
        [],
    ),
    (
        "missing (empty cell) and null differ",
        [{"id": 1, "note": None}, {"id": 2}, {"id": 3, "note": "x"}],
        ["1|null", "2|", "3|x"],
        [],
    ),
    (
        "number-like strings go in a :str column instead of being quoted",
        [{"year": "2019"}, {"year": "2020"}, {"year": "n.d."}],
        ["@1 = 3 rows: year:str", "2019", "n.d."],
        ['"2019"'],
    ),
    (
        "a long cell equal to the one above becomes ^",
        [{"k": i, "desc": "the same long text"} for i in range(2)] + [{"k": 9, "desc": "other"}],
        ["0|the same long text", "1|^", "9|other"],
        [],
    ),
    (
        "an object of records is a keyed table",
        {"1.0.0": {"v": 1, "dist": "a-1.0.0.tgz"}, "2.0.0": {"v": 2, "dist": "a-2.0.0.tgz"}},
        ["@1 = 2 rows keyed: (key)|v", '  derived dist="a-{(key)}.tgz"', "1.0.0|1"],
        [],
    ),
    (
        "keys that are not plain words are quoted in paths",
        [{"a.b": i, "c d": {"e": i}} for i in range(3)],
        ['@1 = 3 rows: "a.b"|"c d".e'],
        [],
    ),
    (
        "cells holding | or quotes are JSON strings",
        [{"t": "a|b"}, {"t": 'say "hi"'}, {"t": "plain"}],
        ['"a|b"', '"say \\"hi\\""', "plain"],
        [],
    ),
    (
        "identical nested tables are written once",
        [{"id": i, "tags": [{"k": "x", "v": 1}, {"k": "y", "v": 2}] * 3} for i in range(4)],
        ["  same tags=@2"],
        ["@3 = "],
    ),
]


@pytest.mark.parametrize(("name", "value", "present", "absent"), CASES, ids=[c[0] for c in CASES])
def test_factoring_rule(name: str, value: Any, present: list[str], absent: list[str]) -> None:
    document = encode(value, len)
    lines = rows(document)
    for line in present:
        assert line in lines, f"{name}: {line!r} not in\n{document}"
    for text in absent:
        assert text not in document, f"{name}: {text!r} in\n{document}"
    assert decode(document) == value


def test_a_template_applies_only_where_its_source_is_present() -> None:
    value = [
        {"type": "Fork", "forkee": {"name": "a", "url": "https://x/a"}},
        {"type": "Watch"},
        {"type": "Fork", "forkee": {"name": "b", "url": "https://x/b"}},
    ]
    document = encode(value, len)
    assert '  derived forkee.url="https://x/{forkee.name}"' in rows(document)
    assert decode(document) == value


def test_a_table_is_used_only_where_it_takes_fewer_tokens() -> None:
    two_small = {"items": [{"a": 1}, {"a": 2}]}
    assert rows(encode(two_small, count_tokens))[1] == '{"items":[{"a":1},{"a":2}]}'
    many = {"items": [{"alpha": i, "beta": i * 2} for i in range(20)]}
    assert rows(encode(many, count_tokens))[1] == '{"items":@1}'


def test_json_lines_round_trip_to_lines() -> None:
    text = '{"id":1,"ok":true}\n{"id":2,"ok":true}\n{"id":3,"ok":false}'
    value, lines = parse_json(text) or (None, False)
    document = encode(value, len, lines=lines)
    assert document.startswith("[headroom-json/1 lines")
    assert decode_text(document) == text


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("{}", "not a table document"),
        ("[headroom-json/1 · x]\n@1", "reference to missing table @1"),
        ("[headroom-json/1 · x]\n@1\n@1 = 1 rows: a\n@1", "refers to itself"),
        ("[headroom-json/1 · x]\n@1\n@1 = 2 rows: a\n1", "expected 2 rows"),
        ("[headroom-json/1 · x]\n@1\n@1 = 1 rows: a|b\n1", "row has 1 cells, header has 2"),
        ("[headroom-json/1 · x]\n@1\n@1 = 1 rows: a\n^", "first row"),
        ("[headroom-json/1 · x]\n@1\nnonsense", "expected a table header"),
        ("[headroom-json/1 · x]\n[1,", "expected a value"),
        ('[headroom-json/1 · x]\n@1\n@1 = 1 rows: a\n  derived b="{zz}"\n1', "not a row column"),
    ],
)
def test_malformed_documents_raise_format_error(document: str, problem: str) -> None:
    with pytest.raises(FormatError, match=problem):
        decode(document)


def test_format_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        decode("not a document")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"a": 1, "a": 2}', "duplicate keys: the parsed value would keep only one"),
        ('{"a": NaN}', "NaN is not JSON"),
        ('{"a": 1e400}', "out of float range"),
        ("[1, 2", "does not parse"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than Python can recurse"),
    ],
)
def test_inexact_or_invalid_json_is_not_parsed(text: str, why: str) -> None:
    assert parse_json(text) is None, why


def test_float_spellings_survive() -> None:
    text = '[{"reading": 1.50, "scaled": 1E2}, {"reading": 2.50, "scaled": 0.10000000000000000001}]'
    value, _ = parse_json(text) or (None, False)
    document = encode(value * 3, len)
    assert "1.50|1E2" in rows(document) and "2.50|0.10000000000000000001" in rows(document)
    assert (
        decode(document) == [{"reading": 1.5, "scaled": 100.0}, {"reading": 2.5, "scaled": 0.1}] * 3
    )


def _bench_json_files(bench_data: Path) -> list[Path]:
    files = [
        p
        for p in sorted(bench_data.rglob("*.json*"))
        if not p.name.endswith(".meta.json") and p.suffix in (".json", ".jsonl")
    ]
    assert len(files) >= 20, "the benchmark data has its JSON files"
    return files


def test_every_real_json_file_round_trips(bench_data: Path) -> None:
    for path in _bench_json_files(bench_data):
        parsed = parse_json(read_bench(path))
        assert parsed is not None, path.name
        value, lines = parsed
        document = encode(value, count_tokens, lines=lines)
        assert is_table_document(document)
        assert decode(document) == value, path.name
        assert decode(document) == (
            [json.loads(line) for line in read_bench(path).splitlines() if line.strip()]
            if lines
            else json.loads(read_bench(path))
        ), path.name


def test_real_arrays_of_records_shrink_by_a_third(bench_data: Path) -> None:
    before = after = 0
    for name in (
        "gh_issues_rails_admin.json",
        "gh_pulls_octokit_rb.json",
        "gh_repo_events_rails_admin.json",
        "gh_search_issues.json",
        "usgs_earthquakes_week.geojson.json",
        "flutter_provider_test_results.jsonl",
    ):
        text = read_bench(bench_data / "json" / name)
        parsed = parse_json(text)
        assert parsed is not None
        before += count_tokens(minify_json(text))
        after += count_tokens(encode(parsed[0], count_tokens, lines=parsed[1]))
    assert after < 0.65 * before, f"{before} -> {after}"


# --- shapes that made the encoder quadratic (rows x distinct columns) ---------------------


def _tables(document: str) -> list[tuple[int, int, int]]:
    """``(rows, columns, cells not empty)`` of each table block of a document."""
    lines = rows(document)
    found = []
    for index, line in enumerate(lines):
        header = re.fullmatch(r"@[0-9]+ = ([0-9]+) rows(?: keyed)?:(?: (.*))?", line)
        if header is None:
            continue
        count, columns = int(header.group(1)), len(split_cells(header.group(2) or ""))
        body = [text for text in lines[index + 1 :] if not text.startswith("  ")][:count]
        filled = sum(cell != "" for text in body for cell in split_cells(text)) if columns else 0
        found.append((count, columns if header.group(2) else 0, filled))
    return found


@pytest.mark.parametrize("name", list(SHAPES))
def test_hostile_shapes_round_trip_and_no_table_is_mostly_empty(name: str) -> None:
    shape, _ = SHAPES[name]
    value = shape(300)
    document = encode(value, count_tokens)
    assert decode(document) == value
    assert loads(document) == value
    for count, columns, filled in _tables(document):
        assert count * columns <= 16 * max(filled, 1), (name, count, columns, filled)


@pytest.mark.parametrize("name", ["differing keys", "key per record"])
def test_records_sharing_no_keys_stay_inline(name: str) -> None:
    value = SHAPES[name][0](2_000)
    document = encode(value, count_tokens)
    assert rows(document)[1:] == [json.dumps(value, separators=(",", ":"))]


def test_records_sharing_most_keys_are_still_a_table() -> None:
    value = [
        {"id": i, "kind": "a" if i % 3 else "b", **({f"extra_{i}": i} if i % 10 == 0 else {})}
        for i in range(40)
    ]
    document = encode(value, count_tokens)
    assert rows(document)[2] == "@1 = 40 rows: id|kind|extra_0|extra_10|extra_20|extra_30"
    assert decode(document) == value


def test_a_date_keyed_object_of_points_is_one_keyed_table() -> None:
    value = SHAPES["date-keyed points"][0](400)
    document = encode(value, count_tokens)
    lines = rows(document)
    assert lines[1].startswith('{"Meta Data":{"1. Symbol":"X",') and lines[1].endswith(
        ',"Time Series":@1}'
    )
    columns = '"1. open":str|"2. high":str|"3. low":str|"4. close":str|"5. volume":str'
    assert lines[2] == "@1 = 400 rows keyed: (key)|" + columns
    assert decode(document) == value


@pytest.mark.parametrize(
    ("name", "value", "header"),
    [
        (
            "a map with more keys than a record has is a column of its own tables",
            [{"name": s, "points": {f"d{i}": {"v": f"{s}{i}"} for i in range(300)}} for s in "abc"],
            "@1 = 3 rows: name|points",
        ),
        (
            "nested keys that few records share are not flattened",
            [{"id": i, "meta": {f"k{i}": i}} for i in range(40)],
            "@1 = 40 rows: id|meta",
        ),
    ],
)
def test_nested_objects_flatten_only_into_dense_columns(name: str, value: Any, header: str) -> None:
    document = encode(value, count_tokens)
    assert rows(document)[2] == header, name
    assert decode(document) == value


def test_templates_are_still_found_beside_thousands_of_columns() -> None:
    value = [
        {"id": i, "url": f"https://x/{i}", **{f"c{c}": f"t{c}-{i}" for c in range(3_000)}}
        for i in range(3)
    ]
    document = encode(value, len)
    assert '  derived url="https://x/{id}"' in rows(document)
    assert decode(document) == value


@pytest.mark.parametrize("name", ["differing keys", "key per record", "date-keyed points"])
def test_sparse_tables_are_refused_before_they_are_written(name: str) -> None:
    # The encoder was quadratic because it wrote out each sparse table (rows x distinct
    # columns cells) and measured it; the text it measures now stays within the input's.
    value = SHAPES[name][0](1_000)
    measured: list[int] = []

    def count(text: str) -> int:
        measured.append(len(text))
        return count_tokens(text)

    encode(value, count)
    assert sum(measured) <= 2 * len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


LOSSLESS = Headroom(CompressConfig(lossy=False), store="memory")
LOSSY = Headroom(CompressConfig(), store="memory")


@pytest.mark.parametrize("name", list(SHAPES))
def test_hostile_shapes_are_never_larger_than_minified_json(name: str) -> None:
    value = SHAPES[name][0](300)
    text = json.dumps(value, indent=1)
    minified = count_tokens(minify_json(text))
    lossless = LOSSLESS.compress_text(text, kind="json")
    assert lossless.tokens_after <= minified
    assert loads(lossless.text) == value
    assert LOSSY.compress_text(text, kind="json").tokens_after <= minified


@pytest.mark.parametrize(
    ("path", "written"),
    [
        (("user", "login"), "user.login"),
        (("a-b", "c_d", "0"), "a-b.c_d.0"),
        (("a", "", "b"), 'a."".b'),  # an empty segment is quoted, even among plain ones
        (("a.b", "c"), '"a.b".c'),
        (("é",), '"é"'),
        ((), "(key)"),
    ],
)
def test_column_paths_quote_exactly_the_segments_that_need_it(
    path: tuple[str, ...], written: str
) -> None:
    from headroom.jsontables.syntax import format_path, parse_path

    assert format_path(path) == written
    assert parse_path(written) == path


def test_records_with_their_keys_in_another_order_make_the_same_table() -> None:
    in_order = [{"id": i, "name": f"n{i}", "ok": i % 2 == 0, "tag": "x" * i} for i in range(6)]
    reordered = [in_order[0]] + [dict(reversed(list(r.items()))) for r in in_order[1:]]
    document = encode(in_order, count_tokens)
    assert encode(reordered, count_tokens) == document
    assert '@1 = 6 rows: id|ok|tag\n  derived name="n{id}"' in document
    assert decode(document) == in_order


def test_the_template_search_on_a_wide_table_stays_within_its_work_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 2,000 string columns whose values lie inside one another: every pair is a candidate.
    # The search is budgeted by the table's size; the candidates it looks up must be too.
    from headroom import _core
    from headroom.jsontables import encoder

    compared: list[int] = []
    real = _core.seeds_inside

    def counting(seeds: list[str], texts: list[str], starts: list[int]) -> list[list[int]]:
        compared.append(sum(len(seeds) - start for start in starts))
        return real(seeds, texts, starts)

    monkeypatch.setattr(encoder, "seeds_inside", counting)
    width = 2_000
    rows = [{f"c{j}": "ab"[row] * (j + 1) for j in range(width)} for row in range(2)]
    assert decode(encode(rows, len)) == rows
    budget = encoder._DERIVE_MIN_WORK + encoder._DERIVE_WORK_PER_CELL * 2 * width
    assert 0 < sum(compared) <= budget + width  # the budget, and one target over it


def test_keys_and_string_subclasses_that_json_never_makes_encode_as_before() -> None:
    class Text(str):
        pass

    # Int keys of a keyed table (a Python dict, not parsed JSON) are not strings.
    keyed = {i: {"a": f"x{i}", "b": "abcdefgh"} for i in range(5)}
    assert "5 rows keyed" in encode(keyed, len)
    # A str subclass is not a plain string: no text column, no template from it.
    rows = [{"t": "2019"}, {"t": Text("2020")}, {"t": "x"}]
    assert ":str" not in encode(rows, len)
    assert "derived" not in encode([{"id": "de", "u": Text("pdes")}] * 2, len)
