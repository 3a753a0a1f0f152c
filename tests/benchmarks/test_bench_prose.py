"""Benchmarks of query-less prose shrinking (salience) on SQuAD articles and READMEs.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_prose.py --benchmark-only

Answer retention is measured by ``python -m headroom.bench.rag --no-query`` (docs/prose.md);
this file measures time per text.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import pytest

from headroom import TextPruner
from headroom.bench.rag import load_passages
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


_RUNS = {
    "dots": "a.",
    "decimals": "1.",
    "parens": "(a",
    "backticks": "`a",
    "underscores": "a_",
    "slashes": "a/",
    "sentences": "Word number 1 is here. ",
}


@pytest.mark.parametrize("shape", sorted(_RUNS))
def test_growth_is_linear(benchmark: Any, shape: str) -> None:
    """4x the input costs at most 5x the time: the signal patterns must not backtrack over a
    run from every position in it (``a.a.a…`` took 16 s for 100 KB before)."""
    pruner = TextPruner(target_ratio=0.3, no_query="salience", count_tokens=len)
    small, large = _RUNS[shape] * 20_000, _RUNS[shape] * 80_000

    def timed(text: str) -> float:
        # The collector off, as in test_bench_adversarial: a full collection among this
        # many objects costs more than the work measured.
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            pruner.prune(text)
            return time.perf_counter() - started
        finally:
            gc.enable()

    first = min(timed(small) for _ in range(2))
    second = min(timed(large) for _ in range(2))
    benchmark.pedantic(pruner.prune, args=(large,), rounds=1, iterations=1)
    benchmark.extra_info.update(small_s=first, large_s=second)
    assert second < max(first, 0.05) * 5
