"""The CCR store contract: originals by content hash.

Every store maps a handle (see :mod:`headroom.handles`) to the exact original bytes plus
its kind, creation time and size. ``put`` is idempotent: storing the same original twice
returns the same handle and keeps one copy. Byte-exact round trip is the invariant:
``store.get(store.put(x, kind=k)).data == x``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Store", "StoreStats", "StoredOriginal", "UsageTotals"]


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
        """The original decoded as UTF-8 (lone surrogates survive via ``surrogatepass``)."""
        return self.data.decode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Tokens before and after compression, summed over recorded calls, for one kind."""

    calls: int
    tokens_before: int
    tokens_after: int

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What a store holds."""

    backend: str  # "sqlite", "memory", ...
    location: str | None  # file path for SQLite, None for memory
    items: int
    bytes: int
    usage: dict[str, UsageTotals]  # per content kind


@runtime_checkable
class Store(Protocol):
    """What every CCR store backend provides. Implementations must be thread-safe."""

    def put(self, original: str | bytes, *, kind: str) -> str:
        """Store ``original`` (``str`` is encoded as UTF-8 with ``surrogatepass``) and
        return its handle. Must be durable before returning."""
        ...

    def get(self, handle: str) -> StoredOriginal:
        """Return the original, or raise :class:`headroom.errors.HandleNotFoundError`."""
        ...

    def __contains__(self, handle: object) -> bool: ...

    def record_usage(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Add one compression call's token counts to the per-kind totals."""
        ...

    def stats(self) -> StoreStats: ...

    def close(self) -> None: ...
