"""An in-process CCR store: a dict behind a lock, for tests and ephemeral use.

Nothing survives the process. TTL and size bounds behave like :class:`SQLiteStore`'s, so a
test written against one backend means the same against the other.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from headroom.errors import HandleExpiredError, HandleNotFoundError
from headroom.store._common import (
    DEFAULT_GRACE_SECONDS,
    TOMBSTONE_LIMIT,
    check_bounds,
    collision,
    encode_original,
    is_evictable,
    is_expired,
)
from headroom.store.base import StoredOriginal, StoreStats

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _Entry:
    data: bytes
    sha256: str
    kind: str
    created_at: float


class MemoryStore:
    """A thread-safe in-memory :class:`~headroom.store.base.Store`.

    Args:
        ttl_seconds: an original is forgotten this long after it was last ``put``;
            ``None`` (the default: the store lives only as long as the process) keeps it
            forever. A ``get`` of an original that expired or was evicted raises
            :class:`~headroom.errors.HandleExpiredError` saying when (the latest
            100,000 such handles are remembered).
        max_bytes: after a ``put``, least recently used originals (by last ``put`` or
            ``get``) are evicted until the total is at most this, sparing those put within
            ``grace_seconds``; so the store may hold more than ``max_bytes`` for a while.
            ``None`` is unbounded.
        grace_seconds: an original is never evicted this soon after it was last ``put``
            (default 10 minutes), so a call's handles outlive the call. ``0`` spares only
            originals put at the current clock reading.
        clock: seconds since the epoch; injectable so tests can move time.

    Example:
        >>> store = MemoryStore()
        >>> handle = store.put("a long tool output", kind="text")
        >>> handle
        'headroom:570641afc192'
        >>> store.get(handle).text
        'a long tool output'
    """

    def __init__(
        self,
        *,
        ttl_seconds: float | None = None,
        max_bytes: int | None = None,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_bounds(ttl_seconds, max_bytes, grace_seconds)
        self._ttl = ttl_seconds
        self._max_bytes = max_bytes
        self._grace = grace_seconds
        self._clock = clock
        self._lock = threading.Lock()
        # Ordered by last access, oldest first: the eviction order.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Ordered by created_at, oldest first, so expiry stops at the first live item.
        self._by_created: OrderedDict[str, None] = OrderedDict()
        # handle -> (when it went, why), oldest first; bounded by TOMBSTONE_LIMIT.
        self._tombstones: OrderedDict[str, tuple[float, Literal["expired", "evicted"]]] = (
            OrderedDict()
        )
        self._bytes = 0
        self._refs: dict[str, tuple[str, float | None]] = {}  # name -> (handle, expires at)

    def __repr__(self) -> str:
        return (
            f"MemoryStore(ttl_seconds={self._ttl!r}, max_bytes={self._max_bytes!r}, "
            f"grace_seconds={self._grace!r})"
        )

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def put(self, original: str | bytes, *, kind: str, created_at: float | None = None) -> str:
        """Store ``original`` and return its handle (idempotent).

        ``created_at`` (for ``headroom store import``) keeps an original's creation time
        from another store; an original already held keeps the later of the two.

        Raises:
            StoreError: the handle already names a different original (hash collision).
        """
        data, sha, handle = encode_original(original)
        with self._lock:
            now = self._clock()
            self._expire(now)
            entry = self._entries.get(handle)
            if entry is not None and entry.sha256 != sha:
                raise collision(handle, entry.sha256, sha, "memory store")
            created = now if created_at is None else created_at
            if entry is None:
                self._entries[handle] = _Entry(data, sha, kind, created)
                self._bytes += len(data)
                self._tombstones.pop(handle, None)
            else:
                # Restarting the TTL on every put means a handle a compressor has just
                # returned stays retrievable for a full TTL, not whatever was left of it.
                entry.created_at = created if created_at is None else max(created, entry.created_at)
                entry.kind = kind
                self._entries.move_to_end(handle)
            newest = next(reversed(self._by_created), None)
            self._by_created[handle] = None
            self._by_created.move_to_end(handle)
            # An import of an older original: expiry stops at the first live one, so the
            # order by creation must hold.
            if newest not in (None, handle) and (
                self._entries[newest].created_at > self._entries[handle].created_at
            ):
                order = sorted(self._by_created, key=lambda h: self._entries[h].created_at)
                self._by_created = OrderedDict.fromkeys(order)
            self._evict(now)
        return handle

    def get(self, handle: str) -> StoredOriginal:
        """Return the original stored under ``handle``.

        Raises:
            HandleExpiredError: it expired or was evicted (saying when).
            HandleNotFoundError: never stored (or gone before the latest tombstones).
        """
        with self._lock:
            now = self._clock()
            entry = self._entries.get(handle)
            if entry is not None and self._is_expired(entry, now):
                self._remove(handle, "expired", now)
                entry = None
            if entry is None:
                tombstone = self._tombstones.get(handle)
                if tombstone is not None:
                    raise HandleExpiredError(handle, *tombstone)
                raise HandleNotFoundError(handle)
            self._entries.move_to_end(handle)
            return StoredOriginal(handle, entry.data, entry.kind, entry.created_at, len(entry.data))

    def originals(self) -> Iterator[StoredOriginal]:
        """Every original held and not expired, oldest first (for ``headroom store
        export``); a snapshot taken when iteration starts."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            snapshot = [(h, self._entries[h]) for h in self._by_created]
        for handle, entry in snapshot:
            yield StoredOriginal(handle, entry.data, entry.kind, entry.created_at, len(entry.data))

    def set_ref(self, name: str, handle: str, ttl_seconds: float | None) -> None:
        """Point the reference ``name`` at ``handle`` for ``ttl_seconds`` (``None``: until
        replaced)."""
        with self._lock:
            now = self._clock()
            self._refs = {n: r for n, r in self._refs.items() if r[1] is None or r[1] > now}
            self._refs[name] = (handle, None if ttl_seconds is None else now + ttl_seconds)

    def get_ref(self, name: str) -> str | None:
        """The handle the reference ``name`` points at, or ``None`` (never set, deleted or
        expired)."""
        with self._lock:
            ref = self._refs.get(name)
            if ref is None or (ref[1] is not None and ref[1] <= self._clock()):
                return None
            return ref[0]

    def delete_ref(self, name: str) -> bool:
        """Remove the reference ``name``; whether there was one."""
        with self._lock:
            return self._refs.pop(name, None) is not None

    def __contains__(self, handle: object) -> bool:
        if not isinstance(handle, str):
            return False
        with self._lock:
            entry = self._entries.get(handle)
            return entry is not None and not self._is_expired(entry, self._clock())

    def stats(self) -> StoreStats:
        """What the store holds now (expired originals are not counted)."""
        with self._lock:
            self._expire(self._clock())
            return StoreStats(
                "memory",
                None,
                len(self._entries),
                self._bytes,
                max_bytes=self._max_bytes,
            )

    def close(self) -> None:
        """Does nothing: memory is released with the object. Present for the protocol."""

    def _is_expired(self, entry: _Entry, now: float) -> bool:
        return is_expired(entry.created_at, now, self._ttl)

    def _remove(self, handle: str, why: Literal["expired", "evicted"], now: float) -> None:
        entry = self._entries.pop(handle)
        self._by_created.pop(handle, None)
        self._bytes -= len(entry.data)
        went = now if why == "evicted" else entry.created_at + (self._ttl or 0.0)
        self._tombstones[handle] = (went, why)
        self._tombstones.move_to_end(handle)
        while len(self._tombstones) > TOMBSTONE_LIMIT:
            self._tombstones.popitem(last=False)

    def _expire(self, now: float) -> None:
        while self._by_created:
            oldest = next(iter(self._by_created))
            if not self._is_expired(self._entries[oldest], now):
                break
            self._remove(oldest, "expired", now)

    def _evict(self, now: float) -> None:
        if self._max_bytes is None or self._bytes <= self._max_bytes:
            return
        victims: list[str] = []
        excess = self._bytes - self._max_bytes
        for handle, entry in self._entries.items():  # least recently used first
            if excess <= 0:
                break
            if is_evictable(entry.created_at, now, self._grace):
                victims.append(handle)
                excess -= len(entry.data)
        for handle in victims:
            self._remove(handle, "evicted", now)
