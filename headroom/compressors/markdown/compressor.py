"""MarkdownCompressor: a README or docs page as prose with structure.

Rules, per block (:mod:`.parse`):

* **Headings** are kept verbatim, every one: they are the document's map, and the model asks
  for a section by them (``retrieve`` with a query).
* **Fenced code** is kept verbatim; a large block (the code compressor's ``min_chars``) of a
  language it reads becomes its skeleton, whose markers name the document's handle and its
  lines. Tables, block quotes, HTML, front matter, link definitions and indented code are
  kept verbatim too.
* **Paragraphs and list items** are prose. With a query (texts of at least 8 sentences and
  400 tokens, as for the ``text`` kind) they are pruned by
  :class:`~headroom.compressors.text.pruner.TextPruner`, each block scored with its section's
  headings as its title; sentences naming an identifier the query names (``inline code``,
  ``dotted.names``, ``--flags``, ``snake_case``, paths) are kept however they score, and so is
  the first sentence of a section naming an identifier its heading names. Without a query,
  as for the ``text`` kind: with ``config.target_ratio`` set the prose shrinks to that share by
  query-less salience (the pruner's ``no_query="salience"``), else only repeated paragraphs
  go. A query equal to the document (the latest user turn, taken as the query) is no query.
* When sentences were dropped the output ends with one marker, e.g. ``[38 sentences omitted:
  from 12 of 14 sections · retrieve: headroom:…]``, naming the handle of the document as
  received, stored (``ctx.keep_original``) before the output is returned. One marker, not one
  per section: the headings already say where the text was, and a marker per section cost 7%
  of a README's tokens (typer's, 12 sections) for nothing the model could not ask for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from headroom.compressors.base import Compressed, Context
from headroom.compressors.markdown.code import fence_language, skeleton
from headroom.compressors.markdown.parse import Block, fence_spans, parse
from headroom.compressors.text.compressor import (
    _DEFAULT_RATIO,
    _MIN_SENTENCES,
    _MIN_TOKENS,
    kept_segments,
    stash_piece,
)
from headroom.compressors.text.pruner import Chunk, PruneResult, TextPruner
from headroom.handles import format_marker
from headroom.relevance.segment import Segment, segment

__all__ = ["MarkdownCompressor"]

_PROSE: Final = frozenset({"paragraph", "list"})
# Identifier-shaped words: `code spans`, --flags, dotted.names, snake_case, camelCase,
# CONSTANT_CASE, paths and calls. Plain words are left to the relevance scorer.
_CODE_SPAN_RE: Final = re.compile(r"`([^`\n]{1,200})`")
_IDENTIFIER_RE: Final = re.compile(
    r"(?<![\w-])(?:--?[A-Za-z][\w-]*|[A-Za-z_]\w*(?:[./:][\w-]+)+|"
    r"[A-Za-z]*_\w+|[a-z]+[A-Z]\w*|\w+\(\))"
)
_MAX_PER_IDENTIFIER: Final = 4  # sentences kept for one query identifier beyond the pruner's
_MAX_QUERY_IDENTIFIERS: Final = 32
_MIN_IDENTIFIER: Final = 3


@dataclass(slots=True)
class _Prose:
    """One paragraph or list block: its sentences and which of them stay."""

    block: int
    section: int
    segments: list[Segment]
    kept: list[bool] = field(default_factory=list)


class MarkdownCompressor:
    """Headings and code kept, prose pruned by the query (kind ``markdown``)."""

    name = "markdown.sections"
    kinds = frozenset({"markdown"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        blocks = parse(text)
        sections = _sections(blocks)
        prose = [
            _Prose(i, sections[i], segs)
            for i, b in enumerate(blocks)
            if b.kind in _PROSE and (segs := segment(b.text))
        ]
        for p in prose:
            p.kept = [True] * len(p.segments)
        query = ctx.query if ctx.query and ctx.query.strip() else None
        if query is not None and query.strip() == ctx.source(text).strip():
            query = None  # the latest user turn taken as the query: not a question on itself
        sentences = sum(len(p.segments) for p in prose)
        if query is not None and (
            ctx.count_tokens(text) < _MIN_TOKENS or sentences < _MIN_SENTENCES
        ):
            query = None  # too short to prune: at most remove repeated paragraphs
        headings = _heading_paths(blocks, sections)
        if query is not None:
            _prune(prose, headings, ctx, text, query=query)
            _keep_query_identifiers(prose, query)
            _keep_heading_identifiers(prose, blocks, sections)
        elif ctx.config.target_ratio is not None:
            # No query but a ratio asked for: shrink by salience, as the text kind does.
            _prune(prose, headings, ctx, text, query=None)
            _keep_heading_identifiers(prose, blocks, sections)
        else:
            _dedup(prose, ctx, text)
        _keep_code(prose, blocks)
        skeletons = _skeletons(blocks, ctx, text)
        if not skeletons and all(all(p.kept) for p in prose):
            return None
        handle = ctx.keep_original(text)
        return Compressed(
            _render(blocks, prose, skeletons, handle),
            self.name,
            lossless=False,
            handles=(handle,),
        )


def _sections(blocks: list[Block]) -> list[int]:
    """The section of each block: how many headings come at or before it."""
    out: list[int] = []
    section = 0
    for block in blocks:
        section += block.kind == "heading"
        out.append(section)
    return out


def _heading_text(block: Block) -> str:
    first = block.text.split("\n", 1)[0]
    return first.strip().strip("#").strip()


def _heading_paths(blocks: list[Block], sections: list[int]) -> dict[int, str]:
    """Each section's headings from the top (``Install / From source``), for scoring."""
    paths: dict[int, str] = {0: ""}
    open_: list[tuple[int, str]] = []
    for block, section in zip(blocks, sections, strict=True):
        if block.kind != "heading":
            continue
        while open_ and open_[-1][0] >= block.level:
            open_.pop()
        open_.append((block.level, _heading_text(block)))
        paths[section] = " / ".join(title for _, title in open_)
    return paths


def _pruner(ctx: Context, *, dedup: bool) -> TextPruner:
    # Dedup is the whole of the no-query, no-ratio case; otherwise a missing query means a
    # ratio was asked for, and salience chooses.
    return TextPruner(
        target_ratio=ctx.config.target_ratio or _DEFAULT_RATIO,
        dedup=dedup,
        count_tokens=ctx.count_tokens,
        no_query="keep" if dedup else "salience",
    )


def _prune(
    prose: list[_Prose], headings: dict[int, str], ctx: Context, text: str, *, query: str | None
) -> None:
    """Relevance to ``query``, or salience without one; headings are each block's title."""
    # Near-duplicate detection is for repeated passages; short list blocks of one README
    # (install commands for two platforms) look alike without being repeats.
    chunks = [Chunk(_block_text(p), title=headings.get(p.section) or None) for p in prose]
    result = _pruner(ctx, dedup=False).prune(chunks, query=query, stash=stash_piece(ctx, text))
    if not result.handles:
        return  # nothing worth dropping
    _apply(prose, result)


def _block_text(p: _Prose) -> str:
    return "".join(s.sep + s.text for s in p.segments)


def _apply(prose: list[_Prose], result: PruneResult) -> None:
    """Map the pruner's kept text back to each block's sentences (they appear in order)."""
    kept = {c.index: c.text for c in result.chunks}
    for index, p in enumerate(prose):
        kept_text = kept.get(index)
        if kept_text is None:
            p.kept = [False] * len(p.segments)
            continue
        p.kept = kept_segments(p.segments, kept_text)


def _identifiers(text: str) -> set[str]:
    found = {m.group(1).strip() for m in _CODE_SPAN_RE.finditer(text)}
    found.update(m.group(0) for m in _IDENTIFIER_RE.finditer(text))
    return {f.lower() for f in found if len(f) >= _MIN_IDENTIFIER}


def _keep_query_identifiers(prose: list[_Prose], query: str) -> None:
    """Keep sentences naming what the query names (a few per identifier)."""
    # A long query (a pasted message taken as the query) names many: the first few count.
    for identifier in sorted(_identifiers(query))[:_MAX_QUERY_IDENTIFIERS]:
        extra = 0
        for p in prose:
            for j, seg in enumerate(p.segments):
                if extra < _MAX_PER_IDENTIFIER and not p.kept[j] and identifier in seg.text.lower():
                    p.kept[j] = True
                    extra += 1
            if extra >= _MAX_PER_IDENTIFIER:
                break


def _keep_heading_identifiers(
    prose: list[_Prose], blocks: list[Block], sections: list[int]
) -> None:
    """Keep, in each section, the first sentence naming an identifier its heading names."""
    by_section: dict[int, list[_Prose]] = {}
    for p in prose:
        by_section.setdefault(p.section, []).append(p)
    for block, section in zip(blocks, sections, strict=True):
        if block.kind != "heading" or section not in by_section:
            continue
        for identifier in sorted(_identifiers(_heading_text(block))):
            hit = next(
                (
                    (p, j)
                    for p in by_section[section]
                    for j, seg in enumerate(p.segments)
                    if identifier in seg.text.lower()
                ),
                None,
            )
            if hit is not None:
                hit[0].kept[hit[1]] = True


def _keep_code(prose: list[_Prose], blocks: list[Block]) -> None:
    """A fenced block inside a list item is code, kept whole as a top-level one is (half a
    fence would turn the rest of the output into code)."""
    for p in prose:
        spans = fence_spans(blocks[p.block].text)
        if not spans:
            continue
        end = 0
        for j, seg in enumerate(p.segments):
            start = end + len(seg.sep)
            end = start + len(seg.text)
            if any(a < end and start < b for a, b in spans):
                p.kept[j] = True


def _dedup(prose: list[_Prose], ctx: Context, text: str) -> None:
    if len(prose) < 2:
        return
    result = _pruner(ctx, dedup=True).prune(
        [Chunk(_block_text(p)) for p in prose], stash=stash_piece(ctx, text)
    )
    for chunk in result.dropped:
        if chunk.duplicate_of is not None:
            prose[chunk.index].kept = [False] * len(prose[chunk.index].segments)


def _skeletons(blocks: list[Block], ctx: Context, text: str) -> dict[int, str]:
    """Fenced blocks replaced by their skeleton: index -> the block's new text."""
    out: dict[int, str] = {}
    line = 1
    for i, block in enumerate(blocks):
        language = fence_language(block.info) if block.kind == "fence" else None
        if language is not None:
            head, _, rest = block.text.partition("\n")
            body, close = _split_close(rest)
            if body:
                new = skeleton(body, language, line + 1, ctx, text)
                if new is not None:
                    out[i] = f"{head}\n{new}{'' if new.endswith(chr(10)) else chr(10)}{close}"
        line += block.text.count("\n")
    return out


def _split_close(rest: str) -> tuple[str, str]:
    """A fence's body and its closing line ("" when the fence is never closed)."""
    trimmed = rest[:-1] if rest.endswith("\n") else rest
    cut = trimmed.rfind("\n") + 1
    last = trimmed[cut:]
    if last.strip() and set(last.strip()) <= {"`", "~"}:
        return rest[:cut], rest[cut:]
    return rest, ""


def _render_prose(p: _Prose, block: Block) -> str | None:
    """The kept sentences of a block with their own spacing, or ``None`` if none is kept."""
    if all(p.kept):
        return block.text
    parts: list[str] = []
    previous = -1
    for j, (seg, keep) in enumerate(zip(p.segments, p.kept, strict=True)):
        if not keep:
            continue
        if previous == j - 1 and j > 0:
            parts.append(seg.sep)
        elif "\n" in seg.sep:
            parts.append(("\n" if parts else "") + seg.sep.rsplit("\n", 1)[1])
        elif parts:
            parts.append(" ")
        elif j == 0:
            parts.append(seg.sep)
        parts.append(seg.text)
        previous = j
    return "".join(parts) + "\n" if parts else None


def _render(
    blocks: list[Block], prose: list[_Prose], skeletons: dict[int, str], handle: str
) -> str:
    """The kept blocks in order, blank lines collapsed where blocks were dropped, then the
    marker when sentences were omitted."""
    by_block = {p.block: p for p in prose}
    out: list[str] = []
    gap = True  # the output so far ends in a blank line (or is empty)
    open_fence: tuple[int, bool] | None = None
    for i, block in enumerate(blocks):
        piece: str | None = block.text
        if (p := by_block.get(i)) is not None:
            piece = _render_prose(p, block)
        elif i in skeletons:
            piece = skeletons[i]
        if piece is None or (block.kind == "blank" and gap):
            continue
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        if _unclosed_fence(block):
            open_fence = (len(out), gap)  # it runs to the end: a marker after it is code
        out.append(piece)
        gap = block.kind == "blank"
    omitted = sum(p.kept.count(False) for p in prose)
    if omitted:
        sections = len({p.section for p in prose if not all(p.kept)})
        total = len({p.section for p in prose})
        unit = "sentences" if omitted != 1 else "sentence"
        summary = f"from {sections} of {total} sections" if total > 1 else None
        marker = format_marker(omitted, unit, handle, summary=summary)
        if open_fence is not None:
            at, gap_before = open_fence
            out.insert(at, ("" if gap_before else "\n") + marker + "\n\n")
            return "".join(out)
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        out.append(("" if gap else "\n") + marker)
        out.append("\n")
    return "".join(out)


def _unclosed_fence(block: Block) -> bool:
    """Whether ``block`` is a fence never closed (it then runs to the end of the text)."""
    if block.kind != "fence":
        return False
    lines = block.text.rstrip("\r\n").split("\n")
    opening = lines[0].lstrip(" ")
    char = opening[:1]
    width = len(opening) - len(opening.lstrip(char))
    last = lines[-1].strip() if len(lines) > 1 else ""
    return not (len(last) >= width and set(last) == {char})
