"""Search results (grep, ripgrep, IDE panels): grouped by file, every file listed with its count.

Rules:

* Output is grouped by file: the path once, with its match count, then ``12:text`` match
  lines and ``12-text`` context lines. Exact repeats of a line within a file become one
  line listing their line numbers (``12,40,77:text``). This rewrite alone is lossless and
  is all that happens with ``lossy=False`` or when no file has many lines.
* Lossy, a file with more than a few lines keeps only some matching lines: with a query,
  the ones BM25 ranks highest for it; without one, the first few, preferring lines not
  already shown for an earlier file. Its context lines go, and its header says
  ``(12 matches, 3 shown)``.
* Every file path and its match count always stays: which files match is the signal.
* The original goes to the CCR store first; one marker at the end says how many lines
  were omitted and retrieves them.
"""

from __future__ import annotations

from headroom.compressors._lines import Lines, ends_with_marker
from headroom.compressors.base import Compressed, Context
from headroom.compressors.search.parse import Entry, FileGroup, Hit, parse_search
from headroom.handles import format_marker
from headroom.relevance import bm25_scores

__all__ = ["SearchCompressor"]

_FEW_LINES = 4  # a file with at most this many lines is shown whole
_FIRST_MATCHES = 3  # without a query, this many matching lines per larger file
_QUERY_MATCHES = 4  # with a query, at most this many best-ranked lines per file
_LISTED_NUMBERS = 4  # lossy: past this many repeats, show the count instead of every number
_MIN_UNDERSTOOD = 0.6  # share of lines that must parse as search output


class SearchCompressor:
    """Groups search output by file and keeps the matches that matter.

    Example:
        >>> from headroom import CompressConfig, Headroom
        >>> hr = Headroom(CompressConfig(min_tokens=0), store="memory")
        >>> line = "    user = load_user(user_id)\\n"
        >>> hits = "".join(f"src/app/models.py:{n}:{line}" for n in (12, 40, 77))
        >>> print(hr.compress_text(hits + "src/app/views.py:8:    user = request.user\\n").text)
        src/app/models.py (3 matches)
        12,40,77:    user = load_user(user_id)
        src/app/views.py (1 match)
        8:    user = request.user
        <BLANKLINE>
    """

    name = "search.grouped"
    kinds = frozenset({"search"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        if ends_with_marker(text):
            return None
        lines = Lines.split(text)
        entries, understood = parse_search(lines.items)
        groups = [entry for entry in entries if isinstance(entry, FileGroup)]
        if not groups or understood < _MIN_UNDERSTOOD * len(lines.items):
            return None
        for group in groups:
            group.hits = _merge_repeats(group.hits)
        lossy = ctx.config.lossy and any(len(g.hits) > _FEW_LINES for g in groups)
        kept = _select(groups, ctx.query) if lossy else {id(h) for g in groups for h in g.hits}
        out, omitted = _render(entries, kept, lines, lossy)
        if not omitted:
            result = lines.join(out)
            return None if result == text else Compressed(result, self.name, lossless=True)
        handle = ctx.keep_original(text)
        matches = sum(len(h.numbers) for g in groups for h in g.hits if h.match and id(h) in kept)
        total = sum(g.match_count for g in groups)
        summary = (
            f"{total - matches} of {total} matching lines and their context, "
            f"from {sum(1 for g in groups if _partial(g, kept))} of {len(groups)} files; "
            "every file is listed with its match count"
        )
        out.append(lines.added(format_marker(omitted, "lines", handle, summary=summary)))
        return Compressed(lines.join(out), self.name, lossless=False, handles=(handle,))


def _merge_repeats(hits: list[Hit]) -> list[Hit]:
    merged: dict[tuple[str, bool], Hit] = {}
    for hit in hits:
        key = (hit.text, hit.match)
        if key in merged:
            merged[key].numbers.extend(hit.numbers)
        else:
            merged[key] = Hit(list(hit.numbers), hit.text, hit.match)
    return list(merged.values())


def _select(groups: list[FileGroup], query: str | None) -> set[int]:
    """The ids of the hits to show."""
    matches = [hit for group in groups for hit in group.hits if hit.match]
    relevance = bm25_scores(query or "", [hit.text for hit in matches])
    scores = dict(zip(map(id, matches), relevance, strict=True))
    kept: set[int] = set()
    shown_texts: set[str] = set()
    for group in groups:
        if len(group.hits) <= _FEW_LINES:
            chosen = group.hits
        else:
            candidates = [hit for hit in group.hits if hit.match]
            ranked = sorted(
                (h for h in candidates if scores[id(h)] > 0), key=lambda h: -scores[id(h)]
            )
            chosen = ranked[:_QUERY_MATCHES]
            if not chosen:
                # Lines already shown for an earlier file tell the reader least.
                novel = [h for h in candidates if h.text.strip() not in shown_texts]
                chosen = (novel or candidates)[: _FIRST_MATCHES if not query else 1]
        kept.update(map(id, chosen))
        shown_texts.update(h.text.strip() for h in chosen)
    return kept


def _partial(group: FileGroup, kept: set[int]) -> bool:
    return any(id(hit) not in kept or len(hit.numbers) > _LISTED_NUMBERS for hit in group.hits)


def _render(
    entries: list[Entry], kept: set[int], lines: Lines, lossy: bool
) -> tuple[list[str], int]:
    """The output lines and how many hit lines of the input they no longer show in full."""
    out: list[str] = []
    omitted = 0
    for entry in entries:
        if isinstance(entry, str):
            out.append(entry)
            continue
        shown = [hit for hit in entry.hits if id(hit) in kept]
        shown_matches = sum(len(h.numbers) for h in shown if h.match)
        count = entry.match_count
        header = f"{entry.path} ({count} match{'' if count == 1 else 'es'}"
        if shown_matches < count:
            header += f", {sum(1 for h in shown if h.match)} shown"
        out.append(lines.added(header + ")"))
        for hit in sorted(shown, key=lambda h: h.numbers[0]):
            numbers = hit.numbers
            if lossy and len(numbers) > _LISTED_NUMBERS:
                label = f"{numbers[0]},{numbers[1]},… ×{len(numbers)}"
                omitted += len(numbers) - 2
            else:
                label = ",".join(map(str, numbers))
            out.append(f"{label}{':' if hit.match else '-'}{hit.text}")
        omitted += sum(len(h.numbers) for h in entry.hits if id(h) not in kept)
    return out, omitted
