"""The one protocol every compressor implements.

A compressor turns text of one kind into smaller text. It is deterministic, keeps every
signal line, and, when it drops anything, puts the original in the CCR store through
``Context.stash`` *before* returning a marker that refers to it. It returns ``None`` when
it has nothing to do. The pipeline (not the compressor) enforces "never worse" and catches
exceptions, so a compressor may stay simple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from headroom.config import CompressConfig
from headroom.store.base import Store
from headroom.tokens import TokenCounter

__all__ = ["Compressed", "Compressor", "Context"]


@dataclass(frozen=True, slots=True)
class Context:
    """What a compressor may use besides the text itself.

    ``original`` is the piece exactly as the caller passed it. A compressor later in a
    kind's chain receives what the previous one made of it (SmartCrusher gets minified
    JSON), so whatever it omits must point back to ``original``, not to its own input:
    :meth:`keep_original` stores it once and every marker of the piece names that handle.
    """

    kind: str
    language: str | None
    query: str | None
    config: CompressConfig
    store: Store
    count_tokens: TokenCounter
    original: str | None = None
    _kept: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def source(self, text: str) -> str:
        """The piece as received: ``original``, or ``text`` when the context has none."""
        return self.original if self.original is not None else text

    def keep_original(self, text: str) -> str:
        """Store the piece as received (see :meth:`source`) and return its handle.

        Stored once per context, however many markers name it. ``retrieve`` of the handle
        gives back the caller's exact input, whichever compressor in the chain omitted
        something.
        """
        original = self.source(text)
        handle = self._kept.get(original)
        if handle is None:
            handle = self.store.put(original, kind=self.kind)
            self._kept[original] = handle
        return handle

    def stash(self, original: str) -> str:
        """Store ``original`` itself (not the piece) and return its handle; prefer
        :meth:`keep_original`, whose handle retrieves the caller's exact input."""
        return self.store.put(original, kind=self.kind)


@dataclass(frozen=True, slots=True)
class Compressed:
    """A compressor's output.

    Attributes:
        text: the compressed text.
        transform: a short name such as ``"json.minify"``, reported in
            ``transforms_applied``.
        lossless: whether ``text`` holds everything the input held.
        handles: CCR handles the text refers to (empty when lossless).
    """

    text: str
    transform: str
    lossless: bool
    handles: tuple[str, ...] = ()


@runtime_checkable
class Compressor(Protocol):
    """Compresses text of the kinds in ``kinds``."""

    name: str
    kinds: frozenset[str]

    def compress(self, text: str, ctx: Context) -> Compressed | None: ...
