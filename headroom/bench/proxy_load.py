"""A load benchmark of ``headroom proxy`` (a script, not a timed test).

    python -m headroom.bench.proxy_load [--requests 1000] [--concurrency 50] [--workers 2]

Starts, on loopback, a stand-in upstream (its own process: it reads each body whole, counts
its bytes, and answers a chat completion at once) and ``headroom proxy --workers N`` in
front of it (SQLite store under a temporary ``HEADROOM_HOME``, as the command defaults
to). Then:

1. **Load.** ``--requests`` chat requests, ``--concurrency`` at a time, built from the real
   files of the bench data (``HEADROOM_BENCH_DATA``, default ``/work/shared/bench-data``):
   100 agent conversations, each of ten tool results (loghub logs and JSON API responses),
   sized log-uniformly so that a conversation's last request holds 2k to 200k tokens; the
   requests are the conversations' turns, interleaved (turn one of every conversation, then
   turn two, ...), so each request carries its earlier tool results again, as an agent's do.
   The same requests go straight to the upstream first, then through the proxy; a
   request's *added latency* is its time through the proxy minus its time direct.
2. **Seen before vs fresh.** One 100k-token conversation (ten 10k-token tool results) on
   one kept-alive connection (so one worker): sent fresh (new pieces each time) and again
   once every piece has been seen; the added latency of each, and for the fresh one, the
   time tiktoken takes to count its content.

Prints the figures as a Markdown table (``--json`` for JSON). The machine's other load
shows in every figure: report them as measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

# isort: off
from headroom.proxy import _deps  # noqa: F401  (first: names the extra when it is missing)

# isort: on
import httpx

__all__ = ["main"]

DATA: Final = Path(os.environ.get("HEADROOM_BENCH_DATA", "/work/shared/bench-data"))
SOURCES: Final = (
    "loghub/HDFS_2k.log",
    "loghub/Hadoop_2k.log",
    "loghub/OpenStack_2k.log",
    "loghub/BGL_2k.log",
    "loghub/Android_2k.log",
    "loghub/Zookeeper_2k.log",
    "loghub/OpenSSH_2k.log",
    "loghub/Apache_2k.log",
    "json/crossref_peerj_works_search.json",
    "json/gh_repo_events_rails_admin.json",
    "json/gh_issues_rails_admin.json",
    "json/gh_pulls_octokit_rb.json",
    "json/usgs_earthquakes_week.geojson.json",
    "json/npm_packument_chalk.json",
)
CHARS_PER_TOKEN: Final = 2.4  # of these files with o200k, roughly; the real count is reported
CONVERSATIONS: Final = 100
TURNS: Final = 10
CHAT: Final = "/v1/chat/completions"


# -- the upstream (run in its own process) -------------------------------------------------------


def _upstream_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    seen = {"requests": 0, "bytes": 0}
    answer = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1733356800,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }

    async def chat(request: Request) -> Response:
        body = await request.body()
        seen["requests"] += 1
        seen["bytes"] += len(body)
        return JSONResponse(answer)

    async def summary(request: Request) -> Response:
        return JSONResponse(seen)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route(CHAT, chat, methods=["POST"]),
            Route("/bench/summary", summary, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def _serve_upstream(port: int) -> None:
    import uvicorn

    uvicorn.run(_upstream_app(), host="127.0.0.1", port=port, log_level="warning")


# -- the requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    conversation: int
    turn: int
    data: bytes
    tokens: int  # of the tool results, o200k


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _texts() -> list[str]:
    texts = []
    for name in SOURCES:
        path = DATA / name
        if not path.is_file():
            raise SystemExit(f"bench data missing: {path} (set HEADROOM_BENCH_DATA)")
        texts.append(path.read_bytes().decode("utf-8"))
    return texts


def _window(text: str, start: int, chars: int) -> str:
    """``chars`` characters of ``text`` from ``start`` on whole lines (wrapping around)."""
    start = text.rfind("\n", 0, start % len(text)) + 1
    out = text[start:]
    while len(out) < chars:
        out += text
    end = out.find("\n", chars)
    return out[: end + 1 if end != -1 else chars]


def _messages(results: list[str], question: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are an SRE agent. Use the tools to investigate."},
        {"role": "user", "content": question},
    ]
    for i, result in enumerate(results):
        call = f"call_{i}"
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call,
                        "type": "function",
                        "function": {"name": "read_source", "arguments": json.dumps({"n": i})},
                    }
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call, "content": result})
    return messages


def _conversation(
    texts: list[str], seed: int, piece_tokens: int, pieces: int
) -> tuple[list[str], str]:
    rng = random.Random(seed)
    chars = max(200, int(piece_tokens * CHARS_PER_TOKEN))
    results = []
    for _ in range(pieces):
        text = texts[rng.randrange(len(texts))]
        results.append(_window(text, rng.randrange(len(text)), chars))
    return results, f"Conversation {seed}: which errors or failures stand out, and why?"


def load_bodies(texts: list[str], count: int) -> list[Body]:
    """``count`` requests: the turns of 100 conversations, interleaved."""
    from headroom.tokens import count_tokens

    rng = random.Random(17)
    conversations = []
    for c in range(CONVERSATIONS):
        total = math.exp(rng.uniform(math.log(2_000), math.log(200_000)))
        results, question = _conversation(texts, 1000 + c, int(total / TURNS), TURNS)
        conversations.append((results, question, [count_tokens(r) for r in results]))
    bodies = []
    for turn in range(1, TURNS + 1):
        order = list(range(CONVERSATIONS))
        rng.shuffle(order)
        for c in order:
            results, question, tokens = conversations[c]
            body = {"model": "gpt-4o", "messages": _messages(results[:turn], question)}
            bodies.append(Body(c, turn, json.dumps(body).encode(), sum(tokens[:turn])))
    return [bodies[i % len(bodies)] for i in range(count)]


# -- running -------------------------------------------------------------------------------------


async def _send_all(
    url: str, bodies: list[Body], concurrency: int
) -> tuple[list[float], list[str], float]:
    """Each body's seconds (in order), what went wrong (one line per error), the wall time."""
    times = [math.nan] * len(bodies)
    errors: list[str] = []
    queue = iter(range(len(bodies)))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=600) as client:

        async def worker() -> None:
            for i in queue:
                start = time.perf_counter()
                try:
                    response = await client.post(CHAT, content=bodies[i].data, headers=headers)
                    if response.status_code != 200 or not response.json()["choices"]:
                        errors.append(f"request {i}: {response.status_code} {response.text[:200]}")
                except (httpx.HTTPError, ValueError, KeyError) as error:
                    errors.append(f"request {i}: {type(error).__name__}: {error}")
                times[i] = time.perf_counter() - start

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return times, errors, time.perf_counter() - began


async def _one_by_one(client: httpx.AsyncClient, bodies: list[bytes]) -> list[float]:
    out = []
    for data in bodies:
        start = time.perf_counter()
        response = await client.post(CHAT, content=data)
        out.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"unexpected status {response.status_code}: {response.text[:200]}")
    return out


async def _seen_vs_fresh(
    proxy: str, upstream: str, texts: list[str], repeats: int
) -> dict[str, Any]:
    """A 100k-token conversation: fresh pieces each time vs every piece seen before."""
    from headroom.tokens import encoding_for_model
    from headroom.tokens.vocabularies import load_encoding

    fresh = []
    for k in range(repeats):
        results, question = _conversation(texts, 50_000 + k, 10_000, 10)
        fresh.append(
            (
                results,
                json.dumps({"model": "gpt-4o", "messages": _messages(results, question)}).encode(),
            )
        )
    seen_body = fresh[0][1]
    encoding = load_encoding(encoding_for_model("gpt-4o"))
    tokens = sum(len(encoding.encode_ordinary(r)) for r in fresh[0][0])
    # tiktoken counting the fresh content (what a fresh request's pieces cost to count).
    count_times = []
    for results, _ in fresh:
        start = time.perf_counter()
        for result in results:
            encoding.encode_ordinary(result)
        count_times.append(time.perf_counter() - start)
    headers = {"content-type": "application/json"}
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with (
        httpx.AsyncClient(base_url=upstream, limits=one, headers=headers, timeout=600) as direct,
        httpx.AsyncClient(base_url=proxy, limits=one, headers=headers, timeout=600) as via,
    ):
        direct_fresh = await _one_by_one(direct, [b for _, b in fresh])
        via_fresh = await _one_by_one(via, [b for _, b in fresh])  # each seen for the first time
        await _one_by_one(via, [seen_body] * 3)  # warm: same connection, same worker
        direct_seen = await _one_by_one(direct, [seen_body] * repeats)
        via_seen = await _one_by_one(via, [seen_body] * repeats)
    added_fresh = [v - d for v, d in zip(via_fresh, direct_fresh, strict=True)]
    return {
        "tokens": tokens,
        "body_bytes": len(seen_body),
        "repeats": repeats,
        "seen_added_ms": _percentiles([v - statistics.median(direct_seen) for v in via_seen]),
        "seen_direct_ms": _percentiles(direct_seen),
        "fresh_added_ms": _percentiles(added_fresh),
        "tiktoken_count_ms": _percentiles(count_times),
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.5), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}


@contextlib.contextmanager
def _process(args: list[str], env: dict[str, str], health: str, log: Path) -> Iterator[None]:
    """Run ``args`` until the block ends, its output in ``log`` (a file: a pipe nobody
    reads would stall the server once full)."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(health, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text("utf-8", "replace")[-2000:]
                    raise SystemExit(f"{args[:4]} did not start: {tail}")
                time.sleep(0.2)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _problems(log: Path) -> list[str]:
    """The warning and error lines of a server's log (not its access log)."""
    lines = log.read_text("utf-8", "replace").splitlines()
    return [line for line in lines if "WARNING" in line or "ERROR" in line][:20]


def run(
    requests: int, concurrency: int, workers: int, repeats: int, store: str | None = None
) -> dict[str, Any]:
    """Run both parts and return the figures."""
    texts = _texts()
    bodies = load_bodies(texts, requests)
    up_port, proxy_port = _free_port(), _free_port()
    upstream = f"http://127.0.0.1:{up_port}"
    proxy = f"http://127.0.0.1:{proxy_port}"
    with tempfile.TemporaryDirectory(prefix="headroom-bench-") as home:
        env = {**os.environ, "HEADROOM_HOME": home}
        for name in ("HEADROOM_STORE", "HEADROOM_PRICES"):
            env.pop(name, None)
        if store is not None:
            env["HEADROOM_STORE"] = store
        upstream_cmd = [sys.executable, "-m", "headroom.bench.proxy_load", "--serve-upstream"]
        proxy_cmd = [sys.executable, "-m", "headroom", "proxy", "--port", str(proxy_port)]
        proxy_cmd += ["--workers", str(workers), "--openai-upstream", upstream]
        up_log, proxy_log = Path(home) / "upstream.log", Path(home) / "proxy.log"
        with (
            _process([*upstream_cmd, str(up_port)], env, f"{upstream}/health", up_log),
            _process(proxy_cmd, env, f"{proxy}/health", proxy_log),
        ):
            direct, direct_errors, direct_wall = asyncio.run(
                _send_all(upstream, bodies, concurrency)
            )
            sent_bytes = httpx.get(f"{upstream}/bench/summary").json()["bytes"]
            via, errors, wall = asyncio.run(_send_all(proxy, bodies, concurrency))
            summary = httpx.get(f"{upstream}/bench/summary").json()
            stats = httpx.get(f"{proxy}/stats").json()  # every worker's, summed
            seen = asyncio.run(_seen_vs_fresh(proxy, upstream, texts, repeats))
        logged = {"upstream": _problems(up_log), "proxy": _problems(proxy_log)}
    added = [v - d for v, d in zip(via, direct, strict=True)]
    return {
        "requests": requests,
        "concurrency": concurrency,
        "workers": workers,
        "store": store or "sqlite",
        "cores": os.cpu_count(),
        "tokens_per_request": {
            "max": max(b.tokens for b in bodies),
            "median": int(statistics.median(b.tokens for b in bodies)),
            "total": sum(b.tokens for b in bodies),
        },
        "errors": {"direct": direct_errors, "proxy": errors},
        "logged": logged,
        "direct": {"ms": _percentiles(direct), "rps": round(requests / direct_wall, 1)},
        "proxy": {"ms": _percentiles(via), "rps": round(requests / wall, 1)},
        "added_ms": _percentiles(added),
        "upstream_bytes": {"direct": sent_bytes, "via_proxy": summary["bytes"] - sent_bytes},
        "proxy_stats": {
            "tokens": stats["tokens"],
            "cache": stats["cache"],
            "outcomes": stats["outcomes"],
        },
        "seen_vs_fresh": seen,
    }


def _markdown(r: dict[str, Any]) -> str:
    s = r["seen_vs_fresh"]
    wire = r["upstream_bytes"]
    lines = [
        f"{r['requests']} requests, {r['concurrency']} concurrent, {r['workers']} workers, "
        f"store {r['store']}, "
        f"{r['cores']} cores; tool-result tokens per request: median "
        f"{r['tokens_per_request']['median']:,}, max {r['tokens_per_request']['max']:,}",
        "",
        "| | p50 ms | p99 ms | max ms | requests/s |",
        "|---|---:|---:|---:|---:|",
        f"| direct to upstream | {r['direct']['ms']['p50']} | {r['direct']['ms']['p99']} | "
        f"{r['direct']['ms']['max']} | {r['direct']['rps']} |",
        f"| through the proxy | {r['proxy']['ms']['p50']} | {r['proxy']['ms']['p99']} | "
        f"{r['proxy']['ms']['max']} | {r['proxy']['rps']} |",
        f"| added by the proxy (per request) | {r['added_ms']['p50']} | {r['added_ms']['p99']} "
        f"| {r['added_ms']['max']} | |",
        "",
        f"errors: {len(r['errors']['proxy'])} through the proxy, "
        f"{len(r['errors']['direct'])} direct; "
        f"bytes the upstream received: {wire['direct']:,} direct, "
        f"{wire['via_proxy']:,} through the proxy "
        f"({1 - wire['via_proxy'] / max(1, wire['direct']):.1%} less)",
        "",
        f"A {s['tokens']:,}-token conversation ({s['body_bytes']:,} bytes), one connection, "
        f"{s['repeats']} requests each:",
        "",
        "| | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
        f"| added, every piece seen before | {s['seen_added_ms']['p50']} | "
        f"{s['seen_added_ms']['p99']} | {s['seen_added_ms']['max']} |",
        f"| added, fresh pieces | {s['fresh_added_ms']['p50']} | {s['fresh_added_ms']['p99']} "
        f"| {s['fresh_added_ms']['max']} |",
        f"| tiktoken counting the fresh content | {s['tiktoken_count_ms']['p50']} | "
        f"{s['tiktoken_count_ms']['p99']} | {s['tiktoken_count_ms']['max']} |",
        f"| direct request (baseline) | {s['seen_direct_ms']['p50']} | "
        f"{s['seen_direct_ms']['p99']} | {s['seen_direct_ms']['max']} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.proxy_load")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20, help="seen/fresh requests each")
    parser.add_argument(
        "--store", default=None, help="the proxy's store (default: SQLite, as the command's)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-upstream", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_upstream is not None:
        _serve_upstream(args.serve_upstream)
        return 0
    result = run(args.requests, args.concurrency, args.workers, args.repeats, args.store)
    print(json.dumps(result, indent=2) if args.json else _markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
