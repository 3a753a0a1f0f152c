"""The default CCR store: one SQLite file, shared safely by threads and processes.

Concurrency: each :class:`SQLiteStore` holds one connection behind a lock, so threads of one
process take turns; processes share the file through WAL journaling, ``BEGIN IMMEDIATE``
write transactions and a busy timeout, so a writer waits for another instead of failing.

Schema (``PRAGMA user_version`` = 1)::

    originals(handle TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT,
              created_at REAL, accessed_at REAL, size INTEGER, data BLOB)
    usage(kind TEXT PRIMARY KEY, calls INTEGER, tokens_before INTEGER, tokens_after INTEGER)
"""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from headroom.errors import HandleNotFoundError, StoreError
from headroom.handles import handle_from_sha256
from headroom.store._common import (
    check_bounds,
    check_usage,
    collision,
    encode_original,
    is_expired,
)
from headroom.store.base import StoredOriginal, StoreStats, UsageTotals

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = 1
_BUSY_TIMEOUT_S = 10.0
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS originals (
        handle TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        kind TEXT,
        created_at REAL,
        accessed_at REAL,
        size INTEGER,
        data BLOB
    )""",
    # Covers both the eviction scan and SUM(size), so neither has to read the blobs' pages.
    "CREATE INDEX IF NOT EXISTS originals_by_access ON originals (accessed_at, handle, size)",
    "CREATE INDEX IF NOT EXISTS originals_by_creation ON originals (created_at)",
    """CREATE TABLE IF NOT EXISTS usage (
        kind TEXT PRIMARY KEY,
        calls INTEGER,
        tokens_before INTEGER,
        tokens_after INTEGER
    )""",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


@contextmanager
def _transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    # IMMEDIATE (the default, for writes) takes the write lock up front: a deferred
    # transaction that later upgrades can fail with SQLITE_BUSY at once, without the busy
    # timeout ever being applied. Reads pass a plain "BEGIN" for a consistent snapshot.
    conn.execute(begin)
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SQLiteStore:
    """A :class:`~headroom.store.base.Store` in one SQLite file.

    Args:
        path: the database file; missing parent directories are created.
        ttl_seconds: an original is forgotten this long after it was last ``put``
            (default 7 days); ``None`` keeps it until evicted.
        max_bytes: after a ``put``, least recently used originals (by last ``put`` or
            ``get``) are deleted until the originals total at most this (default 512 MiB);
            the original just put is never deleted. ``None`` is unbounded.
        clock: seconds since the epoch; injectable so tests can move time.

    Raises:
        StoreError: the file cannot be created or opened as a Headroom store.

    Example:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     store = SQLiteStore(pathlib.Path(tmp) / "ccr.sqlite3")
        ...     handle = store.put(b"raw \\x00 bytes", kind="opaque")
        ...     print(store.get(handle).data)
        ...     store.close()
        b'raw \\x00 bytes'
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        ttl_seconds: float | None = 7 * 24 * 3600,
        max_bytes: int | None = 512 * 1024 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_bounds(ttl_seconds, max_bytes)
        self._path = Path(os.fspath(path)).expanduser()
        self._ttl = ttl_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"SQLite store at {self._path}: cannot create directory: {exc}"
            ) from exc
        self._pid = os.getpid()
        self._conn: sqlite3.Connection | None = self._connect()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self._path)!r})"

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def put(self, original: str | bytes, *, kind: str) -> str:
        """Store ``original`` durably and return its handle (idempotent).

        Raises:
            StoreError: the handle already names a different original (hash collision),
                or SQLite failed.
        """
        data, sha, handle = encode_original(original)
        with self._session() as conn:
            now = self._clock()
            with _transaction(conn):
                self._expire(conn, now)
                row = conn.execute(
                    "SELECT sha256 FROM originals WHERE handle = ?", (handle,)
                ).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO originals (handle, sha256, kind, created_at, accessed_at,"
                        " size, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (handle, sha, kind, now, now, len(data), data),
                    )
                elif row[0] != sha:
                    raise collision(handle, row[0], sha, f"SQLite store at {self._path}")
                else:
                    # The TTL restarts on every put, so a handle a compressor has just
                    # returned stays retrievable for a full TTL.
                    conn.execute(
                        "UPDATE originals SET created_at = ?, accessed_at = ?, kind = ?"
                        " WHERE handle = ?",
                        (now, now, kind, handle),
                    )
                self._evict(conn, keep=handle)
        return handle

    def get(self, handle: str) -> StoredOriginal:
        """Return the original stored under ``handle``, checked against its SHA-256.

        Raises:
            HandleNotFoundError: never stored, expired or evicted.
            StoreError: the stored bytes no longer match their hash, or SQLite failed.
        """
        with self._session() as conn:
            now = self._clock()
            row = conn.execute(
                "SELECT sha256, kind, created_at, data FROM originals WHERE handle = ?",
                (handle,),
            ).fetchone()
            if row is None:
                raise HandleNotFoundError(handle)
            sha, kind, created_at, data = row
            if self._is_expired(created_at, now):
                # Conditional on created_at: another process may have re-put it meanwhile.
                conn.execute(
                    "DELETE FROM originals WHERE handle = ? AND created_at = ?",
                    (handle, created_at),
                )
                raise HandleNotFoundError(handle)
            data = bytes(data) if data is not None else b""
            if hashlib.sha256(data).hexdigest() != sha or handle != handle_from_sha256(sha):
                raise StoreError(
                    f"SQLite store at {self._path}: the original stored under {handle} "
                    f"does not match its sha256 {sha} (the file is corrupt or was edited)"
                )
            conn.execute("UPDATE originals SET accessed_at = ? WHERE handle = ?", (now, handle))
        return StoredOriginal(handle, data, kind or "", created_at, len(data))

    def __contains__(self, handle: object) -> bool:
        if not isinstance(handle, str):
            return False
        with self._session() as conn:
            row = conn.execute(
                "SELECT created_at FROM originals WHERE handle = ?", (handle,)
            ).fetchone()
            return row is not None and not self._is_expired(row[0], self._clock())

    def record_usage(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Add one compression call's token counts to the totals for ``kind``."""
        check_usage(kind, tokens_before, tokens_after)
        with self._session() as conn:
            conn.execute(
                "INSERT INTO usage (kind, calls, tokens_before, tokens_after)"
                " VALUES (?, 1, ?, ?) ON CONFLICT (kind) DO UPDATE SET"
                " calls = calls + 1,"
                " tokens_before = tokens_before + excluded.tokens_before,"
                " tokens_after = tokens_after + excluded.tokens_after",
                (kind, tokens_before, tokens_after),
            )

    def stats(self) -> StoreStats:
        """What the file holds now (expired originals are not counted)."""
        cutoff = -math.inf if self._ttl is None else self._clock() - self._ttl
        # One read transaction, so the counts and the usage come from one snapshot.
        with self._session() as conn, _transaction(conn, "BEGIN"):
            items, total = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM originals WHERE created_at >= ?",
                (cutoff,),
            ).fetchone()
            usage = {
                kind: UsageTotals(calls, before, after)
                for kind, calls, before, after in conn.execute(
                    "SELECT kind, calls, tokens_before, tokens_after FROM usage ORDER BY kind"
                )
            }
        return StoreStats("sqlite", str(self._path), items, total, usage)

    def close(self) -> None:
        """Close the connection; later calls raise :class:`StoreError`. Safe to repeat."""
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                try:
                    conn.close()
                except sqlite3.Error as exc:
                    raise StoreError(f"SQLite store at {self._path}: {exc}") from exc

    @contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"SQLite store at {self._path}: the store is closed")
            try:
                if self._pid != os.getpid():
                    # SQLite connections must not cross fork(); the child gets its own.
                    self._conn = self._connect()
                    self._pid = os.getpid()
                yield self._conn
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite store at {self._path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self._path,
                timeout=_BUSY_TIMEOUT_S,
                isolation_level=None,  # transactions are explicit, see _transaction
                check_same_thread=False,  # guarded by self._lock instead
            )
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store at {self._path}: cannot open: {exc}") from exc
        try:
            self._set_journal_mode(conn)
            # FULL because put() promises durability before the handle is returned.
            conn.execute("PRAGMA synchronous = FULL")
            self._migrate(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"SQLite store at {self._path}: cannot open: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _set_journal_mode(conn: sqlite3.Connection) -> None:
        # Switching a fresh file to WAL needs an exclusive lock, and processes opening the
        # same new file at once can see "database is locked" here despite the busy timeout.
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with _transaction(conn):
            # Re-read under the write lock: another process may have just created the schema.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"SQLite store at {self._path}: schema version {version} was written by "
                    f"a newer Headroom (this one reads version {SCHEMA_VERSION})"
                )
            if version == 0:
                for statement in _SCHEMA:
                    conn.execute(statement)

    def _is_expired(self, created_at: float, now: float) -> bool:
        return is_expired(created_at, now, self._ttl)

    def _expire(self, conn: sqlite3.Connection, now: float) -> None:
        if self._ttl is not None:
            conn.execute("DELETE FROM originals WHERE created_at < ?", (now - self._ttl,))

    def _evict(self, conn: sqlite3.Connection, *, keep: str) -> None:
        if self._max_bytes is None:
            return
        total: int = conn.execute("SELECT COALESCE(SUM(size), 0) FROM originals").fetchone()[0]
        if total <= self._max_bytes:
            return
        victims: list[tuple[str]] = []
        cursor = conn.execute(
            "SELECT handle, size FROM originals WHERE handle != ? ORDER BY accessed_at, handle",
            (keep,),
        )
        try:
            for handle, size in cursor:
                if total <= self._max_bytes:
                    break
                victims.append((handle,))
                total -= size
        finally:
            cursor.close()
        conn.executemany("DELETE FROM originals WHERE handle = ?", victims)
