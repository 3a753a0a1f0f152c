"""The usage log's per-day totals (``UsageLog.by_day``) on every backend, and the in-place
upgrade of a SQLite file written before per-day counting existed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from headroom.errors import InvalidArgumentError
from headroom.store import MemoryStore, SQLiteStore, Store, UsageTotals
from headroom.store.redis import RedisStore
from headroom.store.usage import UsageLog, day_of, usage_log_for

DAY = 86_400.0
# 2026-03-01 23:59:30 UTC: a batch recorded across midnight lands on two days.
LATE = 1_772_409_570.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_log(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[Clock], tuple[Store, UsageLog]]]:
    opened: list[tuple[Store, UsageLog]] = []

    def make(clock: Clock) -> tuple[Store, UsageLog]:
        store: Store
        if request.param == "memory":
            store = MemoryStore(clock=clock)
        elif request.param == "redis":
            url = request.getfixturevalue("redis_url")
            store = RedisStore(url, prefix=f"t{uuid4().hex[:8]}:", clock=clock)
        else:
            store = SQLiteStore(tmp_path / f"s{len(opened)}.sqlite3", clock=clock)
        log = usage_log_for(store)
        opened.append((store, log))
        return store, log

    yield make
    for store, log in opened:
        log.close()
        store.close()


def test_day_of_is_the_utc_date() -> None:
    assert day_of(LATE) == "2026-03-01"
    assert day_of(LATE + 30) == "2026-03-02"


def test_records_are_counted_per_day_and_in_the_totals(
    make_log: Callable[[Clock], tuple[Store, UsageLog]],
) -> None:
    clock = Clock(LATE - 3 * DAY)
    _, log = make_log(clock)
    log.record("json", 1000, 200)
    clock.now = LATE  # 23:59:30
    log.record("json", 500, 100)
    log.record("log", 80, 80)
    clock.now = LATE + 60  # after midnight, in the same held-back batch
    log.record("json", 10, 5)

    assert log.by_day() == {
        "2026-03-02": {"json": UsageTotals(1, 10, 5)},
        "2026-03-01": {"json": UsageTotals(1, 500, 100), "log": UsageTotals(1, 80, 80)},
        "2026-02-26": {"json": UsageTotals(1, 1000, 200)},
    }
    assert list(log.by_day()) == ["2026-03-02", "2026-03-01", "2026-02-26"]  # newest first
    assert log.by_day(days=1) == {"2026-03-02": {"json": UsageTotals(1, 10, 5)}}
    assert list(log.by_day(days=2)) == ["2026-03-02", "2026-03-01"]
    assert list(log.by_day(days=5)) == ["2026-03-02", "2026-03-01", "2026-02-26"]
    # More days than there are since 1970: every day (a date before year 1 would not exist).
    assert log.by_day(days=10**14) == log.by_day()
    # totals() keeps its meaning: every day summed, per kind.
    assert log.totals() == {"json": UsageTotals(3, 1510, 305), "log": UsageTotals(1, 80, 80)}


@pytest.mark.parametrize("days", [0, -1, 1.5, "7", True])
def test_a_bad_days_is_refused(
    make_log: Callable[[Clock], tuple[Store, UsageLog]], days: object
) -> None:
    _, log = make_log(Clock(LATE))
    with pytest.raises(InvalidArgumentError, match="days: expected an int >= 1"):
        log.by_day(days=days)  # type: ignore[arg-type]


def test_counts_held_back_are_in_by_day(tmp_path: Path) -> None:
    """The client's log holds counts up to a second; by_day, like totals, writes them first,
    and another process's view (a second store on the file) sees them."""
    clock = Clock(LATE)
    path = tmp_path / "ccr.sqlite3"
    with SQLiteStore(path, clock=clock) as store, SQLiteStore(path, clock=clock) as other:
        log = usage_log_for(store)
        log.record("text", 100, 10)
        assert usage_log_for(other).by_day() == {}  # held back, not written yet
        assert log.by_day() == {"2026-03-01": {"text": UsageTotals(1, 100, 10)}}
        assert usage_log_for(other).by_day() == {"2026-03-01": {"text": UsageTotals(1, 100, 10)}}


def _version_3_file(path: Path) -> None:
    """A store as Headroom wrote it before per-day counting (schema version 3), by hand."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE originals (handle TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT,
            created_at REAL, accessed_at REAL, size INTEGER, data BLOB);
        CREATE INDEX originals_by_access ON originals (accessed_at, handle, size);
        CREATE INDEX originals_by_creation ON originals (created_at);
        CREATE TABLE usage (kind TEXT PRIMARY KEY, calls INTEGER, tokens_before INTEGER,
            tokens_after INTEGER);
        CREATE TABLE tombstones (handle TEXT PRIMARY KEY, went_at REAL, reason TEXT);
        CREATE TABLE refs (name TEXT PRIMARY KEY, handle TEXT NOT NULL, expires_at REAL);
        INSERT INTO usage VALUES ('json', 40, 90000, 20000), ('log', 3, 600, 150);
        PRAGMA user_version = 3;
        """
    )
    conn.close()


def test_a_version_3_file_is_upgraded_in_place_keeping_its_counts(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _version_3_file(path)

    # Read-only, it is read as it is: its totals, and no per-day counts.
    with SQLiteStore(path, read_only=True) as old:
        log = usage_log_for(old)
        assert log.totals() == {
            "json": UsageTotals(40, 90000, 20000),
            "log": UsageTotals(3, 600, 150),
        }
        assert log.by_day() == {}

    with SQLiteStore(path, clock=Clock(LATE)) as store:
        log = usage_log_for(store)
        log.record("json", 100, 10)
        # The old counts stay in the all-time totals; only new records are dated.
        assert log.totals() == {
            "json": UsageTotals(41, 90100, 20010),
            "log": UsageTotals(3, 600, 150),
        }
        assert log.by_day() == {"2026-03-01": {"json": UsageTotals(1, 100, 10)}}
        log.close()

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (4,)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(usage_days)")]
        assert columns == ["day", "kind", "calls", "tokens_before", "tokens_after"]
        assert conn.execute("SELECT SUM(calls) FROM usage").fetchone() == (44,)
    finally:
        conn.close()
    with SQLiteStore(path) as reopened:  # and the upgraded file opens as a store again
        assert usage_log_for(reopened).totals()["log"] == UsageTotals(3, 600, 150)


def test_redis_days_have_no_expiry(redis_url: str) -> None:
    with RedisStore(redis_url, prefix=f"t{uuid4().hex[:8]}:", clock=Clock(LATE)) as store:
        log = usage_log_for(store)
        log.record("text", 5, 1)
        log.close()
        client = store._client
        assert client.ttl(f"{store.prefix}ud:2026-03-01") == -1  # -1: the key has no expiry
        assert client.ttl(f"{store.prefix}ud") == -1
