"""What the public entry points return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CompressResult", "HeadroomStats", "PieceDiagnostic", "TextResult"]


def _ratio(before: int, after: int) -> float:
    return round((before - after) / before, 4) if before > 0 else 0.0


@dataclass(frozen=True, slots=True)
class PieceDiagnostic:
    """What happened to one piece of a message list.

    Attributes:
        where: its place, e.g. ``messages[3].content``.
        kind: the detected kind (``json``, ``log``, ``code``, ...).
        transforms: the transforms that changed it, in order (empty: left as it was).
        tokens_before / tokens_after: its tokens.
        lossless: whether the change can be undone without the store.
        handles: handles its text refers to.
        warnings: why it was left unchanged or fell back, if it was.
    """

    where: str
    kind: str
    transforms: list[str]
    tokens_before: int
    tokens_after: int
    lossless: bool
    handles: list[str]
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class CompressResult:
    """Result of :func:`headroom.compress` (field names match headroom-ai's).

    Attributes:
        messages: the messages, same shape as given, with compressed text.
        tokens_before / tokens_after / tokens_saved: whole-request token counts.
        compression_ratio: ``tokens_saved / tokens_before`` (0.0 to 1.0).
        transforms_applied: names of the transforms that changed something, in order.
        handles: CCR handles created; ``retrieve(handle)`` returns the original.
        warnings: content left unchanged because a compressor failed, and why.
        lossless: whether every change can be undone without the store.
        diagnostics: per compressed-or-considered piece, what happened to it.
    """

    messages: list[Any]
    tokens_before: int
    tokens_after: int
    transforms_applied: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lossless: bool = True
    diagnostics: list[PieceDiagnostic] = field(default_factory=list)

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    @property
    def compression_ratio(self) -> float:
        return _ratio(self.tokens_before, self.tokens_after)


@dataclass(frozen=True, slots=True)
class TextResult:
    """Result of :func:`headroom.compress_text` for one string."""

    text: str
    kind: str
    language: str | None
    tokens_before: int
    tokens_after: int
    lossless: bool
    transforms_applied: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    @property
    def compression_ratio(self) -> float:
        return _ratio(self.tokens_before, self.tokens_after)

    @property
    def changed(self) -> bool:
        return bool(self.transforms_applied)


@dataclass(frozen=True, slots=True)
class HeadroomStats:
    """Cumulative counts of one :class:`headroom.Headroom` instance."""

    calls: int
    tokens_before: int
    tokens_after: int
    by_kind: dict[str, tuple[int, int]]  # kind -> (tokens_before, tokens_after)

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    @property
    def compression_ratio(self) -> float:
        return _ratio(self.tokens_before, self.tokens_after)
