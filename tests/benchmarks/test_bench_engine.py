"""Benchmarks of the conversation engine: a piece sent again is a lookup.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_engine.py --benchmark-only

``again``: the same request to the same client, as in the next turn of a conversation (the
issue's target: under 2 ms for a 100k-token piece). ``first``: a new client each round, so
nothing is cached; the figures next to each other show what the result cache saves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headroom import Headroom
from tests.conftest import read_bench

FILES = ["gh_issues_rails_admin.json", "usgs_earthquakes_week.geojson.json"]


def _request(text: str) -> list[dict[str, Any]]:
    call = {"id": "c1", "type": "function", "function": {"name": "http_get", "arguments": "{}"}}
    return [
        {"role": "user", "content": "Which items mention an error?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": text},
    ]


@pytest.mark.parametrize("name", FILES)
def test_again(benchmark: Any, bench_data: Path, name: str) -> None:
    request = _request(read_bench(bench_data / "json" / name))
    client = Headroom(store="memory")
    first = client.compress(request)
    again = benchmark(client.compress, request)
    assert json.dumps(again.messages) == json.dumps(first.messages)


@pytest.mark.parametrize("name", FILES)
def test_first(benchmark: Any, bench_data: Path, name: str) -> None:
    request = _request(read_bench(bench_data / "json" / name))
    result = benchmark.pedantic(
        lambda: Headroom(store="memory").compress(request), rounds=3, iterations=1
    )
    assert result.tokens_after < result.tokens_before
