"""Getting originals back from the CCR store, whole or only the parts a query asks for.

The one home of retrieval: every way in (:func:`headroom.retrieve`,
:meth:`headroom.Headroom.retrieve`, the CLI, the proxy and the adapters'
``headroom_retrieve`` tools) comes here. :func:`retrieve_from` asks the stores it is given in
order (the caller knows which stores exist; this module decides how to ask them: a store
that cannot answer does not stop the search, one that remembers the handle expired beats one
that never saw it); :func:`answer_from` is the tool's body, which turns every failure into a
message the model can act on.

Handles come back from models, which copy them loosely: without the ``headroom:`` prefix,
in upper case, in quotes or backticks, with the marker's closing ``]`` or a full stop, or
as the whole marker line. :func:`normalize_handle` is the one place that reads such text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime, timezone

from headroom.errors import (
    HandleExpiredError,
    HandleNotFoundError,
    HeadroomError,
    InvalidArgumentError,
    StoreError,
)
from headroom.handles import HANDLE_PREFIX
from headroom.relevance import bm25_scores
from headroom.store.base import Store, StoredOriginal

__all__ = [
    "HANDLE_HELP",
    "answer_from",
    "find_original",
    "normalize_handle",
    "require_handle",
    "retrieve_from",
]

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


def find_original(handle: str, stores: Store | Iterable[Store]) -> StoredOriginal:
    """The original stored under ``handle`` (already normalized) in the first of ``stores``
    that has it; ``stores`` is read lazily, so a store later in it is opened only if needed.

    Raises:
        HandleExpiredError: no store has it, and one remembers it expired or was evicted.
        StoreError: no store has it, and one could not be asked (e.g. a Redis server is
            down: :class:`~headroom.errors.StoreUnavailableError`); it might be there.
        HandleNotFoundError: no store has it or remembers it.
    """
    expired: HandleExpiredError | None = None
    missing: HandleNotFoundError | None = None  # the first store's own words (it may say why)
    failure: StoreError | None = None
    for store in [stores] if isinstance(stores, Store) else stores:
        try:
            return store.get(handle)
        except HandleExpiredError as error:
            expired = expired or error
        except HandleNotFoundError as error:
            missing = missing or error
        except StoreError as error:  # this store cannot answer; the others still may
            failure = failure or error
    if failure is not None:
        raise failure
    if expired is not None:
        raise expired
    raise missing or HandleNotFoundError(handle)


def retrieve_from(
    stores: Store | Iterable[Store], handle: str, *, query: str | None = None, limit: int = 20
) -> str:
    """The original stored under ``handle`` in the first of ``stores`` that has it (see
    :func:`find_original`); with ``query``, only its best-matching sections (at most
    ``limit``, scoring at least half the best, in original order, separated by blank
    lines). ``handle`` may be loosely written (see :func:`normalize_handle`).

    Raises:
        HandleExpiredError: it was stored, but expired or was evicted (says when).
        HandleNotFoundError: nothing is stored under ``handle``.
        StoreError: a store that might have it cannot be reached.
        InvalidArgumentError: ``handle`` names no handle, or ``query`` is not a string.
    """
    handle = require_handle(handle)
    if query is not None and not isinstance(query, str):
        raise InvalidArgumentError(f"query: expected str or None, got {type(query).__name__}")
    original = find_original(handle, stores)
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


def answer_from(stores: Store | Iterable[Store], handle: str, *, query: str | None = None) -> str:
    """What a ``headroom_retrieve`` tool says to the model: the original (see
    :func:`retrieve_from`), or a message the model can act on; never an exception.

    A handle the model mistyped, one that expired, or a failing store must not abort an
    agent run: the model reads why and can try again or go on without it.

    >>> from headroom.store import MemoryStore
    >>> answer_from(MemoryStore(), "3f9a")[:44]
    "Cannot retrieve: handle: '3f9a' is not a Hea"
    >>> answer_from(MemoryStore(), "headroom:000000000000")[:38]
    "No original is stored under 'headroom:"
    """
    try:
        return retrieve_from(stores, handle, query=query)
    except HandleExpiredError as error:
        when = datetime.fromtimestamp(error.expired_at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        went = "was evicted" if error.reason == "evicted" else "expired"
        return (
            f"The original behind {error.handle!r} {went} at {when} and can no longer be "
            "retrieved; work from the compressed text, or fetch the data again."
        )
    except HandleNotFoundError as error:
        return (
            f"No original is stored under {error.handle!r} (it was never stored here, or it "
            "expired or was evicted); check the handle in the marker."
        )
    except InvalidArgumentError as error:
        return f"Cannot retrieve: {error}"
    except HeadroomError as error:  # the store failed: say so, the run goes on
        return f"Cannot retrieve {handle!r}: {error}"


def _sections(text: str, kind: str) -> list[str]:
    if kind in ("json", "messages"):  # a summary block keeps its messages as a JSON array
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
