"""Exceptions raised by Headroom.

Every exception Headroom raises on purpose derives from :class:`HeadroomError`; the leaves
also derive from the built-in exception users already catch::

    HeadroomError
    ├── InvalidMessageError      (ValueError)  a message list of the wrong shape
    ├── InvalidArgumentError     (ValueError)  a bad option or argument value
    ├── UnknownKindError         (ValueError)  a content kind no compressor knows
    └── StoreError               (RuntimeError) the CCR store failed
        └── HandleNotFoundError  (KeyError)    no original stored under a handle

Errors about input name where the problem is, e.g.
``messages[3].content[1].text: expected str, got int``.
"""

from __future__ import annotations

__all__ = [
    "HandleNotFoundError",
    "HeadroomError",
    "InvalidArgumentError",
    "InvalidMessageError",
    "StoreError",
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


class StoreError(HeadroomError, RuntimeError):
    """The CCR store could not store or read an original."""


class HandleNotFoundError(StoreError, KeyError):
    """No original is stored under the handle (never stored, expired or evicted)."""

    def __init__(self, handle: str) -> None:
        super().__init__(handle)
        self.handle = handle

    def __str__(self) -> str:
        return (
            f"no original stored under {self.handle!r} "
            "(it was never stored here, or it expired or was evicted)"
        )
