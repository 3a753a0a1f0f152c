"""Write a JSON value as a table document (see ``docs/json-tables.md``).

Every list of objects and every object whose values are all objects is a *candidate
table*. A candidate becomes a table only when its table text is measured to take fewer
tokens than the same value written inline; otherwise it stays inline JSON. Records that
share too few keys (a table mostly of empty cells) are not written out to be measured:
they stay inline, which keeps the work linear in the values whatever the number of
distinct keys. Inside a table:

- nested objects that every record has as a non-empty object (or lacks) are flattened
  into dotted column paths, so ``user.login`` is a column, unless they are maps (more
  than 256 distinct keys) or their keys would make the table sparse: then the object is
  one column, and may be a table of its own;
- a column with the same value in every row is stated once (``same``);
- a string column that equals another column's value inside a fixed text in every row is
  stated once as a template (``derived url="https://x/issues/{number}"``);
- the remaining columns are written one row per record, cells split by ``|``.

Tables are numbered in reading order (``@1`` is the first one the root refers to), and
identical tables are written once.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from headroom import _core
from headroom._core import (
    cell_length,
    seeds_inside,
    string_column,
    table_columns,
    table_rows,
    text_cells,
    too_sparse,
)
from headroom.jsontables.syntax import (
    TEXT_SUFFIX,
    format_cells,
    format_path,
    format_template,
    format_value,
    is_text_bare,
    scalar_cells,
)

__all__ = ["SIGNATURE", "SIGNATURE_LINES", "Tables", "encode"]

SIGNATURE: Final = (
    "[headroom-json/1 · @n = table n below · cells split by | · empty cell = key absent]"
)
SIGNATURE_LINES: Final = SIGNATURE.replace("headroom-json/1", "headroom-json/1 lines", 1)

# Flattening deeper than this is rare in real responses and makes very long paths.
_MAX_FLATTEN_DEPTH: Final = 6
# Provisional table numbers: NUL never appears in written values (JSON escapes it and bare
# cells exclude control characters), so these are found and renumbered without ambiguity.
_PROVISIONAL: Final = "@\x00{}\x00"
_NUL: Final = "\x00"
_REF_COST: Final = 2  # tokens of "@n" in place of the inline value
_CLEAR_WIN: Final = 0.7
_COUNT_BESIDE: Final = 16384  # a shorter body is counted before a thread would start on it
_MIN_DITTO: Final = 6  # shorter repeats cost about as much as the "^" that replaces them
# A table has a cell for every row and column, so records with differing keys make it
# sparse: n records with a key or two each out of n make n² cells. A run of empty cells
# costs a token per four ("||||"); a key costs three or four tokens each time it is written
# inline, and only a key that two or more records share is written fewer times in a table.
# So a table with more than 16 cells per value in such a shared column cannot be smaller:
# it is not built, and the records stay inline (a candidate inside them can still be a
# table). This also bounds the work on any table by 16 times the values it holds.
_MAX_CELLS_PER_VALUE: Final = 16
# A nested object with more distinct keys than this over a table's records is a map
# (dates, ids or versions as keys), not a record: its keys become one table column each
# only to be written again in every path, and its values are better a table of their own.
_MAX_FLATTEN_KEYS: Final = 256
# Looking for templates compares columns pairwise; in a table with thousands of columns of
# the same rows that is millions of pairs. The search stops after this much work per cell
# (one unit per pair tried, one per row compared), which real tables never reach.
_DERIVE_WORK_PER_CELL: Final = 16
_DERIVE_MIN_WORK: Final = 1 << 16


@dataclass(slots=True)
class _Column:
    """A table column: ``present`` holds the values of the ``rows`` (ascending) that have
    one; ``kinds`` their types."""

    path: tuple[str, ...]
    rows: Sequence[int]
    present: list[Any]
    kinds: frozenset[type]


def encode(value: Any, count_tokens: Callable[[str], int], *, lines: bool = False) -> str:
    """Write ``value`` as a table document.

    Args:
        value: a JSON value as :func:`json.loads` returns it.
        count_tokens: measures candidate texts; a table is used only where it is smaller.
        lines: ``value`` is the list of records of a JSON Lines text.

    >>> from headroom.jsontables import decode
    >>> rows = [{"id": i, "url": f"https://x/{i}", "ok": True} for i in range(4)]
    >>> print(encode(rows, len))
    [headroom-json/1 · @n = table n below · cells split by | · empty cell = key absent]
    @1
    @1 = 4 rows: id
      same ok=true
      derived url="https://x/{id}"
    0
    1
    2
    3
    >>> decode(encode(rows, len)) == rows
    True
    """
    return Tables(count_tokens).encode(value, lines=lines)


class Tables:
    """Writes table documents, remembering what it decided for each list and dict it saw.

    A crushed copy of a value shares every part the crush left unchanged (the same objects):
    written by the ``Tables`` that wrote the value, those parts cost a lookup each, and the
    document is the one a new ``Tables`` writes. (Tables are numbered provisionally while
    they are written, on from the documents written before; lengths count a number as one
    character, so its length changes no decision, but past 999 its token count could, in a
    measurement at the margin.)
    Each value is kept alive while its decision is remembered, so the identity a decision is
    filed under cannot be reused; the values must not be changed in between.

    >>> rows = [{"id": i, "tags": [{"k": "a"}, {"k": "b"}]} for i in range(3)]
    >>> tables = Tables(len)
    >>> whole, part = tables.encode(rows), tables.encode(rows[:2])
    >>> part == encode(rows[:2], len) and whole == encode(rows, len)
    True
    """

    def __init__(self, count_tokens: Callable[[str], int]) -> None:
        self._encoder = _Encoder(count_tokens)

    def encode(self, value: Any, *, lines: bool = False) -> str:
        """Write ``value`` as a table document (see :func:`encode`)."""
        encoder = self._encoder
        root = format_value(value, encoder.table_ref)
        return _renumber(SIGNATURE_LINES if lines else SIGNATURE, root, encoder.blocks)


class _Encoder:
    def __init__(self, count_tokens: Callable[[str], int]) -> None:
        self._count = count_tokens
        self.blocks: list[str] = []
        self._by_body: dict[str, int] = {}
        # By id, with the value itself: kept alive, its id cannot name another value.
        self._decided: dict[int, tuple[object, str | None]] = {}

    def table_ref(self, value: list[Any] | dict[str, Any]) -> str | None:
        """The provisional reference to the table holding ``value``, or ``None`` for inline."""
        key = id(value)
        decided = self._decided.get(key)
        if decided is not None:
            return decided[1]
        self._decided[key] = (value, None)  # while measuring, the value renders inline
        ref = self._choose(value)
        self._decided[key] = (value, ref)
        return ref

    def _choose(self, value: list[Any] | dict[str, Any]) -> str | None:
        if isinstance(value, list):
            if len(value) < 2 or not all(type(item) is dict for item in value):
                return None
            records, keys = value, None
        else:
            if len(value) < 2 or not all(type(item) is dict for item in value.values()):
                return None
            records, keys = list(value.values()), list(value)
        built = self._table_body(records, keys)
        if built is None:
            return None
        body, inline_floor = built
        # A table under 70% of the inline length is smaller in tokens too: over the recorded
        # API responses, tables at 50-90% of the characters took at most 96% of the tokens
        # (at most 83% below 70%). Only the rest is measured: counting every candidate
        # counted nested values again at each level (2x the input on a crossref search).
        # Lengths count each provisional table number as one character: how many tables
        # were numbered before this one (by every document its Tables wrote) must not decide.
        clear_win = cell_length(body) < _CLEAR_WIN * inline_floor
        if not clear_win and not self._smaller(body, value, _NUL in body):
            return None
        number = self._by_body.get(body)
        if number is None:
            number = len(self.blocks)
            self._by_body[body] = number
            self.blocks.append(_PROVISIONAL.format(number) + " " + body)
        return _PROVISIONAL.format(number)

    def _smaller(self, body: str, value: list[Any] | dict[str, Any], has_tables: bool) -> bool:
        """Whether ``body`` takes fewer tokens than ``value`` written inline (``has_tables``:
        it holds tables, which it refers to when inline too)."""
        body_tokens: Callable[[], int] = functools.partial(self._count, body)
        if has_tables:
            # Writing the inline text is Python work: a long body is counted meanwhile, on
            # the counter's background thread, where it has one.
            start = getattr(self._count, "start", None)
            if start is not None and len(body) >= _COUNT_BESIDE:
                body_tokens = start(body)
            inline = format_value(value, self.table_ref)
        else:
            # Plain JSON, which the C encoder writes many times faster (float spellings may
            # differ from the input's; this text is only measured).
            inline = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        inline_tokens = self._count(inline)  # first: the body may still be counted meanwhile
        return body_tokens() + _REF_COST < inline_tokens

    def _table_body(self, records: list[Any], keys: list[str] | None) -> tuple[str, int] | None:
        """The table text, and a lower bound on the length of the records written inline;
        ``None`` when the table would be too sparse to be smaller."""
        count = len(records)
        limits = _MAX_FLATTEN_DEPTH, _MAX_FLATTEN_KEYS, _MAX_CELLS_PER_VALUE
        sparse = table_columns(records, range(count), count, *limits)
        keyed = keys is not None
        if sparse is None or too_sparse(
            sparse, count, keyed=keyed, max_cells_per_value=_MAX_CELLS_PER_VALUE
        ):
            return None
        lines = [f"= {count} rows{' keyed' if keyed else ''}:"]
        # Each column with its cells and whether a text column would gain.
        kept: list[tuple[_Column, list[str], bool]] = []
        if keys is not None:
            key_column = _Column((), range(count), list(keys), frozenset(map(type, keys)))
            kept.append((key_column, format_cells(keys, self.table_ref), False))
        inline_floor = 0
        for path, present_rows, values in sparse:
            present, kinds, gains = self._cells(values)
            # '"key":' and the cell, quotes included, per present value
            inline_floor += sum(map(len, present)) + len(present) * (len(path[-1]) + 5)
            first = present[0]
            if count > 1 and first and present.count(first) == count:
                lines.append(f"  same {format_path(path)}={first}")
            else:
                kept.append((_Column(path, present_rows, values, kinds), present, gains))
        derived = _derive([column for column, _, _ in kept], count)
        for target, parts, source in derived:
            template = format_template(parts, [source] * (len(parts) - 1))
            lines.append(f"  derived {format_path(target)}={template}")
        targets = {target for target, _, _ in derived}
        names: list[str] = []
        columns: list[list[str]] = []
        rows: list[list[int]] = []
        for column, cells, gains in kept:
            if column.path in targets:
                continue
            name = format_path(column.path)
            if column.path and gains:
                text = text_cells(column.present)
                if text is not None:
                    cells = text
                    name += TEXT_SUFFIX
            names.append(name)
            columns.append(cells)
            rows.append([] if len(cells) == count else list(column.rows))
        if names:
            lines[0] += " " + "|".join(names)
            lines.append(table_rows(count, columns, rows, _MIN_DITTO))
        return "\n".join(lines), inline_floor

    def _cells(self, values: list[Any]) -> tuple[list[str], frozenset[type], bool]:
        """The cells of a column's values, their types, and whether a text column would
        gain (strings only)."""
        kinds = frozenset(map(type, values))  # exact types: a str subclass is not a str here
        if kinds == _STR_ONLY and _core.NATIVE_AVAILABLE:
            cells, gains = string_column(values)  # one native pass for a column of strings
            return cells, kinds, gains
        scalars = scalar_cells(values, kinds)
        if scalars is not None:
            return scalars, kinds, False
        cells = format_cells(values, self.table_ref)
        if kinds != _STR_ONLY:
            return cells, kinds, False
        # Strings without the native kernel: a text column can only gain from a quoted cell
        # (found at C speed), if it holds a string a text column writes bare.
        quoted = itertools.compress(values, map(operator.methodcaller("startswith", '"'), cells))
        return cells, kinds, any(map(is_text_bare, quoted))


_SOURCE_KINDS: Final = frozenset({str, int})  # bool is not int here: type()
_STR_ONLY: Final = frozenset({str})
_SEP: Final = "\x00"  # joins a column's values into one text (see _joined)


def _joined(values: Sequence[str]) -> str | None:
    """``values`` joined by NUL, or ``None`` when one holds a NUL (then the row boundaries
    of the joined text would be ambiguous)."""
    text = _SEP.join(values)
    return text if text.count(_SEP) == len(values) - 1 else None


@dataclass(slots=True)
class _Source:
    """A column that templates may be filled from: its present values, as strings."""

    path: tuple[str, ...]
    spelled: list[str]
    _joined: str | bool | None = False  # not joined yet

    def joined(self) -> str | None:
        """Its values joined by ``_SEP`` (``None``: one holds a ``_SEP``)."""
        if self._joined is False:
            self._joined = _joined(self.spelled)
        return self._joined if type(self._joined) is str else None


def _derive(
    columns: list[_Column], count: int
) -> list[tuple[tuple[str, ...], list[str], tuple[str, ...]]]:
    """String columns that are another column's value inside fixed text in every row.

    A target is present exactly in the rows where its source is. Returns ``(target,
    literal parts, source)``; sources are never themselves derived, so the decoder can fill
    templates from the row cells in any order. The search is bounded by the size of the
    table (``_DERIVE_WORK_PER_CELL``): what it has not found by then stays a column.

    Everything is compared over the rows a column is present in (``_Column.present``): a
    target's candidates are the sources present in the same rows whose first value is
    inside the target's first value; one more row is tried, then the whole column at once.
    """
    if len(columns) < 2:  # a template needs a source besides its target
        return []
    work = _DERIVE_MIN_WORK + _DERIVE_WORK_PER_CELL * count * len(columns)
    # Sources grouped by the rows they are present in: a target can only come from a source
    # present in exactly its rows, so heterogeneous records compare far fewer pairs.
    # Groups are numbered (-1: every row): a tuple of row numbers hashes in time proportional
    # to its length, and the columns flattened from one nested object share their list of
    # rows, whose number is then found once.
    groups: dict[int, list[_Source]] = {}
    numbers: dict[tuple[int, ...], int] = {}
    number_of_list: dict[int, int] = {}
    strings: list[tuple[tuple[str, ...], int, list[str]]] = []
    for column in columns:
        present = column.present
        if not present:
            continue
        if len(present) == count:
            rows = -1
        else:
            found = number_of_list.get(id(column.rows))
            if found is None:
                found = numbers.setdefault(tuple(column.rows), len(numbers))
                number_of_list[id(column.rows)] = found
            rows = found
        kinds = column.kinds
        if kinds == _STR_ONLY:
            strings.append((column.path, rows, present))
        if not kinds <= _SOURCE_KINDS or (str in kinds and "" in present):
            continue
        spelled = present if kinds == _STR_ONLY else list(map(str, present))  # str(s) is s
        groups.setdefault(rows, []).append(_Source(column.path, spelled))
    for group in groups.values():  # the longest value first: "{url}/x" before "{id}"
        group.sort(key=lambda source: -len(source.spelled[0]))
    seeds = {rows: [source.spelled[0] for source in group] for rows, group in groups.items()}
    # Negated lengths, ascending: the sources no longer than a target start at a bisection.
    lengths = {rows: [-len(seed) for seed in found] for rows, found in seeds.items()}
    # The targets of each group (their places in ``strings``), whose candidates are found
    # for several at once, as far as the work budget reaches, when the search gets there.
    targets_of: dict[int, list[int]] = {}
    position: dict[int, int] = {}  # a target's index in its group's list
    # A target whose group holds no source but itself (sparse records: most columns are
    # present in rows of their own) has no candidate; trying it costs one unit of work.
    alone = {rows for rows, group in groups.items() if len(group) == 1}
    for place, (target, rows, _) in enumerate(strings):
        if target and rows in groups and not (rows in alone and groups[rows][0].path == target):
            group_targets = targets_of.setdefault(rows, [])
            position[place] = len(group_targets)
            group_targets.append(place)
    candidates: dict[int, list[int]] = {}
    used_sources: set[tuple[str, ...]] = set()
    derived_targets: set[tuple[str, ...]] = set()
    derived: list[tuple[tuple[str, ...], list[str], tuple[str, ...]]] = []
    for place, (target, rows, wanted) in enumerate(strings):
        sources = groups.get(rows)
        if not target or target in used_sources or sources is None:
            continue
        if rows in alone and sources[0].path == target:
            work -= 1  # itself, the only candidate, skipped
            if work < 0:
                return derived
            continue
        if place not in candidates:
            # This target's and the next ones' of its group, as many as the work left allows
            # (each costs a comparison per source it is tried with): found in one call.
            places, texts, starts = [], [], []
            allowed = work
            for p in targets_of[rows][position[place] :]:
                text = strings[p][2][0]
                # Sources longer than a target cannot be inside it: its candidates start there.
                start = bisect.bisect_left(lengths[rows], -len(text))
                places.append(p)
                texts.append(text)
                starts.append(start)
                allowed -= len(sources) - start
                if allowed < 0:
                    break
            candidates.update(zip(places, seeds_inside(seeds[rows], texts, starts), strict=True))
        text, last = wanted[0], wanted[-1]
        wanted_joined: str | bool | None = False  # not joined yet
        # The work is counted as trying each source in turn would count it: one unit per
        # source up to the one that matches (all of them if none does), checked on each,
        # plus one per row compared; so the search stops where that one did.
        tried = 0
        for index in candidates[place]:
            work -= index + 1 - tried
            tried = index + 1
            if work < 0:
                return derived
            source = sources[index]
            if source.path == target or source.path in derived_targets:
                continue
            work -= count
            parts = text.split(source.spelled[0])
            if source.spelled[-1].join(parts) != last:
                continue  # most candidates differ in another row: try one first
            if wanted_joined is False:
                wanted_joined = _joined(wanted)
            joined = source.joined() if len(parts) == 2 else None
            if joined is not None and type(wanted_joined) is str:
                # One value inside a prefix and a suffix: the target's column is the
                # source's, joined, with the prefix and suffix around each value; compared
                # in one go. Exact: no value holds a _SEP, so the row boundaries line up.
                prefix, suffix = parts
                filled = joined.replace(_SEP, suffix + _SEP + prefix)
                found = wanted_joined == prefix + filled + suffix
            else:
                found = all(g.join(parts) == w for g, w in zip(source.spelled, wanted, strict=True))
            if found:
                derived.append((target, parts, source.path))
                derived_targets.add(target)
                used_sources.add(source.path)
                break
        else:
            if tried < len(sources):
                work -= len(sources) - tried
                if work < 0:
                    return derived
    return derived


def _renumber(signature: str, root: str, blocks: list[str]) -> str:
    """Number tables in reading order, drop unreferenced ones, and join the document."""
    # NUL appears only in provisional references ("@\x00n\x00"), so splitting a text on it
    # puts the provisional numbers at the odd places.
    final: dict[str, str] = {}
    order: list[int] = []

    def visit(text: str) -> None:
        for provisional in text.split(_NUL)[1::2]:
            if provisional not in final:
                final[provisional] = str(len(final) + 1)
                order.append(int(provisional))

    visit(root)
    index = 0
    while index < len(order):
        visit(blocks[order[index]])
        index += 1
    pieces = "\n".join([signature, root] + [blocks[p] for p in order]).split(_NUL)
    pieces[1::2] = map(final.__getitem__, pieces[1::2])
    return "".join(pieces)
