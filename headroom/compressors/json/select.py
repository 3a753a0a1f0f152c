"""Which rows of a crushed array are kept.

Always: the signal rows (:mod:`headroom.compressors.json.signals`), the rows matching the query
(BM25 over each record's values: a score of at least 1.0 and at least half the best; the
25 best at most), the first and the last. Then a sample of ``max_rows`` more: one row
for each value of each categorical column not yet represented (round-robin over the
columns, most common values first), then rows evenly spaced over the rest.
Deterministic: no randomness, and ties are broken by position.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import filterfalse
from typing import Any, Final

from headroom.compressors.json.profile import Profile, record_text
from headroom.relevance import bm25_scores

__all__ = ["MAX_QUERY_HITS", "query_hits", "record_text", "select_rows"]

# BM25 scores are about the inverse document frequency of the words matched: 1.0 means a
# query word that at most ~37% of the records hold, so a word most records share (the
# "earthquake" of an earthquake feed) does not make every record a hit.
_MIN_HIT_SCORE: Final = 1.0
_HIT_SHARE: Final = 0.5
MAX_QUERY_HITS: Final = 25
"""Query hits are always kept, but a vague query should not keep half the array: at most
this many, best first (the marker's handle can still be queried for the rest)."""


def select_rows(profile: Profile, query: str | None, *, max_rows: int) -> list[int]:
    """Indexes of the rows of ``profile.items`` to keep, ascending (see module docs).

    >>> rows = [{"n": i, "level": "info"} for i in range(50)]
    >>> rows[20]["level"] = "error"
    >>> select_rows(Profile(rows), None, max_rows=3)
    [0, 8, 20, 25, 41, 49]
    """
    count = len(profile.items)
    if not count:
        return []
    keep = {0, count - 1}
    keep.update(profile.signals())
    if query and query.strip():
        keep.update(query_hits(profile.items, query, limit=MAX_QUERY_HITS, texts=profile.texts))
    keep.update(_sample(profile, keep, max_rows))
    return sorted(keep)


def query_hits(
    items: Sequence[Any], query: str | None, *, limit: int, texts: Sequence[str] | None = None
) -> list[int]:
    """Rows whose values match ``query`` clearly: BM25 score at least 1.0 and at least half
    the best score; the ``limit`` best, ties by position."""
    if not query or not query.strip() or limit <= 0:
        return []
    scores = bm25_scores(query, texts if texts is not None else [record_text(i) for i in items])
    best = max(scores, default=0.0)
    floor = max(_MIN_HIT_SCORE, _HIT_SHARE * best)
    ranked = sorted((i for i, s in enumerate(scores) if s >= floor), key=lambda i: (-scores[i], i))
    return ranked[:limit]


def _sample(profile: Profile, keep: set[int], budget: int) -> list[int]:
    """Up to ``budget`` more rows: unrepresented category values, then evenly spaced."""
    taken = set(keep)
    chosen: list[int] = []
    # Per categorical column: its rows and values (a row's value is found by bisection:
    # rows ascend), and the values still unrepresented (most common first, each with the
    # first row holding it).
    columns: list[tuple[list[int], list[Any]]] = []
    queues: list[list[tuple[Any, int]]] = []
    represented_now: list[set[Any]] = []
    for column in profile.categorical:
        keys = profile.category_keys(column)
        counts = profile.category_counts(column)  # in order of first appearance (ties)
        # Over the column, not over the kept rows: signal rows can be most of the array.
        represented = {
            key for row in taken if (key := _key_at(column.rows, keys, row)) is not _ABSENT
        }
        ordered = sorted(counts, key=lambda key: -counts[key])
        missing = [key for key in ordered if key not in represented]
        if missing:
            # Filled from the last row back, so each value ends with its first row.
            first_row = dict(zip(reversed(keys), reversed(column.rows), strict=True))
            missing_rows = [(key, first_row[key]) for key in missing]
        else:
            missing_rows = []
        columns.append((column.rows, keys))
        represented_now.append(represented)
        queues.append(missing_rows)
    while len(chosen) < budget and any(queues):
        for number, queue in enumerate(queues):
            while queue and queue[0][0] in represented_now[number]:
                queue.pop(0)
            if not queue or len(chosen) >= budget:
                continue
            _, row = queue.pop(0)
            taken.add(row)
            chosen.append(row)
            for (rows, keys), seen in zip(columns, represented_now, strict=True):
                if (key := _key_at(rows, keys, row)) is not _ABSENT:
                    seen.add(key)
    remaining = min(budget - len(chosen), len(profile.items) - len(taken))
    if remaining > 0:
        # Evenly spaced over the rows not yet kept, so the rest of the sample follows the
        # array's own proportions.
        free = list(filterfalse(taken.__contains__, range(len(profile.items))))
        step = len(free) / remaining
        chosen.extend(free[int(k * step + step / 2)] for k in range(remaining))
    return chosen


_ABSENT: Final = object()


def _key_at(rows: list[int], keys: list[Any], row: int) -> Any:
    """The key of ``row`` in a column (``rows`` ascending, one key each), or ``_ABSENT``."""
    # Distinct ascending rows from 0 hold row r at r or later: at r, every earlier row
    # is there too (the column of every item, as a rule).
    if row < len(rows) and rows[row] == row:
        return keys[row]
    at = bisect_left(rows, row)
    return keys[at] if at < len(rows) and rows[at] == row else _ABSENT
