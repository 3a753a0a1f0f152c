"""Benchmarks of the JSON kernels that read Python values: native against the reference.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_json_kernels.py --benchmark-only

The input is a crossref API response (0.54 MB, 20 works with their references): every
array of objects in it, as the table encoder and the crusher's profile read them, and
the whole value written inline. Each benchmark checks that both give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from headroom import _core, _reference
from headroom.compressors.json.smart_crusher import parse_json
from headroom.jsontables import syntax

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "bench-data"

pytestmark = [
    pytest.mark.skipif(not DATA.is_dir(), reason=f"bench data not found at {DATA}"),
    pytest.mark.skipif(not _core.NATIVE_AVAILABLE, reason="native extension not built"),
]


def _crossref() -> Any:
    parsed = parse_json((DATA / "json" / "crossref_peerj_works_search.json").read_text("utf-8"))
    assert parsed is not None
    return parsed[0]


def _arrays(value: Any) -> Iterator[list[Any]]:
    if type(value) is list:
        if len(value) > 1 and all(type(item) is dict for item in value):
            yield value
        for item in value:
            yield from _arrays(item)
    elif type(value) is dict:
        for item in value.values():
            yield from _arrays(item)


VALUE = _crossref() if DATA.is_dir() else None
ARRAYS = list(_arrays(VALUE)) if DATA.is_dir() else []


def _native() -> Any:
    from headroom import _native

    return _native


def _inline(_: Any) -> None:
    return None


def _kernels() -> dict[str, dict[str, Callable[[], Any]]]:
    limits = 6, 256, 16
    native: Any = _native() if _core.NATIVE_AVAILABLE else None
    return {
        "table_columns": {
            "reference": lambda: [
                _reference.table_columns(a, range(len(a)), len(a), *limits) for a in ARRAYS
            ],
            "native": lambda: [
                native.table_columns(a, range(len(a)), len(a), *limits) for a in ARRAYS
            ],
        },
        "leaf_columns": {
            "reference": lambda: [_reference.leaf_columns(a, 6) for a in ARRAYS],
            "native": lambda: [native.leaf_columns(a, 6) for a in ARRAYS],
        },
        "record_texts": {
            "reference": lambda: [_reference.record_texts(a, 200) for a in ARRAYS],
            "native": lambda: [native.record_texts(a, 200) for a in ARRAYS],
        },
        "format_value": {
            "reference": lambda: syntax._format_value(VALUE, _inline),
            "native": lambda: native.format_value(
                VALUE, _inline, syntax.RawFloat, syntax._dumps, syntax._encode_string
            ),
        },
    }


KERNELS = _kernels()


def _same(kernel: str, result: Any) -> Any:
    # Columns with their rows as lists and values by identity: what the differential tests
    # compare; texts as they are.
    if not kernel.endswith("_columns"):
        return result
    return [
        None if columns is None else [(p, list(r), [id(v) for v in vs]) for p, r, vs in columns]
        for columns in result
    ]


@pytest.mark.parametrize("implementation", ["reference", "native"])
@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_json_kernel(benchmark: Any, kernel: str, implementation: str) -> None:
    run = KERNELS[kernel][implementation]
    result = benchmark(run)
    assert _same(kernel, result) == _same(kernel, KERNELS[kernel]["reference"]())
    benchmark.extra_info["arrays"] = len(ARRAYS)
