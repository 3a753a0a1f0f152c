"""``python -m headroom.bench.store``: stash and retrieve latency and throughput of the CCR
store backends (SQLite, Redis) at 1 KB, 100 KB and 5 MB originals.

Each size puts ``--ops`` distinct originals one by one (``put``, what a compression does per
lossy piece), then gets each back (``get``, what a retrieve does), from one thread, and
reports the median and 95th percentile latency and the throughput in operations and MB per
second. Originals are random bytes (the stores keep bytes as given, so content does not
matter); every one is checked byte-exact on the way back.

Redis: ``--redis URL`` to measure a running server, else a ``redis-server`` on ``PATH`` is
started on a free loopback port for the run (in memory, no persistence), else Redis is
skipped. The SQLite file is in a temporary directory on the default temp filesystem
(``--dir`` to choose the disk).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from headroom.store import SQLiteStore, Store
from headroom.store.redis import RedisStore

__all__ = ["Row", "bench", "main"]

SIZES = {"1 KB": 1_000, "100 KB": 100_000, "5 MB": 5_000_000}
_DEFAULT_OPS = {"1 KB": 2000, "100 KB": 300, "5 MB": 20}


@dataclass(frozen=True, slots=True)
class Row:
    """One backend, one size, one operation."""

    backend: str
    size: str
    op: str
    ops: int
    p50_ms: float
    p95_ms: float
    ops_per_s: float
    mb_per_s: float


def _originals(size: int, count: int) -> list[bytes]:
    base = random.Random(size).randbytes(size)
    # Distinct originals (a put of a held one is a cheaper no-op), same size.
    return [f"{i:012d}".encode() + base[12:] for i in range(count)]


def _rows(backend: str, label: str, op: str, seconds: list[float], size: int) -> Row:
    total = sum(seconds)
    ordered = sorted(seconds)
    return Row(
        backend,
        label,
        op,
        len(seconds),
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
        len(seconds) / total,
        len(seconds) * size / total / 1e6,
    )


def bench(store: Store, backend: str, ops: dict[str, int]) -> list[Row]:
    """Time ``put`` then ``get`` of ``ops[label]`` originals of each size in ``store``."""
    rows = []
    for label, size in SIZES.items():
        originals = _originals(size, ops[label])
        handles, put_times, get_times = [], [], []
        for data in originals:
            started = time.perf_counter()
            handles.append(store.put(data, kind="opaque"))
            put_times.append(time.perf_counter() - started)
        for handle, data in zip(handles, originals, strict=True):
            started = time.perf_counter()
            got = store.get(handle)
            get_times.append(time.perf_counter() - started)
            if got.data != data:
                raise AssertionError(f"{backend}: {handle} came back altered")
        rows.append(_rows(backend, label, "stash (put)", put_times, size))
        rows.append(_rows(backend, label, "retrieve (get)", get_times, size))
    return rows


@contextmanager
def _redis(url: str | None) -> Iterator[str | None]:
    if url is not None:
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    workdir = tempfile.mkdtemp(prefix="headroom-bench-redis-")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _table(rows: list[Row]) -> str:
    lines = [
        "| backend | size | operation | ops | p50 ms | p95 ms | ops/s | MB/s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.size} | {r.op} | {r.ops} | {r.p50_ms:.3f} | {r.p95_ms:.3f} | "
            f"{r.ops_per_s:,.0f} | {r.mb_per_s:,.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.store", description=__doc__)
    parser.add_argument("--redis", help="a running Redis to measure (default: start one)")
    parser.add_argument("--dir", help="directory for the SQLite file (default: a temp dir)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the operation counts by this"
    )
    args = parser.parse_args(argv)
    ops = {label: max(3, round(n * args.scale)) for label, n in _DEFAULT_OPS.items()}
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(dir=args.dir, prefix="headroom-bench-") as tmp,
        SQLiteStore(Path(tmp) / "ccr.sqlite3", max_bytes=None) as sqlite,
    ):
        rows += bench(sqlite, "sqlite", ops)
    with _redis(args.redis) as url:
        if url is None:
            print("redis-server not found: Redis skipped", file=sys.stderr)
        else:
            prefix = f"bench-{uuid4().hex[:8]}:"
            with RedisStore(url, prefix=prefix) as redis_store:
                try:
                    rows += bench(redis_store, "redis", ops)
                finally:
                    client = redis_store._client
                    for key in client.scan_iter(match=f"{prefix}*", count=1000):
                        client.delete(key)
    print(f"python {sys.version.split()[0]} · {os.cpu_count()} CPUs · ops per size: {ops}")
    print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
