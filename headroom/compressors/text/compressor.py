"""TextCompressor: prose and retrieved passages, pruned to what the query asks about.

Delegates to :class:`headroom.compressors.text.pruner.TextPruner` with BM25 (no extra needed). With
a query it keeps the best sentences up to ``config.target_ratio`` (30% of the tokens when
unset) of texts of at least 8 sentences and 400 tokens. A query that matches nothing keeps
the lead (the first sentences up to the ratio), never a bare marker.

Without a query, prose stays whole by default (only duplicate paragraphs go, and ``None`` is
returned when there are none): dropping sentences without knowing what will be asked is a
policy the caller opts into by setting ``config.target_ratio``. Then the text shrinks to that
share by query-less salience (:mod:`headroom.relevance.salience`: position, headings,
information density, identifiers and numbers; the lead always kept), or, with
``config.kompress_model`` a model directory, word by word by an LLMLingua-2-style token
classifier (:mod:`headroom.compressors.text.kompress`). Dropped text goes to the CCR store through
``ctx.keep_original`` before the marker is returned.
"""

from __future__ import annotations

from collections.abc import Callable

from headroom.compressors.base import Compressed, Context
from headroom.compressors.text.pruner import TextPruner
from headroom.relevance.segment import Segment, segment

__all__ = ["TextCompressor", "kept_segments", "stash_piece"]

# The smallest share that keeps >= 98% of SQuAD answers (72.7% saved); the curve is in
# docs/rag.md (python -m headroom.bench.rag).
_DEFAULT_RATIO = 0.3
# Pruning a short text saves less than the marker costs and loses most of the message
# (a chat turn listing ids is short; retrieved documents are long). Under 400 tokens the
# pruner keeps only ~94% of SQuAD answers at the default ratio (docs/rag.md).
_MIN_SENTENCES = 8
_MIN_TOKENS = 400


def stash_piece(ctx: Context, text: str) -> Callable[[str], str]:
    """The ``stash`` a prose engine gets from a compressor given ``text``.

    The engine stores what it worked on: paragraphs joined again, a page's extracted text.
    That can differ from the piece (blank lines, the final newline, the markup), and the
    handle must give back the piece itself, so the engine's copy is not what is stored.
    """

    def stash(rebuilt: str) -> str:
        del rebuilt  # a rewrite of the piece; the context stores the piece as received
        return ctx.keep_original(text)

    return stash


class TextCompressor:
    """Sentence pruning of plain text (kind ``text``): by the query, or by salience when there
    is none and a ratio was asked for."""

    name = "text.prune"
    kinds = frozenset({"text"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        query = ctx.query if ctx.query and ctx.query.strip() else None
        if query is not None and query.strip() == ctx.source(text).strip():
            # The piece is the latest user turn, which the engine takes as the query: a text
            # is not a question about itself, and pruning it by itself keeps its longest
            # sentences.
            query = None
        ratio = ctx.config.target_ratio
        if query is None and ratio is not None:
            return self._shrink(text, ctx, ratio)
        if query is not None and (
            ctx.count_tokens(text) < _MIN_TOKENS or len(segment(text)) < _MIN_SENTENCES
        ):
            query = None  # too short to prune: at most remove repeated paragraphs
        if query is None:
            paragraphs = _paragraphs(text)
            if len(paragraphs) < 2:
                return None
            documents: str | list[str] = paragraphs
        else:
            documents = text
        pruner = TextPruner(
            target_ratio=ctx.config.target_ratio or _DEFAULT_RATIO,
            count_tokens=ctx.count_tokens,
        )
        result = pruner.prune(documents, query=query, stash=stash_piece(ctx, text))
        if not result.handles:
            return None
        return Compressed(result.text, self.name, lossless=False, handles=result.handles)

    def _shrink(self, text: str, ctx: Context, ratio: float) -> Compressed | None:
        """No query, an explicit ratio: salience by default, the token classifier if set."""
        model = ctx.config.kompress_model
        if model is not None and model != "default":
            from headroom.compressors.text import kompress  # torch only when a model is configured

            result = kompress.compress(
                text, model, target_ratio=ratio, stash=stash_piece(ctx, text)
            )
            if result is None:
                return None
            return Compressed(result.text, "text.kompress", lossless=False, handles=result.handles)
        pruner = TextPruner(target_ratio=ratio, count_tokens=ctx.count_tokens, no_query="salience")
        # One document (not paragraphs as chunks): the lead is the text's, and salience's
        # novelty discount already passes over repeated paragraphs.
        pruned = pruner.prune(text, stash=stash_piece(ctx, text))
        if not pruned.handles:
            return None
        return Compressed(pruned.text, self.name, lossless=False, handles=pruned.handles)


def kept_segments(segments: list[Segment], kept_text: str) -> list[bool]:
    """Which of a chunk's ``segments`` the pruner kept, read back from its kept text (the
    kept sentences appear in it whole and in order, with their spacing between them)."""
    flags = [False] * len(segments)
    pos = 0
    for j, seg in enumerate(segments):
        start = pos
        while start < len(kept_text) and kept_text[start].isspace():
            start += 1
        if kept_text.startswith(seg.text, start):
            flags[j] = True
            pos = start + len(seg.text)
    return flags


def _paragraphs(text: str) -> list[str]:
    out: dict[int, list[str]] = {}
    for seg in segment(text):
        out.setdefault(seg.paragraph, []).append(seg.sep.lstrip("\n") + seg.text)
    return ["".join(parts) for parts in out.values()]
