"""Getting originals back from the CCR store, whole or only the parts a query asks for.

Handles come back from models, which copy them loosely: without the ``headroom:`` prefix,
in upper case, in quotes or backticks, with the marker's closing ``]`` or a full stop, or
as the whole marker line. :func:`normalize_handle` is the one place that reads such text;
every way in (:func:`headroom.retrieve`, :meth:`headroom.Headroom.retrieve`, the CLI and
the adapters' ``headroom_retrieve`` tools) goes through it.
"""

from __future__ import annotations

import json
import re

from headroom.errors import InvalidArgumentError
from headroom.handles import HANDLE_PREFIX
from headroom.relevance import bm25_scores
from headroom.store.base import Store

__all__ = ["HANDLE_HELP", "normalize_handle", "require_handle", "retrieve_from"]

HANDLE_HELP = (
    "a handle is 'headroom:' followed by 12 hex digits, e.g. 'headroom:3f9a1c2e4b7d'; copy it "
    "from the marker in the compressed text, such as "
    "'[187 rows omitted: ... · retrieve: headroom:3f9a1c2e4b7d]'"
)
"""What a handle looks like, for messages to people and models that wrote a bad one."""

# The text is nothing but one handle, prefix optional, inside any non-word characters
# (quotes, backticks, brackets, a full stop, whitespace). Linear: no two parts overlap.
_ALONE_RE = re.compile(r"[\W_]*(?:headroom\s*:\s*)?([0-9a-f]{12})[\W_]*", re.IGNORECASE)
# A handle inside other text (a marker line, a sentence) must carry its prefix.
_IN_TEXT_RE = re.compile(r"(?<!\w)headroom\s*:\s*([0-9a-f]{12})(?![0-9a-z])", re.IGNORECASE)

_LINE_KINDS = frozenset({"log", "search", "test-output", "diff", "listing"})
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
_RELATIVE_FLOOR = 0.5


def normalize_handle(text: object) -> str | None:
    """The handle ``text`` names, in canonical form, or ``None`` if it names none or several.

    Accepted: the handle itself; its 12 hex digits alone; any letter case; surrounding
    whitespace, quotes, backticks, brackets or punctuation (a marker's ``]``, a full stop);
    and any text holding exactly one ``headroom:`` handle, such as a whole marker line.

    >>> normalize_handle(" `HEADROOM:3F9A1C2E4B7D`. ")
    'headroom:3f9a1c2e4b7d'
    >>> normalize_handle("3f9a1c2e4b7d]")
    'headroom:3f9a1c2e4b7d'
    >>> normalize_handle("[187 rows omitted: status=active ×187 · retrieve: headroom:3f9a1c2e4b7d]")
    'headroom:3f9a1c2e4b7d'
    >>> normalize_handle("headroom:3f9a1c2e4b7") is None  # 11 digits
    True
    """
    if not isinstance(text, str):
        return None
    alone = _ALONE_RE.fullmatch(text)
    if alone is not None:
        return HANDLE_PREFIX + alone.group(1).lower()
    found = _handles_in(text)
    return found.pop() if len(found) == 1 else None


def require_handle(handle: object) -> str:
    """:func:`normalize_handle` of ``handle``, or an error saying what a handle looks like.

    Raises:
        InvalidArgumentError: ``handle`` is not a string, or names no handle or several.
    """
    if not isinstance(handle, str):
        raise InvalidArgumentError(f"handle: expected str, got {type(handle).__name__}")
    normal = normalize_handle(handle)
    if normal is not None:
        return normal
    shown = handle if len(handle) <= 80 else handle[:77] + "..."
    several = len(_handles_in(handle))
    if several > 1:
        raise InvalidArgumentError(
            f"handle: {shown!r} names {several} different handles; pass one ({HANDLE_HELP})"
        )
    raise InvalidArgumentError(f"handle: {shown!r} is not a Headroom handle; {HANDLE_HELP}")


def _handles_in(text: str) -> set[str]:
    return {HANDLE_PREFIX + m.group(1).lower() for m in _IN_TEXT_RE.finditer(text)}


def retrieve_from(store: Store, handle: str, *, query: str | None = None, limit: int = 20) -> str:
    """The original stored under ``handle``; with ``query``, only its best-matching sections
    (at most ``limit``, scoring at least half the best, in original order, separated by
    blank lines). ``handle`` may be loosely written (see :func:`normalize_handle`).

    Raises:
        HandleNotFoundError: nothing is stored under ``handle``.
        InvalidArgumentError: ``handle`` names no handle, or ``query`` is not a string.
    """
    handle = require_handle(handle)
    if query is not None and not isinstance(query, str):
        raise InvalidArgumentError(f"query: expected str or None, got {type(query).__name__}")
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
            return _json_sections(json.loads(text))
        except RecursionError:
            pass
        except ValueError:  # JSON Lines: one record per line
            return [line for line in text.split("\n") if line.strip()]
    if kind in _LINE_KINDS:
        return [line for line in text.split("\n") if line.strip()]
    return [p for p in _PARAGRAPH_RE.split(text) if p.strip()]


def _json_sections(value: object) -> list[str]:
    """The records of a JSON document, wherever its arrays of them are, so that a query
    finds one record of ``{"data": {"items": [...]}}`` as it does of a bare array.

    An array holding objects or arrays gives one section per item; an object holding them
    is walked, its other members kept together in one section; anything else is one
    section, under its key.
    """
    sections: list[str] = []

    def dump(item: object) -> str:
        return json.dumps(item, ensure_ascii=False)

    def walk(item: object, key: str | None) -> None:
        if isinstance(item, list) and len(item) > 1 and any(_nested(i) for i in item):
            sections.extend(dump(i) for i in item)
        elif isinstance(item, dict) and len(item) > 1 and any(_nested(i) for i in item.values()):
            rest = {k: v for k, v in item.items() if not _nested(v)}
            if rest:
                sections.append(dump(rest))
            for k, v in item.items():
                if _nested(v):
                    walk(v, k)
        else:
            sections.append(dump(item if key is None else {key: item}))

    walk(value, None)
    return sections


def _nested(item: object) -> bool:
    return isinstance(item, dict | list) and len(item) > 0
