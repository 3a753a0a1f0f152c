"""Benchmarks of query-less prose shrinking (salience) on SQuAD articles and READMEs.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_prose.py --benchmark-only

Answer retention is measured by ``python -m headroom.bench_rag --no-query`` (docs/prose.md);
this file measures time per text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headroom import TextPruner
from headroom.bench_rag import load_passages
from headroom.tokens import get_counter


@pytest.fixture(scope="module")
def articles(bench_data: Path) -> list[str]:
    get_counter()("load the vocabulary outside the timing")
    return [p.text for p in load_passages(bench_data / "squad" / "dev-v2.0.json", unit="article")]


@pytest.mark.parametrize("ratio", [0.5, 0.3])
def test_salience_whole_articles(benchmark: Any, articles: list[str], ratio: float) -> None:
    pruner = TextPruner(target_ratio=ratio, no_query="salience")

    def run() -> None:
        for text in articles:
            pruner.prune(text)

    benchmark(run)
    benchmark.extra_info["bytes"] = sum(len(t.encode()) for t in articles)
