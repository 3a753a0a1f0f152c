"""Durable handles: an expired or evicted handle says so, and when; one never stored does not."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

import headroom.store.memory
import headroom.store.redis
import headroom.store.sqlite
from headroom import HandleExpiredError, HandleNotFoundError
from headroom.handles import handle_for
from headroom.store import MemoryStore, SQLiteStore, Store
from headroom.store._common import DEFAULT_TTL_SECONDS
from headroom.store.redis import RedisStore
from tests.unit.test_store import FakeClock

MakeStore = Callable[..., Store]


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    opened: list[Store] = []

    def make(**kwargs: Any) -> Store:
        store: Store
        if request.param == "memory":
            store = MemoryStore(**kwargs)
        elif request.param == "sqlite":
            store = SQLiteStore(tmp_path / f"s{len(opened)}.sqlite3", **kwargs)
        else:
            url = request.getfixturevalue("redis_url")
            store = RedisStore(url, prefix=f"t{uuid4().hex[:8]}:", **kwargs)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def test_an_expired_handle_says_when_and_one_never_stored_does_not(
    make_store: MakeStore,
) -> None:
    clock = FakeClock()
    store = make_store(ttl_seconds=100, clock=clock)
    handle = store.put("short-lived", kind="text")
    clock.advance(150)
    store.put("a later put purges the first", kind="text")

    with pytest.raises(HandleExpiredError) as expired:
        store.get(handle)
    never = handle_for("never stored")
    with pytest.raises(HandleNotFoundError) as missing:
        store.get(never)

    assert expired.value.handle == handle and expired.value.reason == "expired"
    assert expired.value.expired_at == pytest.approx(1_700_000_100.0)
    assert handle in str(expired.value) and _utc(1_700_000_100.0) in str(expired.value)
    assert not isinstance(missing.value, HandleExpiredError)
    assert never in str(missing.value) and "never stored" in str(missing.value)


def test_an_expired_handle_not_yet_purged_is_also_expired(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(ttl_seconds=100, clock=clock)
    handle = store.put("short-lived", kind="text")
    clock.advance(101)

    for _ in range(2):  # the first get removes it; the second reads the tombstone
        with pytest.raises(HandleExpiredError, match="expired at"):
            store.get(handle)


def test_an_evicted_handle_says_it_was_evicted(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(max_bytes=10, grace_seconds=0, clock=clock)
    first = store.put(b"a" * 10, kind="text")
    clock.advance(5)
    store.put(b"b" * 10, kind="text")

    with pytest.raises(HandleExpiredError) as caught:
        store.get(first)

    assert caught.value.reason == "evicted"
    assert caught.value.expired_at == pytest.approx(1_700_000_005.0)
    assert "evicted at" in str(caught.value) and first in str(caught.value)


def test_a_put_brings_an_expired_handle_back(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(ttl_seconds=100, clock=clock)
    handle = store.put("again", kind="text")
    clock.advance(101)
    with pytest.raises(HandleExpiredError):
        store.get(handle)

    assert store.put("again", kind="text") == handle
    assert store.get(handle).data == b"again"


def test_ttl_none_never_expires(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(ttl_seconds=None, clock=clock)
    handle = store.put("forever", kind="text")
    clock.advance(10 * 365 * 24 * 3600)
    store.put("a later put", kind="text")

    assert store.get(handle).data == b"forever"


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_the_default_ttl_is_a_week(backend: str, tmp_path: Path, request: Any) -> None:
    clock = FakeClock()
    store: Store
    if backend == "sqlite":
        store = SQLiteStore(tmp_path / "ccr.sqlite3", clock=clock)
    else:
        url = request.getfixturevalue("redis_url")
        store = RedisStore(url, prefix=f"t{uuid4().hex[:8]}:", clock=clock)
    handle = store.put("a week", kind="text")
    clock.advance(DEFAULT_TTL_SECONDS)
    assert store.get(handle).data == b"a week"
    clock.advance(1)
    with pytest.raises(HandleExpiredError):
        store.get(handle)
    store.close()
    assert DEFAULT_TTL_SECONDS == 7 * 24 * 3600


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_memory_and_sqlite_keep_only_the_latest_tombstones(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis bounds its tombstones by time instead (the next test)."""
    for module in (headroom.store.memory, headroom.store.sqlite):
        monkeypatch.setattr(module, "TOMBSTONE_LIMIT", 3)
    clock = FakeClock()
    bounds: dict[str, Any] = {"max_bytes": 0, "grace_seconds": 0, "clock": clock}
    store: Store = (
        MemoryStore(**bounds)
        if backend == "memory"
        else SQLiteStore(tmp_path / "ccr.sqlite3", **bounds)
    )
    handles = []
    for i in range(6):
        clock.advance(1)
        handles.append(store.put(f"original {i}", kind="text"))

    outcomes = []
    for handle in handles[:-1]:
        try:
            store.get(handle)
        except HandleExpiredError:
            outcomes.append("expired")
        except HandleNotFoundError:
            outcomes.append("unknown")
    assert outcomes == ["unknown", "unknown", "expired", "expired", "expired"]


def test_redis_tombstones_expire_after_the_retention(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(headroom.store.redis, "TOMBSTONE_SECONDS", 1)
    store = RedisStore(redis_url, prefix=f"t{uuid4().hex[:8]}:", max_bytes=0, grace_seconds=0)
    first = store.put("first", kind="text")
    store.put("second", kind="text")
    with pytest.raises(HandleExpiredError):
        store.get(first)
    ttl_ms = store._client.pttl(f"{store._prefix}x:{first}")
    assert 0 < ttl_ms <= 1000


_TOMBSTONES_V2 = "CREATE TABLE tombstones (handle TEXT PRIMARY KEY, went_at REAL, reason TEXT);"


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_sqlite_file_is_upgraded_in_place(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        f"""
        CREATE TABLE originals (handle TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT,
            created_at REAL, accessed_at REAL, size INTEGER, data BLOB);
        CREATE INDEX originals_by_access ON originals (accessed_at, handle, size);
        CREATE INDEX originals_by_creation ON originals (created_at);
        CREATE TABLE usage (kind TEXT PRIMARY KEY, calls INTEGER, tokens_before INTEGER,
            tokens_after INTEGER);
        {_TOMBSTONES_V2 if version == 2 else ""}
        PRAGMA user_version = {version};
        """
    )
    conn.close()
    # Read-only, it is read as it is: no tombstones or refs, but it works.
    with SQLiteStore(path, read_only=True) as old, pytest.raises(HandleNotFoundError):
        assert old.get_ref("anything") is None
        old.get(handle_for("x"))

    with SQLiteStore(path) as store:
        handle = store.put("kept", kind="text")
        assert store.get(handle).data == b"kept"
        store.set_ref("name", handle, None)
        assert store.get_ref("name") == handle

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (4,)
    tables = {
        table: [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        for table in ("tombstones", "refs")
    }
    conn.close()
    assert tables == {
        "tombstones": ["handle", "went_at", "reason"],
        "refs": ["name", "handle", "expires_at"],
    }
