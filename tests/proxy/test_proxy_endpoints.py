"""The proxy's own endpoints: /v1/compress, /v1/retrieve, /health, and /stats equal to
/metrics (parsed with Prometheus' own parser)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai

import headroom
from tests.conftest import read_bench
from tests.proxy.metrics import savings_numbers, stats_from_metrics
from tests.proxy.upstream import Served


def _messages(log: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Which blocks failed to replicate?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "HDFS_2k.log"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": log},
    ]


def test_compress_then_retrieve(proxy: Served, bench_data: Path) -> None:
    log = read_bench(bench_data / "loghub" / "HDFS_2k.log")
    response = httpx.post(
        f"{proxy.url}/v1/compress", json={"messages": _messages(log), "model": "gpt-4o"}
    )
    assert response.status_code == 200
    out = response.json()
    assert out["tokens_after"] < out["tokens_before"] / 3
    assert out["messages"][:2] == _messages(log)[:2]
    assert out["handles"]
    assert out["handles"][0] in out["messages"][2]["content"]
    handle = out["handles"][0]
    original = httpx.get(f"{proxy.url}/v1/retrieve/{handle}")
    assert original.status_code == 200
    assert original.text in log  # a dropped part, byte for byte
    queried = httpx.get(f"{proxy.url}/v1/retrieve/{handle}", params={"query": "exception"})
    assert queried.status_code == 200 and len(queried.text) <= len(original.text)
    missing = httpx.get(f"{proxy.url}/v1/retrieve/headroom:0123456789ab")
    assert missing.status_code == 404
    assert missing.json()["error"]["handle"] == "headroom:0123456789ab"
    # A per-request config (lossless only) is honoured; nothing was forwarded upstream.
    lossless = httpx.post(
        f"{proxy.url}/v1/compress",
        json={"messages": _messages(log), "config": {"lossy": False, "protect_recent": 0}},
    ).json()
    assert lossless["handles"] == []


def test_compress_refuses_bad_requests(proxy: Served) -> None:
    cases: list[tuple[Any, str]] = [
        (b"{not json", "invalid_json"),
        ({"messages": "hi"}, "invalid_request"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "invalid_request"),
        ({"messages": [], "config": {"store": "/tmp/x.db"}}, "invalid_config"),
        ({"messages": [], "config": {"protect_recent": "many"}}, "invalid_config"),
    ]
    for body, kind in cases:
        if isinstance(body, bytes):
            response = httpx.post(f"{proxy.url}/v1/compress", content=body)
        else:
            response = httpx.post(f"{proxy.url}/v1/compress", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["type"] == kind, response.json()
    bad_role = httpx.post(
        f"{proxy.url}/v1/compress", json={"messages": [{"role": "robot", "content": "x"}]}
    )
    assert "messages[0].role" in bad_role.json()["error"]["message"]
    assert httpx.get(f"{proxy.url}/health").json()["status"] == "ok"  # still serving


def test_health(proxy: Served, upstream: Any) -> None:
    health = httpx.get(f"{proxy.url}/health").json()
    assert health["version"] == headroom.__version__
    assert health["upstreams"] == {"openai": upstream.url, "anthropic": upstream.url}


def test_stats_and_metrics_agree(start_proxy: Callable[..., Served], bench_data: Path) -> None:
    proxy = start_proxy()
    log = read_bench(bench_data / "loghub" / "HDFS_2k.log")
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-x", max_retries=0)
    for _ in range(2):  # the second time every piece is a cache hit
        client.chat.completions.create(model="gpt-4o", messages=_messages(log))  # type: ignore[arg-type]
    httpx.get(f"{proxy.url}/v1/models")
    httpx.post(f"{proxy.url}/v1/chat/completions", content=b"{oops")
    stats = httpx.get(f"{proxy.url}/stats").json()
    assert stats["requests"]["by_route"] == {"chat_completions": 3, "passthrough": 1}
    assert stats["outcomes"] == {"compressed": 2, "skipped": 1}
    assert stats["by_model"]["gpt-4o"]["after"] < stats["by_model"]["gpt-4o"]["before"] / 3
    assert stats["cache"]["hits"] >= 2
    assert "log" in stats["by_kind"]
    metrics = httpx.get(f"{proxy.url}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    expected = {**stats, "savings": savings_numbers(stats["savings"])}
    assert stats_from_metrics(metrics.text) == expected
    # Dollars: the tokens saved for gpt-4o at its shipped list price, $2.50 per million.
    saved = stats["savings"]["total"]["by_model"]["gpt-4o"]["tokens_saved"]
    assert saved == stats["tokens"]["saved"] > 0
    assert stats["savings"]["total"]["usd"] == round(saved * 2.5 / 1e6, 6)
    assert stats["savings"]["today"]["tokens_saved"] == saved
    assert stats["savings"]["total"]["by_kind"]["log"]["tokens_saved"] > 0
    # What the upstream said it billed (its usage of each of the two answered requests).
    assert stats["billed"] == {"gpt-4o": {"responses": 2, "input_tokens": 2400, "cached_tokens": 0}}


def test_counters_never_go_down_when_configs_are_dropped(
    start_proxy: Callable[..., Served], bench_data: Path
) -> None:
    proxy = start_proxy()
    log = "".join(read_bench(bench_data / "loghub" / "HDFS_2k.log").splitlines(True)[:300])
    seen: list[tuple[int, int]] = []
    for n in range(20):  # more distinct configs than the proxy keeps clients for
        body = {"messages": _messages(log), "config": {"protect_recent": n}}
        assert httpx.post(f"{proxy.url}/v1/compress", json=body).status_code == 200
        stats = httpx.get(f"{proxy.url}/stats").json()
        seen.append((stats["by_kind"]["log"]["before"], stats["cache"]["misses"]))
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)  # each call counted, none forgotten
