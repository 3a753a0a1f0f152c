"""Logs: one verbatim line per template, with its count; the rest behind one marker.

Every line is reduced to a template by the native masking kernel (numbers, ids, paths
become ``<*>``). The first occurrence of every template is kept verbatim, so every distinct
error and warning survives, as do the first and last lines and, with a query, lines that
mention its terms. Omitted lines go to the CCR store first; one marker says how many lines
were omitted and how they split by level.
"""

from __future__ import annotations

import re
from collections import Counter

from headroom import _core
from headroom.compressors.base import Compressed, Context
from headroom.handles import format_marker
from headroom.router import LEVEL_RE

__all__ = ["LogTemplateCompressor"]

_MAX_QUERY_LINES = 20
_QUERY_TERM_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{2,}")


class LogTemplateCompressor:
    """Keeps one example of each log line template, with counts."""

    name = "log.templates"
    kinds = frozenset({"log"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        if not ctx.config.lossy:
            return None
        body, newline, _ = text.rpartition("\n") if text.endswith("\n") else (text, "", "")
        lines = body.split("\n")
        if len(lines) < 3:
            return None
        ids, templates = _core.group_templates(lines)
        counts = Counter(ids)
        keep = {0, len(lines) - 1}
        seen: set[int] = set()
        for number, template_id in enumerate(ids):
            if template_id not in seen:
                seen.add(template_id)
                keep.add(number)
        keep |= _query_lines(lines, ctx.query)
        omitted = len(lines) - len(keep)
        if omitted <= 0:
            return None
        handle = ctx.stash(text)
        out = []
        shown: set[int] = set()
        for number in sorted(keep):
            line = lines[number]
            template_id = ids[number]
            if counts[template_id] > 1 and template_id not in shown:
                line = f"{line}  [×{counts[template_id]}]"
            shown.add(template_id)
            out.append(line)
        summary = f"{len(templates)} line templates, each shown once with its count"
        levels = _level_counts(lines, keep)
        if levels:
            summary += "; " + ", ".join(f"{level} ×{n}" for level, n in levels)
        out.append(format_marker(omitted, "lines", handle, summary=summary))
        return Compressed("\n".join(out) + newline, self.name, lossless=False, handles=(handle,))


def _query_lines(lines: list[str], query: str | None) -> set[int]:
    if not query:
        return set()
    terms = {t.lower() for t in _QUERY_TERM_RE.findall(query)}
    if not terms:
        return set()
    hits: set[int] = set()
    for number, line in enumerate(lines):
        lowered = line.lower()
        if any(term in lowered for term in terms):
            hits.add(number)
            if len(hits) >= _MAX_QUERY_LINES:
                break
    return hits


def _level_counts(lines: list[str], kept: set[int]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for number, line in enumerate(lines):
        if number not in kept:
            match = LEVEL_RE.search(line[:160])
            counts[match.group(1) if match else "other"] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
