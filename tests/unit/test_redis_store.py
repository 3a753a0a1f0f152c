"""RedisStore against a real redis-server: shared by processes, byte-exact, failing safe."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from headroom import Headroom, retrieve
from headroom.errors import (
    HandleNotFoundError,
    InvalidArgumentError,
    StoreError,
    StoreUnavailableError,
)
from headroom.retrieval import answer_from
from headroom.store import MemoryStore, open_store
from headroom.store.redis import RedisStore
from headroom.store.usage import RedisUsageLog, UsageTotals, day_of, usage_log_for
from tests.conftest import REPO_ROOT, RedisServer, read_bench


@pytest.fixture
def store(redis_url: str) -> RedisStore:
    # A prefix per test: the server is shared by the session.
    return RedisStore(redis_url, prefix=f"t{uuid4().hex[:8]}:")


@pytest.mark.parametrize(
    "original", ["a long tool output", "é\u2028😀\r\n", b"\x00\xff raw bytes", "", "x" * 300_000]
)
def test_originals_come_back_byte_exact_under_the_handle_every_store_gives(
    store: RedisStore, original: str | bytes
) -> None:
    handle = store.put(original, kind="text")
    assert handle == MemoryStore().put(original, kind="text")
    assert store.put(original, kind="text") == handle  # idempotent
    expected = original.encode("utf-8") if isinstance(original, str) else original
    got = store.get(handle)
    assert got.data == expected and got.size == len(expected) and got.kind == "text"
    assert handle in store and "headroom:000000000000" not in store
    with pytest.raises(HandleNotFoundError):
        store.get("headroom:000000000000")


def test_another_process_retrieves_what_this_one_compressed(
    redis_url: str, bench_data: Path
) -> None:
    log = read_bench(bench_data / "loghub" / "OpenSSH_2k.log")
    result = Headroom(store=redis_url).compress_text(log)
    assert result.handles and not result.lossless
    code = (
        "import sys; from headroom import Headroom;"
        f"sys.stdout.buffer.write(Headroom(store={redis_url!r}).retrieve({result.handles[0]!r})"
        ".encode())"
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, cwd=REPO_ROOT, timeout=60
    )
    assert child.stdout.decode() == log


def test_the_store_is_chosen_by_url_and_by_headroom_store(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(open_store(redis_url), RedisStore)
    monkeypatch.setenv("HEADROOM_STORE", redis_url)
    chosen = open_store(None)
    assert isinstance(chosen, RedisStore) and chosen.url == redis_url
    handle = Headroom().compress_text("x").handles  # the default client reads it too
    assert handle == []


def test_originals_expire_after_the_ttl(redis_url: str) -> None:
    store = RedisStore(redis_url, ttl_seconds=1, prefix=f"t{uuid4().hex[:8]}:")
    handle = store.put("short-lived", kind="text")
    assert handle in store
    deadline = time.monotonic() + 5
    while handle in store and time.monotonic() < deadline:
        time.sleep(0.2)
    assert handle not in store
    with pytest.raises(HandleNotFoundError):
        store.get(handle)


def test_a_different_original_under_a_taken_handle_is_refused(store: RedisStore) -> None:
    handle = store.put("first", kind="text")
    store._client.hset(store._key(handle), "sha256", "0" * 64)  # as a truncated-hash twin
    with pytest.raises(StoreError, match="collision"):
        store.put("first", kind="text")


def test_usage_totals_add_up_across_threads_and_processes(store: RedisStore) -> None:
    log = RedisUsageLog(store, flush_seconds=0.01)  # some records write, most are held

    def work() -> None:
        for _ in range(50):
            log.record("log", 100, 10)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other = RedisUsageLog(RedisStore(store.url, prefix=store.prefix))  # another process's view
    other.record("log", 1, 1)
    other.close()
    store.put("one", kind="log")
    stats = store.stats()
    assert stats.backend == "redis" and stats.items == 1 and stats.bytes == 3
    totals = log.totals()["log"]
    assert (totals.calls, totals.tokens_before, totals.tokens_after) == (201, 20_001, 2_001)
    assert usage_log_for(store).totals() == log.totals()


def test_a_batch_whose_reply_was_lost_is_not_counted_twice(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server applies the batch, then the reply times out: the log cannot tell, keeps the
    # batch and sends it again; the server adds it once.
    log = RedisUsageLog(store, flush_seconds=3600)
    log.record("json", 500, 50)
    log.record("log", 100, 10)
    real_call = store._call
    lost: list[bool] = []

    def call_then_lose_the_reply(command: Any, *args: Any, **kwargs: Any) -> Any:
        result = real_call(command, *args, **kwargs)
        if not lost:
            lost.append(True)
            raise StoreUnavailableError(store.url, "TimeoutError: Timeout reading from socket")
        return result

    monkeypatch.setattr(store, "_call", call_then_lose_the_reply)
    with pytest.raises(StoreUnavailableError):
        log.flush()
    monkeypatch.undo()
    log.record("log", 100, 10)  # a new count waits behind the retried batch
    assert log.totals() == {
        "json": UsageTotals(1, 500, 50),
        "log": UsageTotals(2, 200, 20),
    }
    log.flush()  # nothing left to send
    assert RedisUsageLog(RedisStore(store.url, prefix=store.prefix)).totals() == log.totals()


def test_a_batch_refused_halfway_adds_nothing_and_is_added_whole_later(
    store: RedisStore,
) -> None:
    # A key of the wrong type makes the batch fail: nothing of it may be applied (a script's
    # writes are not undone), so that the retry, once the key is fixed, adds it all once.
    log = RedisUsageLog(store, flush_seconds=3600)
    log.record("json", 500, 50)
    day = day_of(store._clock())
    store._client.set(f"{store.prefix}ud:{day}", "not a hash")
    with pytest.raises(StoreError, match="WRONGTYPE"):
        log.flush()
    assert RedisUsageLog(RedisStore(store.url, prefix=store.prefix)).totals() == {}
    store._client.delete(f"{store.prefix}ud:{day}")
    assert log.totals() == {"json": UsageTotals(1, 500, 50)}
    assert log.by_day() == {day: {"json": UsageTotals(1, 500, 50)}}


def test_counts_held_while_redis_is_down_stay_two_batches_at_most() -> None:
    store = RedisStore(f"redis://127.0.0.1:{_closed_port()}/0")
    log = RedisUsageLog(store, flush_seconds=0)  # every record tries to write
    for i in range(50):
        with pytest.raises(StoreUnavailableError):
            log.record("log", 10 + i, 1)
    assert len(log._unsent) <= 2
    held = [t for _, counts in log._unsent for t in counts.values()]
    assert sum(t.calls for t in held) == 50
    assert sum(t.tokens_before for t in held) == sum(10 + i for i in range(50))
    with pytest.warns(RuntimeWarning, match="usage counts of 50 call"):
        log.close()


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_server_fails_fast_and_names_the_url_without_its_password() -> None:
    url = f"redis://:s3cret@127.0.0.1:{_closed_port()}/0"
    store = RedisStore(url, timeout_seconds=0.5)
    assert "s3cret" not in repr(store) and "***" in store.url
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError) as caught:
        store.put("x", kind="text")
    assert time.monotonic() - started < 5
    assert store.url in str(caught.value) and "s3cret" not in str(caught.value)
    assert store.stats().writable is False


def test_compression_with_the_server_down_loses_nothing(bench_data: Path) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    hr = Headroom(store=RedisStore(url, timeout_seconds=0.5))
    log = read_bench(bench_data / "loghub" / "OpenSSH_2k.log")
    result = hr.compress_text(log)
    assert result.lossless and not result.handles
    assert any(url in warning for warning in result.warnings)
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1"):
        retrieve("headroom:0123456789ab", client=hr)


def test_a_url_that_is_not_redis_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="redis://"):
        RedisStore("http://127.0.0.1:6379")


def test_a_compressed_piece_costs_one_round_trip(
    redis_url: str, bench_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RedisStore(redis_url, prefix=f"t{uuid4().hex[:8]}:")
    hr = Headroom(store=store)
    logs = [
        read_bench(bench_data / "loghub" / name)
        for name in ("OpenSSH_2k.log", "Apache_2k.log", "HDFS_2k.log")
    ]
    hr.compress_text("warm-up: loads the put script " * 10)  # EVALSHA's first NOSCRIPT
    messages = [
        {"role": "tool", "tool_call_id": str(i), "content": log} for i, log in enumerate(logs)
    ]
    # Every command or pipeline takes one connection from the pool for its round trip.
    pool = store._client.connection_pool
    taken: list[int] = []
    real = pool.get_connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        taken.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pool, "get_connection", counted)

    result = hr.compress(messages)

    assert len(result.handles) == 3 and not result.lossless
    assert len(taken) <= len(logs)  # one put script per piece; usage is written later
    assert [retrieve(h, client=hr) for h in result.handles] == logs


def test_a_server_killed_mid_run_loses_nothing_returned_and_hangs_nothing(
    redis_server: RedisServer, bench_data: Path
) -> None:
    hr = Headroom(store=RedisStore(redis_server.url, timeout_seconds=0.5))
    first_log = read_bench(bench_data / "loghub" / "OpenSSH_2k.log")
    second_log = read_bench(bench_data / "loghub" / "Apache_2k.log")
    first = hr.compress_text(first_log)
    assert first.handles and hr.retrieve(first.handles[0]) == first_log

    redis_server.kill()
    started = time.monotonic()
    second = hr.compress_text(second_log)
    with pytest.raises(StoreUnavailableError) as down:
        hr.retrieve(first.handles[0])
    with pytest.raises(StoreUnavailableError):
        retrieve(first.handles[0], client=hr)  # the module-level search says so too
    elapsed = time.monotonic() - started

    assert second.lossless and not second.handles
    assert any(redis_server.url in w for w in second.warnings), second.warnings
    assert redis_server.url in str(down.value) and down.value.location == redis_server.url
    assert elapsed < 10
    assert "unavailable" in answer_from(hr.store, first.handles[0])

    # Back, empty (no persistence): new content is compressed lossily again (the piece
    # compressed while it was down keeps its lossless bytes: contract 8, cache-stable).
    redis_server.start()
    third_log = read_bench(bench_data / "loghub" / "HDFS_2k.log")
    third = hr.compress_text(third_log)
    assert third.handles and hr.retrieve(third.handles[0]) == third_log
    with pytest.raises(HandleNotFoundError):
        hr.retrieve(first.handles[0])


def test_usage_held_back_is_written_when_the_process_exits(store: RedisStore) -> None:
    code = (
        "from headroom.store.redis import RedisStore;"
        "from headroom.store.usage import RedisUsageLog;"
        f"RedisUsageLog(RedisStore({store.url!r}, prefix={store.prefix!r}), flush_seconds=3600)"
        ".record('log', 10, 1)"  # the log is dropped at once, never closed
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, timeout=60)

    totals = RedisUsageLog(store).totals()["log"]
    assert (totals.calls, totals.tokens_before, totals.tokens_after) == (1, 10, 1)
