"""Compressors, one per content kind, and the registry the pipeline asks.

Engines plug in by registering; the pipeline never changes::

    registry = default_registry()
    registry.register(MyCompressor())   # appended to the chain of each kind it handles

For one kind the registered compressors run as a chain, each on the previous output.
"""

from __future__ import annotations

from headroom.compressors.base import Compressed, Compressor, Context
from headroom.compressors.code import CodeCompressor
from headroom.compressors.diff import DiffCompressor
from headroom.compressors.html import HtmlCompressor
from headroom.compressors.json import JsonMinifier, SmartCrusher
from headroom.compressors.listing import ListingCompressor
from headroom.compressors.logs import LogCompressor
from headroom.compressors.markdown import MarkdownCompressor
from headroom.compressors.search import SearchCompressor
from headroom.compressors.test_output import TestOutputCompressor
from headroom.compressors.text import TextCompressor
from headroom.errors import InvalidArgumentError

__all__ = ["Compressed", "Compressor", "Context", "Registry", "default_registry"]


class Registry:
    """Which compressors run, in order, for each content kind."""

    def __init__(self) -> None:
        self._chains: dict[str, list[Compressor]] = {}

    def register(self, compressor: Compressor) -> None:
        """Append ``compressor`` to the chain of every kind in ``compressor.kinds``."""
        if not isinstance(compressor, Compressor):
            raise InvalidArgumentError(
                f"not a compressor (needs name, kinds and compress()): {compressor!r}"
            )
        for kind in sorted(compressor.kinds):
            self._chains.setdefault(kind, []).append(compressor)

    def chain(self, kind: str) -> tuple[Compressor, ...]:
        """The compressors for ``kind``, in the order they run."""
        return tuple(self._chains.get(kind, ()))


def default_registry() -> Registry:
    """A registry with every built-in compressor."""
    registry = Registry()
    registry.register(JsonMinifier())
    registry.register(SmartCrusher())
    registry.register(LogCompressor())
    registry.register(SearchCompressor())
    registry.register(TestOutputCompressor())
    registry.register(DiffCompressor())
    registry.register(ListingCompressor())
    registry.register(CodeCompressor())
    registry.register(HtmlCompressor())
    registry.register(MarkdownCompressor())
    registry.register(TextCompressor())
    return registry
