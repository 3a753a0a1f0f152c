"""The CCR store: originals by content hash, so whatever a compressor omits can come back.

Backends: :class:`SQLiteStore` (one file, the default, safe across threads and processes)
and :class:`MemoryStore` (one process, for tests and ephemeral use). :func:`open_store`
turns a user's choice into a store; with ``degrade=True`` a store that cannot be opened
becomes a read-only :class:`SQLiteStore` or an :class:`UnavailableStore` instead of an
error, so compression goes on (losslessly) without it.

Example:
    >>> from headroom.store import open_store
    >>> store = open_store("memory")
    >>> store.get(store.put("the full tool output", kind="text")).text
    'the full tool output'
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

from headroom.errors import InvalidArgumentError, StoreError
from headroom.store.base import Store, StoredOriginal, StoreStats
from headroom.store.memory import MemoryStore
from headroom.store.redis import RedisStore, is_redis_url
from headroom.store.sqlite import SQLiteStore
from headroom.store.unavailable import UnavailableStore
from headroom.store.usage import UsageLog, UsageTotals, usage_log_for

__all__ = [
    "MemoryStore",
    "SQLiteStore",
    "Store",
    "StoreStats",
    "StoredOriginal",
    "UnavailableStore",
    "UsageLog",
    "UsageTotals",
    "default_home",
    "default_store_path",
    "open_store",
    "usage_log_for",
]

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_log = logging.getLogger(__name__)


def default_home() -> Path:
    """The directory where Headroom keeps its data.

    ``$HEADROOM_HOME`` if set, else the platform's per-user data directory: Linux
    ``$XDG_DATA_HOME/headroom`` or ``~/.local/share/headroom``, macOS
    ``~/Library/Application Support/headroom``, Windows ``%LOCALAPPDATA%\\headroom``.

    Example:
        >>> default_store_path().parent == default_home()
        True
    """
    if home := os.environ.get("HEADROOM_HOME"):
        return Path(home).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        # The XDG spec says a relative value is invalid and must be ignored.
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "headroom"


def default_store_path() -> Path:
    """The SQLite file used when no store is named: ``default_home() / "ccr.sqlite3"``.

    Example:
        >>> default_store_path().name
        'ccr.sqlite3'
    """
    return default_home() / "ccr.sqlite3"


def open_store(
    spec: Store | str | os.PathLike[str] | None = None, *, degrade: bool = False
) -> Store:
    """Open the store ``spec`` names.

    Args:
        spec: ``None`` for the store ``HEADROOM_STORE`` names, else the SQLite file at
            :func:`default_store_path` (as ``"sqlite"``); ``"memory"`` for a new
            :class:`MemoryStore`; ``redis://``, ``rediss://`` or ``unix://`` for a
            :class:`~headroom.store.redis.RedisStore` (the ``redis`` extra); any other
            string or path-like for a :class:`SQLiteStore` at that path; a store object is
            returned as is.
        degrade: when the SQLite file cannot be opened for writing (an unwritable
            directory, a corrupt or foreign file, a full disk), open it read-only if that
            works, so its originals can still be retrieved, else return an
            :class:`UnavailableStore`; either way log a warning naming the file instead of
            raising. ``Headroom`` uses this: a broken store must not break compression.

    Raises:
        InvalidArgumentError: ``spec`` is none of these (e.g. an empty string or a URL).
        StoreError: the SQLite file cannot be opened, unless ``degrade``.

    Example:
        >>> store = open_store("memory")
        >>> open_store(store) is store
        True
    """
    if spec is None and os.environ.get("HEADROOM_STORE"):
        spec = os.environ["HEADROOM_STORE"]
    if is_redis_url(spec):
        assert isinstance(spec, str)
        return RedisStore(spec)  # connects on first use: an outage is a StoreError then
    path = _sqlite_path(spec)
    if path is None:
        if spec == "memory":
            return MemoryStore()
        assert isinstance(spec, Store)  # _sqlite_path refused everything else
        return spec
    try:
        return SQLiteStore(path)
    except StoreError as error:
        if not degrade:
            raise
        try:
            store: Store = SQLiteStore(path, read_only=True)
        except StoreError:
            _log.warning("%s; compression will not drop anything (lossless only)", error)
            return UnavailableStore(str(path), error)
        _log.warning(
            "%s; opened read-only: originals can be retrieved, but compression will not "
            "drop anything (lossless only)",
            error,
        )
        return store


def _sqlite_path(spec: object) -> Path | None:
    """The SQLite file ``spec`` names, or None for a memory store or a store object."""
    if spec is None or spec == "sqlite":
        return default_store_path()
    if spec == "memory":
        return None
    if isinstance(spec, str):
        # A URL such as "redis://host" would otherwise silently become a file of that name.
        if not spec or _URL_RE.match(spec):
            raise InvalidArgumentError(
                f"store: {spec!r} is not a store; expected 'sqlite', 'memory', a file path, "
                "a redis://, rediss:// or unix:// URL, or a Store object"
            )
        return Path(spec)
    if isinstance(spec, os.PathLike):
        return Path(os.fspath(spec))
    if isinstance(spec, Store):
        return None
    raise InvalidArgumentError(
        f"store: {spec!r} is not a store; expected 'sqlite', 'memory', a file path, "
        "a redis://, rediss:// or unix:// URL, or a Store object"
    )
