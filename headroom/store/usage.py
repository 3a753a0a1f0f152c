"""Usage statistics, kept apart from the originals: tokens before and after, per content kind.

A :class:`~headroom.store.base.Store` only stores originals; what ``headroom stats`` reports
comes from a :class:`UsageLog`. :func:`usage_log_for` gives each store the log that lives
beside it: the ``usage`` table of a SQLite file, hashes under a Redis store's prefix, or a
process-local tally for a memory store (or any other ``Store``).

Example:
    >>> from headroom.store import MemoryStore
    >>> log = usage_log_for(MemoryStore())
    >>> log.record("json", 1000, 200)
    >>> log.totals()["json"].tokens_saved
    800
"""

from __future__ import annotations

import atexit
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from headroom.errors import StoreError
from headroom.store._common import check_usage
from headroom.store.base import Store
from headroom.store.redis import RedisStore
from headroom.store.sqlite import SQLiteStore
from headroom.store.unavailable import UnavailableStore

__all__ = [
    "MemoryUsageLog",
    "RedisUsageLog",
    "SQLiteUsageLog",
    "UnavailableUsageLog",
    "UsageLog",
    "UsageTotals",
    "usage_log_for",
]


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Tokens before and after compression, summed over recorded calls, for one kind."""

    calls: int
    tokens_before: int
    tokens_after: int

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after


@runtime_checkable
class UsageLog(Protocol):
    """Where compression calls' token counts are added up. Implementations are
    thread-safe."""

    def record(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Add one compression call's token counts to ``kind``'s totals.

        Raises:
            InvalidArgumentError: ``kind`` is not a string or a count is not an int >= 0.
            StoreError: the log cannot be written.
        """
        ...

    def totals(self) -> dict[str, UsageTotals]:
        """The totals per kind, sorted by kind."""
        ...

    def close(self) -> None:
        """Write out anything held back; the log's store is closed by its owner."""
        ...


class MemoryUsageLog:
    """Totals in this process only (for a :class:`~headroom.store.MemoryStore`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, UsageTotals] = {}

    def record(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        check_usage(kind, tokens_before, tokens_after)
        with self._lock:
            self._totals[kind] = _add(self._totals.get(kind), 1, tokens_before, tokens_after)

    def totals(self) -> dict[str, UsageTotals]:
        with self._lock:
            return dict(sorted(self._totals.items()))

    def close(self) -> None:
        """Nothing is held back."""


class _BatchedUsageLog:
    """Counts held in this process and written at most once per ``flush_seconds`` (and by
    :meth:`totals`, :meth:`close` and at exit), so that bookkeeping adds no write to most
    compression calls; a process killed outright loses at most that interval's counts,
    never an original. ``flush_seconds=0`` writes every record at once."""

    def __init__(self, *, flush_seconds: float) -> None:
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        # Held from taking the pending counts to writing them, so totals() never reads a
        # total that misses counts another thread is writing.
        self._flush_lock = threading.Lock()
        self._pending: dict[str, UsageTotals] = {}
        self._flushed_at = time.monotonic()

    def record(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Add one call's counts; written with the others when the interval is up.

        Raises:
            StoreError: a write was due and failed (the counts are kept for the next one),
                or the store cannot be written at all.
        """
        check_usage(kind, tokens_before, tokens_after)
        self._check_writable()
        with self._lock:
            self._pending[kind] = _add(self._pending.get(kind), 1, tokens_before, tokens_after)
            _UNFLUSHED.add(self)
            due = time.monotonic() - self._flushed_at >= self._flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the counts held back (one transaction or round trip).

        Raises:
            StoreError: the store failed; the counts are kept for the next write.
        """
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
                self._flushed_at = time.monotonic()
                _UNFLUSHED.discard(self)
            if not pending:
                return
            try:
                self._write(pending)
            except StoreError:
                with self._lock:
                    _UNFLUSHED.add(self)
                    for kind, add in pending.items():
                        self._pending[kind] = _add(
                            self._pending.get(kind),
                            add.calls,
                            add.tokens_before,
                            add.tokens_after,
                        )
                raise

    def totals(self) -> dict[str, UsageTotals]:
        """Every process's totals, after writing this one's.

        Raises:
            StoreError: the store failed or cannot be reached.
        """
        self.flush()
        return self._read()

    def close(self) -> None:
        """Write the counts held back; if the store cannot take them, say so in a warning
        (bookkeeping must not fail the program, nor be lost without a word)."""
        try:
            self.flush()
        except StoreError as error:
            held = sum(t.calls for t in self._pending.values())
            warnings.warn(
                f"headroom: usage counts of {held} call(s) not written: {error}",
                RuntimeWarning,
                stacklevel=2,
            )

    def _check_writable(self) -> None:
        """Raise StoreError now if nothing could ever be written."""

    def _write(self, pending: dict[str, UsageTotals]) -> None:
        raise NotImplementedError

    def _read(self) -> dict[str, UsageTotals]:
        raise NotImplementedError


class SQLiteUsageLog(_BatchedUsageLog):
    """Totals in the ``usage`` table of a SQLite store's file, shared by every process
    using it, written in the store's own connection: at once by default, or batched
    (``flush_seconds``; the clients use 1 s, since an upsert with its sync cost ~15 ms per
    request on a busy disk)."""

    def __init__(self, store: SQLiteStore, *, flush_seconds: float = 0.0) -> None:
        super().__init__(flush_seconds=flush_seconds)
        self._store = store

    def _check_writable(self) -> None:
        self._store._check_writable()

    def _write(self, pending: dict[str, UsageTotals]) -> None:
        with self._store._session() as conn:
            conn.executemany(
                "INSERT INTO usage (kind, calls, tokens_before, tokens_after)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (kind) DO UPDATE SET"
                " calls = calls + excluded.calls,"
                " tokens_before = tokens_before + excluded.tokens_before,"
                " tokens_after = tokens_after + excluded.tokens_after",
                [(k, t.calls, t.tokens_before, t.tokens_after) for k, t in pending.items()],
            )

    def _read(self) -> dict[str, UsageTotals]:
        with self._store._session() as conn:
            return {
                kind: UsageTotals(calls, before, after)
                for kind, calls, before, after in conn.execute(
                    "SELECT kind, calls, tokens_before, tokens_after FROM usage ORDER BY kind"
                )
            }


class RedisUsageLog(_BatchedUsageLog):
    """Totals in hashes under a Redis store's prefix (``<prefix>u:<kind>``), added to by
    atomic increments from every process sharing the server; batched (``flush_seconds``,
    1 s by default) so that bookkeeping does not add a round trip to every call."""

    def __init__(self, store: RedisStore, *, flush_seconds: float = 1.0) -> None:
        super().__init__(flush_seconds=flush_seconds)
        self._store = store

    def _write(self, pending: dict[str, UsageTotals]) -> None:
        prefix = self._store.prefix
        pipe = self._store._client.pipeline(transaction=True)
        for kind, add in pending.items():
            key = f"{prefix}u:{kind}"
            pipe.hincrby(key, "calls", add.calls)
            pipe.hincrby(key, "before", add.tokens_before)
            pipe.hincrby(key, "after", add.tokens_after)
            pipe.sadd(f"{prefix}uk", kind)
        self._store._call(pipe.execute)

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
