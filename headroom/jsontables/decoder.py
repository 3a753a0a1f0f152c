"""Read a table document back into the JSON value it was written from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

from headroom.handles import MARKER_RE
from headroom.jsontables.encoder import SIGNATURE, SIGNATURE_LINES
from headroom.jsontables.syntax import (
    DITTO,
    MISSING,
    TEXT_SUFFIX,
    FormatError,
    Ref,
    parse_cell,
    parse_path,
    parse_template,
    parse_text_cell,
    parse_whole,
    scanstring,
    split_cells,
)

__all__ = ["decode", "decode_text", "is_table_document"]

_HEADER_RE: Final = re.compile(r"@([0-9]+) = ([0-9]+) rows( keyed)?:(?: (.*))?")
_META_RE: Final = re.compile(r"  (same|derived) ")

Path = tuple[str, ...]


@dataclass(slots=True)
class _Table:
    count: int
    keyed: bool
    columns: list[Path]
    rows: list[list[Any]]
    same: list[tuple[Path, Any]] = field(default_factory=list)
    derived: list[tuple[Path, list[str], list[Path]]] = field(default_factory=list)


def is_table_document(text: str) -> bool:
    """Whether ``text`` starts like a table document."""
    return text.startswith(SIGNATURE.split(" ·", 1)[0])


def decode(document: str) -> Any:
    """The JSON value a table document was written from.

    For a JSON Lines document the value is the list of the lines' values.

    Raises:
        FormatError: ``document`` is not a well-formed table document.

    >>> decode('[headroom-json/1 · x]\\n{"a":@1}\\n@1 = 2 rows: id\\n  same ok=true\\n7\\n8')
    {'a': [{'id': 7, 'ok': True}, {'id': 8, 'ok': True}]}
    """
    value, _ = _decode(document)
    return value


def decode_text(document: str) -> str:
    """The minified JSON (or JSON Lines) text a table document was written from."""
    value, lines = _decode(document)
    if lines:
        return "\n".join(_minify(item) for item in value)
    return _minify(value)


def _minify(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _decode(document: str) -> tuple[Any, bool]:
    lines = document.split("\n")
    if len(lines) < 2 or not is_table_document(lines[0]):
        raise FormatError("not a table document: the first line is not the signature")
    is_lines = lines[0].startswith(SIGNATURE_LINES.split(" ·", 1)[0])
    root = parse_whole(lines[1])
    tables = _read_tables(lines, 2)
    value = _Resolver(tables).resolve(root)
    if is_lines and not isinstance(value, list):
        raise FormatError("a JSON Lines document must hold a list")
    return value, is_lines


def _read_tables(lines: list[str], index: int) -> dict[int, _Table]:
    tables: dict[int, _Table] = {}
    while index < len(lines):
        if MARKER_RE.fullmatch(lines[index]):  # what a lossy encoding left out, not a table
            index += 1
            continue
        header = _HEADER_RE.fullmatch(lines[index])
        if header is None:
            raise FormatError(f"line {index + 1}: expected a table header, got {lines[index]!r}")
        number, count, keyed = int(header.group(1)), int(header.group(2)), bool(header.group(3))
        names = split_cells(header.group(4)) if header.group(4) else []
        text_mode = [name.endswith(TEXT_SUFFIX) for name in names]
        columns = [
            parse_path(name[: -len(TEXT_SUFFIX)] if text else name)
            for name, text in zip(names, text_mode, strict=True)
        ]
        if keyed and (not columns or columns[0] != ()):
            raise FormatError(f"line {index + 1}: a keyed table's first column is (key)")
        table = _Table(count, keyed, columns, [])
        index += 1
        while index < len(lines) and (meta := _META_RE.match(lines[index])):
            _read_meta(table, meta.group(1), lines[index][meta.end() :], index)
            index += 1
        if columns:
            if index + count > len(lines):
                raise FormatError(f"table @{number}: expected {count} rows")
            above: list[Any] | None = None
            for line in lines[index : index + count]:
                texts = split_cells(line)
                if len(texts) != len(columns):
                    raise FormatError(
                        f"table @{number}: row has {len(texts)} cells, header has {len(columns)}"
                    )
                cells = [
                    _read_cell(text, is_text, above, column)
                    for column, (text, is_text) in enumerate(zip(texts, text_mode, strict=True))
                ]
                table.rows.append(cells)
                above = cells
            index += count
        known = set(columns)
        for target, _, sources in table.derived:
            unknown = [source for source in sources if source not in known]
            if unknown:
                raise FormatError(
                    f"table @{number}: template for {target!r} refers to {unknown[0]!r}, "
                    "which is not a row column"
                )
        tables[number] = table
    return tables


def _read_cell(text: str, is_text: bool, above: list[Any] | None, column: int) -> Any:
    if text == DITTO:
        if above is None:
            raise FormatError("'^' (same as above) in a table's first row")
        return above[column]
    return parse_text_cell(text) if is_text else parse_cell(text)


def _read_meta(table: _Table, kind: str, rest: str, index: int) -> None:
    path, end = _read_path_prefix(rest)
    if not rest.startswith("=", end):
        raise FormatError(f"line {index + 1}: expected '=' after the column path")
    value = rest[end + 1 :]
    if kind == "same":
        table.same.append((path, parse_cell(value)))
        return
    template = parse_whole(value)
    if not isinstance(template, str):
        raise FormatError(f"line {index + 1}: a template is a JSON string")
    parts, sources = parse_template(template)
    table.derived.append((path, parts, sources))


def _read_path_prefix(text: str) -> tuple[Path, int]:
    index = 0
    while index < len(text) and text[index] != "=":
        if text[index] == '"':
            _, index = scanstring(text, index + 1)
        else:
            index += 1
    return parse_path(text[:index]), index


class _Resolver:
    """Builds values from tables, following ``@n`` references (a fresh copy each time)."""

    def __init__(self, tables: dict[int, _Table]) -> None:
        self._tables = tables
        self._building: set[int] = set()

    def resolve(self, value: Any) -> Any:
        if type(value) is Ref:
            return self._build(int(value))
        if type(value) is list:
            return [self.resolve(item) for item in value]
        if type(value) is dict:
            return {key: self.resolve(item) for key, item in value.items()}
        return value

    def _build(self, number: int) -> list[Any] | dict[str, Any]:
        table = self._tables.get(number)
        if table is None:
            raise FormatError(f"reference to missing table @{number}")
        if number in self._building:
            raise FormatError(f"table @{number} refers to itself")
        self._building.add(number)
        try:
            records = [self._record(table, row) for row in self._rows(table)]
        finally:
            self._building.discard(number)
        if not table.keyed:
            return [record for _, record in records]
        return {key: record for key, record in records}

    def _rows(self, table: _Table) -> list[list[Any]]:
        return table.rows if table.columns else [[] for _ in range(table.count)]

    def _record(self, table: _Table, row: list[Any]) -> tuple[Any, dict[str, Any]]:
        record: dict[str, Any] = {}
        key: Any = None
        for path, cell in zip(table.columns, row, strict=True):
            if not path:
                key = cell
            elif cell is not MISSING:
                _put(record, path, self.resolve(cell))
        for path, value in table.same:
            _put(record, path, self.resolve(value))
        by_path = dict(zip(table.columns, row, strict=True))
        for path, parts, sources in table.derived:
            values = [by_path.get(source, MISSING) for source in sources]
            if any(value is MISSING for value in values):
                continue  # a derived column is present exactly where its source is
            pieces = [parts[0]]
            for value, part in zip(values, parts[1:], strict=True):
                pieces.append(_source_text(value, path))
                pieces.append(part)
            _put(record, path, "".join(pieces))
        if table.keyed and type(key) is not str:
            raise FormatError(f"a keyed table's key must be a string, got {key!r}")
        return key, record


def _source_text(value: Any, target: Path) -> str:
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise FormatError(f"template for {target!r} refers to a cell that is not a string or int")


def _put(record: dict[str, Any], path: Path, value: Any) -> None:
    for segment in path[:-1]:
        inner = record.setdefault(segment, {})
        if type(inner) is not dict:
            raise FormatError(f"column {path!r} conflicts with a value at {segment!r}")
        record = inner
    if path[-1] in record:
        raise FormatError(f"column {path!r} is given twice")
    record[path[-1]] = value
