"""SmartCrusher through the public API: what it does to real and to pathological JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headroom import CompressConfig, Headroom
from headroom.compressors.json import smart_crusher
from headroom.compressors.json.minify import minify_json
from headroom.handles import find_markers
from headroom.jsontables import decode, is_table_document, loads
from headroom.tokens import count_tokens, get_counter
from tests.conftest import read_bench

LOSSLESS = Headroom(CompressConfig(lossy=False, min_tokens=0), store="memory")
RECORDS = [{"id": i, "name": f"user-{i}", "active": True, "score": i * 1.5} for i in range(40)]


def test_records_become_a_table_that_decodes_to_the_input() -> None:
    text = json.dumps(RECORDS, indent=2)
    result = LOSSLESS.compress_text(text)
    assert result.lossless and result.transforms_applied == ["json.minify", "json.tables"]
    assert is_table_document(result.text) and decode(result.text) == RECORDS
    assert result.tokens_after < 0.6 * count_tokens(minify_json(text))


def test_a_table_document_is_left_alone() -> None:
    document = LOSSLESS.compress_text(json.dumps(RECORDS)).text
    for kind in ("auto", "json"):
        again = LOSSLESS.compress_text(document, kind=kind)
        assert again.text == document and again.transforms_applied == []


@pytest.mark.parametrize(
    ("text", "transforms"),
    [
        ('{"a": 1, "a": 2, "rows": [' + ",".join(['{"x": 1}'] * 50) + "]}", ["json.minify"]),
        ('{"big": 1e400, "rows": [' + ",".join(['{"x": 1}'] * 50) + "]}", ["json.minify"]),
        ("[" * 10_000 + "]" * 10_000, []),  # too deep to parse: passes through
        ('{"rows": [' + ",".join(['{"x": 1}'] * 50) + "]", []),  # unclosed: not JSON
    ],
    ids=["duplicate keys", "number beyond float range", "10k levels deep", "invalid"],
)
def test_json_a_value_cannot_hold_exactly_is_only_minified(
    text: str, transforms: list[str]
) -> None:
    result = LOSSLESS.compress_text(text)
    assert result.transforms_applied == transforms
    assert result.text == (minify_json(text) if transforms else text)


def test_big_integers_and_float_spellings_survive_exactly() -> None:
    rows = ",".join(f'{{"n": {10**30 + i}, "x": {i}.50}}' for i in range(30))
    result = LOSSLESS.compress_text(f"[{rows}]")
    assert is_table_document(result.text)
    assert f"{10**30 + 7}|7.50" in result.text.split("\n")
    assert loads(result.text) == json.loads(f"[{rows}]")


def test_real_api_responses_lose_nothing(bench_data: Path) -> None:
    for name in ("gh_issues_rails_admin.json", "npm_packument_chalk.json"):
        original = read_bench(bench_data / "json" / name)
        result = LOSSLESS.compress_text(original)
        assert result.lossless and result.tokens_saved > 0.3 * result.tokens_before, name
        assert loads(result.text) == json.loads(original), name


def test_default_compression_crushes_long_arrays_keeping_signal_and_ids(bench_data: Path) -> None:
    hr = Headroom(store="memory")
    original = read_bench(bench_data / "json" / "usgs_earthquakes_week.geojson.json")
    result = hr.compress_text(original)
    assert not result.lossless and result.transforms_applied == ["json.minify", "json.crush"]
    # 1,542 dropped quakes named by id and title ("M 1.6 - 2km E of San Marino, CA") cost
    # about as much again as the ids alone: 13% of the input, not 7%.
    assert result.tokens_after < 0.14 * result.tokens_before
    features = json.loads(original)["features"]
    (marker,) = find_markers(result.text)
    assert hr.retrieve(marker.handle) == original  # the document as given, byte-exact
    kept = loads(result.text)["features"]  # markers are skipped: the value that was kept
    strongest = max(features, key=lambda f: f["properties"]["mag"])
    assert strongest in kept
    for feature in features:  # every id is in a kept row or listed in the marker
        assert feature["id"] in result.text
    dropped = next(f for f in features if f not in kept)
    found = hr.retrieve(marker.handle, query=dropped["id"]).split("\n\n")
    assert [json.loads(section) for section in found] == [dropped]  # asked by id: that record


def test_a_query_keeps_the_matching_record(bench_data: Path) -> None:
    original = read_bench(bench_data / "json" / "usgs_earthquakes_week.geojson.json")
    features = json.loads(original)["features"]
    wanted = features[637]
    query = f"what happened at {wanted['properties']['place']}?"
    result = Headroom(store="memory").compress_text(original, query=query)
    assert not result.lossless and wanted in loads(result.text)["features"]


def test_small_outputs_stay_lossless_even_when_lossy_is_allowed(bench_data: Path) -> None:
    original = read_bench(bench_data / "json" / "s2_paper_batch_with_missing.json")
    result = Headroom(store="memory").compress_text(original)
    assert result.lossless and loads(result.text) == json.loads(original)


def test_a_long_document_of_few_tokens_stays_lossless() -> None:
    # 121k characters but about 2k tokens: the crusher starts crushing while the document
    # is counted (it is that long), and drops the crush once the count says it is small.
    rows = [{"id": i, "rule": "-" * (3000 + i), "n": i % 7} for i in range(40)]
    text = json.dumps(rows)
    result = Headroom(store="memory").compress_text(text)
    assert result.lossless and result.transforms_applied == ["json.minify", "json.tables"]
    assert result.text == LOSSLESS.compress_text(text).text
    assert loads(result.text) == rows


def test_a_document_the_router_parsed_is_not_parsed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import orjson

    from headroom.compressors.json import minify, smart_crusher

    parses: list[int] = []
    loads = orjson.loads

    def counting_loads(text: str | bytes) -> object:
        parses.append(len(text))
        return loads(text)

    monkeypatch.setattr(smart_crusher.orjson, "loads", counting_loads)  # the router's too
    rows = [{"id": i, "name": f"user-{i}", "kind": "x" * (i % 3)} for i in range(300)]
    minified = json.dumps(rows, separators=(",", ":"))
    result = Headroom(store="memory").compress_text(minified)
    assert is_table_document(result.text) and parses == [len(minified)]  # the router's
    # A pretty-printed document is minified first; then the crusher parses the new text,
    # and no parsed value stays behind once the piece is done.
    parses.clear()
    pretty = json.dumps(rows, indent=1)
    Headroom(store="memory").compress_text(pretty)
    assert parses == [len(pretty), len(minify_json(pretty))]
    assert minify.take_parsed(pretty.strip()) is minify.NOT_PARSED
    # Routing a text outside compression keeps no parsed value either.
    other = json.dumps([{"n": i} for i in range(400)])
    assert minify.json_layout(other) == "document"
    assert minify.take_parsed(other) is minify.NOT_PARSED


@pytest.mark.parametrize(
    "name", ["usgs_earthquakes_week.geojson.json", "crossref_peerj_works_search.json"]
)
@pytest.mark.parametrize("target_ratio", [None, 0.2])
def test_counting_the_lossless_table_only_as_far_as_needed_decides_the_same(
    bench_data: Path, name: str, target_ratio: float | None
) -> None:
    # The shipped counter stops counting a long lossless table once it is surely larger
    # than the crushed one; a plain function counts everything. Same outcome either way.
    plain = get_counter("gpt-4o").count
    original = read_bench(bench_data / "json" / name)
    results = [
        Headroom(
            CompressConfig(target_ratio=target_ratio, token_counter=counter), store="memory"
        ).compress_text(original)
        for counter in (None, plain)
    ]
    assert not results[0].lossless
    assert results[0].text == results[1].text
    assert results[0].tokens_after == results[1].tokens_after


@pytest.mark.parametrize(
    "name",
    [
        "usgs_earthquakes_week.geojson.json",
        "crossref_peerj_works_search.json",
        "gh_repo_events_rails_admin.json",
        "flutter_provider_test_results.jsonl",
    ],
)
@pytest.mark.parametrize("target_ratio", [None, 0.2, 0.6])
def test_crushing_a_long_response_while_counting_decides_as_counting_everything_first(
    bench_data: Path, name: str, target_ratio: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long response is crushed while its lossless table is counted, and the table only as
    # far as the decisions need. Counting everything first (as for a short response, and with
    # any counter) must give the same result.
    original = read_bench(bench_data / "json" / name)
    config = CompressConfig(target_ratio=target_ratio)
    first = Headroom(config, store="memory").compress_text(original)
    monkeypatch.setattr(smart_crusher, "_SURELY_CRUSHED", 10**12)
    everything = Headroom(config, store="memory").compress_text(original)
    assert not first.lossless
    assert (first.text, first.tokens_after) == (everything.text, everything.tokens_after)
