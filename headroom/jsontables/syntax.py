"""The lexical layer of the table format: cells, inline values, column paths, templates.

Shared by the encoder and the decoder so that what one writes the other reads. See
``docs/json-tables.md`` for the grammar these functions implement.
"""

from __future__ import annotations

import json
import json.decoder
import json.encoder
import math
import operator
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any, Final

from headroom import _core, _reference

__all__ = [
    "DITTO",
    "KEY_PATH",
    "MISSING",
    "TEXT_SUFFIX",
    "FormatError",
    "RawFloat",
    "Ref",
    "TableRef",
    "dumps_exact",
    "format_cell",
    "format_cells",
    "format_path",
    "format_template",
    "format_text_cell",
    "format_value",
    "parse_cell",
    "parse_path",
    "parse_template",
    "parse_text_cell",
    "parse_value",
    "scalar_cells",
    "split_cells",
]


# The stdlib's JSON string reader (C-accelerated); typeshed does not list it.
scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class _Missing:
    """The value of a cell whose record does not have the key at all."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class FormatError(ValueError):
    """Text that does not follow the table format."""


class Ref(int):
    """A reference to table number ``n``, written ``@n``."""

    def __repr__(self) -> str:
        return f"Ref({int(self)})"


class RawFloat(float):
    """A float that remembers how the input spelled it, so it is written back the same way."""

    __slots__ = ("spelling",)
    spelling: str

    def __new__(cls, spelling: str) -> RawFloat:
        value = super().__new__(cls, spelling)
        value.spelling = spelling
        return value


_NUMBER_RE: Final = _reference.CELL_NUMBER_RE
# A string may be written without quotes in a cell when reading it back cannot mistake it
# for anything else: no cell separator, quote or backslash, no control characters, no
# leading or trailing space, and a first character that does not start another value
# (is_bare: the rules live with the native kernel's reference, headroom._reference).
_KEYWORDS: Final = {"null": None, "true": True, "false": False}
_SEGMENT_RE: Final = re.compile(r"[A-Za-z0-9_\-]+")
_REF_RE: Final = re.compile(r"@([0-9]+)")
_WS: Final = " \t\r\n"


_encode_string: Callable[[str], str] = json.encoder.encode_basestring


def _dumps(value: Any) -> str:
    # Scalars are written directly: json.dumps costs microseconds per call, and tables
    # write hundreds of thousands of cells.
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is RawFloat:
        spelling: str = value.spelling
        return spelling
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


DITTO: Final = "^"
"""A cell that repeats the cell above it in the same column."""
TEXT_SUFFIX: Final = ":str"
"""Marks a header column whose cells are all strings, written bare even when they look
like numbers or keywords (``"2019"`` is written ``2019`` there)."""


_PLAIN_SCALARS: Final = frozenset({str, int, float, RawFloat, bool, type(None)})


is_bare = _reference.is_bare_cell
"""Whether a string can be written in a cell without quotes (``headroom._reference``)."""


# Scalars whose cell is their JSON text, by type, each written by a C function: a column of
# them is formatted without a Python call per value.
_SCALAR_JSON: Final[dict[type, Callable[[Any], str]]] = {
    int: int.__repr__,
    RawFloat: operator.attrgetter("spelling"),
    type(None): {None: "null"}.__getitem__,
    bool: {False: "false", True: "true"}.__getitem__,
}
_INT_ONLY: Final = frozenset({int})


def scalar_cells(values: list[Any], kinds: AbstractSet[type]) -> list[str] | None:
    """The cells of a column whose values' types are ``kinds``, when all of them are ints,
    booleans, nulls or exactly spelled floats (:class:`RawFloat`); else ``None``."""
    if kinds == _INT_ONLY:
        return list(map(int.__repr__, values))
    if not kinds <= _SCALAR_JSON.keys():
        return None
    json_of = _SCALAR_JSON
    return [json_of[type(value)](value) for value in values]


def format_cells(values: list[Any], table_ref: TableRef) -> list[str]:
    """:func:`format_cell` for a whole column, with the common types dispatched inline."""
    if values and type(values[0]) is str and _core.NATIVE_AVAILABLE:
        # A column of strings is formatted by the native kernel (same rules as is_bare and
        # _encode_string), which raises TypeError at the first value that is not a str.
        # Without it, the loop below, which checks each distinct string once, is faster.
        try:
            return _core.string_cells(values)
        except TypeError:
            pass
    cells = []
    strings: dict[str, str] = {}  # API columns repeat values; check each distinct one once
    for value in values:
        kind = type(value)
        if kind is str:
            cell = strings.get(value)
            if cell is None:
                cell = strings[value] = value if is_bare(value) else _encode_string(value)
            cells.append(cell)
        elif kind is int:
            cells.append(int.__repr__(value))
        elif kind is float or kind is RawFloat or value is None:
            cells.append(_dumps(value))
        elif kind is list and value and set(map(type, value)) <= _PLAIN_SCALARS:
            # A list of numbers or strings (coordinates, tags) can never be a table.
            json_of = _SCALAR_JSON
            cells.append("[" + ",".join([json_of.get(type(v), _dumps)(v) for v in value]) + "]")
        else:
            cells.append(format_cell(value, table_ref))
    return cells


is_text_bare = _reference.is_text_bare
"""Whether a string can be written without quotes in a text (``:str``) column
(``headroom._reference``)."""


def format_text_cell(value: Any) -> str:
    """Write one cell of a text column (every present value is a string)."""
    if value is MISSING:
        return ""
    return value if is_text_bare(value) else _dumps(value)


def parse_text_cell(text: str) -> Any:
    """Read one cell written by :func:`format_text_cell`."""
    if not text:
        return MISSING
    if text.startswith('"'):
        value = parse_whole(text)
        if not isinstance(value, str):
            raise FormatError(f"a text column holds strings, got {text[:40]!r}")
        return value
    return text


TableRef = Callable[[list[Any] | dict[str, Any]], str | None]
"""Given a list or dict of two or more items whose first item is a dict, the reference
(``@n``) to the table holding it, or ``None``."""


def format_value(value: Any, table_ref: TableRef) -> str:
    """Write ``value`` as minified JSON, asking ``table_ref`` whether a container is a table.

    Only a list or dict of two or more items whose first item is a dict can be a table: no
    other container is asked about. The native writer (:func:`headroom._core.format_value`)
    writes it when built; this module's writer otherwise, and for what it cannot take.
    """
    written = _core.format_value(value, table_ref, RawFloat, _dumps, _encode_string)
    return _format_value(value, table_ref) if written is None else written


def _format_value(value: Any, table_ref: TableRef) -> str:
    # The rules, in Python: the reference the native writer is tested against.
    kind = type(value)
    if kind is list:
        if len(value) > 1 and type(value[0]) is dict and (ref := table_ref(value)) is not None:
            return ref
        return "[" + ",".join([_format_value(item, table_ref) for item in value]) + "]"
    if kind is dict:
        if (
            len(value) > 1
            and type(next(iter(value.values()))) is dict
            and (ref := table_ref(value)) is not None
        ):
            return ref
        return (
            "{"
            + ",".join(
                [
                    _encode_string(key) + ":" + _format_value(item, table_ref)
                    for key, item in value.items()
                ]
            )
            + "}"
        )
    return _dumps(value)


def dumps_exact(value: Any) -> str:
    """Minified JSON of ``value``, floats spelled as they were parsed (:class:`RawFloat`).

    The C encoder writes plain values many times faster, so it is used whenever the value
    holds no :class:`RawFloat` (the common case: the exact parse creates them only when
    the input spelled a float unlike Python would).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is list:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.values())
        elif kind is RawFloat:
            return format_value(value, _inline)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _inline(_: list[Any] | dict[str, Any]) -> None:
    return None


def format_cell(value: Any, table_ref: TableRef) -> str:
    """Write one cell: empty when missing, a bare string when unambiguous, else a value."""
    if value is MISSING:
        return ""
    if type(value) is str and is_bare(value):
        return value
    return format_value(value, table_ref)


def parse_value(text: str, start: int = 0) -> tuple[Any, int]:
    """Read one inline value (JSON, where ``@n`` may stand for a table) at ``start``.

    Returns the value (with :class:`Ref` for table references) and the index after it.
    """
    index = _skip(text, start)
    if index >= len(text):
        raise FormatError(f"expected a value at offset {start}")
    char = text[index]
    if char == '"':
        string, end = scanstring(text, index + 1)
        return string, end
    if char == "{":
        return _parse_object(text, index + 1)
    if char == "[":
        return _parse_array(text, index + 1)
    if char == "@":
        ref = _REF_RE.match(text, index)
        if ref is None:
            raise FormatError(f"bad table reference at offset {index}")
        return Ref(int(ref.group(1))), ref.end()
    for word, literal in _KEYWORDS.items():
        if text.startswith(word, index):
            return literal, index + len(word)
    number = _NUMBER_RE.match(text, index)
    if number is None:
        raise FormatError(f"unexpected {text[index]!r} at offset {index}")
    spelled = number.group()
    is_int = not any(c in spelled for c in ".eE")
    return (int(spelled) if is_int else float(spelled)), number.end()


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WS:
        index += 1
    return index


def _parse_object(text: str, index: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    index = _skip(text, index)
    if text.startswith("}", index):
        return result, index + 1
    while True:
        index = _skip(text, index)
        if not text.startswith('"', index):
            raise FormatError(f"expected a key at offset {index}")
        key, index = scanstring(text, index + 1)
        index = _skip(text, index)
        if not text.startswith(":", index):
            raise FormatError(f"expected ':' at offset {index}")
        result[key], index = parse_value(text, index + 1)
        index = _skip(text, index)
        if text.startswith("}", index):
            return result, index + 1
        if not text.startswith(",", index):
            raise FormatError(f"expected ',' or '}}' at offset {index}")
        index += 1


def _parse_array(text: str, index: int) -> tuple[list[Any], int]:
    result: list[Any] = []
    index = _skip(text, index)
    if text.startswith("]", index):
        return result, index + 1
    while True:
        item, index = parse_value(text, index)
        result.append(item)
        index = _skip(text, index)
        if text.startswith("]", index):
            return result, index + 1
        if not text.startswith(",", index):
            raise FormatError(f"expected ',' or ']' at offset {index}")
        index += 1


def parse_whole(text: str) -> Any:
    """Read ``text`` as exactly one inline value."""
    value, end = parse_value(text)
    if _skip(text, end) != len(text):
        raise FormatError(f"unexpected text after the value at offset {end}: {text[end:][:20]!r}")
    return value


def parse_cell(text: str) -> Any:
    """Read one cell written by :func:`format_cell`."""
    if not text:
        return MISSING
    if is_bare(text):
        return text
    return parse_whole(text)


_CELL_RE: Final = re.compile(r'(?:[^|"]|"(?:[^"\\]|\\.)*")*')


def split_cells(line: str) -> list[str]:
    """Split a row on ``|`` outside quoted strings."""
    if '"' not in line:
        return line.split("|")
    cells = []
    index = 0
    while True:
        match = _CELL_RE.match(line, index)
        end = match.end() if match else index
        cells.append(line[index:end])
        if end >= len(line):
            return cells
        if line[end] != "|":
            raise FormatError(f"unterminated string in row: {line[:60]!r}")
        index = end + 1


KEY_PATH: Final = "(key)"
"""How the key column of a keyed table (an object of records) is written."""


def format_path(path: tuple[str, ...]) -> str:
    """Write a column path: segments joined by ``.``, each quoted unless plain.

    The empty path is the key column of a keyed table, written ``(key)``.
    """
    if not path:
        return KEY_PATH
    # Most paths are plain words: checked in one match (every segment plain and not empty).
    if all(path) and _SEGMENT_RE.fullmatch("".join(path)):
        return ".".join(path)
    return ".".join(s if _SEGMENT_RE.fullmatch(s) else _dumps(s) for s in path)


def parse_path(text: str) -> tuple[str, ...]:
    """Read a column path written by :func:`format_path`."""
    if text == KEY_PATH:
        return ()
    segments: list[str] = []
    index = 0
    while True:
        if text.startswith('"', index):
            segment, index = scanstring(text, index + 1)
        else:
            match = _SEGMENT_RE.match(text, index)
            if match is None:
                raise FormatError(f"bad column path {text!r}")
            segment, index = match.group(), match.end()
        segments.append(segment)
        if index == len(text):
            return tuple(segments)
        if text[index] != ".":
            raise FormatError(f"bad column path {text!r}")
        index += 1


def format_template(parts: list[str], sources: list[tuple[str, ...]]) -> str:
    """Write a template: literal ``parts`` around ``{path}`` holes, as a JSON string.

    ``len(parts) == len(sources) + 1``; braces in literal parts are doubled.
    """
    out = [parts[0].replace("{", "{{").replace("}", "}}")]
    for source, part in zip(sources, parts[1:], strict=True):
        out.append("{" + format_path(source) + "}")
        out.append(part.replace("{", "{{").replace("}", "}}"))
    return _dumps("".join(out))


def parse_template(text: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """Read a template written by :func:`format_template` (the JSON string's content)."""
    parts: list[str] = []
    sources: list[tuple[str, ...]] = []
    literal: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in "{}" and text.startswith(char * 2, index):
            literal.append(char)
            index += 2
        elif char == "{":
            end = _template_hole_end(text, index + 1)
            sources.append(parse_path(text[index + 1 : end]))
            parts.append("".join(literal))
            literal = []
            index = end + 1
        elif char == "}":
            raise FormatError(f"unpaired '}}' in template {text!r}")
        else:
            literal.append(char)
            index += 1
    parts.append("".join(literal))
    return parts, sources


def _template_hole_end(text: str, index: int) -> int:
    while index < len(text):
        if text[index] == '"':
            _, index = scanstring(text, index + 1)
        elif text[index] == "}":
            return index
        else:
            index += 1
    raise FormatError(f"unterminated '{{' in template {text!r}")
