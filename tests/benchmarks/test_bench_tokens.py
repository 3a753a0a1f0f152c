"""Benchmarks of token counting: the native counter against tiktoken's ``encode_ordinary``.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_tokens.py --benchmark-only

Inputs are bench data: a crossref API response (JSON, 0.54 MB), the table document
SmartCrusher writes of it, and the eight loghub sample logs (2.2 MB). Each is counted whole
on one thread; MB/s is stored in each benchmark's ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headroom import _core
from headroom.compressors.json.smart_crusher import parse_json
from headroom.jsontables import encode
from headroom.tokens.vocabularies import load_encoding, load_ranks

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "bench-data"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"bench data not found at {DATA}")


def _inputs() -> dict[str, str]:
    crossref = (DATA / "json" / "crossref_peerj_works_search.json").read_bytes().decode()
    parsed = parse_json(crossref)
    assert parsed is not None
    logs = "".join(p.read_bytes().decode() for p in sorted((DATA / "loghub").glob("*_2k.log")))
    return {"crossref": crossref, "crossref-table": encode(parsed[0], len), "loghub": logs}


INPUTS = _inputs() if DATA.is_dir() else {}


def _counters() -> dict[str, Callable[[str], int]]:
    encoding = load_encoding("o200k_base")
    counters: dict[str, Callable[[str], int]] = {
        "tiktoken": lambda text: len(encoding.encode_ordinary(text))
    }
    native = _core.bpe_counter(load_ranks("o200k_base"), "o200k_base")
    if native is not None:
        counters["native"] = native.count
    return counters


COUNTERS = _counters()


@pytest.mark.parametrize("name", sorted(INPUTS))
@pytest.mark.parametrize("counter", sorted(COUNTERS))
def test_count_tokens(benchmark: Any, counter: str, name: str) -> None:
    text = INPUTS[name]
    count = COUNTERS[counter]
    tokens = benchmark(count, text)
    assert tokens == COUNTERS["tiktoken"](text)
    benchmark.extra_info["mb_per_s"] = round(len(text.encode()) / 1e6 / benchmark.stats.stats.mean)
