"""Benchmarks of per-line masking, native against the pure-Python reference.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_masking.py --benchmark-only

The input is every line of the eight loghub sample logs (8 x 2,000 lines). Throughput in
lines/s and MB/s is stored in each benchmark's ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headroom import _core, _reference

LOGHUB = Path(__file__).resolve().parents[2].parent / "shared" / "bench-data" / "loghub"

pytestmark = pytest.mark.skipif(
    not LOGHUB.is_dir(), reason=f"loghub bench data not found at {LOGHUB}"
)


@pytest.fixture(scope="module")
def loghub_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(LOGHUB.glob("*_2k.log")):
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    assert len(lines) == 16_000
    return lines


def run(benchmark: Any, function: Callable[[list[str]], object], lines: list[str]) -> object:
    result = benchmark(function, lines)
    seconds = benchmark.stats.stats.mean
    megabytes = sum(len(line.encode("utf-8", "surrogatepass")) for line in lines) / 1e6
    benchmark.extra_info["lines"] = len(lines)
    benchmark.extra_info["lines_per_s"] = round(len(lines) / seconds)
    benchmark.extra_info["mb_per_s"] = round(megabytes / seconds, 1)
    return result


@pytest.mark.benchmark(group="mask_lines")
def test_mask_lines_reference(benchmark: Any, loghub_lines: list[str]) -> None:
    templates = run(benchmark, _reference.mask_lines, loghub_lines)
    assert templates == _reference.mask_lines(loghub_lines)


@pytest.mark.benchmark(group="mask_lines")
@pytest.mark.skipif(not _core.NATIVE_AVAILABLE, reason="headroom._native is not built")
def test_mask_lines_native(benchmark: Any, loghub_lines: list[str]) -> None:
    templates = run(benchmark, _core.mask_lines, loghub_lines)
    assert templates == _reference.mask_lines(loghub_lines)


@pytest.mark.benchmark(group="group_templates")
def test_group_templates_reference(benchmark: Any, loghub_lines: list[str]) -> None:
    run(benchmark, _reference.group_templates, loghub_lines)


@pytest.mark.benchmark(group="group_templates")
@pytest.mark.skipif(not _core.NATIVE_AVAILABLE, reason="headroom._native is not built")
def test_group_templates_native(benchmark: Any, loghub_lines: list[str]) -> None:
    result = run(benchmark, _core.group_templates, loghub_lines)
    assert result == _reference.group_templates(loghub_lines)
