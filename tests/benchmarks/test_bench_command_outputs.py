"""Benchmarks of the search, test-output and diff compressors on their largest real fixture.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_command_outputs.py --benchmark-only

Each compressor is called directly (no routing, no token counting by the pipeline) with an
in-memory store. Throughput in MB/s and the token savings are stored in ``extra_info``.
"""

from __future__ import annotations

from typing import Any

import pytest

from headroom.compressors.diff.compressor import DiffCompressor
from headroom.compressors.search.compressor import SearchCompressor
from headroom.compressors.test_output.compressor import TestOutputCompressor
from headroom.tokens import count_tokens
from tests.command_outputs import context, tool_output

CASES = [
    (SearchCompressor(), "search", "grep_rn_import_hypothesis.txt"),
    (TestOutputCompressor(), "test-output", "pytest_v_attrs.txt"),
    (DiffCompressor(), "diff", "diff_ru_packaging_21.3_22.0.txt"),
]


@pytest.mark.parametrize(("compressor", "kind", "name"), CASES, ids=[c[1] for c in CASES])
def test_compress(benchmark: Any, compressor: Any, kind: str, name: str) -> None:
    text = tool_output(name)
    ctx = context(kind)
    result = benchmark(compressor.compress, text, ctx)
    assert result is not None
    before, after = count_tokens(text), count_tokens(result.text)
    benchmark.extra_info["fixture"] = name
    benchmark.extra_info["mb_per_s"] = round(
        len(text.encode()) / 1e6 / benchmark.stats.stats.mean, 1
    )
    benchmark.extra_info["tokens"] = f"{before} -> {after}"
