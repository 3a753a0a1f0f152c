"""Lossy crushing of JSON values (headroom.compressors.json.crush): signals, markers, real data."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headroom.compressors.json.crush import Crushed, CrushOptions, crush
from headroom.compressors.json.profile import Profile
from headroom.compressors.json.signals import error_reason, robust_z
from headroom.compressors.json.summary import MAX_IDS, listed_ids
from headroom.compressors.json.text import query_words, shorten
from headroom.handles import MARKER_RE, find_markers
from headroom.store.memory import MemoryStore
from headroom.tokens import count_tokens
from tests.benchmarks.test_bench_json_shapes import SHAPES
from tests.conftest import read_bench

# Only the always-kept rows survive, so a row is kept exactly when it is signal.
SIGNALS_ONLY = CrushOptions(max_rows=0)
NO_SHORTENING = CrushOptions(max_string_chars=10**9)


def stash_into(store: MemoryStore) -> Callable[[str], str]:
    return lambda text: store.put(text, kind="json")


DEFAULT = CrushOptions()


def run(value: Any, query: str | None = None, options: CrushOptions = DEFAULT) -> Crushed:
    crushed = crush(value, query=query, stash=stash_into(MemoryStore()), options=options)
    assert crushed is not None
    return crushed


def base_rows(count: int = 60) -> list[dict[str, Any]]:
    return [
        {"id": f"r{i:03d}", "kind": "sale", "ms": 100 + i % 7, "cached": True, "name": f"item {i}"}
        for i in range(count)
    ]


def kept_ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


# --- one table per signal kind -------------------------------------------------------------

SIGNAL_CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("error field", {"error": "connection reset"}, None),
    ("errors list", {"errors": [{"code": "invalid", "field": "color"}]}, None),
    ("nested exception", {"detail": {"exception": "KeyError: 'x'"}}, None),
    ("stack trace key", {"stackTrace": "at f (a.js:1)\nat g (b.js:2)"}, None),
    ("bare stack with a trace", {"stack": "Error: x\n    at y"}, None),
    ("failed status", {"status": "failed"}, None),
    ("cancelled conclusion", {"conclusion": "cancelled"}, None),
    ("fatal level, any case", {"level": "FATAL"}, None),
    ("timed-out state", {"state": "timed-out"}, None),
    ("HTTP 503", {"status_code": 503}, None),
    ("rare category value", {"kind": "refund"}, None),
    ("numeric outlier", {"ms": 10_000}, None),
    ("rare boolean", {"cached": False}, None),
    ("query hit", {"name": "Zanzibar ferry"}, "zanzibar ferry schedule"),
]


@pytest.mark.parametrize(
    ("change", "query"),
    [(c, q) for _, c, q in SIGNAL_CASES],
    ids=[name for name, _, _ in SIGNAL_CASES],
)
def test_a_signal_row_is_kept(change: dict[str, Any], query: str | None) -> None:
    rows = base_rows()
    quiet = kept_ids(run(rows, query, SIGNALS_ONLY).value)
    assert "r033" not in quiet  # the test can fail: row 33 is not kept for nothing
    rows[33] = {**rows[33], **change}
    kept = kept_ids(run(rows, query, SIGNALS_ONLY).value)
    assert "r033" in kept
    assert len(kept) < 10


NOT_SIGNAL_CASES: list[tuple[str, dict[str, Any]]] = [
    ("null error", {"error": None}),
    ("empty error", {"error": "  "}),
    ("empty errors list", {"errors": []}),
    ("false failure flag", {"isFailure": False}),
    ("zero failures", {"failures": 0}),
    ("tech stack", {"stack": "heroku-22"}),
    ("successful result", {"result": "success"}),
    ("HTTP 200", {"status_code": 200}),
    ("ordinary number", {"ms": 103}),
]


@pytest.mark.parametrize(
    "change", [c for _, c in NOT_SIGNAL_CASES], ids=[name for name, _ in NOT_SIGNAL_CASES]
)
def test_an_ordinary_row_is_not_signal(change: dict[str, Any]) -> None:
    rows = [{**row, **change} for row in base_rows()]
    assert kept_ids(run(rows, None, SIGNALS_ONLY).value) == ["r000", "r059"]


def test_first_and_last_rows_are_always_kept() -> None:
    crushed = run(base_rows(45), None, SIGNALS_ONLY)
    assert kept_ids(crushed.value) == ["r000", "r044"]
    assert (crushed.kept_rows, crushed.dropped_rows) == (2, 43)


def test_null_items_are_kept() -> None:
    rows: list[Any] = base_rows()
    rows[20] = None
    assert run(rows, None, SIGNALS_ONLY).value == [rows[0], None, rows[-1]]


def test_a_common_value_is_not_rare_and_a_spread_column_is_not_categorical() -> None:
    rows = base_rows()
    for i, row in enumerate(rows):
        row["kind"] = "refund" if i % 5 == 0 else "sale"  # 20%: common enough
        row["category"] = f"c{i % 30}"  # 30 values of 2 records: too spread to be a category
    assert kept_ids(run(rows, None, SIGNALS_ONLY).value) == ["r000", "r059"]


def test_heavy_tail_keeps_only_its_most_extreme_values() -> None:
    rows = base_rows(200)
    for i, row in enumerate(rows):
        row["ms"] = 100 + i % 7 if i % 10 else 5_000 + i  # 10% far out: a heavy tail
    kept = run(rows, None, SIGNALS_ONLY).value
    assert [row["ms"] for row in kept[1:-1]] == [5_170, 5_180, 5_190]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4, 100], [-1.3, -0.7, 0.0, 0.7, 65.4]),
        ([5, 5, 5, 5, 5], [0.0] * 5),
        ([0, 0, 0, 0, 0, 0, 1], [0.0] * 6 + [5.6]),  # MAD 0: mean absolute deviation
    ],
)
def test_robust_z(values: list[float], expected: list[float]) -> None:
    assert [round(z, 1) for z in robust_z(values)] == expected


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"a": {"b": [{"c": {"error": "x"}}]}}, "error"),
        ({"checks": [{"conclusion": "failure"}]}, "status"),
        ({"httpStatus": 404}, "status"),
        ({"type": "error", "message": "boom"}, "status"),
        ({"status": 200, "errors": {}}, None),
        ({"title": "error handling docs", "state": "open"}, None),
    ],
)
def test_error_reason(record: dict[str, Any], reason: str | None) -> None:
    assert error_reason(record) == reason


# --- selection and markers -----------------------------------------------------------------


def test_kept_rows_stay_in_order_and_sample_covers_every_category() -> None:
    rows = base_rows(90)
    for i, row in enumerate(rows):
        row["region"] = ["north", "south", "east"][i % 3] if i < 80 else "west"
    kept = run(rows, None, CrushOptions(max_rows=6)).value
    assert kept_ids(kept) == sorted(kept_ids(kept))
    assert {row["region"] for row in kept} == {"north", "south", "east", "west"}
    assert len(kept) == 8


def test_marker_says_where_what_and_which_ids() -> None:
    rows = base_rows()
    for i, row in enumerate(rows):
        row["status"] = "open" if i % 3 else "closed"
    crushed = run({"data": {"rows": rows}}, None, CrushOptions(max_rows=4))
    [marker] = crushed.markers
    [parsed] = find_markers(marker)
    assert MARKER_RE.fullmatch(marker)
    assert parsed.count == crushed.dropped_rows == 54
    assert parsed.unit == "rows" and parsed.handle == crushed.handles[0]
    assert parsed.summary is not None
    assert parsed.summary.startswith("$.data.rows; status: open ×36, closed ×18; ")
    assert "ms 100–106" in parsed.summary
    kept = set(kept_ids(crushed.value["data"]["rows"]))
    assert set(listed_ids(parsed.summary)) == {row["id"] for row in rows} - kept


def test_without_keep_ids_the_marker_gives_the_id_range() -> None:
    rows = [{"number": n, "state": "open"} for n in range(100, 160)]
    crushed = run(rows, None, CrushOptions(max_rows=0, keep_ids=False))
    [parsed] = find_markers(crushed.markers[0])
    assert parsed.summary == "$; id range by number: 58 ids, 101–158"
    assert listed_ids(parsed.summary) == []


def test_the_stash_holds_the_whole_array_before_the_marker_is_returned() -> None:
    store = MemoryStore()
    rows = base_rows()
    rows[7]["score"] = 0.10  # a float keeps its spelling where the parser recorded it
    crushed = crush({"rows": rows}, query=None, stash=stash_into(store))
    assert crushed is not None
    stashed = store.get(crushed.handles[0]).text
    assert json.loads(stashed) == rows
    assert stashed == json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def test_nothing_to_crush_returns_none() -> None:
    assert crush(base_rows(30), query=None, stash=stash_into(MemoryStore())) is None
    assert crush({"a": "short", "b": [1] * 500}, query=None, stash=lambda t: "x") is None
    assert crush([], query=None, stash=lambda t: "x") is None


def test_input_is_not_mutated_and_unchanged_parts_are_shared() -> None:
    big = base_rows()
    value = {"rows": big, "meta": {"page": 1, "tags": ["a", "b"]}}
    before = copy.deepcopy(value)
    crushed = run(value)
    assert value == before
    assert crushed.value["meta"] is value["meta"]
    assert all(any(row is original for original in big) for row in crushed.value["rows"])


def test_nested_arrays_inside_kept_records_are_crushed_with_their_own_path() -> None:
    value = {"items": [{"title": f"t{i}", "refs": base_rows(40)} for i in range(3)]}
    crushed = run(value, None, SIGNALS_ONLY)
    paths = [find_markers(m)[0].summary.split(";")[0] for m in crushed.markers]  # type: ignore[union-attr]
    assert paths == ["$.items.0.refs", "$.items.1.refs", "$.items.2.refs"]
    assert len(set(crushed.handles)) == 1  # the three arrays are equal: one original


def test_keys_that_are_not_plain_names_are_quoted_in_paths() -> None:
    crushed = run({"a b]": base_rows()}, None, SIGNALS_ONLY)
    assert find_markers(crushed.markers[0])[0].summary.startswith('$."a b\\u005d"; ')  # type: ignore[union-attr]


def test_crushing_is_deterministic() -> None:
    rows = base_rows(300)
    first, second = run(rows, "item 77"), run(rows, "item 77")
    assert (first.value, first.markers, first.handles) == (
        second.value,
        second.markers,
        second.handles,
    )


def test_a_second_pass_changes_nothing() -> None:
    value = {"rows": base_rows(200), "body": "The first sentence is here. " * 100}
    once = run(value)
    assert len(once.value["rows"]) <= DEFAULT.min_rows
    assert crush(once.value, query=None, stash=stash_into(MemoryStore())) is None


# --- ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "column"),
    [
        ([{"id": i, "key": f"k{i}"} for i in range(40)], "id"),
        ([{"paperId": f"p{i}", "name": f"n{i}"} for i in range(40)], "paperId"),
        ([{"user": {"login": f"u{i}"}, "kind": "x"} for i in range(40)], "user.login"),
        ([{"id": 1, "sha": f"{i:040x}"} for i in range(40)], "sha"),  # id not unique
        ([{"name": f"a, b {i}"} for i in range(40)], None),  # ", " would break the list
        ([{"title": f"t{i}"} for i in range(40)], None),
    ],
)
def test_id_column(rows: list[dict[str, Any]], column: str | None) -> None:
    found = Profile(rows).id_column
    assert (found.name if found else None) == column


@pytest.mark.parametrize(
    ("summary", "ids"),
    [
        ("$; ids by number (3, 3–9): 3, 9, 4", ["3", "9", "4"]),
        ("$.a; k: x ×2; ids by key (2): doc/ref-1, doc/ref-3", ["doc/ref-1", "doc/ref-3"]),
        ("$; ids by sha (5): ab12, cd34, +3 more", ["ab12", "cd34"]),
        ("$; id range by id: 4 ids, 1–4", []),
        ("$; x: y", []),
    ],
)
def test_listed_ids(summary: str, ids: list[str]) -> None:
    assert listed_ids(summary) == ids


def test_ids_are_written_verbatim_in_array_order() -> None:
    rows = [{"number": n, "state": "open"} for n in (5, 3, 4, 10, *range(100, 140))]
    crushed = run(rows, None, SIGNALS_ONLY)
    summary = find_markers(crushed.markers[0])[0].summary
    assert summary == "$; ids by number (42, 3–138): " + ", ".join(
        str(n) for n in (3, 4, 10, *range(100, 139))
    )


def test_many_ids_are_capped_with_a_count() -> None:
    # A payload per row: rows that are only an id are kept whole (listing them saves nothing).
    rows = [{"uuid": f"u-{i:05x}z", "payload": f"reading {i} " * 4} for i in range(10_500)]
    crushed = run(rows, None, SIGNALS_ONLY)
    summary = find_markers(crushed.markers[0])[0].summary
    assert summary is not None and summary.endswith(", +498 more")
    assert len(listed_ids(summary)) == MAX_IDS == 10_000


# --- long strings --------------------------------------------------------------------------

ABSTRACT = (
    "Fires shape the savanna. "
    + "Rainfall varies from year to year across the region. " * 30
    + "Lightning ignites most fires in the wet season. "
    + "Grazing pressure is moderate. " * 20
)


def test_a_long_string_keeps_its_head_and_query_sentences() -> None:
    store = MemoryStore()
    short = shorten(
        ABSTRACT,
        words=query_words("what about lightning?"),
        max_chars=1200,
        stash=stash_into(store),
    )
    assert short is not None
    [marker] = find_markers(short)
    assert short.startswith("Fires shape the savanna. Rainfall varies")
    assert " … Lightning ignites most fires in the wet season. [" in short
    assert marker.unit == "chars"
    assert store.get(marker.handle).text == ABSTRACT
    shown = short[: short.index(" [")].replace(" … ", "")
    assert marker.count == len(ABSTRACT) - len(shown)


def test_a_long_string_keeps_sentences_naming_an_exception_but_not_mere_error_words() -> None:
    # An issue body: the exception and the traceback line survive without a query (contract
    # 6); "fails" and "critical" alone are what bug reports are about, and would keep it all.
    body = (
        "Saving a record fails since the upgrade. "
        + "The form has many fields and it is critical for us. " * 30
        + "NoMethodError: undefined method `name' for nil:NilClass. "
        + "We tried many things. " * 20
        + "Traceback (most recent call last):\n"
        + "Thanks for looking. " * 10
    )
    short = shorten(body, words=frozenset(), max_chars=1200, stash=stash_into(MemoryStore()))
    assert short is not None
    assert "NoMethodError: undefined method `name' for nil:NilClass." in short
    assert "Traceback (most recent call last):" in short
    assert short.count("it is critical for us") < 10  # the head only, of 30
    assert len(short) < len(body) / 2


@pytest.mark.parametrize(
    "text",
    [
        "x" * 5000,  # no words: an id, a hash, base64
        "https://example.com/" + "a/" * 2000,
        "\n".join(["QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5"] * 40),
        json.dumps({"k": ["word " * 10] * 60}),  # JSON inside a string
        "Already shortened text here. " * 60
        + "[9 chars omitted · retrieve: headroom:0123456789ab]",
        "short text with a few words in it",
    ],
)
def test_strings_left_whole(text: str) -> None:
    assert shorten(text, words=frozenset(), max_chars=1200, stash=lambda t: 1 / 0) is None  # type: ignore[arg-type,return-value]


def test_a_very_long_first_sentence_is_cut_at_a_word() -> None:
    text = "word " * 2000
    short = shorten(
        text, words=frozenset(), max_chars=1200, stash=lambda t: "headroom:0123456789ab"
    )
    assert short is not None
    assert short.startswith("word word") and len(short) < 700


def test_strings_inside_kept_records_are_shortened_and_stashed() -> None:
    rows = base_rows()
    rows[0]["body"] = ABSTRACT
    store = MemoryStore()
    crushed = crush({"rows": rows}, query=None, stash=stash_into(store))
    assert crushed is not None
    body = crushed.value["rows"][0]["body"]
    [marker] = find_markers(body)
    assert marker.handle in crushed.handles
    assert store.get(marker.handle).text == ABSTRACT
    assert rows[0]["body"] == ABSTRACT


def test_a_repeated_string_is_shortened_alike_and_stashed_at_each_occurrence() -> None:
    rows = base_rows()
    for row in rows:
        row["body"] = "".join(ABSTRACT)  # equal strings, distinct objects
    stashed: list[str] = []
    store = MemoryStore()

    def stash(text: str) -> str:
        stashed.append(text)
        return store.put(text, kind="json")

    crushed = crush({"rows": rows}, query="savannas", stash=stash)
    assert crushed is not None
    bodies = [row["body"] for row in crushed.value["rows"]]
    alone = shorten(ABSTRACT, words=query_words("savannas"), max_chars=1200, stash=stash)
    assert alone is not None and len(bodies) > 2
    assert bodies == [alone] * len(bodies)
    # Every occurrence was stashed, in order, between the array (first) and the lone call.
    assert stashed[1:] == [ABSTRACT] * (len(bodies) + 1)


# --- pathological inputs -------------------------------------------------------------------


def test_deep_nesting_and_odd_strings() -> None:
    deep: Any = base_rows(40)
    for _ in range(400):
        deep = [deep]
    assert crush(deep, query=None, stash=lambda t: "headroom:0123456789ab") is None
    rows = base_rows()
    rows[5]["name"] = "lone \ud800 surrogate"
    rows[6]["error"] = "\x00 nul"
    crushed = run(rows)
    assert "r006" in kept_ids(crushed.value)


@pytest.mark.parametrize("container", ["object", "list"])
def test_long_strings_are_shortened_down_to_the_depth_limit_and_left_below_it(
    container: str,
) -> None:
    text = "Fires shape savannas. " + "Rain varies by year. " * 100
    for depth, shortened in [(1, True), (200, True), (201, False)]:
        value: Any = text
        for _ in range(depth):
            value = {"k": value, "n": 1} if container == "object" else [value, 1]
        crushed = crush(value, query=None, stash=lambda t: "headroom:0123456789ab")
        if not shortened:
            assert crushed is None
            continue
        assert crushed is not None
        inner = crushed.value
        for _ in range(depth):
            assert inner[1 if container == "list" else "n"] == 1
            inner = inner["k" if container == "object" else 0]
        assert inner.startswith("Fires shape savannas.") and len(inner) < len(text)


def test_huge_ints_and_floats_do_not_break_statistics() -> None:
    rows = base_rows()
    for i, row in enumerate(rows):
        row["big"] = 10**400 + i
        row["f"] = 1e308 if i % 2 else -1e308
    assert run(rows, None, SIGNALS_ONLY).dropped_rows == 58


# --- real data -----------------------------------------------------------------------------

BENCH_FILES = {
    "usgs_earthquakes_week.geojson.json": "id",
    "gh_top100_repos.json": "id",
    "s2_author_papers_page1.json": "paperId",
    "flutter_provider_test_results.jsonl": "test.id",
    "crossref_peerj_works_search.json": "key",  # every reference list, DOIs or not
}


def load(bench_data: Path, name: str) -> Any:
    text = read_bench(bench_data / "json" / name)
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def resolve(value: Any, path: str) -> Any:
    for segment in path.split(".")[1:]:
        value = value[int(segment)] if isinstance(value, list) else value[segment]
    return value


def get_path(record: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


@pytest.mark.parametrize("name", sorted(BENCH_FILES))
def test_real_data_keeps_errors_and_ids_and_stashes_originals(bench_data: Path, name: str) -> None:
    value = load(bench_data, name)
    store = MemoryStore()
    crushed = crush(value, query=None, stash=stash_into(store), options=NO_SHORTENING)
    assert crushed is not None and crushed.markers
    for marker in crushed.markers:
        [parsed] = find_markers(marker)
        assert parsed.summary is not None
        path = parsed.summary.split(";")[0]
        original = resolve(value, path)
        kept = resolve(crushed.value, path)
        assert json.loads(store.get(parsed.handle).text) == original
        assert parsed.count == len(original) - len(kept)
        for record in original:
            if error_reason(record):
                assert record in kept
        column = Profile(original).id_column
        assert column is not None
        expected = BENCH_FILES[name]
        if expected is not None:
            assert column.name == expected
        present = {str(get_path(r, column.name)) for r in kept} | set(listed_ids(parsed.summary))
        ids = [
            str(get_path(r, column.name)) for r in original if get_path(r, column.name) is not None
        ]
        assert ids and set(ids) <= present  # record-id retention 100%


def test_real_flutter_run_keeps_the_failure(bench_data: Path) -> None:
    events = load(bench_data, "flutter_provider_test_results.jsonl")
    kept = run(events).value
    assert [e["type"] for e in kept if e["type"] in ("error", "print")] == ["print", "error"]
    assert {"testID": 8, "result": "error"}.items() <= next(
        e for e in kept if e.get("result") == "error"
    ).items()
    assert len(kept) < len(events) / 5


def test_real_usgs_keeps_the_largest_quakes_and_rare_events(bench_data: Path) -> None:
    geo = load(bench_data, "usgs_earthquakes_week.geojson.json")
    features = geo["features"]
    kept = run(geo).value["features"]
    kept_ids_ = {f["id"] for f in kept}
    largest = sorted(features, key=lambda f: -(f["properties"]["mag"] or 0))[:10]
    assert {f["id"] for f in largest} <= kept_ids_
    for f in features:
        p = f["properties"]
        if p["tsunami"] or p["alert"] or p["type"] != "earthquake":
            assert f["id"] in kept_ids_
    assert len(kept) < len(features) / 8


@pytest.mark.parametrize(
    ("name", "array", "field"),
    [
        ("usgs_earthquakes_week.geojson.json", "features", "properties.title"),
        ("usgs_earthquakes_week.geojson.json", "features", "id"),
        ("s2_author_papers_page1.json", "data", "title"),
        ("gh_top100_repos.json", None, "repo"),
    ],
)
def test_real_query_naming_a_record_keeps_it(
    bench_data: Path, name: str, array: str | None, field: str
) -> None:
    value = load(bench_data, name)
    records = value[array] if array else value
    crushed = run(value)
    kept = crushed.value[array] if array else crushed.value
    dropped = [r for r in records if r not in kept]
    target = dropped[len(dropped) // 2]
    query = f"what about {get_path(target, field)}?"
    kept_now = run(value, query).value
    assert target in (kept_now[array] if array else kept_now)


def test_real_crushed_output_is_much_smaller(bench_data: Path) -> None:
    for name in ("usgs_earthquakes_week.geojson.json", "flutter_provider_test_results.jsonl"):
        value = load(bench_data, name)
        crushed = run(value)
        before = count_tokens(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        after = count_tokens(
            json.dumps(crushed.value, ensure_ascii=False, separators=(",", ":"))
            + "\n"
            + "\n".join(crushed.markers)
        )
        assert after < before / 4, name


# --- shapes that made the table encoder quadratic ------------------------------------------


@pytest.mark.parametrize(
    "name", ["differing keys", "key per record", "wide dense", "small records"]
)
def test_records_with_differing_keys_keep_their_signal_rows(name: str) -> None:
    rows = SHAPES[name][0](300)
    rows[137]["error"] = "disk full"
    store = MemoryStore()
    crushed = crush(rows, query=None, stash=stash_into(store))
    assert crushed is not None and rows[137] in crushed.value
    assert crushed.kept_rows + crushed.dropped_rows == len(rows)
    assert json.loads(store.get(crushed.handles[0]).text) == rows


def test_every_row_failing_keeps_every_row() -> None:
    rows = SHAPES["failing categories"][0](400)
    assert crush(rows, query=None, stash=stash_into(MemoryStore())) is None


def test_a_profile_answers_for_the_column_it_is_asked_about() -> None:
    # Per-column answers are cached: a column made for one question and dropped must not
    # leave its answer to the next column that gets its id.
    from headroom.compressors.json.profile import Column

    profile = Profile([{"x": 1.0}, {"x": 2.0}, {"x": 3.0}])
    for n in range(50):
        values = [float(n + row) for row in range(3)]
        assert profile.floats(Column(("x",), [0, 1, 2], values)) == values


def test_a_dict_subclass_is_copied_as_its_items_say() -> None:
    # crush() called on Python objects: a changed record of a dict subclass is rebuilt from
    # its items(), as it always was (a subclass may hide keys there).
    class Public(dict[str, Any]):
        def items(self) -> Any:
            return [(k, v) for k, v in super().items() if not k.startswith("_")]

    long = "Fires shape savannas. " + "Rain varies by year. " * 200
    value = {"doc": Public(_secret="s", text=long, title="t")}
    crushed = crush(value, query=None, stash=lambda _part: "headroom:" + "0" * 12)
    assert crushed is not None
    assert set(crushed.value["doc"]) == {"text", "title"}
    assert len(crushed.value["doc"]["text"]) < len(long)
