"""The one protocol every compressor implements.

A compressor turns text of one kind into smaller text. It is deterministic, keeps every
signal line, and, when it drops anything, puts the original in the CCR store through
``Context.stash`` *before* returning a marker that refers to it. It returns ``None`` when
it has nothing to do. The pipeline (not the compressor) enforces "never worse" and catches
exceptions, so a compressor may stay simple.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from headroom.config import CompressConfig
from headroom.store.base import Store
from headroom.tokens import TokenCounter

__all__ = ["Compressed", "Compressor", "Context"]


@dataclass(frozen=True, slots=True)
class Context:
    """What a compressor may use besides the text itself."""

    kind: str
    language: str | None
    query: str | None
    config: CompressConfig
    store: Store
    count_tokens: TokenCounter

    def stash(self, original: str) -> str:
        """Store ``original`` in the CCR store and return its handle."""
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
