"""The CCR store: originals by content hash, so whatever a compressor omits can come back.

Backends: :class:`SQLiteStore` (one file, the default, safe across threads and processes)
and :class:`MemoryStore` (one process, for tests and ephemeral use). :func:`open_store`
turns a user's choice into a store.

Example:
    >>> from headroom.store import open_store
    >>> store = open_store("memory")
    >>> store.get(store.put("the full tool output", kind="text")).text
    'the full tool output'
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from headroom.errors import InvalidArgumentError
from headroom.store.base import Store, StoredOriginal, StoreStats, UsageTotals
from headroom.store.memory import MemoryStore
from headroom.store.sqlite import SQLiteStore

__all__ = [
    "MemoryStore",
    "SQLiteStore",
    "Store",
    "StoreStats",
    "StoredOriginal",
    "UsageTotals",
    "default_home",
    "default_store_path",
    "open_store",
]

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


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


def open_store(spec: Store | str | os.PathLike[str] | None = None) -> Store:
    """Open the store ``spec`` names.

    Args:
        spec: ``None`` or ``"sqlite"`` for the SQLite file at :func:`default_store_path`;
            ``"memory"`` for a new :class:`MemoryStore`; any other string or path-like for
            a :class:`SQLiteStore` at that path; a store object is returned as is.

    Raises:
        InvalidArgumentError: ``spec`` is none of these (e.g. an empty string or a URL).

    Example:
        >>> store = open_store("memory")
        >>> open_store(store) is store
        True
    """
    if spec is None or spec == "sqlite":
        return SQLiteStore(default_store_path())
    if spec == "memory":
        return MemoryStore()
    if isinstance(spec, str):
        # A URL such as "redis://host" would otherwise silently become a file of that name.
        if not spec or _URL_RE.match(spec):
            raise InvalidArgumentError(
                f"store: {spec!r} is not a store; expected 'sqlite', 'memory', a file path "
                "or a Store object"
            )
        return SQLiteStore(spec)
    if isinstance(spec, os.PathLike):
        return SQLiteStore(spec)
    if isinstance(spec, Store):
        return spec
    raise InvalidArgumentError(
        f"store: {spec!r} is not a store; expected 'sqlite', 'memory', a file path "
        "or a Store object"
    )
