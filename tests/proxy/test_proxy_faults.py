"""Passthrough, bypass and faults: nothing a client sends is lost or altered except by
compression, and the server answers every bad request without dying."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import read_bench
from tests.proxy.upstream import MODELS_BODY, Served, Upstream


def test_passthrough_is_byte_exact(proxy: Served, upstream: Upstream) -> None:
    response = httpx.get(
        f"{proxy.url}/v1/models?limit=2&after=a%2Fb",
        headers={"authorization": "Bearer sk-x", "openai-organization": "org-1"},
    )
    seen = upstream.last("/v1/models")
    assert seen.query == b"limit=2&after=a%2Fb"
    sent = dict(response.request.headers.multi_items())
    # Every header as the client sent it (host and connection are per hop), and no body
    # framing added to a GET.
    assert {k: v for k, v in seen.headers if k not in ("host", "connection")} == {
        k: v for k, v in sent.items() if k not in ("host", "connection")
    }
    assert seen.header("authorization") == "Bearer sk-x"
    assert seen.header("openai-organization") == "org-1"
    assert response.status_code == 200
    assert response.content == MODELS_BODY
    assert response.headers["x-up"] == "1"
    # Any other path and method, any bytes: forwarded and answered as they are.
    body = bytes(range(256)) * 10
    put = httpx.put(
        f"{proxy.url}/v1/files/abc?x=1",
        content=body,
        headers={"x-api-key": "sk-ant-k", "anthropic-beta": "files-2025"},
    )
    echoed = upstream.last("/v1/files/abc")
    assert (echoed.method, echoed.body, echoed.query) == ("PUT", body, b"x=1")
    assert echoed.header("x-api-key") == "sk-ant-k"
    assert echoed.header("anthropic-beta") == "files-2025"
    assert (put.status_code, put.content, put.headers["x-method"]) == (201, body, "PUT")


def test_gzip_is_relayed_raw(proxy: Served, upstream: Upstream) -> None:
    with httpx.stream("GET", f"{proxy.url}/gzipped", headers={"accept-encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
    assert raw == gzip.compress(MODELS_BODY * 50, mtime=0)
    assert upstream.last("/gzipped").header("accept-encoding") == "gzip"


def test_bypass_and_malformed_json_go_out_as_sent(proxy: Served, upstream: Upstream) -> None:
    big = json.dumps([{"id": i, "status": "ok", "path": f"/srv/{i}"} for i in range(400)])
    body = json.dumps(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "user", "content": "list"},
                {"role": "tool", "tool_call_id": "c", "content": big},
            ],
        },
        indent=1,
    ).encode()
    httpx.post(f"{proxy.url}/v1/chat/completions", content=body, headers={"x-headroom-bypass": "1"})
    seen = upstream.last("/v1/chat/completions")
    assert seen.body == body
    assert seen.header("x-headroom-bypass") is None  # the proxy's own headers stay here
    # The same body without the header is compressed (the bypass was what kept it whole).
    httpx.post(f"{proxy.url}/v1/chat/completions", content=body)
    assert len(upstream.last("/v1/chat/completions").body) < len(body) / 2
    broken = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}'
    response = httpx.post(f"{proxy.url}/v1/messages", content=broken)
    assert upstream.last("/v1/messages").body == broken
    assert response.status_code == 500  # what the stand-in upstream says to broken JSON


def test_invalid_messages_forwarded_and_counted(proxy: Served, upstream: Upstream) -> None:
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]})
    httpx.post(f"{proxy.url}/v1/chat/completions", content=body)
    assert upstream.last("/v1/chat/completions").body == body.encode()
    stats = httpx.get(f"{proxy.url}/stats").json()
    assert stats["outcomes"]["failed"] == 1
    assert stats["warnings"] == 1


def test_body_over_the_limit_passes_uncompressed(
    start_proxy: Callable[..., Served], upstream: Upstream
) -> None:
    proxy = start_proxy(max_body_bytes=2000)
    big = json.dumps([{"id": i, "status": "ok"} for i in range(300)], indent=2)
    body = json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "tool", "tool_call_id": "c", "content": big}]}
    ).encode()
    httpx.post(f"{proxy.url}/v1/chat/completions", content=body)
    assert upstream.last("/v1/chat/completions").body == body
    # Chunked (no content-length): read, found too large, forwarded as it came.
    httpx.post(f"{proxy.url}/v1/chat/completions", content=iter([body[:100], body[100:]]))
    assert upstream.last("/v1/chat/completions").body == body
    assert httpx.get(f"{proxy.url}/stats").json()["outcomes"] == {"too_large": 2}


def test_upstream_status_and_error_body_pass_through(proxy: Served, upstream: Upstream) -> None:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-x", max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-test-status": "429"},
        )
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "20"
    assert caught.value.body == {  # type: ignore[comparison-overlap]
        "message": "Rate limit reached for gpt-4o: try again in 20s.",
        "type": "requests",
        "code": "rate_limit_exceeded",
    }


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_upstream_down_and_slow(start_proxy: Callable[..., Served], upstream: Upstream) -> None:
    down = f"http://127.0.0.1:{_closed_port()}"
    proxy = start_proxy(openai_upstream=down, timeout=0.5)
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["type"] == "upstream_unreachable"
    assert error["upstream"] == f"{down}/v1/chat/completions"
    assert down in error["message"]
    slow = httpx.get(f"{proxy.url}/slow", headers={"x-api-key": "k"}, timeout=10)
    assert slow.status_code == 504
    assert slow.json()["error"]["upstream"] == f"{upstream.url}/slow"
    # The server is still up and counted both.
    stats = httpx.get(f"{proxy.url}/stats").json()
    assert stats["upstream_errors"] == {"unreachable": 1, "timeout": 1}


def test_client_disconnect_closes_the_upstream(proxy: Served, upstream: Upstream) -> None:
    upstream.disconnected.clear()
    with httpx.stream("GET", f"{proxy.url}/endless", headers={"x-api-key": "k"}) as response:
        first = next(response.iter_raw())
        assert first.startswith(b"data: 0")
    deadline = time.monotonic() + 10
    while not upstream.disconnected.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.disconnected.is_set()


def test_api_key_required_when_set(start_proxy: Callable[..., Served], upstream: Upstream) -> None:
    proxy = start_proxy(api_key="hr-secret")
    assert httpx.get(f"{proxy.url}/health").status_code == 200  # liveness stays open
    refused = httpx.get(f"{proxy.url}/v1/models")
    assert refused.status_code == 401
    assert "x-headroom-key" in refused.json()["error"]["message"]
    assert httpx.get(f"{proxy.url}/stats", headers={"x-headroom-key": "wrong"}).status_code == 401
    ok = httpx.get(f"{proxy.url}/v1/models", headers={"x-headroom-key": "hr-secret"})
    assert ok.content == MODELS_BODY
    assert upstream.last("/v1/models").header("x-headroom-key") is None


def test_a_big_compression_does_not_stall_other_requests(
    proxy: Served, upstream: Upstream, bench_data: Path
) -> None:
    quakes = read_bench(bench_data / "json" / "usgs_earthquakes_week.geojson.json")  # 1.2 MB
    big = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Which quakes were above magnitude 4?"},
            {"role": "tool", "tool_call_id": "c", "content": quakes},
        ],
    }
    finished: list[float] = []

    def send_big() -> None:
        httpx.post(f"{proxy.url}/v1/chat/completions", json=big, timeout=60)
        finished.append(time.monotonic())

    worker = threading.Thread(target=send_big)
    worker.start()
    time.sleep(0.1)  # the big request is being compressed (about a second on one core)
    small = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    )
    answered = time.monotonic()
    worker.join(60)
    assert small.status_code == 200
    # The small request went there and back while the big one was still being compressed
    # (before the big body reached the upstream).
    arrived = upstream.last("/v1/chat/completions")
    assert len(arrived.body) < len(quakes) / 3
    assert finished and answered < arrived.at < finished[0]
