"""An in-process CCR store: a dict behind a lock, for tests and ephemeral use.

Nothing survives the process. TTL and size bounds behave like :class:`SQLiteStore`'s, so a
test written against one backend means the same against the other.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from headroom.errors import HandleNotFoundError, InvalidArgumentError, StoreError
from headroom.handles import HANDLE_PREFIX, handle_for
from headroom.store.base import StoredOriginal, StoreStats, UsageTotals

__all__ = ["MemoryStore"]

# Derived rather than hard-coded so the store can never disagree with handle_for().
_HANDLE_HEX = len(handle_for(b"")) - len(HANDLE_PREFIX)


def _encode_original(original: str | bytes) -> tuple[bytes, str, str]:
    """Return ``(data, full sha256 hex, handle)``, hashing the bytes only once."""
    if isinstance(original, str):
        data = original.encode("utf-8", "surrogatepass")
    elif isinstance(original, bytes):
        data = original
    else:
        raise InvalidArgumentError(
            f"original: expected str or bytes, got {type(original).__name__}"
        )
    digest = hashlib.sha256(data).hexdigest()
    return data, digest, HANDLE_PREFIX + digest[:_HANDLE_HEX]


def _check_bounds(ttl_seconds: float | None, max_bytes: int | None) -> None:
    if ttl_seconds is not None and not ttl_seconds > 0:
        raise InvalidArgumentError(f"ttl_seconds: expected > 0 or None, got {ttl_seconds!r}")
    if max_bytes is not None and max_bytes < 0:
        raise InvalidArgumentError(f"max_bytes: expected >= 0 or None, got {max_bytes!r}")


def _check_usage(kind: str, tokens_before: int, tokens_after: int) -> None:
    if not isinstance(kind, str):
        raise InvalidArgumentError(f"kind: expected str, got {type(kind).__name__}")
    for name, value in (("tokens_before", tokens_before), ("tokens_after", tokens_after)):
        if not isinstance(value, int) or value < 0:
            raise InvalidArgumentError(f"{name}: expected an int >= 0, got {value!r}")


def _collision(handle: str, stored_sha: str, new_sha: str, where: str) -> StoreError:
    return StoreError(
        f"{where}: handle {handle} already names an original with sha256 {stored_sha}; "
        f"refusing to reuse it for a different original with sha256 {new_sha} "
        "(truncated-hash collision)"
    )


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
            ``None`` keeps it forever.
        max_bytes: after a ``put``, least recently used originals (by last ``put`` or
            ``get``) are evicted until the total is at most this; the original just put is
            never evicted, so one larger than ``max_bytes`` is kept alone. ``None`` is
            unbounded.
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
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_bounds(ttl_seconds, max_bytes)
        self._ttl = ttl_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        # Ordered by last access, oldest first: the eviction order.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Ordered by created_at, oldest first, so expiry stops at the first live item.
        self._by_created: OrderedDict[str, None] = OrderedDict()
        self._bytes = 0
        self._usage: dict[str, UsageTotals] = {}

    def __repr__(self) -> str:
        return f"MemoryStore(ttl_seconds={self._ttl!r}, max_bytes={self._max_bytes!r})"

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def put(self, original: str | bytes, *, kind: str) -> str:
        """Store ``original`` and return its handle (idempotent).

        Raises:
            StoreError: the handle already names a different original (hash collision).
        """
        data, sha, handle = _encode_original(original)
        with self._lock:
            now = self._clock()
            self._expire(now)
            entry = self._entries.get(handle)
            if entry is not None and entry.sha256 != sha:
                raise _collision(handle, entry.sha256, sha, "memory store")
            if entry is None:
                self._entries[handle] = _Entry(data, sha, kind, now)
                self._bytes += len(data)
            else:
                # Restarting the TTL on every put means a handle a compressor has just
                # returned stays retrievable for a full TTL, not whatever was left of it.
                entry.created_at = now
                entry.kind = kind
                self._entries.move_to_end(handle)
            self._by_created[handle] = None
            self._by_created.move_to_end(handle)
            self._evict(keep=handle)
        return handle

    def get(self, handle: str) -> StoredOriginal:
        """Return the original stored under ``handle``.

        Raises:
            HandleNotFoundError: never stored, expired or evicted.
        """
        with self._lock:
            now = self._clock()
            entry = self._entries.get(handle)
            if entry is None:
                raise HandleNotFoundError(handle)
            if self._is_expired(entry, now):
                self._remove(handle)
                raise HandleNotFoundError(handle)
            self._entries.move_to_end(handle)
            return StoredOriginal(handle, entry.data, entry.kind, entry.created_at, len(entry.data))

    def __contains__(self, handle: object) -> bool:
        if not isinstance(handle, str):
            return False
        with self._lock:
            entry = self._entries.get(handle)
            return entry is not None and not self._is_expired(entry, self._clock())

    def record_usage(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Add one compression call's token counts to the totals for ``kind``."""
        _check_usage(kind, tokens_before, tokens_after)
        with self._lock:
            old = self._usage.get(kind, UsageTotals(0, 0, 0))
            self._usage[kind] = UsageTotals(
                old.calls + 1, old.tokens_before + tokens_before, old.tokens_after + tokens_after
            )

    def stats(self) -> StoreStats:
        """What the store holds now (expired originals are not counted)."""
        with self._lock:
            self._expire(self._clock())
            return StoreStats("memory", None, len(self._entries), self._bytes, dict(self._usage))

    def close(self) -> None:
        """Does nothing: memory is released with the object. Present for the protocol."""

    def _is_expired(self, entry: _Entry, now: float) -> bool:
        # Written as in SQLiteStore's SQL so both backends round the boundary the same way.
        return self._ttl is not None and entry.created_at < now - self._ttl

    def _remove(self, handle: str) -> None:
        entry = self._entries.pop(handle)
        self._by_created.pop(handle, None)
        self._bytes -= len(entry.data)

    def _expire(self, now: float) -> None:
        while self._by_created:
            oldest = next(iter(self._by_created))
            if not self._is_expired(self._entries[oldest], now):
                break
            self._remove(oldest)

    def _evict(self, *, keep: str) -> None:
        if self._max_bytes is None:
            return
        # ``keep`` was just moved to the end, so the oldest entry is never it while len > 1.
        while self._bytes > self._max_bytes and len(self._entries) > 1:
            victim = next(iter(self._entries))
            assert victim != keep
            self._remove(victim)
