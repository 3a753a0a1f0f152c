"""Growth of the JSON stages on hostile shapes: time and peak memory at n and 4n records.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_json_shapes.py --benchmark-only

Each case runs one stage (the lossless table encoding with the real token counter, its
decoding, the lossy crush) on a shape at n and at 4n records and asserts that neither its
time nor its peak memory grows more than 5x: linear work grows 4x, and the table encoder
was quadratic in rows x distinct columns (8,000 records with differing keys: 29 s,
1.79 GB). Time is this process's CPU time, best of five runs taken in turn, so other
processes on the machine count little; when the data outgrows the CPU's caches the 5x
is scaled by how much more than 4x a ``copy.deepcopy`` of the same values grows. Peak
memory is what ``tracemalloc`` sees (Python allocations).

The shapes are also used by ``tests/unit/test_json_tables.py``.
"""

from __future__ import annotations

import copy
import datetime
import gc
import hashlib
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, Final

import pytest

from headroom.compressors.json.crush import crush
from headroom.jsontables import decode, encode
from headroom.tokens import count_tokens

_DAY0: Final = datetime.date(2000, 1, 1)


def _day(i: int) -> str:
    return (_DAY0 + datetime.timedelta(days=i)).isoformat()


def differing_keys(n: int) -> list[dict[str, Any]]:
    """Records with an id and 3 keys each out of n/2 (a sparse table of n/2 columns)."""
    pool = max(n // 2, 8)
    return [
        {"id": i, **{f"field_{(i * 7 + j * 13) % pool}": i + j for j in range(3)}} for i in range(n)
    ]


def key_per_record(n: int) -> list[dict[str, Any]]:
    """Each record one key of its own (``[{"<id>": {...}}, ...]``), some holding objects."""
    return [
        {f"key_{i}": {"v": i, "ok": i % 2 == 0}} if i % 3 else {f"key_{i}": i} for i in range(n)
    ]


def date_points(n: int) -> dict[str, Any]:
    """A date-keyed object of points beside a small header, as stock APIs return them."""
    series = {
        _day(i): {
            "1. open": f"{100 + i % 50}.{i % 100:02d}",
            "2. high": f"{101 + i % 50}.10",
            "3. low": f"{99 + i % 40}.50",
            "4. close": f"{100 + i % 45}.25",
            "5. volume": str(1000 + i * 7),
        }
        for i in range(n)
    }
    return {"Meta Data": {"1. Symbol": "X", "2. Last": _day(n - 1)}, "Time Series": series}


def date_scalars(n: int) -> dict[str, Any]:
    """Date-keyed numbers, for two currencies (a two-row table n columns wide)."""
    return {
        code: {_day(i): round(base + (i % 97) / 1000, 4) for i in range(n)}
        for code, base in (("EUR", 1.1), ("GBP", 0.8))
    }


def wide_dense(n: int) -> list[dict[str, Any]]:
    """n records of 100 columns, every record with every column."""
    return [
        {f"col_{c}": (i * c) % 1000 if c % 2 else f"v{(i + c) % 50}" for c in range(100)}
        for i in range(n)
    ]


def wide_strings(n: int) -> list[dict[str, Any]]:
    """Three records of n string columns: many columns to compare for templates."""
    return [{f"field_{c}": f"value {r} {c}" for c in range(n)} for r in range(3)]


def failing_categories(n: int) -> list[dict[str, Any]]:
    """Every record failed (so every row is kept), each with one of n/16 category columns."""
    return [
        {"id": i, "error": "timeout", f"state_{i % max(n // 16, 1)}": f"s{i % 3}"} for i in range(n)
    ]


def small_records(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "v": i % 7, "s": "ab"[i % 2]} for i in range(n)]


def nested_records(n: int) -> dict[str, Any]:
    """Arrays of records four levels deep, fan-out 4 below the top, about n at the bottom."""

    def level(depth: int, count: int, base: int) -> list[dict[str, Any]]:
        if depth == 0:
            return [{"id": base + i, "name": f"n{base + i}", "ok": True} for i in range(count)]
        return [
            {"id": base + i, "kind": "group", "children": level(depth - 1, 4, (base + i) * 10)}
            for i in range(count)
        ]

    return {"data": level(3, max(n // 64, 1), 0)}


# name -> (shape, n); 4n is measured too.
SHAPES: Final[dict[str, tuple[Callable[[int], Any], int]]] = {
    "differing keys": (differing_keys, 2_000),
    "key per record": (key_per_record, 2_000),
    "date-keyed points": (date_points, 1_500),
    "date-keyed scalars": (date_scalars, 1_500),
    "wide dense": (wide_dense, 250),
    "wide strings": (wide_strings, 1_000),
    "failing categories": (failing_categories, 4_000),
    "small records": (small_records, 50_000),
    "nested records": (nested_records, 2_000),
}


def _stash(text: str) -> str:
    return "headroom:" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _encode(value: Any) -> Any:
    return encode(value, count_tokens)


def _crush(value: Any) -> Any:
    return crush(value, query="field_12 ok", stash=_stash)


STAGES: Final[dict[str, Callable[[Any], Any]]] = {
    "encode": _encode,
    "decode": decode,
    "crush": _crush,
}
GROWTH: Final = 5.0
# Timer and allocator noise on runs of a few milliseconds.
_SLACK_SECONDS: Final = 0.02
_SLACK_BYTES: Final = 1_000_000


def _seconds(runs: list[tuple[Callable[[Any], Any], Any]]) -> list[float]:
    """CPU seconds of each ``(function, argument)``, best of five rounds in which every
    run takes its turn, so that a change in the machine's load weighs on all alike."""
    best = [float("inf")] * len(runs)
    for _ in range(5):
        for index, (function, argument) in enumerate(runs):
            gc.collect()
            start = time.process_time()
            function(argument)
            best[index] = min(best[index], time.process_time() - start)
    return best


def _peak(stage: Callable[[Any], Any], given: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        stage(given)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("stage_name", list(STAGES))
@pytest.mark.parametrize("shape_name", list(SHAPES))
def test_growth_is_linear(benchmark: Any, shape_name: str, stage_name: str) -> None:
    shape, n = SHAPES[shape_name]
    stage = STAGES[stage_name]
    values = [shape(size) for size in (n, 4 * n)]
    inputs = [encode(v, count_tokens) for v in values] if stage_name == "decode" else values
    stage(inputs[0])  # warm-up: vocabularies and caches load once, not inside the figures
    seconds = _seconds(
        [(stage, inputs[0]), (stage, inputs[1])] + [(copy.deepcopy, v) for v in values]
    )
    peaks = [_peak(stage, given) for given in inputs]
    benchmark.pedantic(stage, args=(inputs[1],), rounds=1, iterations=1)
    # Even a linear pass grows more than 4x once the data outgrows the CPU's caches: the
    # allowance grows as copy.deepcopy of the same values does, a linear pass with the same
    # kind of memory traffic, when that grows beyond 4x.
    allowance = GROWTH * max(1.0, seconds[3] / seconds[2] / 4)
    benchmark.extra_info.update(
        n=n, seconds_n=seconds[0], seconds_4n=seconds[1], peak_mb_n=peaks[0] / 1e6,
        peak_mb_4n=peaks[1] / 1e6, deepcopy_growth=seconds[3] / seconds[2],
    )  # fmt: skip
    assert seconds[1] <= allowance * seconds[0] + _SLACK_SECONDS, (shape_name, stage_name, seconds)
    assert peaks[1] <= GROWTH * peaks[0] + _SLACK_BYTES, (shape_name, stage_name, peaks)
