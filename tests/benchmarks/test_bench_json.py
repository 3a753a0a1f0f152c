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

from headroom.compressors.json_minify import minify_json
from headroom.compressors.smart_crusher import parse_json
from headroom.jsontables import decode, encode
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
