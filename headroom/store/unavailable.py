"""A stand-in for a store that could not be opened, so compression can go on without it.

:func:`headroom.store.open_store` returns one with ``degrade=True`` (as ``Headroom`` does)
when the store it was asked for cannot be opened: an unwritable ``HEADROOM_HOME``, a corrupt
or foreign database file, a full disk. Every ``put`` raises :class:`StoreError` naming the
store and the original failure; the pipeline turns that into a warning and keeps the
lossless output, since nothing may be dropped without a stored original.
"""

from __future__ import annotations

from headroom.errors import HandleNotFoundError, StoreError
from headroom.store._common import encode_original
from headroom.store.base import StoredOriginal, StoreStats

__all__ = ["UnavailableStore"]


class _NotStoredHere(HandleNotFoundError):
    """``HandleNotFoundError`` that also says why: the store could not be opened."""

    def __init__(self, handle: str, reason: str) -> None:
        super().__init__(handle)
        self.reason = reason

    def __str__(self) -> str:
        return f"no original stored under {self.handle!r}: {self.reason}"


class UnavailableStore:
    """A :class:`~headroom.store.base.Store` that stores nothing and says why.

    Args:
        location: the store that could not be opened (a file path, or a description).
        error: why it could not be opened.

    Example:
        >>> store = UnavailableStore("/srv/ccr.sqlite3", "disk I/O error")
        >>> "headroom:570641afc192" in store
        False
        >>> store.stats().writable
        False
    """

    def __init__(self, location: str, error: BaseException | str) -> None:
        self.location = location
        self.error = str(error)

    def __repr__(self) -> str:
        return f"UnavailableStore({self.location!r}, {self.error!r})"

    def __enter__(self) -> UnavailableStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def _reason(self) -> str:
        return f"CCR store at {self.location} is unavailable ({self.error})"

    def put(self, original: str | bytes, *, kind: str) -> str:
        """Always raises: nothing can be stored.

        Raises:
            StoreError: naming the store and why it could not be opened.
        """
        encode_original(original)  # bad arguments are still reported as such
        raise StoreError(f"{self._reason}; nothing was stored")

    def get(self, handle: str) -> StoredOriginal:
        """Always raises :class:`HandleNotFoundError`, saying the store is unavailable."""
        raise _NotStoredHere(handle, self._reason)

    def __contains__(self, handle: object) -> bool:
        return False

    def set_ref(self, name: str, handle: str, ttl_seconds: float | None) -> None:
        """Always raises.

        Raises:
            StoreError: naming the store and why it could not be opened.
        """
        raise StoreError(f"{self._reason}; nothing was stored")

    def get_ref(self, name: str) -> str | None:
        """Always ``None``: nothing is stored."""
        return None

    def delete_ref(self, name: str) -> bool:
        """Always ``False``: nothing is stored."""
        return False

    def stats(self) -> StoreStats:
        """Empty, not writable, with the reason in ``error``."""
        return StoreStats("unavailable", self.location, 0, 0, writable=False, error=self._reason)

    def close(self) -> None:
        """Does nothing: there is nothing to release."""
