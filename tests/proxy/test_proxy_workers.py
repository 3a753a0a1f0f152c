"""``headroom proxy --workers 4`` sharing one Redis store: a handle one worker produced is
retrieved by another, through the retrieve loop, ``/v1/retrieve`` and ``headroom retrieve``;
``/stats``, ``/metrics`` and ``headroom perf`` count every worker's requests.

A client pinned to one kept-alive connection (``max_connections=1``) is served by one
worker for its whole life, and ``/health`` on that connection names the worker's pid: that
is how the test knows which worker compressed and which retrieved.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openai
import pytest

from headroom.proxy.workers import PUBLISH_SECONDS
from tests.conftest import read_bench
from tests.proxy.metrics import savings_numbers, stats_from_metrics
from tests.proxy.upstream import CHAT_TEXT, RETRIEVE_CALL, Upstream

_T = TypeVar("_T")

WORKERS = 4
STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            httpx.get(f"{url}/health", timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the proxy did not start"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def workers_proxy(
    upstream: Upstream, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``headroom --store REDIS proxy --workers 4`` in front of the recording upstream."""
    home = tmp_path_factory.mktemp("workers")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "HEADROOM_STORE"}
    env["HEADROOM_HOME"] = str(home)
    env["TMPDIR"] = str(home / "tmp")  # where the workers' counts go (headroom-proxy-stats-*)
    (home / "tmp").mkdir()
    cmd = [sys.executable, "-m", "headroom", "--store", redis_url, "proxy", "--port", str(port)]
    cmd += ["--workers", str(WORKERS), "--openai-upstream", upstream.url]
    cmd += ["--anthropic-upstream", upstream.url]
    log = home / "proxy.log"
    with log.open("wb") as err:
        process = subprocess.Popen(cmd, env=env, stdout=err, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert not (home / "ccr.sqlite3").exists()  # every worker used Redis, none the default
    assert list((home / "tmp").iterdir()) == []  # the counts' directory went with the proxy


def _pinned(url: str) -> tuple[int, httpx.Client]:
    """A client on one connection, and the pid of the worker serving it."""
    client = httpx.Client(limits=httpx.Limits(max_connections=1), timeout=60)
    return int(client.get(f"{url}/health").json()["pid"]), client


def _by_worker(url: str, wanted: int, tries: int = 60) -> dict[int, httpx.Client]:
    """One pinned client per worker, up to ``wanted`` workers, from new connections."""
    clients: dict[int, httpx.Client] = {}
    for _ in range(tries):
        pid, client = _pinned(url)
        if pid in clients:
            client.close()
        else:
            clients[pid] = client
        if len(clients) == wanted:
            break
    return clients


def _sdk(url: str, http: httpx.Client) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test", http_client=http, max_retries=0)


def _messages(tool_output: str) -> list[dict[str, Any]]:
    call = {"id": "c1", "type": "function", "function": {"name": "cat", "arguments": "{}"}}
    return [
        {"role": "user", "content": "Which HDFS blocks failed?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": tool_output},
    ]


def test_a_handle_from_one_worker_is_retrieved_by_another(
    workers_proxy: str, upstream: Upstream, redis_url: str, bench_data: Path
) -> None:
    url = workers_proxy
    clients = _by_worker(url, WORKERS)
    try:
        # New connections land on different workers (the kernel spreads the accepts).
        assert len(clients) >= 2, f"every connection went to one worker: {list(clients)}"
        producer, *others = clients
        print(f"producer {producer}, retrieving workers {others}")  # shown with -s
        hdfs = read_bench(bench_data / "loghub" / "HDFS_2k.log")

        # The producer compresses the log; its original goes to Redis under the handle.
        reply = _sdk(url, clients[producer]).chat.completions.create(
            model="gpt-4o", messages=_messages(hdfs)
        )
        assert reply.choices[0].message.content == "".join(CHAT_TEXT)
        sent = upstream.last("/v1/chat/completions").json()["messages"][-1]["content"]
        assert len(sent) < len(hdfs) / 4
        handle = re.findall(r"headroom:[0-9a-f]{12}", sent)[0]
        assert int(clients[producer].get(f"{url}/health").json()["pid"]) == producer

        for pid in others:  # every other worker answers the model's retrieve call
            before = len(upstream.requests)
            reply = _sdk(url, clients[pid]).chat.completions.create(
                model="gpt-4o",
                messages=_messages(sent),  # what the client holds: the compressed output
                extra_headers={"x-test-retrieve": "1"},
            )
            assert reply.choices[0].message.content == "".join(CHAT_TEXT)
            with upstream.lock:
                rounds = [r.json() for r in upstream.requests[before:]]
            assert len(rounds) == 2  # the call, then the continuation the proxy sent
            answer = rounds[1]["messages"][-1]
            assert answer["role"] == "tool" and answer["tool_call_id"] == RETRIEVE_CALL
            assert answer["content"] == hdfs  # from Redis: this worker never saw the log
            assert int(clients[pid].get(f"{url}/health").json()["pid"]) == pid
            direct = clients[pid].get(f"{url}/v1/retrieve/{handle}")
            assert direct.status_code == 200 and direct.content == hdfs.encode()
    finally:
        for client in clients.values():
            client.close()

    # And from another process entirely: the CLI, told the store by HEADROOM_STORE.
    env = {**os.environ, "HEADROOM_STORE": redis_url}
    cli = subprocess.run(
        [sys.executable, "-m", "headroom", "retrieve", handle],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout == hdfs.encode()


def test_many_requests_spread_over_the_workers(workers_proxy: str, upstream: Upstream) -> None:
    """Forty SDK requests, each on a new connection: several workers serve them, and each
    request reaches the upstream compressed the same way whichever worker served it."""
    rows = [{"id": i, "state": "ok", "node": f"n{i % 3}"} for i in range(300)]
    output = json.dumps(rows, indent=2)
    served: dict[int, int] = {}
    bodies: set[str] = set()
    for _ in range(40):
        pid, http = _pinned(workers_proxy)
        try:
            reply = _sdk(workers_proxy, http).chat.completions.create(
                model="gpt-4o", messages=_messages(output)
            )
        finally:
            http.close()
        assert reply.choices[0].message.content == "".join(CHAT_TEXT)
        served[pid] = served.get(pid, 0) + 1
        bodies.add(upstream.last("/v1/chat/completions").json()["messages"][-1]["content"])
    print(f"requests by worker pid: {served}")  # shown with -s
    assert len(served) >= 2, served
    assert len(bodies) == 1 and len(bodies.pop()) < len(output) / 2  # deterministic


def _settled(read: Callable[[], _T], done: Callable[[_T], bool], seconds: float) -> _T:
    """What ``read`` answers once ``done`` says it has settled, or its last answer after
    ``seconds`` (another worker's counts reach the answering one within
    ``PUBLISH_SECONDS``)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = read()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(PUBLISH_SECONDS)


def _stats_once_settled(url: str, route: str, count: int) -> dict[str, Any]:
    """``/stats`` once it counts ``count`` requests on ``route`` (bounded)."""

    def counted(stats: dict[str, Any]) -> bool:
        return bool(stats["requests"]["by_route"].get(route, 0) >= count)

    stats: dict[str, Any] = _settled(
        lambda: httpx.get(f"{url}/stats", timeout=30).json(), counted, 15
    )
    assert counted(stats), stats["requests"]
    return stats


def test_stats_metrics_and_perf_count_every_worker(
    workers_proxy: str, upstream: Upstream, bench_data: Path
) -> None:
    """Issue 17: /stats, /metrics and headroom perf sum all four workers' counts."""
    url = workers_proxy
    time.sleep(5 * PUBLISH_SECONDS)  # the earlier tests' counts have reached the files
    before = _stats_once_settled(url, "compress", 0)
    log = read_bench(bench_data / "loghub" / "Apache_2k.log")
    body = {"model": "gpt-4o", "messages": _messages(log)}
    served: dict[int, int] = {}
    sent = 24
    for _ in range(sent):  # new connections: several workers serve them
        pid, http = _pinned(url)
        try:
            assert http.post(f"{url}/v1/compress", json=body).status_code == 200
        finally:
            http.close()
        served[pid] = served.get(pid, 0) + 1
    assert len(served) >= 2, served
    count = before["requests"]["by_route"].get("compress", 0) + sent
    stats = _stats_once_settled(url, "compress", count)
    assert stats["workers"] == WORKERS  # every worker published its counts at start
    assert stats["requests"]["by_route"]["compress"] == count  # not one worker's share
    # The same tokens for every one of the requests, whichever worker compressed it. A
    # worker publishes its counts as they move, so a request can show before its tokens do:
    # both are waited for.
    one = httpx.post(f"{url}/v1/compress", json=body).json()

    def gained(stats: dict[str, Any]) -> int:
        earlier = before["by_model"].get("gpt-4o", {}).get("before", 0)
        return int(stats["by_model"].get("gpt-4o", {}).get("before", 0)) - earlier

    stats = _settled(
        lambda: httpx.get(f"{url}/stats", timeout=30).json(),
        lambda stats: gained(stats) == (sent + 1) * one["tokens_before"],
        15,
    )
    assert stats["requests"]["by_route"]["compress"] == count + 1
    assert gained(stats) == (sent + 1) * one["tokens_before"]
    assert (
        stats["savings"]["total"]["by_model"]["gpt-4o"]["tokens_saved"]
        == (stats["tokens"]["saved"])
    )

    # /metrics, whichever worker answers it, carries the same numbers, once every worker's
    # last counts have reached the others (within PUBLISH_SECONDS of a change): two answers
    # a moment apart may differ until then, as CI saw (a request's tokens missing from one).
    def both() -> tuple[dict[str, Any], dict[str, Any]]:
        metrics = httpx.get(f"{url}/metrics", timeout=30).text
        again = httpx.get(f"{url}/stats", timeout=30).json()
        return stats_from_metrics(metrics), again

    def same(answer: tuple[dict[str, Any], dict[str, Any]]) -> bool:
        metrics, again = answer
        return metrics == {**again, "savings": savings_numbers(again["savings"])}

    for _ in range(4):
        metrics, again = _settled(both, same, 10)
        assert metrics == {**again, "savings": savings_numbers(again["savings"])}
        assert again["requests"]["by_route"]["compress"] == count + 1
    # headroom perf reads /stats: the totals of all workers.
    perf = subprocess.run(
        [sys.executable, "-m", "headroom", "perf", "--url", url, "--json"],
        capture_output=True,
        timeout=120,
    )
    assert perf.returncode == 0, perf.stderr
    report = json.loads(perf.stdout)
    assert report["workers"] == WORKERS
    assert report["savings"]["total"]["tokens_saved"] == again["savings"]["total"]["tokens_saved"]
    text = subprocess.run(
        [sys.executable, "-m", "headroom", "perf", "--url", url],
        capture_output=True,
        timeout=120,
    )
    assert f"({WORKERS} workers)" in text.stdout.decode()
