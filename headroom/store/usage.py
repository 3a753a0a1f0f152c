"""Usage statistics, kept apart from the originals: tokens before and after, per content kind
and per day.

A :class:`~headroom.store.base.Store` only stores originals; what ``headroom stats`` reports
comes from a :class:`UsageLog`. :func:`usage_log_for` gives each store the log that lives
beside it: the ``usage`` and ``usage_days`` tables of a SQLite file, hashes under a Redis
store's prefix, or a process-local tally for a memory store (or any other ``Store``).

Each record counts twice: in its kind's all-time totals (:meth:`UsageLog.totals`, one row or
hash per kind however long the log has run) and in its UTC day's (:meth:`UsageLog.by_day`,
``YYYY-MM-DD`` by the store's clock). Nothing expires: a day's counts stay until the store's
file or keys are deleted (a few hundred bytes per kind and day). Counts recorded before per-day
counting existed (a store written by an older Headroom) are in :meth:`UsageLog.totals` only,
so ``totals()`` can exceed the sum of ``by_day()``; ``headroom stats`` shows the difference
as "earlier".

Example:
    >>> from headroom.store import MemoryStore
    >>> log = usage_log_for(MemoryStore())
    >>> log.record("json", 1000, 200)
    >>> log.totals()["json"].tokens_saved
    800
    >>> [kinds["json"].tokens_saved for kinds in log.by_day(days=1).values()]
    [800]
"""

from __future__ import annotations

import atexit
import functools
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from headroom.errors import InvalidArgumentError, StoreError
from headroom.store._common import check_usage
from headroom.store.base import Store
from headroom.store.memory import MemoryStore
from headroom.store.redis import RedisStore
from headroom.store.sqlite import SQLiteStore, _transaction
from headroom.store.unavailable import UnavailableStore

__all__ = [
    "MemoryUsageLog",
    "RedisUsageLog",
    "SQLiteUsageLog",
    "UnavailableUsageLog",
    "UsageLog",
    "UsageTotals",
    "day_of",
    "usage_log_for",
]

RECENT_DAYS = 14
"""The days of per-day totals shown unless asked otherwise (``headroom stats``, the proxy's
``/stats``, the MCP server's ``headroom_stats``)."""

# Per-day totals: day ("YYYY-MM-DD", UTC) -> kind -> totals, newest day first.
ByDay = dict[str, dict[str, "UsageTotals"]]


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Tokens before and after compression, summed over recorded calls, for one kind."""

    calls: int
    tokens_before: int
    tokens_after: int

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    @classmethod
    def summed(cls, totals: Iterable[UsageTotals]) -> UsageTotals:
        """The sum of ``totals`` (all zero for none).

        Example:
            >>> UsageTotals.summed([UsageTotals(1, 100, 40), UsageTotals(2, 50, 50)])
            UsageTotals(calls=3, tokens_before=150, tokens_after=90)
        """
        calls = before = after = 0
        for u in totals:
            calls, before, after = calls + u.calls, before + u.tokens_before, after + u.tokens_after
        return cls(calls, before, after)

    def fields(self) -> dict[str, int]:
        """The counts and the tokens saved, as written in JSON reports."""
        return {
            "calls": self.calls,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "tokens_saved": self.tokens_saved,
        }


def day_of(seconds: float) -> str:
    """The UTC day of a time in seconds since the epoch, as ``YYYY-MM-DD``.

    Example:
        >>> day_of(0.0)
        '1970-01-01'
    """
    return _day(int(seconds // 86_400))


@functools.lru_cache(maxsize=4)
def _day(number: int) -> str:
    # Cached: every record is dated, and formatting a date costs more than the rest of it.
    return time.strftime("%Y-%m-%d", time.gmtime(number * 86_400))


@runtime_checkable
class UsageLog(Protocol):
    """Where compression calls' token counts are added up. Implementations are
    thread-safe."""

    def record(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Add one compression call's token counts to ``kind``'s totals, all-time and
        today's (UTC).

        Raises:
            InvalidArgumentError: ``kind`` is not a string or a count is not an int >= 0.
            StoreError: the log cannot be written.
        """
        ...

    def totals(self) -> dict[str, UsageTotals]:
        """The totals per kind over every day, sorted by kind."""
        ...

    def by_day(self, days: int | None = None) -> ByDay:
        """The totals per UTC day (``YYYY-MM-DD``) and kind, newest day first, kinds sorted;
        only days with records. ``days``: only the last ``days`` calendar days, today
        included (``None``: every day).

        Raises:
            InvalidArgumentError: ``days`` is not an int >= 1.
            StoreError: the log cannot be read.
        """
        ...

    def close(self) -> None:
        """Write out anything held back; the log's store is closed by its owner."""
        ...


class MemoryUsageLog:
    """Totals in this process only (for a :class:`~headroom.store.MemoryStore`).

    Args:
        clock: seconds since the epoch, which dates each record; injectable for tests.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._totals: dict[str, UsageTotals] = {}
        self._days: dict[tuple[str, str], UsageTotals] = {}

    def record(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        check_usage(kind, tokens_before, tokens_after)
        key = (day_of(self._clock()), kind)
        with self._lock:
            self._totals[kind] = _add(self._totals.get(kind), 1, tokens_before, tokens_after)
            self._days[key] = _add(self._days.get(key), 1, tokens_before, tokens_after)

    def totals(self) -> dict[str, UsageTotals]:
        with self._lock:
            return dict(sorted(self._totals.items()))

    def by_day(self, days: int | None = None) -> ByDay:
        since = _since(days, self._clock)
        with self._lock:
            rows = [(d, k, t) for (d, k), t in self._days.items() if since is None or d >= since]
        return _nest(rows)

    def close(self) -> None:
        """Nothing is held back."""


class _BatchedUsageLog:
    """Counts held in this process and written at most once per ``flush_seconds`` (and by
    :meth:`totals`, :meth:`by_day`, :meth:`close` and at exit), so that bookkeeping adds no
    write to most compression calls; a process killed outright loses at most that
    interval's counts, never an original. ``flush_seconds=0`` writes every record at once."""

    def __init__(self, *, flush_seconds: float, clock: Callable[[], float]) -> None:
        self._flush_seconds = flush_seconds
        self._clock = clock
        self._lock = threading.Lock()
        # Held from taking the pending counts to writing them, so totals() never reads a
        # total that misses counts another thread is writing.
        self._flush_lock = threading.Lock()
        # (day, kind) -> counts: a batch that spans midnight is written to both days.
        self._pending: dict[tuple[str, str], UsageTotals] = {}
        # Batches whose write failed, retried as they were, under the same id: a write can
        # fail after the store applied it (a reply lost to a timeout), and the id lets the
        # store apply each batch once (see RedisUsageLog).
        self._unsent: list[tuple[str, dict[tuple[str, str], UsageTotals]]] = []
        self._flushed_at = time.monotonic()

    def record(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Add one call's counts; written with the others when the interval is up.

        Raises:
            StoreError: a write was due and failed (the counts are kept for the next one),
                or the store cannot be written at all.
        """
        check_usage(kind, tokens_before, tokens_after)
        self._check_writable()
        key = (day_of(self._clock()), kind)
        with self._lock:
            self._pending[key] = _add(self._pending.get(key), 1, tokens_before, tokens_after)
            _UNFLUSHED.add(self)
            due = time.monotonic() - self._flushed_at >= self._flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the counts held back (one transaction or round trip per batch).

        Raises:
            StoreError: the store failed; the counts are kept for the next write.
        """
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
                self._flushed_at = time.monotonic()
                # Batches are written in order and stop at the first failure, which stays
                # first in the list: a batch after it has never been tried.
                last_untried = len(self._unsent) > 1
                if pending and last_untried:
                    # Never sent yet, so never applied: new counts join it, and the list
                    # stays short however long the store is down (one tried batch, one not).
                    last = self._unsent[-1][1]
                    for key, add in pending.items():
                        last[key] = _add(
                            last.get(key), add.calls, add.tokens_before, add.tokens_after
                        )
                elif pending:
                    self._unsent.append((uuid.uuid4().hex, pending))
                if not self._unsent:
                    _UNFLUSHED.discard(self)
                    return
            while self._unsent:  # only flush() changes the list, under the flush lock
                batch, counts = self._unsent[0]
                self._write(counts, batch)  # StoreError: kept, retried next time
                with self._lock:
                    del self._unsent[0]
            with self._lock:
                if not self._pending:
                    _UNFLUSHED.discard(self)

    def totals(self) -> dict[str, UsageTotals]:
        """Every process's totals, after writing this one's.

        Raises:
            StoreError: the store failed or cannot be reached.
        """
        self.flush()
        return self._read()

    def by_day(self, days: int | None = None) -> ByDay:
        """Every process's totals per day, after writing this one's (see
        :meth:`UsageLog.by_day`).

        Raises:
            InvalidArgumentError: ``days`` is not an int >= 1.
            StoreError: the store failed or cannot be reached.
        """
        since = _since(days, self._clock)
        self.flush()
        return _nest(self._read_days(since))

    def close(self) -> None:
        """Write the counts held back; if the store cannot take them, say so in a warning
        (bookkeeping must not fail the program, nor be lost without a word)."""
        try:
            self.flush()
        except StoreError as error:
            with self._lock:
                batches = [self._pending, *(counts for _, counts in self._unsent)]
                held = sum(t.calls for counts in batches for t in counts.values())
            warnings.warn(
                f"headroom: usage counts of {held} call(s) not written: {error}",
                RuntimeWarning,
                stacklevel=2,
            )

    def _check_writable(self) -> None:
        """Raise StoreError now if nothing could ever be written."""

    def _write(self, pending: dict[tuple[str, str], UsageTotals], batch: str) -> None:
        """Add ``pending`` to the stored totals, once per ``batch`` id where the store can
        tell (a retried batch has the id of its first try)."""
        raise NotImplementedError

    def _read(self) -> dict[str, UsageTotals]:
        raise NotImplementedError

    def _read_days(self, since: str | None) -> list[tuple[str, str, UsageTotals]]:
        raise NotImplementedError


class SQLiteUsageLog(_BatchedUsageLog):
    """Totals in the ``usage`` (all-time, per kind) and ``usage_days`` (per day and kind)
    tables of a SQLite store's file, shared by every process using it, written together in
    one transaction of the store's own connection: at once by default, or batched
    (``flush_seconds``; the clients use 1 s, since an upsert with its sync cost ~15 ms per
    request on a busy disk). Records are dated by the store's clock."""

    def __init__(self, store: SQLiteStore, *, flush_seconds: float = 0.0) -> None:
        super().__init__(flush_seconds=flush_seconds, clock=store._clock)
        self._store = store

    def _check_writable(self) -> None:
        self._store._check_writable()

    def _write(self, pending: dict[tuple[str, str], UsageTotals], batch: str) -> None:
        # One local transaction: it commits or raises, so a retry never adds twice.
        kinds: dict[str, UsageTotals] = {}
        for (_, kind), add in pending.items():
            kinds[kind] = _add(kinds.get(kind), add.calls, add.tokens_before, add.tokens_after)
        with self._store._session() as conn, _transaction(conn):
            conn.executemany(
                "INSERT INTO usage (kind, calls, tokens_before, tokens_after)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (kind) DO UPDATE SET"
                " calls = calls + excluded.calls,"
                " tokens_before = tokens_before + excluded.tokens_before,"
                " tokens_after = tokens_after + excluded.tokens_after",
                [(k, t.calls, t.tokens_before, t.tokens_after) for k, t in kinds.items()],
            )
            conn.executemany(
                "INSERT INTO usage_days (day, kind, calls, tokens_before, tokens_after)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (day, kind) DO UPDATE SET"
                " calls = calls + excluded.calls,"
                " tokens_before = tokens_before + excluded.tokens_before,"
                " tokens_after = tokens_after + excluded.tokens_after",
                [(d, k, t.calls, t.tokens_before, t.tokens_after) for (d, k), t in pending.items()],
            )

    def _read(self) -> dict[str, UsageTotals]:
        with self._store._session() as conn:
            return {
                kind: UsageTotals(calls, before, after)
                for kind, calls, before, after in conn.execute(
                    "SELECT kind, calls, tokens_before, tokens_after FROM usage ORDER BY kind"
                )
            }

    def _read_days(self, since: str | None) -> list[tuple[str, str, UsageTotals]]:
        if self._store._version < 4:  # an older file opened read-only: no per-day table
            return []
        with self._store._session() as conn:
            return [
                (day, kind, UsageTotals(calls, before, after))
                for day, kind, calls, before, after in conn.execute(
                    "SELECT day, kind, calls, tokens_before, tokens_after FROM usage_days"
                    " WHERE day >= ?",
                    (since or "",),
                )
            ]


# Adds one batch of counts, unless a batch with its id was added already (its mark is set):
# a retry after a lost reply (the write applied, its answer timed out) is not counted twice.
# A script's writes are not undone when it fails halfway, so it checks every key's type
# before the first write and sets the mark after the last; the mark lives a week, longer
# than any retry waits. (The keys of one batch are in different hash slots: Redis Cluster is
# not supported, as with the MULTI this replaced.)
_ADD_BATCH: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = (#ARGV - 1) / 5
for i = 2, 3 do
  local t = redis.call('TYPE', KEYS[i])['ok']
  if t ~= 'set' and t ~= 'none' then return redis.error_reply('WRONGTYPE ' .. KEYS[i]) end
end
for i = 0, n - 1 do
  for _, key in ipairs({KEYS[4 + 2 * i], KEYS[5 + 2 * i]}) do
    local t = redis.call('TYPE', key)['ok']
    if t ~= 'hash' and t ~= 'none' then return redis.error_reply('WRONGTYPE ' .. key) end
  end
end
for i = 0, n - 1 do
  local kind, day = ARGV[2 + 5 * i], ARGV[3 + 5 * i]
  local calls, before, after = ARGV[4 + 5 * i], ARGV[5 + 5 * i], ARGV[6 + 5 * i]
  local total, daily = KEYS[4 + 2 * i], KEYS[5 + 2 * i]
  redis.call('HINCRBY', total, 'calls', calls)
  redis.call('HINCRBY', total, 'before', before)
  redis.call('HINCRBY', total, 'after', after)
  redis.call('SADD', KEYS[2], kind)
  redis.call('HINCRBY', daily, 'calls:' .. kind, calls)
  redis.call('HINCRBY', daily, 'before:' .. kind, before)
  redis.call('HINCRBY', daily, 'after:' .. kind, after)
  redis.call('SADD', KEYS[3], day)
end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
return 1
"""
_BATCH_MARK_SECONDS: Final = 7 * 24 * 3600


class RedisUsageLog(_BatchedUsageLog):
    """Totals in hashes under a Redis store's prefix, added to by atomic increments from
    every process sharing the server; batched (``flush_seconds``, 1 s by default) so that
    bookkeeping does not add a round trip to every call.

    Keys: ``<prefix>u:<kind>`` (all-time, fields ``calls``, ``before``, ``after``) and
    ``<prefix>uk`` (the kinds); ``<prefix>ud:<day>`` (one hash per UTC day, fields
    ``calls:<kind>``, ``before:<kind>``, ``after:<kind>``) and ``<prefix>ud`` (the days).
    None has an expiry but ``<prefix>ub:<batch>``, the mark of a batch already added, kept
    a week so that a retried batch is added once. Records are dated by the store's clock."""

    def __init__(self, store: RedisStore, *, flush_seconds: float = 1.0) -> None:
        super().__init__(flush_seconds=flush_seconds, clock=store._clock)
        self._store = store

    def _write(self, pending: dict[tuple[str, str], UsageTotals], batch: str) -> None:
        prefix = self._store.prefix
        keys = [f"{prefix}ub:{batch}", f"{prefix}uk", f"{prefix}ud"]
        args: list[str | int] = [_BATCH_MARK_SECONDS]
        for (day, kind), add in pending.items():
            keys += [f"{prefix}u:{kind}", f"{prefix}ud:{day}"]
            args += [kind, day, add.calls, add.tokens_before, add.tokens_after]
        self._store._call(self._add_batch, keys=keys, args=args)

    @functools.cached_property
    def _add_batch(self) -> Any:
        return self._store._client.register_script(_ADD_BATCH)

    def _read(self) -> dict[str, UsageTotals]:
        prefix = self._store.prefix
        kinds = sorted(
            k.decode("utf-8", "replace")
            for k in self._store._call(self._store._client.smembers, f"{prefix}uk")
        )
        pipe = self._store._client.pipeline(transaction=False)
        for kind in kinds:
            pipe.hgetall(f"{prefix}u:{kind}")
        rows: list[dict[bytes, bytes]] = self._store._call(pipe.execute) if kinds else []
        return {
            kind: UsageTotals(
                int(row.get(b"calls", 0)), int(row.get(b"before", 0)), int(row.get(b"after", 0))
            )
            for kind, row in zip(kinds, rows, strict=True)
        }

    def _read_days(self, since: str | None) -> list[tuple[str, str, UsageTotals]]:
        prefix = self._store.prefix
        days = sorted(
            day
            for d in self._store._call(self._store._client.smembers, f"{prefix}ud")
            if (day := d.decode("utf-8", "replace")) >= (since or "")
        )
        pipe = self._store._client.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(f"{prefix}ud:{day}")
        hashes: list[dict[bytes, bytes]] = self._store._call(pipe.execute) if days else []
        out: list[tuple[str, str, UsageTotals]] = []
        for day, fields in zip(days, hashes, strict=True):
            counts: dict[str, dict[str, int]] = {}
            for name, value in fields.items():
                what, _, kind = name.decode("utf-8", "replace").partition(":")
                counts.setdefault(kind, {})[what] = int(value)
            out.extend(
                (day, kind, UsageTotals(c.get("calls", 0), c.get("before", 0), c.get("after", 0)))
                for kind, c in counts.items()
            )
        return out


class UnavailableUsageLog:
    """The log of a store that could not be opened: records nothing, says why."""

    def __init__(self, store: UnavailableStore) -> None:
        self._store = store

    def record(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Always raises.

        Raises:
            StoreError: naming the store and why it could not be opened.
        """
        check_usage(kind, tokens_before, tokens_after)
        raise StoreError(f"{self._store.stats().error}; usage was not recorded")

    def totals(self) -> dict[str, UsageTotals]:
        return {}

    def by_day(self, days: int | None = None) -> ByDay:
        _since(days, time.time)
        return {}

    def close(self) -> None:
        """Nothing is held back."""


def usage_log_for(store: Store) -> UsageLog:
    """The usage log that lives beside ``store`` (see the module docstring)."""
    if isinstance(store, SQLiteStore):
        return SQLiteUsageLog(store, flush_seconds=1.0)
    if isinstance(store, RedisStore):
        return RedisUsageLog(store)
    if isinstance(store, UnavailableStore):
        return UnavailableUsageLog(store)
    if isinstance(store, MemoryStore):
        return MemoryUsageLog(clock=store._clock)
    return MemoryUsageLog()


# The logs holding counts not yet written, kept alive until they are (a log dropped without
# close() still gets its counts out at exit); one exit hook, however many logs.
_UNFLUSHED: set[_BatchedUsageLog] = set()


@atexit.register
def _flush_at_exit() -> None:
    for log in list(_UNFLUSHED):  # close() removes it from the set
        log.close()


def _add(old: UsageTotals | None, calls: int, before: int, after: int) -> UsageTotals:
    if old is None:
        return UsageTotals(calls, before, after)
    return UsageTotals(old.calls + calls, old.tokens_before + before, old.tokens_after + after)


def _since(days: int | None, clock: Callable[[], float]) -> str | None:
    """The first day of the last ``days`` days (today included), or None for every day."""
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InvalidArgumentError(f"days: expected an int >= 1 or None, got {days!r}")
    now = clock()
    if (days - 1) * 86_400 >= now:  # back to before 1970: no record is older
        return None
    return day_of(now - (days - 1) * 86_400)


def _nest(rows: list[tuple[str, str, UsageTotals]]) -> ByDay:
    ordered = sorted(rows, key=lambda row: row[1])  # kinds sorted within a day,
    ordered.sort(key=lambda row: row[0], reverse=True)  # days newest first (a stable sort)
    out: ByDay = {}
    for day, kind, totals in ordered:
        out.setdefault(day, {})[kind] = totals
    return out
