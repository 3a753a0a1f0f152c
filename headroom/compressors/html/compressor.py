"""HtmlCompressor: a web page or an HTML tool output, as the text a reader sees.

The page's main text is extracted (:mod:`headroom.compressors.html.extract`: resiliparse
when the ``html`` extra is installed, the standard library's parser otherwise): scripts,
styles, navigation, sidebars and footers go, headings stay as ``#`` lines, links as
``text (url)``, list items as ``•`` lines, table rows as lines with their cells apart, code
as fenced blocks. With a query, the text is then pruned like prose, by the same
:class:`~headroom.compressors.text.pruner.TextPruner` and with the same minimums as
:mod:`headroom.compressors.text.compressor`, keeping the headings above every kept sentence; when no
sentence matches, the lead of the page is kept instead, so the output is never empty.

The page as received goes to the CCR store (``ctx.keep_original``) and the output ends with
one marker, e.g. ``[412 lines of markup omitted: page text extracted · retrieve: headroom:…]``.
The output is no longer HTML and carries a marker, so compressing it again changes nothing.
"""

from __future__ import annotations

import re

from headroom.compressors.base import Compressed, Context
from headroom.compressors.html.extract import extract
from headroom.compressors.text.compressor import (
    _DEFAULT_RATIO,
    _MIN_SENTENCES,
    _MIN_TOKENS,
    kept_segments,
    stash_piece,
)
from headroom.compressors.text.pruner import Chunk, TextPruner
from headroom.handles import format_marker
from headroom.relevance.segment import Segment, segment

__all__ = ["HtmlCompressor"]

_WORD_RE = re.compile(r"\w")
_HEADING_RE = re.compile(r"(#{1,6}) ")


class HtmlCompressor:
    """Main-text extraction of HTML, then query-aware pruning (kind ``html``)."""

    name = "html.extract"
    kinds = frozenset({"html"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        page = extract(text).text
        if _WORD_RE.search(page) is None:
            return None  # nothing a reader would see (a script-only page): leave it as it is
        handle = ctx.keep_original(text)
        summary = "page text extracted"
        query = ctx.query if ctx.query and ctx.query.strip() else None
        segments = segment(page)
        if (
            query is not None
            and len(segments) >= _MIN_SENTENCES
            and ctx.count_tokens(page) >= _MIN_TOKENS
        ):
            kept = _prune(page, segments, query, ctx, text)
            if kept is not None:
                summary += f", {sum(kept)} of {len(segments)} sentences kept for the query"
                page = _render(segments, kept)
        lines = len(ctx.source(text).splitlines())
        unit = "lines of markup" if lines != 1 else "line of markup"
        marker = format_marker(lines, unit, handle, summary=summary)
        return Compressed(f"{page}\n\n{marker}", self.name, lossless=False, handles=(handle,))


def _prune(
    page: str, segments: list[Segment], query: str, ctx: Context, text: str
) -> list[bool] | None:
    """Which segments to keep for ``query``; ``None`` to keep them all."""
    ratio = ctx.config.target_ratio or _DEFAULT_RATIO
    pruner = TextPruner(target_ratio=ratio, count_tokens=ctx.count_tokens)
    # A list, not the string: a page whose text is a JSON list must not be read as chunks.
    result = pruner.prune([Chunk(page)], query=query, stash=stash_piece(ctx, text))
    if not result.handles:
        return None  # nothing worth dropping
    if result.chunks:
        kept = kept_segments(segments, result.chunks[0].text)
    else:
        kept = [False] * len(segments)
    if not any(kept[j] and not _is_heading(s) for j, s in enumerate(segments)):
        kept = _lead(segments, int(ctx.count_tokens(page) * ratio), ctx)
    return _with_headings(segments, kept)


def _lead(segments: list[Segment], budget: int, ctx: Context) -> list[bool]:
    """The first segments up to ``budget`` tokens, at least one that is not a heading."""
    flags = [False] * len(segments)
    spent = 0
    for j, seg in enumerate(segments):
        cost = ctx.count_tokens(seg.sep + seg.text)
        if spent + cost > budget and any(
            flags[k] and not _is_heading(segments[k]) for k in range(j)
        ):
            break
        flags[j] = True
        spent += cost
    return flags


def _is_heading(seg: Segment) -> bool:
    return _HEADING_RE.match(seg.text) is not None


def _with_headings(segments: list[Segment], kept: list[bool]) -> list[bool]:
    """``kept`` plus the headings each kept sentence sits under (its section path)."""
    out = list(kept)
    path: list[tuple[int, int]] = []  # (level, segment index) of the open headings
    for j, seg in enumerate(segments):
        heading = _HEADING_RE.match(seg.text)
        if heading is not None:
            level = len(heading.group(1))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, j))
        elif kept[j]:
            for _, k in path:
                out[k] = True
    return out


def _render(segments: list[Segment], kept: list[bool]) -> str:
    """Kept segments with their own spacing; a gap becomes a paragraph break or a space."""
    parts: list[str] = []
    previous = -1
    for j, (seg, keep) in enumerate(zip(segments, kept, strict=True)):
        if not keep:
            continue
        if parts:
            if previous == j - 1:
                parts.append(seg.sep)
            elif seg.paragraph != segments[previous].paragraph:
                parts.append("\n\n")
            elif "\n" in seg.sep:
                parts.append(seg.sep)
            else:
                parts.append(" ")
        parts.append(seg.text)
        previous = j
    return "".join(parts)
