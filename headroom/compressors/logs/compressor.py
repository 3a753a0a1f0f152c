"""LogCompressor: one verbatim line per template, every signal kept, the rest behind a marker.

What survives, in the original line order:

- a header: line count, time span (first and last timestamps as written), lines per level,
  number of templates;
- the first line of every template (cluster), annotated with its count. Every WARN, ERROR,
  FATAL, CRITICAL or exception template is shown, with the values of its variables when
  there are few (``values: host1 ×3, host2``); lines without a level are signal when they
  use error words (``failed``, ``denied``, ``invalid``, ...);
- stack traces and tracebacks whole, the first time each (masked) trace appears, counted
  after that;
- the first and the last line;
- with a query, lines that mention its terms (rarest terms first, at most
  ``MAX_QUERY_LINES``).

Everything else is stored in the CCR store first and stands behind one marker. At most
``MAX_QUIET_TEMPLATES`` INFO/DEBUG templates are shown (the most frequent); signal templates
are never capped.

The compressor is stable: text that already carries a Headroom marker is left alone. It does
not aim at ``CompressConfig.target_ratio``: the output's size follows from the number of
templates, and the signal in it is not negotiable.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from typing import Final

from headroom import _core
from headroom.compressors.base import Compressed, Context
from headroom.compressors.logs.clustering import Analysis, analyse, cluster_values
from headroom.compressors.logs.prefix import parse_prefix
from headroom.compressors.logs.render import Annotation, annotate, header
from headroom.compressors.logs.traces import Trace, find_traces
from headroom.handles import format_marker, has_marker

__all__ = ["LogCompressor"]

MAX_QUERY_LINES: Final = 50
MAX_QUIET_TEMPLATES: Final = 500
MAX_VALUES: Final = 5
"""A variable is listed when it takes at most this many distinct values."""
MAX_VALUE_CHARS: Final = 64
_TIMESTAMP_SEARCH_LINES: Final = 50
_QUERY_TERM: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/@\-]{2,}")
# Words too common in questions to pick out log lines.
_STOPWORDS: Final = frozenset(
    {
        "the", "and", "for", "with", "why", "did", "does", "was", "were", "what", "when",
        "where", "which", "how", "are", "from", "this", "that", "not", "any", "all", "log",
        "logs", "line", "lines", "show", "find", "there", "their", "have", "has", "had",
        "into", "about",
    }
)  # fmt: skip


class LogCompressor:
    """Keeps one verbatim line per log template, every warning and error, and the query's
    lines; everything else goes to the CCR store behind one marker.

    Example:
        >>> from headroom import Headroom
        >>> log = "".join(f"2024-01-01 10:{i // 60:02d}:{i % 60:02d} INFO job {i} done\\n"
        ...               for i in range(200))
        >>> print(Headroom(store="memory").compress_text(log).text)  # doctest: +ELLIPSIS
        [log: 200 lines, 2024-01-01 10:00:00 → 2024-01-01 10:03:19; INFO ×200; 1 template]
        2024-01-01 10:00:00 INFO job 0 done  [×200]
        2024-01-01 10:03:19 INFO job 199 done
        [198 lines omitted: 1 template, one line each with its count · retrieve: headroom:...]
        <BLANKLINE>
    """

    name = "log.templates"
    kinds = frozenset({"log"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        """Compress a log; ``None`` when there is nothing to drop (or it is compressed)."""
        if not ctx.config.lossy or has_marker(text):
            return None
        body = text[:-1] if text.endswith("\n") else text
        lines = body.split("\n")
        if len(lines) < 3:
            return None
        plan = _plan(text, lines, ctx.query)
        if plan.omitted <= 0:
            return None
        handle = ctx.keep_original(text)
        # Header and marker follow the log's line ending; kept lines keep their own.
        cr = "\r" if lines[0].endswith("\r") else ""
        marker = format_marker(plan.omitted, "lines", handle, summary=plan.summary)
        out = "\n".join([plan.header + cr, *plan.body, marker + cr])
        newline = "\n" if text.endswith("\n") else ""
        return Compressed(out + newline, self.name, lossless=False, handles=(handle,))


@dataclass(frozen=True, slots=True)
class _Plan:
    """The compressed log before the marker: header, body lines, what the marker says."""

    header: str
    body: list[str]
    omitted: int
    summary: str


def _plan(text: str, lines: list[str], query: str | None) -> _Plan:
    traces = find_traces(text, lines)
    heads: list[int] | None = None
    analysed = lines
    if traces:
        continuation = {n for trace in traces for n in range(trace.start, trace.end)}
        heads = [n for n in range(len(lines)) if n not in continuation]
        analysed = [lines[n] for n in heads]
    analysis = analyse(analysed)

    def original(number: int) -> int:
        return heads[number] if heads is not None else number

    keep: set[int] = {0, len(lines) - 1}
    annotations: dict[int, Annotation] = {}
    shown = _shown_clusters(analysis)
    values = _signal_values(analysis, analysed, shown)
    for cluster in shown:
        info = analysis.clusters[cluster]
        number = original(info.first)
        keep.add(number)
        annotations[number] = Annotation(info.count, values.get(cluster, ()))

    blocks = _first_traces(lines, traces)
    for head, (_, occurrences) in blocks.items():
        keep.add(head)
        previous = annotations.get(head, Annotation(1))
        annotations[head] = Annotation(previous.count, previous.values, occurrences)

    query_lines, query_matches = _query_lines(text, lines, query)
    keep |= query_lines

    body: list[str] = []
    emitted: set[int] = set()
    for number in sorted(keep):
        if number in emitted:
            continue  # already shown inside a trace
        body.append(annotate(lines[number], annotations.get(number)))
        emitted.add(number)
        if number in blocks:
            trace = blocks[number][0]
            body.extend(lines[trace.start : trace.end])
            emitted.update(range(trace.start, trace.end))

    count = len(analysis.clusters)
    summary = f"{count} template{'s' * (count != 1)}, one line each with its count"
    if len(shown) < len(analysis.clusters):
        hidden = len(analysis.clusters) - len(shown)
        summary += f"; {hidden} rare INFO/DEBUG templates not shown"
    if query_matches > len(query_lines):
        summary += f"; query matched {query_matches} lines, {len(query_lines)} shown"
    first_time, last_time = _time_span(lines)
    top = header(
        len(lines),
        first_time,
        last_time,
        analysis.level_counts,
        sum(c.count for c in analysis.clusters if c.level is None and c.signal),
        len(analysis.clusters),
    )
    return _Plan(top, body, len(lines) - len(emitted), summary)


def _first_traces(lines: list[str], traces: list[Trace]) -> dict[int, tuple[Trace, int]]:
    """The first occurrence of each distinct trace, by head line, with its occurrences.

    Traces are the same when their masked text is (the native grouping kernel decides).
    """
    if not traces:
        return {}
    signatures = _core.group_templates(["\n".join(lines[t.start : t.end]) for t in traces])[0]
    occurrences = Counter(signatures)
    first: dict[int, Trace] = {}
    for trace, signature in zip(traces, signatures, strict=True):
        first.setdefault(signature, trace)
    return {trace.head: (trace, occurrences[signature]) for signature, trace in first.items()}


def _shown_clusters(analysis: Analysis) -> list[int]:
    signal = [c for c, info in enumerate(analysis.clusters) if info.signal]
    quiet = [c for c, info in enumerate(analysis.clusters) if not info.signal]
    if len(quiet) > MAX_QUIET_TEMPLATES:
        # The most frequent quiet templates describe the log best; ties by first appearance.
        quiet = sorted(quiet, key=lambda c: -analysis.clusters[c].count)[:MAX_QUIET_TEMPLATES]
    return sorted(signal + quiet)


def _signal_values(
    analysis: Analysis, lines: list[str], shown: list[int]
) -> dict[int, tuple[Counter[str], ...]]:
    wanted = [c for c in shown if analysis.clusters[c].signal and analysis.clusters[c].count > 1]
    if not wanted:
        return {}
    found = cluster_values(
        analysis, lines, wanted, max_values=MAX_VALUES, max_chars=MAX_VALUE_CHARS
    )
    return {cluster: tuple(values) for cluster, values in found.items() if values}


def _time_span(lines: list[str]) -> tuple[str | None, str | None]:
    def first_timestamp(candidates: list[str]) -> str | None:
        for line in candidates:
            timestamp = parse_prefix(line).timestamp
            if timestamp:
                return timestamp
        return None

    head = lines[:_TIMESTAMP_SEARCH_LINES]
    tail = lines[-_TIMESTAMP_SEARCH_LINES:][::-1]
    return first_timestamp(head), first_timestamp(tail)


def _query_lines(text: str, lines: list[str], query: str | None) -> tuple[set[int], int]:
    """Lines that mention the query's terms: rarest terms first, at most MAX_QUERY_LINES."""
    if not query:
        return set(), 0
    terms = sorted({t.lower() for t in _QUERY_TERM.findall(query) if t.lower() not in _STOPWORDS})
    if not terms:
        return set(), 0
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    # Start offset of every line, to turn match positions into line numbers.
    starts = [0, *(end + n + 1 for n, end in enumerate(accumulate(map(len, lines))))]
    lines_of: dict[str, list[int]] = {}
    for match in pattern.finditer(text):
        number = bisect_right(starts, match.start()) - 1
        found = lines_of.setdefault(match.group().lower(), [])
        if not found or found[-1] != number:
            found.append(number)
    matching = {n for found in lines_of.values() for n in found}
    kept: set[int] = set()
    for _, found in sorted(lines_of.items(), key=lambda item: (len(item[1]), item[0])):
        for number in found:
            if len(kept) >= MAX_QUERY_LINES:
                return kept, len(matching)
            kept.add(number)
    return kept, len(matching)
