"""What the proxy adds to a request's latency (a benchmark, skipped unless asked for):

    .venv/bin/pytest tests/proxy/test_proxy_latency_bench.py --benchmark-only \\
        --benchmark-columns=min,median,mean,ops

Each case posts the same body straight to the recording upstream and through the proxy
(with an in-memory store, and with a SQLite file, the default of ``headroom proxy``), over
one kept-alive connection; the difference of the medians is the added latency. The
bodies are the last request of the 30-turn replay (every piece seen before: the engine's
cache-hit path) and a one-line chat request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from headroom import Headroom
from tests.conftest import read_bench
from tests.proxy.test_proxy_prompt_cache import BIG, TRANSCRIPT
from tests.proxy.upstream import Served, Upstream


@pytest.fixture(scope="module")
def replay_body(bench_data: Path) -> bytes:
    traj = json.loads(read_bench(bench_data / TRANSCRIPT))["traj"]
    messages, tools = [], 0
    for message in traj:
        message = {k: v for k, v in message.items() if v is not None or k == "content"}
        if message["role"] == "tool":
            if tools in BIG:
                message["content"] = read_bench(bench_data / BIG[tools])
            tools += 1
        messages.append(message)
    return json.dumps({"model": "gpt-4o", "messages": messages[:-1]}).encode()


SMALL = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode()


@pytest.fixture
def clients(
    start_proxy: Callable[..., Served], upstream: Upstream, tmp_path: Path
) -> Iterator[dict[str, httpx.Client]]:
    memory = start_proxy()
    # The default store of `headroom proxy`: the client records usage in it per piece.
    sqlite = start_proxy(client=Headroom(store=str(tmp_path / "ccr.db")))
    with (
        httpx.Client(base_url=upstream.url) as direct,
        httpx.Client(base_url=memory.url) as via_memory,
        httpx.Client(base_url=sqlite.url) as via_sqlite,
    ):
        yield {"direct": direct, "proxy-memory": via_memory, "proxy-sqlite": via_sqlite}


@pytest.mark.parametrize("route", ["direct", "proxy-memory", "proxy-sqlite"])
@pytest.mark.parametrize("size", ["small", "replay"])
def test_added_latency(
    benchmark: Any, clients: dict[str, httpx.Client], route: str, size: str, replay_body: bytes
) -> None:
    body = SMALL if size == "small" else replay_body
    client = clients[route]
    client.post("/v1/chat/completions", content=body)  # first sight: compressed and cached
    benchmark.group = f"proxy {size} ({len(body) // 1000} kB)"
    response = benchmark(client.post, "/v1/chat/completions", content=body)
    assert response.status_code == 200
