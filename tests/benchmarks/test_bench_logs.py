"""Benchmarks of log compression: the clustering kernel (native against the pure-Python
reference) and LogCompressor end to end, on the eight loghub samples; plus a 100 MB log.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_logs.py --benchmark-only

The kernel is what runs per line: ``mine_templates`` (mask every line, group equal
templates) then ``cluster_templates`` (Drain-style merging) with the keys and message starts
the compressor would pass. End to end is ``LogCompressor.compress`` from text to compressed
text with an in-memory CCR store, without token counting. MB/s is in ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from headroom import _core, _reference
from headroom.compressors.base import Context
from headroom.compressors.logs import LogCompressor
from headroom.compressors.logs.clustering import MIN_VALUES, analyse
from headroom.compressors.logs.prefix import PrefixParser, is_signal
from headroom.config import CompressConfig
from headroom.store.memory import MemoryStore

LOGHUB = Path(__file__).resolve().parents[2].parent / "shared" / "bench-data" / "loghub"

pytestmark = pytest.mark.skipif(
    not LOGHUB.is_dir(), reason=f"loghub bench data not found at {LOGHUB}"
)

_native_only = pytest.mark.skipif(
    not _core.NATIVE_AVAILABLE, reason="headroom._native is not built"
)


def _texts() -> list[str]:
    return [p.read_bytes().decode("utf-8") for p in sorted(LOGHUB.glob("*_2k.log"))]


@pytest.fixture(scope="module")
def kernel_inputs() -> list[tuple[list[str], list[str], list[int]]]:
    """Per log: its lines, and the key and message start of each of its templates."""
    inputs = []
    for text in _texts():
        lines = text.split("\n")
        first_lines = _core.mine_templates(lines)[2]
        parser = PrefixParser()
        keys, starts = [], []
        for first in first_lines:
            prefix = parser.parse(lines[first])
            signal = is_signal(prefix.level, lines[first][prefix.end :])
            keys.append(f"{prefix.level}|{signal}|{prefix.component}")
            starts.append(len(_core.tokenize(lines[first][: prefix.end])))
        inputs.append((lines, keys, starts))
    return inputs


def _kernel(impl: ModuleType) -> Callable[[list[tuple[list[str], list[str], list[int]]]], int]:
    def run(inputs: list[tuple[list[str], list[str], list[int]]]) -> int:
        clusters = 0
        for lines, keys, starts in inputs:
            _, templates, _, _ = impl.mine_templates(lines)
            clusters += len(impl.cluster_templates(templates, keys, starts, MIN_VALUES)[1])
        return clusters

    return run


def _record(benchmark: Any, megabytes: float) -> None:
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info["mb"] = round(megabytes, 2)
    benchmark.extra_info["mb_per_s"] = round(megabytes / seconds, 1)


def _megabytes(inputs: list[tuple[list[str], list[str], list[int]]]) -> float:
    return sum(len(line.encode()) + 1 for lines, _, _ in inputs for line in lines) / 1e6


@pytest.mark.benchmark(group="log-kernel")
def test_cluster_kernel_reference(benchmark: Any, kernel_inputs: Any) -> None:
    clusters = benchmark(_kernel(_reference), kernel_inputs)
    _record(benchmark, _megabytes(kernel_inputs))
    assert clusters > 0


@pytest.mark.benchmark(group="log-kernel")
@_native_only
def test_cluster_kernel_native(benchmark: Any, kernel_inputs: Any) -> None:
    clusters = benchmark(_kernel(_core), kernel_inputs)
    _record(benchmark, _megabytes(kernel_inputs))
    assert clusters == _kernel(_reference)(kernel_inputs)


@pytest.mark.benchmark(group="log-values")
@pytest.mark.parametrize("impl", [_reference, pytest.param(_core, marks=_native_only)])
def test_variable_values(benchmark: Any, impl: ModuleType) -> None:
    text = (LOGHUB / "Apache_2k.log").read_text(encoding="utf-8")
    lines = text.split("\n")
    analysis = analyse(lines)
    wanted = list(range(len(analysis.templates)))
    benchmark(impl.variable_values, lines, analysis.line_templates, wanted, 5)
    _record(benchmark, len(text.encode()) / 1e6)


def _compress_all(texts: list[str]) -> int:
    compressor = LogCompressor()
    size = 0
    for text in texts:
        ctx = Context("log", None, None, CompressConfig(), MemoryStore(), len)
        result = compressor.compress(text, ctx)
        assert result is not None
        size += len(result.text)
    return size


@pytest.mark.benchmark(group="log-compressor")
def test_log_compressor_end_to_end(benchmark: Any) -> None:
    texts = _texts()
    benchmark(_compress_all, texts)
    _record(benchmark, sum(len(t.encode()) for t in texts) / 1e6)


@pytest.mark.benchmark(group="log-compressor")
def test_log_compressor_100_megabytes(benchmark: Any) -> None:
    """Bounded time and memory on a 100 MB log (the eight samples, 40 times over)."""
    text = "\n".join(_texts()) * 40
    benchmark.pedantic(_compress_all, ([text],), rounds=1, iterations=1)
    _record(benchmark, len(text.encode()) / 1e6)
