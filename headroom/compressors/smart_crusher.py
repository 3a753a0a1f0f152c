"""SmartCrusher: JSON tool outputs as lossless tables, then (when allowed) crushed.

Stage 1 always runs: the JSON is parsed and written as a table document
(:mod:`headroom.jsontables`), which the library can decode back to the same JSON value.
It is used only when it takes fewer tokens than its input (already minified by
``json.minify``), so the result is never worse than minified JSON.

JSON that cannot be represented exactly is left to the minifier: text that does not parse,
objects with duplicate keys (a parsed value keeps only the last), ``NaN``/``Infinity``,
numbers too large for a float, and nesting deeper than Python can recurse.
"""

from __future__ import annotations

import json
import math
from typing import Any

from headroom.compressors.base import Compressed, Context
from headroom.jsontables import encode, is_table_document
from headroom.jsontables.syntax import RawFloat

__all__ = ["SmartCrusher", "parse_json"]


class _NotExact(ValueError):
    """The text parses, but a Python value cannot hold it exactly."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _NotExact("duplicate keys")
    return result


def _float(spelling: str) -> RawFloat:
    value = RawFloat(spelling)
    if not math.isfinite(value):
        raise _NotExact(f"number out of float range: {spelling[:40]}")
    return value


def _constant(name: str) -> Any:
    raise _NotExact(f"{name} is not JSON")


def _loads(text: str) -> Any:
    # Fast path: when writing the plain parse back gives the very same text, no key was
    # duplicated and every float is spelled as Python writes it, so nothing can be lost.
    # Minified API output usually takes this path; the careful parse costs twice as much.
    value = json.loads(text, parse_constant=_constant)
    if json.dumps(value, ensure_ascii=False, separators=(",", ":")) == text:
        return value
    return json.loads(text, object_pairs_hook=_pairs, parse_float=_float, parse_constant=_constant)


def parse_json(text: str) -> tuple[Any, bool] | None:
    """Parse a JSON document or JSON Lines text exactly, or return ``None``.

    Returns the value (a list of the lines' values for JSON Lines) and whether it was
    JSON Lines. Floats keep their spelling (:class:`RawFloat`).

    >>> parse_json('{"a": 1.50}')
    ({'a': 1.5}, False)
    >>> parse_json('{"a": 1, "a": 2}') is None
    True
    """
    stripped = text.strip()
    try:
        return _loads(stripped), False
    except (ValueError, RecursionError):
        pass
    lines = [line for line in stripped.split("\n") if line.strip()]
    if len(lines) < 2:
        return None
    try:
        return [_loads(line) for line in lines], True
    except (ValueError, RecursionError):
        return None


class SmartCrusher:
    """Writes JSON as a lossless table document when that takes fewer tokens."""

    name = "json.tables"
    kinds = frozenset({"json"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        if is_table_document(text):
            return None
        parsed = parse_json(text)
        if parsed is None:
            return None
        value, lines = parsed
        try:
            document = encode(value, ctx.count_tokens, lines=lines)
        except RecursionError:  # nested deeper than the encoder can walk: minified is best
            return None
        if ctx.count_tokens(document) >= ctx.count_tokens(text):
            return None
        return Compressed(document, self.name, lossless=True)
