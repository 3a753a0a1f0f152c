"""Eight processes compressing and retrieving at once against one store (a real Redis, and
separately one SQLite file): every handle a compression returned retrieves byte-exact, from
any process, including the handles of a worker killed with SIGKILL mid-way.

About 10 s of CPU each (mostly eight interpreters starting); bounded by the join timeouts,
not timed: wall time depends on the machine's load."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest

from headroom import Headroom

WORKERS = 8
CALLS = 6  # compressions per worker (the victim is killed before it finishes)
VICTIM = 3


def _log(worker: int, call: int) -> str:
    """A log only this (worker, call) writes, lossy to compress: one original per call."""
    lines = [
        f"2024-01-01T12:{j // 60:02d}:{j % 60:02d}Z [INFO] worker-{worker}: request "
        f"{call}.{j} served path=/api/items/{(j * 7919) % 1000} status=200 in {(j * 31) % 97}ms"
        for j in range(300)
    ]
    lines[150] = f"2024-01-01T12:02:30Z [ERROR] worker-{worker}: request {call}.150 timed out"
    return "\n".join(lines)


def _work(store: str, worker: int, journal_dir: str, go: multiprocessing.synchronize.Event) -> None:
    """Runs in a spawned child: compress, journal each handle once the call has returned it,
    and retrieve handles other workers journaled, checking every byte."""
    client = Headroom(store=store)
    rng = random.Random(worker)
    journal = os.open(Path(journal_dir) / f"{worker}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    go.wait()
    for call in range(CALLS):
        result = client.compress_text(_log(worker, call))
        assert result.handles and not result.lossless, result.warnings
        for handle in result.handles:  # returned to the caller: from here on it is a promise
            os.write(journal, f"{handle} {worker} {call}\n".encode())
        journaled = _journaled(journal_dir)
        for handle, other, other_call in rng.sample(journaled, k=min(2, len(journaled))):
            if client.retrieve(handle) != _log(other, other_call):
                raise SystemExit(f"worker {worker}: {handle} came back altered")


def _journaled(journal_dir: str | Path) -> list[tuple[str, int, int]]:
    entries = []
    for path in Path(journal_dir).glob("*.log"):
        text = path.read_text()
        for line in text[: text.rfind("\n") + 1].splitlines():  # a torn last line is skipped
            handle, worker, call = line.split()
            entries.append((handle, int(worker), int(call)))
    return entries


def _run(store: str, journal_dir: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    workers = [
        ctx.Process(target=_work, args=(store, w, str(journal_dir), go)) for w in range(WORKERS)
    ]
    for process in workers:
        process.start()
    go.set()
    victim = journal_dir / f"{VICTIM}.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill the victim once it has returned 3 handles
        if victim.exists() and victim.read_text().count("\n") >= 3:
            break
        if workers[VICTIM].exitcode is not None:
            pytest.fail(f"worker {VICTIM} ended before it could be killed")
        time.sleep(0.01)
    os.kill(workers[VICTIM].pid or 0, signal.SIGKILL)
    for process in workers:
        process.join(timeout=120)

    codes = [process.exitcode for process in workers]
    assert codes[VICTIM] == -signal.SIGKILL
    assert [c for w, c in enumerate(codes) if w != VICTIM] == [0] * (WORKERS - 1)
    entries = _journaled(journal_dir)
    by_worker = {w: sum(1 for _, worker, _ in entries if worker == w) for w in range(WORKERS)}
    assert all(by_worker[w] == CALLS for w in range(WORKERS) if w != VICTIM), by_worker
    assert 3 <= by_worker[VICTIM] < CALLS
    reader = Headroom(store=store)  # a fresh process's view, after every writer has gone
    for handle, worker, call in entries:
        original = reader.retrieve(handle)
        assert (
            hashlib.sha256(original.encode()).digest()
            == hashlib.sha256(_log(worker, call).encode()).digest()
        ), (handle, worker, call)


@pytest.mark.slow
def test_eight_processes_share_one_redis(redis_url: str, tmp_path: Path) -> None:
    _run(redis_url.rsplit("/", 1)[0] + "/5", tmp_path)


@pytest.mark.slow
def test_eight_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    _run(str(tmp_path / "shared" / "ccr.sqlite3"), journal)
