"""The CCR store contract: originals by content hash.

Every store maps a handle (see :mod:`headroom.handles`) to the exact original bytes plus
its kind, creation time and size. ``put`` is idempotent: storing the same original twice
returns the same handle and keeps one copy. Byte-exact round trip is the invariant:
``store.get(store.put(x, kind=k)).data == x``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from headroom._rawbytes import from_bytes

__all__ = ["Store", "StoreStats", "StoredOriginal"]


@dataclass(frozen=True, slots=True)
class StoredOriginal:
    """One original as stored."""

    handle: str
    data: bytes
    kind: str
    created_at: float  # seconds since the epoch
    size: int  # len(data)

    @property
    def text(self) -> str:
        """The original as text: UTF-8, bytes that are not UTF-8 as lone surrogates, so
        that ``handle_for(text)`` is the handle of ``data``."""
        return from_bytes(self.data)


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What a store holds, and whether it can take more.

    ``bytes`` may exceed ``max_bytes`` for a while: originals put within the grace period
    are never evicted (see :class:`~headroom.store.SQLiteStore`).
    """

    backend: str  # "sqlite", "memory", "unavailable", ...
    location: str | None  # file path for SQLite, None for memory
    items: int
    bytes: int
    max_bytes: int | None = None  # the size bound; None when unbounded
    writable: bool = True  # False: read-only or unavailable, so nothing lossy can be stored
    error: str | None = None  # why the store is not writable, when it is not


@runtime_checkable
class Store(Protocol):
    """What every CCR store backend provides. Implementations must be thread-safe.

    A store holds originals only; usage statistics live beside it in a
    :class:`~headroom.store.usage.UsageLog`."""

    def put(self, original: str | bytes, *, kind: str) -> str:
        """Store ``original`` (``str`` is encoded by :func:`headroom.handles.original_bytes`) and
        return its handle. Must be durable before returning, and must not be evicted for
        the store's grace period, so the call that put it can hand the handle out.
        Raises :class:`headroom.errors.StoreError` when it cannot store."""
        ...

    def get(self, handle: str) -> StoredOriginal:
        """Return the original, or raise :class:`headroom.errors.HandleNotFoundError`."""
        ...

    def __contains__(self, handle: object) -> bool:
        """Whether ``get(handle)`` would find the original; cheap (reads no original)."""
        ...

    def stats(self) -> StoreStats: ...

    def close(self) -> None: ...
