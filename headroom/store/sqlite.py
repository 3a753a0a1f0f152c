"""The default CCR store: one SQLite file, shared safely by threads and processes.

Concurrency: each :class:`SQLiteStore` holds one connection behind a lock, so threads of one
process take turns; processes share the file through WAL journaling, ``BEGIN IMMEDIATE``
write transactions and a busy timeout, so a writer waits for another instead of failing.

Safety: a file that is not a Headroom store is refused before anything is written to it;
directories and files the store creates are private to the user (0700 and 0600, and SQLite
gives the ``-wal`` and ``-shm`` files the database's mode); a row whose bytes no longer match
their hash is refused by ``get`` and rewritten by the next ``put`` of the same original.

Schema (``PRAGMA user_version`` = 4; an older file gains the tables it lacks when first
opened for writing, and is read as it is when opened read-only)::

    originals(handle TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT,
              created_at REAL, accessed_at REAL, size INTEGER, data BLOB)
    usage(kind TEXT PRIMARY KEY, calls INTEGER, tokens_before INTEGER, tokens_after INTEGER)
        -- written by headroom.store.usage.SQLiteUsageLog, not by the store
    tombstones(handle TEXT PRIMARY KEY, went_at REAL, reason TEXT)     -- since version 2
    refs(name TEXT PRIMARY KEY, handle TEXT NOT NULL, expires_at REAL) -- since version 3
    usage_days(day TEXT, kind TEXT, calls INTEGER, tokens_before INTEGER, tokens_after INTEGER,
               PRIMARY KEY (day, kind))                                -- since version 4
        -- per UTC day; counts from before version 4 stay in usage only

``refs`` holds named references to originals (for :class:`headroom.SharedContext`).
``tombstones`` remembers the latest 100,000 originals that expired or were evicted, so a
``get`` of one raises :class:`~headroom.errors.HandleExpiredError` saying when.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from headroom.errors import HandleExpiredError, HandleNotFoundError, StoreError
from headroom.store._common import (
    DEFAULT_GRACE_SECONDS,
    DEFAULT_TTL_SECONDS,
    TOMBSTONE_LIMIT,
    check_bounds,
    collision,
    encode_original,
    is_expired,
    is_intact,
)
from headroom.store.base import StoredOriginal, StoreStats

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = 4
_BUSY_TIMEOUT_S = 10.0
# Every SQLite 3 database file starts with these 16 bytes.
_MAGIC = b"SQLite format 3\x00"
_COLUMNS = {
    "originals": ["handle", "sha256", "kind", "created_at", "accessed_at", "size", "data"],
    "usage": ["kind", "calls", "tokens_before", "tokens_after"],
    "tombstones": ["handle", "went_at", "reason"],
    "refs": ["name", "handle", "expires_at"],
    "usage_days": ["day", "kind", "calls", "tokens_before", "tokens_after"],
}
_OBJECTS = {
    "originals": "table",
    "usage": "table",
    "originals_by_access": "index",
    "originals_by_creation": "index",
    "tombstones": "table",
    "refs": "table",
    "usage_days": "table",
}
_TOMBSTONES = (
    "CREATE TABLE IF NOT EXISTS tombstones (handle TEXT PRIMARY KEY, went_at REAL, reason TEXT)"
)
_REFS = (
    "CREATE TABLE IF NOT EXISTS refs (name TEXT PRIMARY KEY, handle TEXT NOT NULL, expires_at REAL)"
)
_USAGE_DAYS = (
    "CREATE TABLE IF NOT EXISTS usage_days (day TEXT NOT NULL, kind TEXT NOT NULL,"
    " calls INTEGER, tokens_before INTEGER, tokens_after INTEGER, PRIMARY KEY (day, kind))"
)
# The tables each version added; an older file is upgraded in place by creating them.
_ADDED_IN = {2: ("tombstones", _TOMBSTONES), 3: ("refs", _REFS), 4: ("usage_days", _USAGE_DAYS)}

# POSIX advisory locks belong to a process and a file, not to a descriptor: closing ANY
# descriptor of the database file drops every lock this process holds on it, its open SQLite
# connections' included (SQLite shares descriptors among its own connections for this
# reason). A connection without its locks lets another process's last close checkpoint and
# delete the -wal and -shm files under it; what it writes next goes to a deleted file, lost,
# or later copied over newer pages ("file is not a database", "disk I/O error"). So the
# header is read through a descriptor of our own only while no connection of this process
# has the file open: the connections are counted per (device, inode). The lock is reentrant:
# the garbage collector may finalize an unclosed store (_forget_file) in the very thread
# that holds it while opening another.
_files_lock = threading.RLock()
_open_files: Counter[tuple[int, int]] = Counter()


def _forget_file(key: tuple[int, int]) -> None:
    with _files_lock:
        _open_files[key] -= 1
        if _open_files[key] <= 0:
            del _open_files[key]


def _reset_files_lock() -> None:
    # A thread of the parent may have held the lock at fork(); the child has no such thread.
    global _files_lock
    _files_lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_files_lock)


def _objects_at(version: int) -> dict[str, str]:
    gone = {table for at, (table, _) in _ADDED_IN.items() if at > version}
    return {name: kind for name, kind in _OBJECTS.items() if name not in gone}


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
    _TOMBSTONES,
    _REFS,
    _USAGE_DAYS,
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
        path: the database file. Missing parent directories are created 0700 and a missing
            file 0600 (owner only: originals are raw tool outputs, which often hold
            secrets); existing ones keep their modes. An existing file must be a Headroom
            store or empty: anything else is refused without being written to.
        ttl_seconds: an original is forgotten this long after it was last ``put``
            (default 7 days); ``None`` keeps it until evicted. A ``get`` of an original
            that expired or was evicted raises :class:`~headroom.errors.HandleExpiredError`
            saying when.
        max_bytes: after a ``put``, least recently used originals (by last ``put`` or
            ``get``) are deleted until the originals total at most this (default 512 MiB),
            sparing those put within ``grace_seconds``; so the file may hold more than
            ``max_bytes`` for a while. ``None`` is unbounded.
        grace_seconds: an original is never evicted this soon after it was last ``put``
            (default 10 minutes), by this process or any other sharing the file, so the
            handles a compression call returns are still there when it returns.
        read_only: open the file read-only (SQLite ``mode=ro``): ``get``, ``in`` and
            ``stats`` work and never write, ``put`` and ``record_usage`` raise
            :class:`StoreError`. For a store on read-only media or in a directory the user
            cannot write; nothing is created.
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
        ttl_seconds: float | None = DEFAULT_TTL_SECONDS,
        max_bytes: int | None = 512 * 1024 * 1024,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        read_only: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_bounds(ttl_seconds, max_bytes, grace_seconds)
        self._path = Path(os.fspath(path)).expanduser()
        self._ttl = ttl_seconds
        self._max_bytes = max_bytes
        self._grace = grace_seconds
        self._read_only = read_only
        self._clock = clock
        self._lock = threading.Lock()
        self._version = SCHEMA_VERSION  # lower only for an older file opened read-only
        if not read_only:
            self._create_private()
        self._pid = os.getpid()
        self._forget: weakref.finalize[[tuple[int, int]], SQLiteStore] | None = None
        self._conn: sqlite3.Connection | None = self._connect()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only."""
        return self._read_only

    def __repr__(self) -> str:
        if self._read_only:
            return f"SQLiteStore({str(self._path)!r}, read_only=True)"
        return f"SQLiteStore({str(self._path)!r})"

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def put(self, original: str | bytes, *, kind: str, created_at: float | None = None) -> str:
        """Store ``original`` durably and return its handle (idempotent).

        A stored row that fails its hash check is rewritten with ``original``.
        ``created_at`` (for ``headroom store import``) keeps an original's creation time
        from another store; an original already held keeps the later of the two.

        Raises:
            StoreError: the handle already names a different original (hash collision),
                the store is read-only, or SQLite failed (e.g. the disk is full).
        """
        data, sha, handle = encode_original(original)
        self._check_writable()
        with self._session() as conn:
            now = self._clock()
            created = now if created_at is None else created_at
            with _transaction(conn):
                self._expire(conn, now)
                row = conn.execute(
                    "SELECT sha256, data, created_at FROM originals WHERE handle = ?", (handle,)
                ).fetchone()
                if row is None:
                    conn.execute("DELETE FROM tombstones WHERE handle = ?", (handle,))
                    conn.execute(
                        "INSERT INTO originals (handle, sha256, kind, created_at, accessed_at,"
                        " size, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (handle, sha, kind, created, now, len(data), data),
                    )
                elif row[0] == sha and is_intact(handle, *row[:2]):
                    # The TTL and the grace period restart on every put, so a handle a
                    # compressor has just returned stays retrievable.
                    if created_at is not None:
                        created = max(created, row[2])
                    conn.execute(
                        "UPDATE originals SET created_at = ?, accessed_at = ?, kind = ?"
                        " WHERE handle = ?",
                        (created, now, kind, handle),
                    )
                elif is_intact(handle, *row[:2]):
                    raise collision(handle, row[0], sha, f"SQLite store at {self._path}")
                else:
                    # The stored row is corrupt (its bytes do not hash to its sha256, or the
                    # sha256 does not name it): the original in hand repairs it.
                    conn.execute(
                        "UPDATE originals SET sha256 = ?, kind = ?, created_at = ?,"
                        " accessed_at = ?, size = ?, data = ? WHERE handle = ?",
                        (sha, kind, created, now, len(data), data, handle),
                    )
                self._evict(conn, now)
        return handle

    def get(self, handle: str) -> StoredOriginal:
        """Return the original stored under ``handle``, checked against its SHA-256.

        Reading never fails for want of writing: the LRU bookkeeping (and deleting an
        expired row) is skipped when the file cannot be written, and never attempted when
        the store is read-only.

        Raises:
            HandleExpiredError: it expired or was evicted (saying when).
            HandleNotFoundError: never stored (or gone before the latest tombstones).
            StoreError: the stored bytes no longer match their hash, or SQLite failed.
        """
        with self._session() as conn:
            now = self._clock()
            row = conn.execute(
                "SELECT sha256, kind, created_at, data FROM originals WHERE handle = ?",
                (handle,),
            ).fetchone()
            if row is None:
                raise self._not_found(conn, handle)
            sha, kind, created_at, data = row
            if self._is_expired(created_at, now):
                went = created_at + (self._ttl or 0.0)
                # Conditional on created_at: another process may have re-put it meanwhile.
                self._try_write(
                    conn,
                    "DELETE FROM originals WHERE handle = ? AND created_at = ?",
                    (handle, created_at),
                )
                if self._version >= 2:
                    self._try_write(
                        conn,
                        "INSERT OR REPLACE INTO tombstones VALUES (?, ?, 'expired')",
                        (handle, went),
                    )
                raise HandleExpiredError(handle, went)
            if not is_intact(handle, sha, data):
                raise StoreError(
                    f"SQLite store at {self._path}: the original stored under {handle} "
                    f"does not match its sha256 {sha} (the file is corrupt or was edited; "
                    "storing the same original again repairs it)"
                )
            # The LRU bump need not survive a power cut, so it skips the fsync a put pays
            # for: in WAL mode an unsynced commit is still atomic and is made durable by the
            # next synced one. (3.6 ms -> well under 1 ms per get: docs/store.md.)
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                self._try_write(
                    conn, "UPDATE originals SET accessed_at = ? WHERE handle = ?", (now, handle)
                )
            finally:
                conn.execute("PRAGMA synchronous = FULL")
        return StoredOriginal(handle, data, kind or "", created_at, len(data))

    def originals(self, *, batch: int = 100) -> Iterator[StoredOriginal]:
        """Every original held and not expired, oldest first (for ``headroom store
        export``); read ``batch`` at a time, so other threads and processes are not held up
        and memory stays bounded. Originals put meanwhile may or may not be included."""
        cutoff = -math.inf if self._ttl is None else self._clock() - self._ttl
        after: tuple[float, str] = (cutoff, "")
        while True:
            with self._session() as conn:
                rows = conn.execute(
                    "SELECT handle, kind, created_at, data FROM originals"
                    " WHERE (created_at, handle) > (?, ?) ORDER BY created_at, handle LIMIT ?",
                    (*after, batch),
                ).fetchall()
            for handle, kind, created_at, data in rows:
                yield StoredOriginal(handle, data, kind or "", created_at, len(data))
            if len(rows) < batch:
                return
            after = (rows[-1][2], rows[-1][0])

    def set_ref(self, name: str, handle: str, ttl_seconds: float | None) -> None:
        """Point the reference ``name`` at ``handle`` for ``ttl_seconds`` (``None``: until
        replaced); expired references are purged on the way.

        Raises:
            StoreError: the store is read-only, or SQLite failed.
        """
        self._check_writable()
        with self._session() as conn:
            now = self._clock()
            expires = None if ttl_seconds is None else now + ttl_seconds
            with _transaction(conn):
                conn.execute("DELETE FROM refs WHERE expires_at <= ?", (now,))
                conn.execute(
                    "INSERT OR REPLACE INTO refs (name, handle, expires_at) VALUES (?, ?, ?)",
                    (name, handle, expires),
                )

    def get_ref(self, name: str) -> str | None:
        """The handle the reference ``name`` points at, or ``None`` (never set, deleted or
        expired)."""
        if self._version < 3:
            return None
        with self._session() as conn:
            row = conn.execute(
                "SELECT handle, expires_at FROM refs WHERE name = ?", (name,)
            ).fetchone()
        if row is None or (row[1] is not None and row[1] <= self._clock()):
            return None
        return str(row[0])

    def delete_ref(self, name: str) -> bool:
        """Remove the reference ``name``; whether there was one.

        Raises:
            StoreError: the store is read-only, or SQLite failed.
        """
        self._check_writable()
        with self._session() as conn:
            return conn.execute("DELETE FROM refs WHERE name = ?", (name,)).rowcount > 0

    def __contains__(self, handle: object) -> bool:
        """Whether ``handle`` is stored and not expired; ``False`` when the file cannot
        be read. Reads one index entry, never the original."""
        if not isinstance(handle, str):
            return False
        with self._session() as conn:
            try:
                row = conn.execute(
                    "SELECT created_at FROM originals WHERE handle = ?", (handle,)
                ).fetchone()
            except sqlite3.Error:
                return False
            return row is not None and not self._is_expired(row[0], self._clock())

    def stats(self) -> StoreStats:
        """What the file holds now (expired originals are not counted)."""
        cutoff = -math.inf if self._ttl is None else self._clock() - self._ttl
        with self._session() as conn:
            items, total = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM originals WHERE created_at >= ?",
                (cutoff,),
            ).fetchone()
        return StoreStats(
            "sqlite",
            str(self._path),
            items,
            total,
            max_bytes=self._max_bytes,
            writable=not self._read_only,
            error="opened read-only" if self._read_only else None,
        )

    def close(self) -> None:
        """Close the connection; later calls raise :class:`StoreError`. Safe to repeat."""
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                try:
                    conn.close()
                except sqlite3.Error as exc:
                    raise StoreError(f"SQLite store at {self._path}: {exc}") from exc
                finally:
                    if self._forget is not None:
                        self._forget()

    @contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"SQLite store at {self._path}: the store is closed")
            try:
                if self._pid != os.getpid():
                    # SQLite connections must not cross fork(); the child gets its own.
                    if self._forget is not None:
                        self._forget()
                    self._conn = self._connect()
                    self._pid = os.getpid()
                yield self._conn
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite store at {self._path}: {exc}") from exc

    def _not_found(self, conn: sqlite3.Connection, handle: str) -> HandleNotFoundError:
        if self._version >= 2:
            row = conn.execute(
                "SELECT went_at, reason FROM tombstones WHERE handle = ?", (handle,)
            ).fetchone()
            if row is not None:
                return HandleExpiredError(
                    handle, row[0], "evicted" if row[1] == "evicted" else "expired"
                )
        return HandleNotFoundError(handle)

    def _check_writable(self) -> None:
        if self._read_only:
            raise StoreError(
                f"SQLite store at {self._path}: opened read-only, so nothing can be stored"
            )

    def _try_write(self, conn: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> None:
        # Bookkeeping done while reading; a read-only or full file must not fail the read.
        if self._read_only:
            return
        with suppress(sqlite3.Error):
            conn.execute(sql, args)

    def _create_private(self) -> None:
        """Create the missing parent directories (0700) and the file (0600), nothing else."""
        missing: list[Path] = []
        parent = self._path.parent
        try:
            while not parent.exists() and parent != parent.parent:
                missing.append(parent)
                parent = parent.parent
            for directory in reversed(missing):
                try:
                    directory.mkdir(mode=0o700)
                except FileExistsError:  # another process made it meanwhile
                    if not directory.is_dir():
                        raise
            # O_EXCL: a file that already exists keeps its mode and content.
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        except OSError as exc:
            raise StoreError(f"SQLite store at {self._path}: cannot create: {exc}") from exc
        os.close(fd)

    def _connect(self) -> sqlite3.Connection:
        """A new connection, counted among this process's connections to the file until
        :meth:`close` (or the store is collected)."""
        try:
            stat = os.stat(self._path)
        except OSError as exc:
            raise StoreError(f"SQLite store at {self._path}: cannot open: {exc}") from exc
        key = (stat.st_dev, stat.st_ino)
        with _files_lock:
            if not _open_files[key]:  # see _open_files: only then may we open it ourselves
                self._check_header()
            _open_files[key] += 1
        try:
            conn = self._open_checked()
        except BaseException:
            _forget_file(key)
            raise
        self._forget = weakref.finalize(self, _forget_file, key)
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        """A connection to a file whose header was checked, after checking its schema
        (and creating or upgrading it, unless read-only)."""
        # SQLite would quietly open a write-protected file read-only and fail every put;
        # saying so here lets open_store(degrade=True) open it read-only on purpose.
        if not self._read_only and not os.access(self._path, os.W_OK):
            raise StoreError(f"SQLite store at {self._path}: the file is not writable")
        conn = self._open_read_only() if self._read_only else self._open_read_write()
        try:
            version = self._inspect(conn)
            if self._read_only:
                self._version = version
                if version == 0:
                    raise StoreError(
                        f"SQLite store at {self._path}: the file holds no store yet, and a "
                        "read-only store cannot create one"
                    )
            else:
                # Only now, with the file known to be a Headroom store or empty, is
                # anything written to it.
                self._set_journal_mode(conn)
                # FULL because put() promises durability before the handle is returned.
                conn.execute("PRAGMA synchronous = FULL")
                if version != SCHEMA_VERSION:
                    with _transaction(conn):
                        # Re-read under the write lock: another process may have just
                        # created or upgraded the schema.
                        version = self._inspect(conn)
                        if version == 0:
                            for statement in _SCHEMA:
                                conn.execute(statement)
                        elif version < SCHEMA_VERSION:
                            for at in range(version + 1, SCHEMA_VERSION + 1):
                                conn.execute(_ADDED_IN[at][1])
                            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"SQLite store at {self._path}: cannot open: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_header(self) -> None:
        # Refuse a file that is not SQLite before SQLite sees it: SQLite treats any file
        # shorter than one page as an empty database and would overwrite it on first write.
        try:
            with open(self._path, "rb") as file:
                head = file.read(len(_MAGIC))
        except OSError as exc:
            raise StoreError(f"SQLite store at {self._path}: cannot open: {exc}") from exc
        if head and head != _MAGIC:
            raise StoreError(
                f"SQLite store at {self._path}: the file is not an SQLite database; "
                "refusing to use it (point the store at a new or empty file)"
            )

    def _open_read_write(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                self._path,
                timeout=_BUSY_TIMEOUT_S,
                isolation_level=None,  # transactions are explicit, see _transaction
                check_same_thread=False,  # guarded by self._lock instead
            )
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store at {self._path}: cannot open: {exc}") from exc

    def _open_read_only(self) -> sqlite3.Connection:
        uri = self._path.absolute().as_uri()
        error: sqlite3.Error | None = None
        # A WAL reader needs the -shm file. Where it is missing and the directory cannot be
        # written, "immutable" reads the file without it: nobody can be writing to a
        # database whose directory cannot even take its -wal file.
        for mode in ("mode=ro", "mode=ro&immutable=1"):
            conn: sqlite3.Connection | None = None
            try:
                conn = sqlite3.connect(
                    f"{uri}?{mode}",
                    uri=True,
                    timeout=_BUSY_TIMEOUT_S,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.Error as exc:
                if conn is not None:
                    conn.close()
                error = exc
                if not isinstance(exc, sqlite3.OperationalError):
                    break  # not a matter of access: the file itself is bad
        raise StoreError(f"SQLite store at {self._path}: cannot open: {error}") from error

    def _inspect(self, conn: sqlite3.Connection) -> int:
        """Read-only check that the file is a Headroom store; returns its schema version,
        0 while it is still empty (an older version is upgraded by the caller).

        Raises:
            StoreError: the file is another application's database, or a newer schema.
        """
        if not conn.in_transaction:
            # One snapshot for every read below: another process creating the schema
            # between two reads would otherwise show tables without their user_version.
            with _transaction(conn, "BEGIN"):
                return self._inspect(conn)
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        # SQLite's own objects (sqlite_autoindex_*, sqlite_stat1, ...) say nothing of the owner.
        objects = {
            name: kind
            for name, kind in conn.execute(
                "SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            )
        }
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"SQLite store at {self._path}: schema version {version} was written by "
                f"a newer Headroom (this one reads version {SCHEMA_VERSION})"
            )
        if version == 0 and not objects:
            return 0
        if version >= 1 and objects == _objects_at(version):
            columns = {
                table: [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
                for table, kind in objects.items()
                if kind == "table"
            }
            if all(columns[table] == _COLUMNS[table] for table in columns):
                return version
        tables = sorted(name for name, kind in objects.items() if kind == "table")
        raise StoreError(
            f"SQLite store at {self._path}: the file is an SQLite database but not a Headroom "
            f"store (user_version {version}, tables {tables}); refusing to change it"
        )

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

    def _is_expired(self, created_at: float, now: float) -> bool:
        return is_expired(created_at, now, self._ttl)

    def _expire(self, conn: sqlite3.Connection, now: float) -> None:
        if self._ttl is not None:
            cutoff = now - self._ttl
            # originals_by_creation makes both a range scan; most puts find nothing.
            conn.execute(
                "INSERT OR REPLACE INTO tombstones SELECT handle, created_at + ?, 'expired'"
                " FROM originals WHERE created_at < ?",
                (self._ttl, cutoff),
            )
            if conn.execute("DELETE FROM originals WHERE created_at < ?", (cutoff,)).rowcount:
                self._prune_tombstones(conn)

    @staticmethod
    def _prune_tombstones(conn: sqlite3.Connection) -> None:
        # INSERT OR REPLACE gives each new tombstone the highest rowid, so this keeps the
        # latest TOMBSTONE_LIMIT (fewer where rowids have gaps) by one rowid range delete.
        conn.execute(
            "DELETE FROM tombstones WHERE rowid <= (SELECT MAX(rowid) FROM tombstones) - ?",
            (TOMBSTONE_LIMIT,),
        )

    def _evict(self, conn: sqlite3.Connection, now: float) -> None:
        if self._max_bytes is None:
            return
        total: int = conn.execute("SELECT COALESCE(SUM(size), 0) FROM originals").fetchone()[0]
        if total <= self._max_bytes:
            return
        victims: list[tuple[str]] = []
        # The same comparison as is_evictable: rows put within the grace period are spared,
        # whichever process put them, so a call never loses the handles it is returning.
        cursor = conn.execute(
            "SELECT handle, size FROM originals WHERE created_at < ? ORDER BY accessed_at, handle",
            (now - self._grace,),
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
        if victims:
            conn.executemany(
                "INSERT OR REPLACE INTO tombstones VALUES (?, ?, 'evicted')",
                [(handle, now) for (handle,) in victims],
            )
            self._prune_tombstones(conn)
