"""Exceptions raised by Headroom.

Every exception Headroom raises on purpose derives from :class:`HeadroomError`; the leaves
also derive from the built-in exception users already catch::

    HeadroomError
    ├── InvalidMessageError      (ValueError)  a message list of the wrong shape
    ├── InvalidArgumentError     (ValueError)  a bad option or argument value
    ├── UnknownKindError         (ValueError)  a content kind no compressor knows
    ├── SharedKeyError           (KeyError)    no shared context under a key
    └── StoreError               (RuntimeError) the CCR store failed
        ├── StoreUnavailableError               the store cannot be reached (names it)
        └── HandleNotFoundError  (KeyError)    no original stored under a handle
            └── HandleExpiredError             one was, but it expired or was evicted

Errors about input name where the problem is, e.g.
``messages[3].content[1].text: expected str, got int``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

__all__ = [
    "HandleExpiredError",
    "HandleNotFoundError",
    "HeadroomError",
    "InvalidArgumentError",
    "InvalidMessageError",
    "SharedKeyError",
    "StoreError",
    "StoreUnavailableError",
    "UnknownKindError",
]


class HeadroomError(Exception):
    """Base class of every error Headroom raises on purpose."""


class InvalidMessageError(HeadroomError, ValueError):
    """A message list does not have a shape Headroom understands.

    Attributes:
        path: where the problem is, e.g. ``messages[3].content``.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class InvalidArgumentError(HeadroomError, ValueError):
    """An option or argument has a value Headroom cannot use."""


class UnknownKindError(HeadroomError, ValueError):
    """A content kind was named that Headroom does not know."""


class SharedKeyError(HeadroomError, KeyError):
    """No :class:`~headroom.SharedContext` entry is under the key (never put, deleted, or
    its TTL ran out).

    Attributes:
        app: the context's namespace.
        key: the key.
    """

    def __init__(self, app: str, key: str) -> None:
        super().__init__(key)
        self.app = app
        self.key = key

    def __str__(self) -> str:
        return (
            f"nothing is shared under key {self.key!r} in app {self.app!r} (it was never put, "
            "was deleted, or expired)"
        )


class StoreError(HeadroomError, RuntimeError):
    """The CCR store could not store or read an original."""


class StoreUnavailableError(StoreError):
    """The CCR store cannot be reached (a Redis server down or not answering in time).

    Attributes:
        location: the store, e.g. its URL with any password redacted.
    """

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"CCR store at {location} is unavailable: {problem}")
        self.location = location


class HandleNotFoundError(StoreError, KeyError):
    """No original is stored under the handle.

    A handle that was stored but expired or was evicted raises the subclass
    :class:`HandleExpiredError` while the store still remembers it; this one means the
    store has no record of it (never stored here, or forgotten long ago).
    """

    def __init__(self, handle: str) -> None:
        super().__init__(handle)
        self.handle = handle

    def __str__(self) -> str:
        return (
            f"no original stored under {self.handle!r} (it was never stored here, or it "
            "went so long ago that the store no longer remembers it)"
        )


class HandleExpiredError(HandleNotFoundError):
    """The original behind the handle was stored, but is gone: its TTL ran out or the
    store's size bound evicted it.

    Attributes:
        handle: the handle.
        expired_at: when it went, in seconds since the epoch.
        reason: ``"expired"`` (TTL) or ``"evicted"`` (size bound).

    Example:
        >>> str(HandleExpiredError("headroom:3f9a1c2e4b7d", 0.0))
        "the original stored under 'headroom:3f9a1c2e4b7d' expired at 1970-01-01 00:00:00 UTC"
    """

    def __init__(
        self,
        handle: str,
        expired_at: float,
        reason: Literal["expired", "evicted"] = "expired",
    ) -> None:
        super().__init__(handle)
        self.expired_at = expired_at
        self.reason = reason

    def __str__(self) -> str:
        when = datetime.fromtimestamp(self.expired_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        if self.reason == "evicted":
            return (
                f"the original stored under {self.handle!r} was evicted at {when} UTC "
                "(the store was over its size bound)"
            )
        return f"the original stored under {self.handle!r} expired at {when} UTC"
