"""The columns of one array of records, and what they say about each row.

A :class:`Profile` reads the records once (nested objects flattened into dotted column
paths, as the table encoder does) and answers:

- :meth:`Profile.signals`: the rows always kept, each with its reason (the rules are in
  :mod:`headroom.compressors.json.signals`);
- :attr:`Profile.id_column`: the single column that best identifies records (unique,
  short, named like an id), whose values a marker lists for dropped rows;
- :attr:`Profile.label_column`: the column that names records for a reader (``name``,
  ``login``, ``title``, a URL, ...), listed beside each dropped row's id;
- :attr:`Profile.categorical` and :attr:`Profile.numeric`: the columns the diverse sample
  and the marker summary are drawn from.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import compress, repeat
from operator import is_not
from typing import Any, Final

from headroom._core import leaf_columns, record_texts
from headroom.compressors.json.signals import (
    CATEGORY_HINTS,
    MAX_CATEGORIES,
    OUTLIER_MIN_KEEP,
    OUTLIER_SHARE,
    OUTLIER_Z,
    as_float,
    error_reasons,
    is_number,
    key_words,
    rare_values,
    robust_z,
)
from headroom.jsontables.syntax import RawFloat

__all__ = ["Column", "Profile"]

Path = tuple[str, ...]

_MAX_FLATTEN_DEPTH: Final = 6
_MAX_DEPTH: Final = 200  # record_text reads no deeper (as the crusher walks)
_MIN_PER_CATEGORY: Final = 4  # a column with fewer records per value is not categorical
_MIN_NUMERIC: Final = 8  # too few values for a median and a spread to mean anything
# Columns holding identifiers are not measurements: an "outlying" id means nothing.
_ID_WORDS: Final = frozenset({"id", "ids", "uuid", "guid", "uid"})
# After "id" and "...id" (uuid, paperId, node_id), in this order: a fixed order keeps
# sibling arrays consistent (every Crossref reference list by "key", though some have DOIs).
_ID_NAMES: Final = (
    "key", "sha", "doi", "slug", "number", "login", "username", "handle", "name",
    "fullname", "code", "ref",
)  # fmt: skip
# What an id may not hold, so a marker can list it verbatim and listed_ids() can read the
# list back: the list's separators, and what format_marker would rewrite ("]", " · ").
_ID_FORBIDDEN: Final = ("\n", ", ", ";", "]", " · ")
_MAX_ID_CHARS: Final = 64
# What names a record for a reader, best first: a name, then a title, then what is less
# readable (slug, email, DOI), then a URL. Compared without "_" and "-", lower-cased.
_LABEL_NAMES: Final = (
    "fullname", "name", "login", "username", "title", "articletitle", "displayname",
    "slug", "email", "doi", "htmlurl", "url",
)  # fmt: skip
# A nested label (user.login) is one object deep at most: deeper ones name something else.
_MAX_LABEL_DEPTH: Final = 2
# A label that is one template filled in with the row's id in most rows (an issue's
# html_url ends in its number) says nothing the id does not.
_DERIVED_SHARE: Final = 0.9
_MIN_ID_COVERAGE: Final = 0.2


@dataclass(slots=True, eq=False)
class Column:
    """The scalar values at one path, with the rows (record indexes) that have them.

    Equal only to itself (and hashed so): per-column caches are keyed by the column."""

    path: Path
    rows: list[int]
    values: list[Any]

    @property
    def name(self) -> str:
        """The path as written in summaries: segments joined by dots."""
        return ".".join(self.path)


# Columns holding only these exact types (no subclasses) are read in bulk: no value of one
# of the category types equals a value of another (unlike 1 and True), and every value of
# the number types is a number (:func:`is_number`) that float() reads as :func:`as_float` does.
_CATEGORY_TYPES: Final = frozenset({str, bool, type(None)})
_NUMBER_TYPES: Final = frozenset({int, float, RawFloat})


def _hashable(value: Any) -> Any:
    # 1 and True are equal as dict keys; a categorical column keeps them apart.
    return (type(value).__name__, value)


def record_text(value: Any) -> str:
    """The scalar values of a record (keys aside), space-separated, for text matching
    (rules in :func:`headroom._reference.record_texts`).

    >>> record_text({"id": 7, "user": {"login": "ana", "admin": False}, "tags": ["a", "b"]})
    '7 ana  a b'
    """
    return record_texts([value], _MAX_DEPTH)[0]


class Profile:
    """The columns of one array's records and what they say about each row.

    Args:
        items: the items of the array; non-objects are allowed and are always signal.
    """

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items
        # The scalars of its objects, by the keys leading to them, in order of first
        # appearance, object by object.
        self.columns = [
            Column(path, rows, values)
            for path, rows, values in leaf_columns(items, _MAX_FLATTEN_DEPTH)
        ]
        # Per column, made when first asked for (keyed by the column itself, kept alive).
        self._types: dict[Column, set[type]] = {}
        self._keys: dict[Column, list[Any] | None] = {}
        self._floats: dict[Column, list[float | None]] = {}
        self._counts: dict[Column, Counter[Any]] = {}

    def types(self, column: Column) -> set[type]:
        """The types of the values of ``column``."""
        found = self._types.get(column)
        if found is None:
            found = self._types[column] = set(map(type, column.values))
        return found

    @cached_property
    def texts(self) -> list[str]:
        """Each item's :func:`record_text`, for text matching (made once per array)."""
        return record_texts(self.items, _MAX_DEPTH)

    def text(self, row: int) -> str:
        """One item's :func:`record_text`: from :attr:`texts` if made, else made alone."""
        texts = self.__dict__.get("texts")
        return texts[row] if texts is not None else record_text(self.items[row])

    @cached_property
    def categorical(self) -> list[Column]:
        """Columns of strings, booleans and nulls with few distinct values (2 to 32, and
        at least 4 records per value), names hinting at a category first, then by fewer
        distinct values."""
        found: list[tuple[bool, int, int, Column]] = []
        for order, column in enumerate(self.columns):
            if len(column.values) < 2 * _MIN_PER_CATEGORY:  # too few for two categories
                continue
            keys = self._category_keys(column)
            if keys is None:
                continue
            distinct = len(set(keys))
            if 2 <= distinct <= MAX_CATEGORIES and distinct * _MIN_PER_CATEGORY <= len(
                column.values
            ):
                found.append((not self.hinted(column), distinct, order, column))
        return [column for *_, column in sorted(found, key=lambda f: f[:3])]

    def category_keys(self, column: Column) -> list[Any]:
        """The values of a :attr:`categorical` column as categories compare them: the
        values themselves (:meth:`plain_keys`), or ``(type name, value)`` pairs when the
        column holds subclasses of ``str`` or ``bool``. Shared: not to be changed."""
        keys = self._category_keys(column)
        if keys is None:
            raise ValueError(f"not a column of strings, booleans and nulls: {column.name}")
        return keys

    def category_counts(self, column: Column) -> Counter[Any]:
        """How many rows hold each of :meth:`category_keys`, in order of first appearance
        (made once per column). Shared: not to be changed."""
        counts = self._counts.get(column)
        if counts is None:
            counts = self._counts[column] = Counter(self.category_keys(column))
        return counts

    @staticmethod
    def plain_keys(keys: list[Any]) -> bool:
        """Whether :meth:`category_keys` gave the values themselves (they are never tuples)."""
        return not keys or type(keys[0]) is not tuple

    def _category_keys(self, column: Column) -> list[Any] | None:
        if column in self._keys:
            return self._keys[column]
        keys: list[Any] | None
        if self.types(column) <= _CATEGORY_TYPES:
            keys = column.values
        elif all(v is None or isinstance(v, str | bool) for v in column.values):
            keys = [_hashable(v) for v in column.values]
        else:
            keys = None
        self._keys[column] = keys
        return keys

    def floats(self, column: Column) -> list[float | None]:
        """Each value of ``column`` as :func:`as_float` reads it (made once per column)."""
        found = self._floats.get(column)
        if found is None:
            found = self._floats[column] = _floats(column.values, self.types(column))
        return found

    @staticmethod
    def hinted(column: Column) -> bool:
        """Whether the column's name says it holds a category (status, type, level, ...)."""
        return bool(key_words(column.path[-1]) & CATEGORY_HINTS)

    @cached_property
    def numeric(self) -> list[Column]:
        """Columns of numbers (nulls allowed) that are measurements, not identifiers."""
        found = []
        for column in self.columns:
            key = column.path[-1]
            if (
                len(column.values) >= _MIN_NUMERIC  # fewer values hold fewer numbers
                and _id_rank(key) is None
                and not key_words(key) & _ID_WORDS
                and _numbers(column, self.types(column))
            ):
                found.append(column)
        return found

    def signals(self) -> dict[int, str]:
        """Rows that must be kept, each with the first reason found.

        The rules are in :mod:`headroom.compressors.json.signals`.

        >>> rows = [{"state": "ok", "ms": 10 + i % 3} for i in range(40)]
        >>> rows[3]["state"], rows[9]["ms"], rows[30]["error"] = "timeout", 900, "disk full"
        >>> Profile(rows).signals()
        {3: 'status', 9: 'outlier', 30: 'error'}
        """
        reasons: dict[int, str] = {}
        kinds = list(map(type, self.items))
        if kinds.count(dict) == len(kinds):  # as a rule: every item is an object
            records: Sequence[int] = range(len(kinds))
            found = error_reasons(self.items)
        else:
            records = [index for index, kind in enumerate(kinds) if kind is dict]
            for index, kind in enumerate(kinds):
                if kind is not dict:
                    reasons[index] = "not-an-object"
            found = error_reasons(self.items[index] for index in records)
        for index, reason in zip(records, found, strict=True):
            if reason:
                reasons[index] = reason
        for column in self.categorical:
            is_bool = self.types(column) == {bool}
            if not (is_bool or self.hinted(column)):
                continue
            keys = self.category_keys(column)
            rare = rare_values(self.category_counts(column), len(keys))
            if rare:
                for row in compress(column.rows, map(rare.__contains__, keys)):
                    reasons.setdefault(row, "bool" if is_bool else "rare")
        for column in self.numeric:
            floats = self.floats(column)
            if None in floats:
                present = list(map(is_not, floats, repeat(None)))
                rows = list(compress(column.rows, present))
                numbers: list[float] = list(compress(floats, present))  # type: ignore[arg-type]
            else:
                rows, numbers = column.rows, floats  # type: ignore[assignment]
            scores = robust_z(numbers)
            # The most extreme rows first, ties by position; only those past OUTLIER_Z count.
            outliers = sorted(
                (-abs(z), row) for row, z in zip(rows, scores, strict=True) if abs(z) > OUTLIER_Z
            )
            limit = max(OUTLIER_MIN_KEEP, math.ceil(OUTLIER_SHARE * len(numbers)))
            for _, row in outliers[:limit]:
                reasons.setdefault(row, "outlier")
        return dict(sorted(reasons.items()))

    @cached_property
    def id_column(self) -> Column | None:
        """The column that best identifies records, or ``None``.

        A candidate holds only strings or only integers, unique among the records that
        have it, in at least 20% of the records; strings are at most 64 characters with no
        line break, ``", "``, ``;``, ``]`` or ``" · "`` (so a marker can list them
        verbatim and :func:`~headroom.compressors.json.summary.listed_ids` read them back). Among
        candidates: named ``id``, then ``...id``/``...Id`` (uuid, paperId), then key, sha,
        doi, slug, number, login, name, code, ... in that order; then the most records covered, the
        shallowest path, the shortest values.
        """
        # Candidates in the order of their keys' first parts, which cost nothing to make;
        # the values are checked, and measured, only until a better part is out of reach.
        candidates: list[tuple[tuple[int, int, int], int, Column]] = []
        for order, column in enumerate(self.columns):
            rank = _id_rank(column.path[-1])
            if rank is None or len(column.values) < _MIN_ID_COVERAGE * len(self.items):
                continue
            candidates.append(((rank, -len(column.values), len(column.path)), order, column))
        candidates.sort(key=lambda candidate: candidate[:2])
        best: tuple[tuple[int, int, int, float, int], Column] | None = None
        for first, order, column in candidates:
            if best is not None and first > best[0][:3]:
                break
            if not _id_values(column.values, self.types(column)):
                continue
            mean_chars = sum(map(len, map(str, column.values))) / len(column.values)
            key = (*first, mean_chars, order)
            if best is None or key < best[0]:
                best = (key, column)
        return None if best is None else best[1]

    @cached_property
    def label_column(self) -> Column | None:
        """The column that names records for a reader, listed beside their ids, or ``None``.

        A candidate is named like a name (``full_name``, ``name``, ``login``, ``title``,
        ``slug``, ``email``, ``doi``, ``html_url``, ``url``, ... in that order), at most one
        object deep (``user.login``), holds non-empty strings in at least 20% of the
        records, more than one distinct value, is not the id column and is not one template
        filled in with each row's id (a URL ending in it). Then the most records covered, the
        shallowest path.
        """
        id_column = self.id_column
        ids = dict(zip(id_column.rows, id_column.values, strict=True)) if id_column else {}
        # Candidates in the order of their keys (which cost nothing to make): the first
        # whose values qualify is the best.
        candidates: list[tuple[tuple[int, int, int, int], Column]] = []
        for order, column in enumerate(self.columns):
            name = _plain_name(column.path[-1])
            if name not in _LABEL_NAMES or len(column.path) > _MAX_LABEL_DEPTH:
                continue
            if column is id_column or len(column.values) < _MIN_ID_COVERAGE * len(self.items):
                continue
            key = (_LABEL_NAMES.index(name), -len(column.values), len(column.path), order)
            candidates.append((key, column))
        candidates.sort(key=lambda candidate: candidate[0])  # keys differ in order
        for _, column in candidates:
            if self.types(column) != {str} or not all(column.values):
                continue
            if len(set(column.values)) < 2 or _derived(column, ids):
                continue
            return column
        return None

    def column_rows(self, column: Column) -> Iterator[tuple[int, Any]]:
        """``(row, value)`` pairs of ``column``."""
        return zip(column.rows, column.values, strict=True)


def _numbers(column: Column, types: set[type]) -> bool:
    """Whether ``column`` holds numbers and nulls, at least :data:`_MIN_NUMERIC` numbers."""
    if types <= _NUMBER_TYPES | {type(None)}:
        count = len(column.values)
        return (count - column.values.count(None) if type(None) in types else count) >= (
            _MIN_NUMERIC
        )
    count = 0
    for value in column.values:
        if value is None:
            continue
        if not is_number(value):
            return False
        count += 1
    return count >= _MIN_NUMERIC


def _floats(values: list[Any], types: set[type]) -> list[float | None]:
    """:func:`as_float` of each value, in bulk when every value is a finite number or null."""
    if types <= _NUMBER_TYPES | {type(None)}:
        try:
            numbers: list[float | None] = (
                [None if v is None else float(v) for v in values]
                if type(None) in types
                else list(map(float, values))  # at C speed
            )
        except OverflowError:  # an int beyond float range: as_float says None for it
            pass
        else:
            if all(map(math.isfinite, filter(None, numbers))):  # no nulls (nor zeros)
                return numbers
    return [as_float(v) for v in values]


@lru_cache(maxsize=4096)  # arrays of one response repeat the same keys
def _id_rank(key: str) -> int | None:
    name = _plain_name(key)
    if name == "id":
        return 0
    if name.endswith("id") and key_words(key) & {"id", "uuid", "guid", "uid"}:
        return 1
    if name in _ID_NAMES:
        return 2 + _ID_NAMES.index(name)
    return None


@lru_cache(maxsize=4096)
def _plain_name(key: str) -> str:
    """``key`` lower-cased without ``_`` and ``-``, as id and label names are compared."""
    return key.lower().replace("_", "").replace("-", "")


def _derived(column: Column, ids: dict[int, Any]) -> bool:
    """Whether the column is one template filled in with each row's id, as an issue's
    ``html_url`` is (``https://github.com/o/r/issues/{number}``)."""
    if not ids:
        return False
    templates = Counter(
        value.replace(str(ids[row]), "\0", 1)
        for row, value in zip(column.rows, column.values, strict=True)
        if row in ids
    )
    template, count = templates.most_common(1)[0] if templates else ("", 0)
    return "\0" in template and count >= _DERIVED_SHARE * len(column.values)


def _id_values(values: list[Any], types: set[type]) -> bool:
    if not values:
        return True
    if types == {int}:
        return len(set(values)) == len(values)
    if types != {str}:
        return False
    if not all(values) or max(map(len, values)) > _MAX_ID_CHARS:
        return False
    if not all(map(str.__eq__, values, map(str.strip, values))):
        return False
    # A forbidden part (none holds "\0") is in the values joined by "\0" only if it is in one.
    joined = "\0".join(values)
    if any(part in joined for part in _ID_FORBIDDEN):
        return False
    return len(set(values)) == len(values)
