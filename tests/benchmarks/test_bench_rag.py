"""Benchmarks of the TextPruner on SQuAD contexts (gold paragraph + 9 distractors, about
1.7k tokens), and of the BM25 kernel native against the pure-Python reference.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_rag.py --benchmark-only

The answer-retention figures come from ``python -m headroom.bench.rag``; this file measures
time per context (the issue's target: BM25 path <= 5 ms for a 2k-token context, one core).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headroom import TextPruner, _core, _reference
from headroom.bench.rag import Case, load_cases
from headroom.relevance.bm25 import query_terms, tokenize


@pytest.fixture(scope="module")
def cases(bench_data: Path) -> list[Case]:
    return load_cases(bench_data / "squad" / "dev-v2.0.json")[::97]


def test_prune_bm25(benchmark: Any, cases: list[Case]) -> None:
    pruner = TextPruner()

    def run() -> None:
        for case in cases:
            pruner.prune(list(case.chunks), query=case.question)

    benchmark(run)
    benchmark.extra_info["contexts"] = len(cases)


@pytest.mark.parametrize(
    "kernel",
    [pytest.param(_core.bm25_okapi, id="native"), pytest.param(None, id="reference")],
)
def test_bm25_kernel(
    benchmark: Any, cases: list[Case], kernel: Callable[..., list[float]] | None
) -> None:
    corpora = [[tokenize(c) for c in case.chunks] for case in cases]
    queries = [query_terms(case.question) for case in cases]

    def run() -> None:
        for corpus, query in zip(corpora, queries, strict=True):
            if kernel is None:
                _reference.bm25_okapi(corpus, query, 1.5, 0.75, 0.25)
            else:
                kernel(corpus, query)

    benchmark(run)
