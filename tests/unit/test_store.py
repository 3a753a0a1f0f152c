"""The CCR store contract, run against every backend, plus what is specific to each."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

import headroom.store._common
import headroom.store.memory
import headroom.store.redis
import headroom.store.sqlite
from headroom.errors import HandleNotFoundError, InvalidArgumentError, StoreError
from headroom.handles import handle_for, is_handle, original_bytes
from headroom.store import (
    MemoryStore,
    SQLiteStore,
    Store,
    UsageLog,
    UsageTotals,
    default_home,
    default_store_path,
    open_store,
    usage_log_for,
)
from headroom.store.redis import RedisStore
from headroom.store.usage import SQLiteUsageLog

BACKENDS = ["memory", "sqlite", "redis"]


class FakeClock:
    """A clock tests move by hand; starts at an arbitrary, realistic epoch time."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


MakeStore = Callable[..., Store]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MakeStore]:
    """Build a store of the current backend; unbounded unless the test says otherwise.

    Redis stores share the session's real server, each under a prefix of its own."""
    opened: list[Store] = []

    def make(
        *,
        ttl_seconds: float | None = None,
        max_bytes: int | None = None,
        grace_seconds: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> Store:
        kwargs: dict[str, Any] = {"ttl_seconds": ttl_seconds, "max_bytes": max_bytes}
        if grace_seconds is not None:
            kwargs["grace_seconds"] = grace_seconds
        if clock is not None:
            kwargs["clock"] = clock
        store: Store
        if backend == "memory":
            store = MemoryStore(**kwargs)
        elif backend == "redis":
            url = request.getfixturevalue("redis_url")
            store = RedisStore(url, prefix=f"t{uuid4().hex[:8]}:", **kwargs)
        else:
            store = SQLiteStore(tmp_path / f"store{len(opened)}" / "ccr.sqlite3", **kwargs)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: MakeStore) -> Store:
    return make_store()


def as_bytes(original: str | bytes) -> bytes:
    # Escaped bytes (U+DC80..U+DCFF) as the bytes they stand for, other lone surrogates in
    # their surrogatepass spelling: what the CLI read is what is stored.
    return original_bytes(original)


# --- round trip ----------------------------------------------------------------------------

ROUND_TRIP_CASES: list[tuple[str, str | bytes]] = [
    ("empty str", ""),
    ("empty bytes", b""),
    ("ascii", "hello"),
    ("unicode", "naïve 日本語 🎉 ×187 · ok"),
    ("crlf and trailing whitespace", "a\r\nb\r\n  \t"),
    ("nul bytes", b"\x00\x01\x00\xff\x00"),
    ("invalid utf-8", b"\xff\xfe\xc3\x28\x80"),
    ("lone surrogates", "a\ud800b\udfffc"),
    ("5 MB binary", random.Random(0).randbytes(5 * 1024 * 1024)),
    ("1 MB line", "x" * (1024 * 1024)),
]


@pytest.mark.parametrize(
    "original", [c[1] for c in ROUND_TRIP_CASES], ids=[c[0] for c in ROUND_TRIP_CASES]
)
def test_round_trip_is_byte_exact(store: Store, original: str | bytes) -> None:
    handle = store.put(original, kind="text")

    got = store.get(handle)

    assert handle == handle_for(original)
    assert is_handle(handle)
    assert got.handle == handle
    assert got.data == as_bytes(original)
    assert type(got.data) is bytes
    assert got.size == len(as_bytes(original))
    assert got.kind == "text"
    if isinstance(original, str):
        assert got.text == original


def test_put_is_idempotent(store: Store) -> None:
    first = store.put("same", kind="log")
    second = store.put("same", kind="log")
    as_bytes_too = store.put(b"same", kind="log")

    assert first == second == as_bytes_too
    stats = store.stats()
    assert (stats.items, stats.bytes) == (1, 4)


def test_created_at_comes_from_the_clock(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(clock=clock)

    handle = store.put("x", kind="text")

    assert store.get(handle).created_at == clock.now


def test_non_text_original_is_rejected(store: Store) -> None:
    with pytest.raises(InvalidArgumentError, match="int"):
        store.put(42, kind="text")  # type: ignore[arg-type]


# --- missing handles and membership --------------------------------------------------------


@pytest.mark.parametrize("handle", [handle_for("never stored"), "not a handle", ""])
def test_missing_handle_raises_handle_not_found(store: Store, handle: str) -> None:
    store.put("something else", kind="text")

    with pytest.raises(HandleNotFoundError) as excinfo:
        store.get(handle)

    assert excinfo.value.handle == handle
    assert repr(handle) in str(excinfo.value)
    with pytest.raises(KeyError):
        store.get(handle)
    with pytest.raises(StoreError):
        store.get(handle)


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ("stored", True),
        (handle_for("not stored"), False),
        (42, False),
        (None, False),
        (b"headroom:000000000000", False),
    ],
)
def test_contains(store: Store, probe: object, expected: bool) -> None:
    stored = store.put("present", kind="text")

    assert ((stored if probe == "stored" else probe) in store) is expected


# --- TTL -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "present"),
    [(0.0, True), (99.0, True), (100.0, True), (100.5, False), (10_000.0, False)],
)
def test_ttl_expiry_on_read(make_store: MakeStore, elapsed: float, present: bool) -> None:
    clock = FakeClock()
    store = make_store(ttl_seconds=100, clock=clock)
    handle = store.put("short-lived", kind="text")

    clock.advance(elapsed)

    assert (handle in store) is present
    assert store.stats().items == (1 if present else 0)
    if present:
        assert store.get(handle).data == b"short-lived"
    else:
        with pytest.raises(HandleNotFoundError):
            store.get(handle)


def test_get_does_not_extend_ttl(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(ttl_seconds=100, clock=clock)
    handle = store.put("x", kind="text")

    clock.advance(90)
    store.get(handle)
    clock.advance(20)

    assert handle not in store


def test_put_again_restarts_ttl(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(ttl_seconds=100, clock=clock)
    handle = store.put("x", kind="text")

    clock.advance(90)
    assert store.put("x", kind="text") == handle
    clock.advance(60)

    assert store.get(handle).data == b"x"


def test_expired_items_are_purged_on_put(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(ttl_seconds=100, clock=clock)
    old = store.put("old", kind="text")
    clock.advance(101)

    new = store.put("new", kind="text")

    assert store.stats().items == 1
    assert new in store
    assert old not in store
    clock.advance(-200)  # even seen from the past, the old item is gone, not merely hidden
    assert old not in store


# --- size-bounded LRU eviction -------------------------------------------------------------

# Each step runs one tick after the previous. Originals are named by one letter and are
# `size` bytes long; max_bytes is 30 throughout, and no grace period spares recent puts.
EVICTION_CASES: list[tuple[str, list[tuple[str, str, int]], set[str]]] = [
    (
        "fits exactly",
        [("put", "a", 10), ("put", "b", 10), ("put", "c", 10)],
        {"a", "b", "c"},
    ),
    (
        "oldest put goes first",
        [("put", "a", 10), ("put", "b", 10), ("put", "c", 10), ("put", "d", 10)],
        {"b", "c", "d"},
    ),
    (
        "a get makes an item recent",
        [("put", "a", 10), ("put", "b", 10), ("put", "c", 10), ("get", "a", 0), ("put", "d", 10)],
        {"a", "c", "d"},
    ),
    (
        "a repeated put makes an item recent",
        [("put", "a", 10), ("put", "b", 10), ("put", "c", 10), ("put", "a", 10), ("put", "d", 10)],
        {"a", "c", "d"},
    ),
    (
        "several evicted for one large item",
        [("put", "a", 10), ("put", "b", 10), ("put", "c", 10), ("get", "a", 0), ("put", "e", 25)],
        {"e"},
    ),
    (
        "evicts only as much as needed",
        [("put", "a", 10), ("put", "b", 10), ("put", "c", 10), ("get", "a", 0), ("put", "e", 15)],
        {"a", "e"},
    ),
    (
        "an item larger than max_bytes is kept alone",
        [("put", "a", 10), ("put", "b", 10), ("put", "z", 100)],
        {"z"},
    ),
    (
        "the oversized item is evicted by the next put",
        [("put", "z", 100), ("put", "a", 10)],
        {"a"},
    ),
]


@pytest.mark.parametrize(
    ("steps", "survivors"),
    [(c[1], c[2]) for c in EVICTION_CASES],
    ids=[c[0] for c in EVICTION_CASES],
)
def test_lru_eviction(
    make_store: MakeStore, steps: list[tuple[str, str, int]], survivors: set[str]
) -> None:
    clock = FakeClock()
    store = make_store(max_bytes=30, grace_seconds=0, clock=clock)
    originals: dict[str, bytes] = {}
    for op, name, size in steps:
        clock.advance(1)
        if op == "put":
            originals[name] = name.encode() * size
            store.put(originals[name], kind="text")
        else:
            store.get(handle_for(originals[name]))

    present = {name for name, data in originals.items() if handle_for(data) in store}

    assert present == survivors
    stats = store.stats()
    assert stats.items == len(survivors)
    assert stats.bytes == sum(len(originals[name]) for name in survivors)
    for name in survivors:
        assert store.get(handle_for(originals[name])).data == originals[name]


# With a grace period of 5 s: steps are (seconds that pass, op, name); each original is 10
# bytes and max_bytes is 30.
GRACE_CASES: list[tuple[str, list[tuple[float, str, str]], set[str]]] = [
    (
        "recent puts are kept over budget",
        [(1, "put", "a"), (1, "put", "b"), (1, "put", "c"), (1, "put", "d"), (1, "put", "e")],
        {"a", "b", "c", "d", "e"},
    ),
    (
        "once the grace period is over, least recently used go first",
        [(1, "put", "a"), (1, "put", "b"), (1, "put", "c"), (1, "put", "d"), (10, "put", "e")],
        {"c", "d", "e"},
    ),
    (
        "a put restarts the grace period",
        [(1, "put", "a"), (1, "put", "b"), (1, "put", "c"), (4, "put", "a"), (3, "put", "d")],
        {"a", "c", "d"},
    ),
    (
        "a get makes an original recent but does not restart its grace period",
        [
            *[(1, "put", "a"), (1, "put", "b"), (1, "put", "c"), (5, "get", "a")],
            *[(1, "put", "d"), (1, "put", "e"), (1, "put", "f")],
        ],
        {"d", "e", "f"},
    ),
    (
        "exactly at the end of the grace period the original is still spared",
        [(0, "put", "a"), (0, "put", "b"), (0, "put", "c"), (5, "put", "d")],
        {"a", "b", "c", "d"},
    ),
    (
        "max_bytes 30 still holds once every original is past its grace",
        [(1, "put", "a"), (1, "put", "b"), (1, "put", "c"), (1, "put", "d"), (100, "put", "x")],
        {"c", "d", "x"},
    ),
]


@pytest.mark.parametrize(
    ("steps", "survivors"),
    [(c[1], c[2]) for c in GRACE_CASES],
    ids=[c[0] for c in GRACE_CASES],
)
def test_eviction_spares_the_grace_period(
    make_store: MakeStore, steps: list[tuple[float, str, str]], survivors: set[str]
) -> None:
    clock = FakeClock()
    store = make_store(max_bytes=30, grace_seconds=5, clock=clock)
    originals: dict[str, bytes] = {}
    for elapsed, op, name in steps:
        clock.advance(elapsed)
        originals[name] = name.encode() * 10
        if op == "put":
            store.put(originals[name], kind="text")
        else:
            store.get(handle_for(originals[name]))

    present = {name for name, data in originals.items() if handle_for(data) in store}

    assert present == survivors
    assert store.stats().bytes == 10 * len(survivors)
    assert store.stats().max_bytes == 30


def test_default_grace_period_keeps_a_calls_handles(make_store: MakeStore) -> None:
    """Ten minutes by default: a burst of puts far over max_bytes loses none of them."""
    clock = FakeClock()
    store = make_store(max_bytes=100, clock=clock)
    handles = []
    for i in range(50):
        clock.advance(1)
        handles.append(store.put(f"{i:03} ".encode() * 25, kind="text"))

    assert all(handle in store for handle in handles)
    assert store.stats().bytes == 50 * 100
    clock.advance(600 + 1)
    store.put("the next call", kind="text")
    assert [handle in store for handle in handles] == [False] * 50


def test_max_bytes_zero_keeps_only_the_latest(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(max_bytes=0, grace_seconds=0, clock=clock)
    first = store.put("first", kind="text")
    clock.advance(1)
    second = store.put("second", kind="text")

    assert first not in store
    assert store.get(second).data == b"second"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ttl_seconds": 0},
        {"ttl_seconds": -1.0},
        {"max_bytes": -1},
        {"grace_seconds": -1},
        {"grace_seconds": float("nan")},
        {"grace_seconds": "600"},
    ],
    ids=[
        "ttl zero",
        "ttl negative",
        "max_bytes negative",
        "grace negative",
        "grace nan",
        "grace str",
    ],
)
def test_bad_bounds_are_rejected(backend: str, tmp_path: Path, kwargs: dict[str, Any]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(InvalidArgumentError, match=name):
        if backend == "memory":
            MemoryStore(**kwargs)
        elif backend == "redis":  # refused before any connection is made
            RedisStore("redis://127.0.0.1:1/0", **kwargs)
        else:
            SQLiteStore(tmp_path / "x.sqlite3", **kwargs)


# --- usage and stats -----------------------------------------------------------------------


def test_usage_totals_accumulate_per_kind(store: Store) -> None:
    log = usage_log_for(store)
    log.record("json", 1000, 200)
    log.record("json", 500, 100)
    log.record("log", 80, 80)

    usage = log.totals()

    assert usage == {"json": UsageTotals(2, 1500, 300), "log": UsageTotals(1, 80, 80)}
    assert usage["json"].tokens_saved == 1200


@pytest.mark.parametrize(
    ("kind", "before", "after", "name"),
    [("json", -1, 0, "tokens_before"), ("json", 1, -5, "tokens_after"), (3, 1, 1, "kind")],
)
def test_bad_usage_is_rejected(store: Store, kind: Any, before: int, after: int, name: str) -> None:
    log = usage_log_for(store)
    with pytest.raises(InvalidArgumentError, match=name):
        log.record(kind, before, after)
    assert log.totals() == {}
    assert isinstance(log, UsageLog)


def test_stats(store: Store, backend: str) -> None:
    empty = store.stats()
    store.put("abc", kind="text")
    store.put(b"\x00" * 7, kind="opaque")

    stats = store.stats()

    assert (empty.items, empty.bytes) == (0, 0)
    assert (stats.items, stats.bytes) == (2, 10)
    assert (stats.max_bytes, stats.writable, stats.error) == (None, True, None)
    assert stats.backend == backend
    if backend == "memory":
        assert stats.location is None
    elif isinstance(store, RedisStore):
        assert stats.location == store.url
    else:
        assert isinstance(store, SQLiteStore)
        assert stats.location == str(store.path)


def test_backends_satisfy_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)


# --- collisions ----------------------------------------------------------------------------


def test_truncated_hash_collision_is_refused(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Force two originals onto one handle: the second put must fail, the first survive."""
    handle = store.put("first", kind="text")
    real = headroom.store._common.encode_original

    def colliding(original: str | bytes) -> tuple[bytes, str, str]:
        data, sha, _ = real(original)
        return data, sha, handle

    for module in (headroom.store.memory, headroom.store.sqlite, headroom.store.redis):
        monkeypatch.setattr(module, "encode_original", colliding)

    with pytest.raises(StoreError) as excinfo:
        store.put("second", kind="text")

    message = str(excinfo.value)
    assert handle in message
    assert real("first")[1] in message
    assert real("second")[1] in message
    assert store.get(handle).data == b"first"
    assert store.stats().items == 1


def test_sqlite_expired_colliding_row_is_replaced(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "ccr.sqlite3"
    original = b"the real original"
    handle = handle_for(original)
    with SQLiteStore(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO originals VALUES (?, ?, 'text', ?, ?, 5, ?)",
            (handle, "f" * 64, clock.now - 1000, clock.now - 1000, b"other"),
        )
    conn.close()

    with SQLiteStore(path, ttl_seconds=100, clock=clock) as store:
        assert store.put(original, kind="text") == handle
        assert store.get(handle).data == original


# How a row can be corrupt: (SET clause, its arguments). The genuine original is b"genuine".
CORRUPTIONS: list[tuple[str, str, tuple[object, ...]]] = [
    ("bytes changed", "data = ?", (b"tampered",)),
    ("bytes truncated", "data = ?", (b"genu",)),
    ("bytes gone", "data = NULL", ()),
    ("bytes stored as text", "data = ?", ("genuine",)),
    ("sha256 changed", "sha256 = ?", ("0" * 64,)),
    ("sha256 naming another handle", "sha256 = ?", (handle_for("other")[9:] + "0" * 52,)),
]


@pytest.mark.parametrize(
    ("set_clause", "args"), [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS]
)
def test_sqlite_corrupt_row_is_refused_then_repaired(
    tmp_path: Path, set_clause: str, args: tuple[object, ...]
) -> None:
    path = tmp_path / "ccr.sqlite3"
    with SQLiteStore(path) as store:
        handle = store.put(b"genuine", kind="text")
        conn = sqlite3.connect(path)
        with conn:
            conn.execute(f"UPDATE originals SET {set_clause} WHERE handle = ?", (*args, handle))
        conn.close()

        with pytest.raises(StoreError, match="does not match") as excinfo:
            store.get(handle)
        assert str(path) in str(excinfo.value)
        assert handle in store  # present, if unreadable: `in` does not read the original

        assert store.put("genuine", kind="text") == handle

        got = store.get(handle)
        assert (got.data, got.size, got.kind) == (b"genuine", 7, "text")
        assert (store.stats().items, store.stats().bytes) == (1, 7)


# --- concurrency ---------------------------------------------------------------------------

THREADS = 8
PER_THREAD = 200
SHARED = 10


def test_thread_safety(store: Store) -> None:
    log = usage_log_for(store)

    def work(t: int) -> list[str]:
        handles = []
        for i in range(PER_THREAD):
            original = f"thread {t} item {i} ".encode() * (i % 7 + 1)
            handle = store.put(original, kind="text")
            assert store.get(handle).data == original
            # Every thread also races the others on the same few originals.
            shared = f"shared {i % SHARED}"
            assert store.get(store.put(shared, kind="text")).data == shared.encode()
            log.record("text", 10, 3)
            handles.append(handle)
        return handles

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))

    expected = {
        handle_for(f"thread {t} item {i} ".encode() * (i % 7 + 1)): f"thread {t} item {i} ".encode()
        * (i % 7 + 1)
        for t in range(THREADS)
        for i in range(PER_THREAD)
    }
    expected.update({handle_for(f"shared {i}"): f"shared {i}".encode() for i in range(SHARED)})
    assert {h for hs in results for h in hs} <= expected.keys()
    for handle, data in expected.items():
        assert store.get(handle).data == data
    stats = store.stats()
    assert stats.items == len(expected) == THREADS * PER_THREAD + SHARED
    assert stats.bytes == sum(len(d) for d in expected.values())
    assert log.totals()["text"] == UsageTotals(THREADS * PER_THREAD, 10 * 1600, 3 * 1600)


PROCESSES = 4
PER_PROCESS = 100


def _process_original(worker: int, i: int) -> bytes:
    # Binary, distinct per (worker, i), and of varying size.
    return bytes([worker, i % 256, 0, 255]) + random.Random(worker * 1000 + i).randbytes(i * 37)


def _put_from_process(path: str, worker: int, barrier: Any) -> None:
    # Runs in a spawned child. All children open the not-yet-created file at once, so
    # schema creation and the switch to WAL race too.
    barrier.wait()
    with SQLiteStore(path) as store:
        for i in range(PER_PROCESS):
            store.put(_process_original(worker, i), kind="opaque")
        SQLiteUsageLog(store).record("opaque", 100, 10)


def test_sqlite_cross_process_safety(tmp_path: Path) -> None:
    path = str(tmp_path / "shared" / "ccr.sqlite3")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    workers = [
        ctx.Process(target=_put_from_process, args=(path, w, barrier)) for w in range(PROCESSES)
    ]

    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert [w.exitcode for w in workers] == [0] * PROCESSES
    with SQLiteStore(path) as store:
        for worker_id in range(PROCESSES):
            for i in range(PER_PROCESS):
                original = _process_original(worker_id, i)
                assert store.get(handle_for(original)).data == original
        stats = store.stats()
        usage = SQLiteUsageLog(store).totals()
    assert stats.items == PROCESSES * PER_PROCESS
    assert usage == {"opaque": UsageTotals(PROCESSES, 100 * PROCESSES, 10 * PROCESSES)}


# --- SQLite specifics ----------------------------------------------------------------------


def test_sqlite_file_setup(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ccr.sqlite3"

    with SQLiteStore(path) as store:
        handle = store.put("persisted", kind="text")
        assert repr(store) == f"SQLiteStore({str(path)!r})"

    assert path.is_file()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (4,)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(originals)")]
        assert columns == ["handle", "sha256", "kind", "created_at", "accessed_at", "size", "data"]
        columns = [row[1] for row in conn.execute("PRAGMA table_info(usage)")]
        assert columns == ["kind", "calls", "tokens_before", "tokens_after"]
    finally:
        conn.close()
    with SQLiteStore(path) as reopened:
        assert reopened.get(handle).text == "persisted"


def test_sqlite_busy_timeout_is_set(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "ccr.sqlite3") as store:
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_sqlite_get_leaves_puts_fully_synced(tmp_path: Path) -> None:
    """A get's LRU bump skips the fsync; the connection must be back to FULL for puts."""
    with SQLiteStore(tmp_path / "ccr.sqlite3") as store:
        handle = store.put("x", kind="text")
        store.get(handle)
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


def test_sqlite_closed_store_raises(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "ccr.sqlite3")
    store.close()
    store.close()

    with pytest.raises(StoreError, match="closed"):
        store.put("x", kind="text")


@pytest.mark.parametrize("problem", ["directory", "not a database", "newer schema"])
def test_sqlite_errors_name_the_path(tmp_path: Path, problem: str) -> None:
    path = tmp_path / "ccr.sqlite3"
    if problem == "directory":
        path.mkdir()
    elif problem == "not a database":
        path.write_bytes(b"this is not a sqlite file at all, just some text" * 100)
    else:
        with SQLiteStore(path):
            pass
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version = 99")
        conn.close()

    with pytest.raises(StoreError) as excinfo:
        SQLiteStore(path)

    assert str(path) in str(excinfo.value)


# --- open_store and default paths ----------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind", "where"),
    [
        (None, SQLiteStore, "home"),
        ("sqlite", SQLiteStore, "home"),
        ("memory", MemoryStore, None),
        ("str path", SQLiteStore, "custom"),
        ("PathLike", SQLiteStore, "custom"),
    ],
)
def test_open_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str | None, kind: type, where: str
) -> None:
    monkeypatch.setenv("HEADROOM_HOME", str(tmp_path / "home"))
    custom = tmp_path / "custom" / "my.sqlite3"
    arg: Any = {"str path": str(custom), "PathLike": custom}.get(spec or "", spec)

    store = open_store(arg)
    try:
        assert type(store) is kind
        if where == "home":
            assert isinstance(store, SQLiteStore)
            assert store.path == tmp_path / "home" / "ccr.sqlite3"
        elif where == "custom":
            assert isinstance(store, SQLiteStore)
            assert store.path == custom
        assert store.get(store.put("x", kind="text")).data == b"x"
    finally:
        store.close()


def test_open_store_returns_a_store_as_is() -> None:
    store = MemoryStore()

    assert open_store(store) is store


@pytest.mark.parametrize("spec", [42, "", "http://localhost:6379/0", b"memory", 1.5, object()])
def test_open_store_rejects_bad_spec(spec: Any) -> None:
    with pytest.raises(InvalidArgumentError) as excinfo:
        open_store(spec)

    assert repr(spec) in str(excinfo.value)


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"HEADROOM_HOME": "/srv/hr"}, "/srv/hr"),
        ("darwin", {"HEADROOM_HOME": "/srv/hr"}, "/srv/hr"),
        ("linux", {"HEADROOM_HOME": "~/hr"}, "{home}/hr"),
        ("linux", {"XDG_DATA_HOME": "/xdg"}, "/xdg/headroom"),
        ("linux", {"XDG_DATA_HOME": "relative/xdg"}, "{home}/.local/share/headroom"),
        ("linux", {}, "{home}/.local/share/headroom"),
        ("linux", {"HEADROOM_HOME": ""}, "{home}/.local/share/headroom"),
        ("darwin", {"XDG_DATA_HOME": "/xdg"}, "{home}/Library/Application Support/headroom"),
        ("win32", {"LOCALAPPDATA": "/appdata/local"}, "/appdata/local/headroom"),
        ("win32", {}, "{home}/AppData/Local/headroom"),
    ],
)
def test_default_home(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    platform: str,
    env: dict[str, str],
    expected: str,
) -> None:
    for name in ("HEADROOM_HOME", "XDG_DATA_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", platform)

    assert default_home() == Path(expected.format(home=tmp_path))
    assert default_store_path() == Path(expected.format(home=tmp_path)) / "ccr.sqlite3"
