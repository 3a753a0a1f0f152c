"""Benchmarks of SmartCrusher's lossless stage: parse + table encoding, token counting excluded.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_json.py --benchmark-only

The encoder is given ``len`` as its measure so that only the encoding is timed (tiktoken's
speed is benchmarked by its authors); the input is minified, as the pipeline gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headroom import CompressConfig, Headroom
from headroom.bench.json_data import _identifiable
from headroom.compressors.json.minify import minify_json
from headroom.compressors.json.smart_crusher import parse_json
from headroom.jsontables import decode, encode
from headroom.tokens import count_tokens
from tests.conftest import read_bench

FILES = [
    "gh_issues_rails_admin.json",
    "gh_repo_events_rails_admin.json",
    "gh_top100_repos.json",
    "usgs_earthquakes_week.geojson.json",
]


def _encode(text: str) -> str:
    parsed = parse_json(text)
    assert parsed is not None
    return encode(parsed[0], len, lines=parsed[1])


@pytest.mark.parametrize("name", FILES)
def test_parse_and_encode(benchmark: Any, bench_data: Path, name: str) -> None:
    text = minify_json(read_bench(bench_data / "json" / name))
    document = benchmark(_encode, text)
    assert decode(document) == parse_json(text)[0]  # type: ignore[index]
    benchmark.extra_info["MB"] = len(text.encode()) / 1e6


def test_decode(benchmark: Any, bench_data: Path) -> None:
    text = minify_json(read_bench(bench_data / "json" / "usgs_earthquakes_week.geojson.json"))
    document = _encode(text)
    benchmark(decode, document)
    benchmark.extra_info["MB"] = len(text.encode()) / 1e6


def test_issue_15_target_on_real_api_responses(bench_data: Path) -> None:
    """Not timed: the JSON target of issue 15 on every bench file, with the defaults.

    At least 60% fewer tokens than the minified JSON over all files, and at least 98% of
    the records identifiable (row kept, or id and name in a marker; the bench's own fields).
    """
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    minified = after = named = records = 0
    for path in sorted((bench_data / "json").iterdir()):
        if path.suffix not in (".json", ".jsonl") or path.name.endswith(".meta.json"):
            continue
        text = read_bench(path)
        parsed = parse_json(text)
        assert parsed is not None, path.name
        result = hr.compress_text(text, kind="json")
        found, total = _identifiable(parsed[0], result.text)
        named, records = named + found, records + total
        minified += count_tokens(minify_json(text))
        after += result.tokens_after
    assert after <= 0.4 * minified
    assert records > 3000 and named >= 0.98 * records
