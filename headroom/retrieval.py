"""Getting originals back from the CCR store, whole or only the parts a query asks for."""

from __future__ import annotations

import json
import re

from headroom.errors import InvalidArgumentError
from headroom.handles import is_handle
from headroom.relevance import bm25_scores
from headroom.store.base import Store

__all__ = ["retrieve_from"]

_LINE_KINDS = frozenset({"log", "search", "test-output", "diff"})
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
_RELATIVE_FLOOR = 0.5


def retrieve_from(store: Store, handle: str, *, query: str | None = None, limit: int = 20) -> str:
    """The original stored under ``handle``; with ``query``, only its best-matching sections
    (at most ``limit``, scoring at least half the best, in original order, separated by
    blank lines).

    Raises:
        HandleNotFoundError: nothing is stored under ``handle``.
        InvalidArgumentError: ``handle`` is not in the handle format.
    """
    if not is_handle(handle):
        raise InvalidArgumentError(
            f"handle: expected 'headroom:' and 12 hex digits, got {handle!r}"
        )
    original = store.get(handle)
    if not query or not query.strip():
        return original.text
    sections = _sections(original.text, original.kind)
    scores = bm25_scores(query, sections)
    # Sections far below the best match share only a common word with the query (the "ci"
    # of "ci37868135"); returning them would bury the answer.
    floor = max(scores, default=0.0) * _RELATIVE_FLOOR
    ranked = sorted(
        (i for i, s in enumerate(scores) if s > 0 and s >= floor), key=lambda i: (-scores[i], i)
    )[:limit]
    if not ranked:
        return (
            f"[no part of {handle} matches {query!r}; "
            "retrieve it without a query for the whole original]"
        )
    return "\n\n".join(sections[i] for i in sorted(ranked))


def _sections(text: str, kind: str) -> list[str]:
    if kind == "json":
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and value:
            return [json.dumps(item, ensure_ascii=False) for item in value]
        if isinstance(value, dict):
            return [json.dumps({key: item}, ensure_ascii=False) for key, item in value.items()]
        if value is None:  # JSON Lines: one record per line
            return [line for line in text.split("\n") if line.strip()]
    if kind in _LINE_KINDS:
        return [line for line in text.split("\n") if line.strip()]
    return [p for p in _PARAGRAPH_RE.split(text) if p.strip()]
