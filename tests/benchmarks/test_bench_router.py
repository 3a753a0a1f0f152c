"""Benchmarks of content-kind detection, which runs on every piece Headroom looks at.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_router.py --benchmark-only
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headroom.router import detect
from tests.conftest import read_bench

CASES = [
    ("log", "loghub/HDFS_2k.log"),
    ("json", "json/gh_issues_rails_admin.json"),
    ("text", "squad/dev-v2.0.json"),  # decoded below into one prose paragraph set
]


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[c[0] for c in CASES])
def test_detect(benchmark: Any, bench_data: Path, kind: str, name: str) -> None:
    text = read_bench(bench_data / name)
    if kind == "text":
        import json

        paragraphs = json.loads(text)["data"][0]["paragraphs"]
        text = "\n\n".join(p["context"] for p in paragraphs)
    route = benchmark(detect, text)
    assert route.kind == kind
    benchmark.extra_info["chars"] = len(text)
