"""Write a JSON value as a table document (see ``docs/json-tables.md``).

Every list of objects and every object whose values are all objects is a *candidate
table*. A candidate becomes a table only when its table text is measured to take fewer
tokens than the same value written inline; otherwise it stays inline JSON. Inside a table:

- nested objects that every record has as a non-empty object (or lacks) are flattened
  into dotted column paths, so ``user.login`` is a column;
- a column with the same value in every row is stated once (``same``);
- a string column that equals another column's value inside a fixed text in every row is
  stated once as a template (``derived url="https://x/issues/{number}"``);
- the remaining columns are written one row per record, cells split by ``|``.

Tables are numbered in reading order (``@1`` is the first one the root refers to), and
identical tables are written once.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from headroom.jsontables.syntax import (
    DITTO,
    MISSING,
    TEXT_SUFFIX,
    format_cells,
    format_path,
    format_template,
    format_text_cell,
    format_value,
    is_text_bare,
)

__all__ = ["SIGNATURE", "SIGNATURE_LINES", "encode"]

SIGNATURE: Final = (
    "[headroom-json/1 · @n = table n below · cells split by | · empty cell = key absent]"
)
SIGNATURE_LINES: Final = SIGNATURE.replace("headroom-json/1", "headroom-json/1 lines", 1)

# Flattening deeper than this is rare in real responses and makes very long paths.
_MAX_FLATTEN_DEPTH: Final = 6
# Provisional table numbers: NUL never appears in written values (JSON escapes it and bare
# cells exclude control characters), so these are found and renumbered without ambiguity.
_PROVISIONAL: Final = "@\x00{}\x00"
_PROVISIONAL_RE: Final = re.compile("@\x00([0-9]+)\x00")
_REF_COST: Final = 2  # tokens of "@n" in place of the inline value
_CLEAR_WIN: Final = 0.5
_MIN_DITTO: Final = 6  # shorter repeats cost about as much as the "^" that replaces them


@dataclass(slots=True)
class _Column:
    path: tuple[str, ...]
    values: list[Any]


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
    encoder = _Encoder(count_tokens)
    root = format_value(value, encoder.table_ref)
    return _renumber(SIGNATURE_LINES if lines else SIGNATURE, root, encoder.blocks)


class _Encoder:
    def __init__(self, count_tokens: Callable[[str], int]) -> None:
        self._count = count_tokens
        self.blocks: list[str] = []
        self._by_body: dict[str, int] = {}
        self._decided: dict[int, str | None] = {}

    def table_ref(self, value: list[Any] | dict[str, Any]) -> str | None:
        """The provisional reference to the table holding ``value``, or ``None`` for inline."""
        key = id(value)
        if key in self._decided:
            return self._decided[key]
        self._decided[key] = None  # while measuring, the value itself renders inline
        ref = self._choose(value)
        self._decided[key] = ref
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
        tables_before = len(self._by_body)
        body, inline_floor = self._table_body(records, keys)
        # A table under half the inline length is smaller in tokens too; measure the rest.
        clear_win = len(body) < _CLEAR_WIN * inline_floor
        if not clear_win and not self._smaller(body, value, len(self._by_body) > tables_before):
            return None
        number = self._by_body.get(body)
        if number is None:
            number = len(self.blocks)
            self._by_body[body] = number
            self.blocks.append(_PROVISIONAL.format(number) + " " + body)
        return _PROVISIONAL.format(number)

    def _smaller(self, body: str, value: list[Any] | dict[str, Any], has_tables: bool) -> bool:
        """Whether ``body`` takes fewer tokens than ``value`` written inline."""
        if has_tables:
            inline = format_value(value, self.table_ref)
        else:
            # Plain JSON, which the C encoder writes many times faster (float spellings may
            # differ from the input's; this text is only measured).
            inline = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return self._count(body) + _REF_COST < self._count(inline)

    def _table_body(self, records: list[Any], keys: list[str] | None) -> tuple[str, int]:
        """The table text, and a lower bound on the length of the records written inline."""
        columns = _flatten(records, (), 0)
        if keys is not None:
            columns.insert(0, _Column((), list(keys)))
        count = len(records)
        meta: list[str] = []
        kept: list[tuple[_Column, list[str]]] = []
        inline_floor = 0
        for column in columns:
            cells = format_cells(column.values, self.table_ref)
            if column.path:  # '"key":' and the cell, quotes included, per present value
                present = count - column.values.count(MISSING)
                inline_floor += sum(map(len, cells)) + present * (len(column.path[-1]) + 5)
            first = cells[0]
            if column.path and count > 1 and first and cells.count(first) == count:
                meta.append(f"  same {format_path(column.path)}={first}")
            else:
                kept.append((column, cells))
        derived = _derive([column for column, _ in kept])
        for target, parts, source in derived:
            template = format_template(parts, [source] * (len(parts) - 1))
            meta.append(f"  derived {format_path(target)}={template}")
        targets = {target for target, _, _ in derived}
        header = f"= {count} rows{' keyed' if keys is not None else ''}:"
        names: list[str] = []
        rendered: list[list[str]] = []
        for column, cells in kept:
            if column.path in targets:
                continue
            name = format_path(column.path)
            if column.path and _wants_text_mode(column.values, cells):
                cells = [format_text_cell(v) for v in column.values]
                name += TEXT_SUFFIX
            names.append(name)
            rendered.append(_ditto(cells))
        if names:
            header += " " + "|".join(names)
        rows = ["|".join(row) for row in zip(*rendered, strict=True)]
        return "\n".join([header, *meta, *rows]), inline_floor


def _wants_text_mode(values: list[Any], cells: list[str]) -> bool:
    """Strings only, and some would need quotes outside a text column (``"2019"``)."""
    return set(map(type, values)) <= _TARGET_KINDS and any(
        cell.startswith('"') and is_text_bare(value)
        for value, cell in zip(values, cells, strict=True)
        if value is not MISSING
    )


def _ditto(cells: list[str]) -> list[str]:
    """Replace a long cell equal to the one above it with ``^``."""
    return cells[:1] + [
        DITTO if cell == above and len(cell) >= _MIN_DITTO else cell
        for above, cell in itertools.pairwise(cells)
    ]


def _flatten(records: list[Any], prefix: tuple[str, ...], depth: int) -> list[_Column]:
    """Columns of ``records`` (dicts or MISSING), nested objects flattened where lossless.

    A key is flattened only when every record that has it has a non-empty object there:
    then "every sub-column missing" can only mean "key absent", so decoding is exact.
    """
    keys = dict.fromkeys(key for record in records if record is not MISSING for key in record)
    columns: list[_Column] = []
    for key in keys:
        values = [MISSING if record is MISSING else record.get(key, MISSING) for record in records]
        path = (*prefix, key)
        if depth < _MAX_FLATTEN_DEPTH and _flattenable(values):
            columns.extend(_flatten(values, path, depth + 1))
        else:
            columns.append(_Column(path, values))
    return columns


def _flattenable(values: list[Any]) -> bool:
    present = [v for v in values if v is not MISSING]
    return bool(present) and all(type(v) is dict and v for v in present)


_SOURCE_KINDS: Final = frozenset({str, int, type(MISSING)})  # bool is not int here: type()
_TARGET_KINDS: Final = frozenset({str, type(MISSING)})


def _first(texts: list[str | None]) -> str:
    return next((t for t in texts if t is not None), "")


def _derive(columns: list[_Column]) -> list[tuple[tuple[str, ...], list[str], tuple[str, ...]]]:
    """String columns that are another column's value inside fixed text in every row.

    A target is present exactly in the rows where its source is. Returns ``(target,
    literal parts, source)``; sources are never themselves derived, so the decoder can fill
    templates from the row cells in any order.
    """
    # Sources grouped by the rows they are present in: a target can only come from a source
    # present in exactly its rows, so heterogeneous records compare far fewer pairs.
    groups: dict[bytes, list[tuple[tuple[str, ...], list[str | None]]]] = {}
    presences: dict[tuple[str, ...], bytes] = {}
    for column in columns:
        values = column.values
        kinds = set(map(type, values))
        presence = bytes([v is not MISSING for v in values])
        presences[column.path] = presence
        if not kinds <= _SOURCE_KINDS or not any(presence) or "" in values:
            continue
        spelled: list[str | None] = [
            None if v is MISSING else v if type(v) is str else str(v) for v in values
        ]
        groups.setdefault(presence, []).append((column.path, spelled))
    for group in groups.values():  # the longest value first: "{url}/x" before "{id}"
        group.sort(key=lambda source: -len(_first(source[1])))
    used_sources: set[tuple[str, ...]] = set()
    derived_targets: set[tuple[str, ...]] = set()
    derived: list[tuple[tuple[str, ...], list[str], tuple[str, ...]]] = []
    for column in columns:
        target = column.path
        wanted = column.values
        if not target or target in used_sources or not set(map(type, wanted)) <= _TARGET_KINDS:
            continue
        presence = presences[target]
        sample = presence.find(1)
        if sample < 0:
            continue
        for source, given in groups.get(presence, ()):
            if source == target or source in derived_targets:
                continue
            seed = given[sample]
            if seed is None or seed not in wanted[sample]:
                continue
            parts = wanted[sample].split(seed)
            if all(
                (w is MISSING and g is None) or (g is not None and g.join(parts) == w)
                for g, w in zip(given, wanted, strict=True)
            ):
                derived.append((target, parts, source))
                derived_targets.add(target)
                used_sources.add(source)
                break
    return derived


def _renumber(signature: str, root: str, blocks: list[str]) -> str:
    """Number tables in reading order, drop unreferenced ones, and join the document."""
    final: dict[int, int] = {}
    order: list[int] = []

    def visit(text: str) -> None:
        for match in _PROVISIONAL_RE.finditer(text):
            provisional = int(match.group(1))
            if provisional not in final:
                final[provisional] = len(final) + 1
                order.append(provisional)

    visit(root)
    index = 0
    while index < len(order):
        visit(blocks[order[index]])
        index += 1

    def number(match: re.Match[str]) -> str:
        return f"@{final[int(match.group(1))]}"

    parts = [signature, root] + [blocks[p] for p in order]
    return _PROVISIONAL_RE.sub(number, "\n".join(parts))
