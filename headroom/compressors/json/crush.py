"""Stage 2 of SmartCrusher: lossy, signal-preserving crushing of a parsed JSON value.

:func:`crush` walks a JSON value and returns a value of the same shape with fewer records
in long arrays and shorter long strings, plus one marker per crushed array. Everything it
drops is stashed first (the whole array, minified, under one handle), so nothing is lost.

Rules, as implemented:

- **Candidates.** Every array anywhere in the value (inside objects and inside kept
  records too) whose items are objects (``null`` items allowed) and that has more than
  ``min_rows`` items. Smaller arrays are never crushed, so a crushed array that kept at
  most ``min_rows`` rows is left alone by a second pass.
- **Always kept** (see :mod:`headroom.compressors.json.signals`): rows reporting an error or a
  failure status, rows with a rare value in a category column or a rare boolean, numeric
  outliers (robust z-score, the most extreme per column), items that are not objects;
  rows matching the query (BM25 over each record's values: scores of at least 1.0 and at
  least half the best, the 25 best at most); the first and last rows.
- **Sample.** Then ``max_rows`` more: first one row for each value of each categorical
  column not yet represented (round-robin over the columns, most common values first),
  then rows evenly spaced over the array. Kept rows stay in their original order.
- **Marker.** The dropped rows are summarised in one marker
  (``[N rows omitted: <path>; <categories>; <ranges>; ids by <col> with <label> (n): 1
  octocat, … · retrieve: h]``, see :mod:`headroom.compressors.json.summary`): every dropped row
  is named by its id and, where the array has one, its name, login, title or URL. Its
  handle stores the whole original array (or ``whole``, the document it came from).
  Markers are returned, not put into the value: the caller writes them after the document.
- **Never worse.** When the marker's summary would take more than 80% of the characters of
  the values of the rows it replaces (records that are little more than an id and a name),
  the array is kept whole: listing the rows would cost about as much as keeping them.
- **Strings.** Free-text strings longer than ``max_string_chars`` keep their leading
  sentences and the sentences matching the query, then an inline ``[N chars omitted ·
  retrieve: h]`` (see :mod:`headroom.compressors.json.text`).
- **Purity.** Deterministic; the input is never mutated (containers on a changed path are
  copied, unchanged subtrees are shared); ``stash`` is called before anything that refers
  to its handle is returned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from headroom.compressors.json.profile import Profile
from headroom.compressors.json.select import select_rows
from headroom.compressors.json.summary import summarize
from headroom.compressors.json.text import Kept, query_words, shortened
from headroom.handles import format_marker
from headroom.jsontables.syntax import dumps_exact

__all__ = ["LOSSLESS_UP_TO", "CrushOptions", "Crushed", "crush"]

# Far deeper than any real response; keeps the walk clear of Python's recursion limit.
_MAX_DEPTH: Final = 200
_CONTAINERS: Final = (dict, list)
_PLAIN_KEY_RE: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
# Dropping rows is worth a marker only if the marker is clearly smaller than the rows: the
# model loses the rows' other fields and gains only tokens. Both sides in characters (of
# the summary, of the rows' values, as a table writes them): a cheap proxy, which counts
# columns the table factors out as if they were written per row, hence 0.8 and not 1.
_MAX_LISTING_SHARE: Final = 0.8

LOSSLESS_UP_TO: Final = 10_000
"""Lossless table documents up to this many tokens are kept whole even when lossy
compression is allowed (see :attr:`CrushOptions.lossless_up_to`)."""


@dataclass(frozen=True, slots=True)
class CrushOptions:
    """How hard :func:`crush` crushes.

    Attributes:
        max_rows: rows kept per array besides the always-kept ones (signals, query hits,
            first and last).
        min_rows: arrays with at most this many records are never crushed.
        max_string_chars: longer free-text strings are shortened.
        keep_ids: list the identifiers of dropped records in the marker (else their range).
        keep_names: list each dropped record's name beside its id (see
            :attr:`~headroom.compressors.json.profile.Profile.label_column`).
        lossless_up_to: SmartCrusher crushes only a document whose lossless table takes
            more tokens than this (unless ``target_ratio`` asks for less). 10,000 tokens is
            5-8% of a 128k-200k context window: a page of 100 GitHub repositories or 5 pull
            requests stays whole, a week of earthquakes (200k) or a search with 1,200
            references (100k) does not. The engine does not know the size of the request
            or the model's window; when it does, this should be a share of what is left.
    """

    max_rows: int = 20
    min_rows: int = 30
    max_string_chars: int = 1200
    keep_ids: bool = True
    keep_names: bool = True
    lossless_up_to: int = LOSSLESS_UP_TO


@dataclass(frozen=True, slots=True)
class Crushed:
    """What :func:`crush` made of a value.

    Attributes:
        value: the crushed JSON value (same shape, fewer records, shorter strings).
        markers: one marker line per crushed array, to be written after the document.
        handles: every handle used (arrays and strings), in the order first used.
        kept_rows: records kept in crushed arrays, over all of them.
        dropped_rows: records dropped from crushed arrays, over all of them.
    """

    value: Any
    markers: list[str]
    handles: list[str]
    kept_rows: int
    dropped_rows: int


def crush(
    value: Any,
    *,
    query: str | None,
    stash: Callable[[str], str],
    options: CrushOptions = CrushOptions(),
    whole: str | None = None,
) -> Crushed | None:
    """Crush ``value`` (see the module docs for the rules), or ``None`` if nothing changes.

    Args:
        value: a JSON value as :func:`json.loads` returns it; never mutated.
        query: the user's question, if known; matching records and sentences are kept.
        stash: stores an original text and returns its handle.
        options: limits.
        whole: the text ``value`` was parsed from; when given, a crushed array's handle
            stores it instead of the array (no array is written out again as JSON).

    >>> from headroom.store.memory import MemoryStore
    >>> store = MemoryStore()
    >>> jobs = [{"id": i, "status": "ok"} for i in range(100)]
    >>> jobs[57]["status"] = "failed"
    >>> crushed = crush({"jobs": jobs}, query=None, stash=lambda t: store.put(t, kind="json"))
    >>> kept = [job["id"] for job in crushed.value["jobs"]]
    >>> len(kept), kept[0], kept[-1], 57 in kept, crushed.dropped_rows
    (23, 0, 99, True, 77)
    >>> print(crushed.markers[0])  # doctest: +ELLIPSIS
    [77 rows omitted: $.jobs; ids by id (77, 1–98): 1, 2, 4, 5, ..., 98 · retrieve: headroom:...]
    >>> json.loads(store.get(crushed.handles[0]).text) == jobs
    True
    """
    crusher = _Crusher(query, stash, options, whole)
    result = crusher.visit(value, "$", 0)
    if not crusher.handles:
        return None
    return Crushed(
        result,
        crusher.markers,
        list(dict.fromkeys(crusher.handles)),
        crusher.kept_rows,
        crusher.dropped_rows,
    )


@dataclass(slots=True)
class _Crusher:
    query: str | None
    stash: Callable[[str], str]
    options: CrushOptions
    whole: str | None
    markers: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    kept_rows: int = 0
    dropped_rows: int = 0
    words: frozenset[str] = frozenset()
    cuts: dict[str, Kept | None] = field(default_factory=dict)  # shortened(), by string

    def __post_init__(self) -> None:
        self.words = query_words(self.query)

    def visit(self, value: Any, path: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return value
        if isinstance(value, str):
            return value if len(value) <= self.options.max_string_chars else self._string(value)
        if isinstance(value, dict):
            return self._object(value, path, depth)
        if isinstance(value, list):
            if self._is_candidate(value):
                return self._array(value, path, depth)
            return self._list(value, path, depth)
        return value

    # Only containers and long strings can change; other values are not visited. A copy is
    # made at the first change (unchanged containers are returned as they are). Only
    # containers need their path (it names crushed arrays in markers).

    def _object(self, value: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        changed: dict[str, Any] | None = None
        limit = self.options.max_string_chars if depth < _MAX_DEPTH else None
        for key, item in value.items():
            if isinstance(item, _CONTAINERS):
                new = self.visit(item, _key_path(path, key), depth + 1)
            elif limit is not None and isinstance(item, str) and len(item) > limit:
                new = self._string(item)
            else:
                continue
            if new is not item:
                if changed is None:  # a subclass is copied as its items() say (old rule)
                    changed = dict(value) if type(value) is dict else dict(value.items())
                changed[key] = new
        return value if changed is None else changed

    def _list(self, value: list[Any], path: str, depth: int) -> list[Any]:
        changed: list[Any] | None = None
        limit = self.options.max_string_chars if depth < _MAX_DEPTH else None
        for i, item in enumerate(value):
            if isinstance(item, _CONTAINERS):
                new = self.visit(item, f"{path}.{i}", depth + 1)
            elif limit is not None and isinstance(item, str) and len(item) > limit:
                new = self._string(item)
            else:
                continue
            if new is not item:
                if changed is None:
                    changed = list(value)
                changed[i] = new
        return value if changed is None else changed

    def _string(self, text: str) -> str:
        # A string that repeats (records of one response often share a description) is
        # shortened once; each occurrence is stashed, as if it came alone.
        plain = type(text) is str  # a subclass may read itself otherwise: not shared
        if plain and text in self.cuts:
            kept = self.cuts[text]
        else:
            kept = shortened(text, words=self.words, max_chars=self.options.max_string_chars)
            if plain:
                self.cuts[text] = kept
        if kept is None:
            return text
        handle = self.stash(text)
        self.handles.append(handle)
        return kept.marked(handle)

    def _is_candidate(self, items: list[Any]) -> bool:
        return (
            len(items) > self.options.min_rows
            and all(item is None or type(item) is dict for item in items)
            and any(type(item) is dict for item in items)
        )

    def _array(self, items: list[Any], path: str, depth: int) -> list[Any]:
        profile = Profile(items)
        kept = select_rows(profile, self.query, max_rows=self.options.max_rows)
        if len(kept) == len(items):
            return [self.visit(item, f"{path}.{i}", depth + 1) for i, item in enumerate(items)]
        kept_set = set(kept)
        dropped = [i for i in range(len(items)) if i not in kept_set]
        summary = summarize(
            path,
            profile,
            dropped,
            keep_ids=self.options.keep_ids,
            keep_names=self.options.keep_names,
        )
        if not _smaller_than_rows(summary, profile, dropped):
            return [self.visit(item, f"{path}.{i}", depth + 1) for i, item in enumerate(items)]
        handle = self.stash(_minify(items) if self.whole is None else self.whole)
        self.handles.append(handle)
        self.markers.append(format_marker(len(dropped), "rows", handle, summary=summary))
        self.kept_rows += len(kept)
        self.dropped_rows += len(dropped)
        # Paths inside the crushed array count kept rows, as the reader sees them.
        return [
            self.visit(items[row], f"{path}.{position}", depth + 1)
            for position, row in enumerate(kept)
        ]


def _smaller_than_rows(summary: str, profile: Profile, dropped: list[int]) -> bool:
    """Whether ``summary`` takes at most ``_MAX_LISTING_SHARE`` of the characters of the
    dropped rows' values. The rows are measured only until that is decided (the first few,
    as a rule), unless their texts were made for a query anyway."""
    replaced = 0
    for row in dropped:
        replaced += len(profile.text(row)) + 1
        if len(summary) <= _MAX_LISTING_SHARE * replaced:
            return True
    return False


def _key_path(path: str, key: str) -> str:
    return path + _key_step(key)


@lru_cache(maxsize=4096)  # records repeat the same keys
def _key_step(key: str) -> str:
    # Brackets are not used: a marker's summary cannot hold "]" (it would end the marker).
    if _PLAIN_KEY_RE.fullmatch(key):
        return f".{key}"
    quoted = json.dumps(key, ensure_ascii=False).replace("]", "\\u005d")
    return f".{quoted}"


def _minify(items: list[Any]) -> str:
    """The array as minified JSON, floats spelled as parsed (:class:`RawFloat`)."""
    try:
        return dumps_exact(items)
    except ValueError:  # NaN or Infinity from a lenient parser: json.dumps can still write it
        return json.dumps(items, ensure_ascii=False, separators=(",", ":"))
