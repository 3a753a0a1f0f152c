"""Lossless JSON minification: drop insignificant whitespace, nothing else.

The text is parsed only to prove it is JSON (a document, or JSON Lines with every line a
value); text that is not is left alone, whatever kind it was routed as. The output is not
re-serialised, so number spellings, key order, duplicate keys and string escapes stay
byte-for-byte as they were. JSON Lines keep one record per line.
"""

from __future__ import annotations

import functools
import json
from typing import Literal

import orjson

from headroom import _core
from headroom.compressors.base import Compressed, Context
from headroom.jsontables import is_table_document

__all__ = ["JsonMinifier", "json_layout", "minify_json"]


def _strip(document: str) -> str:
    return _core.json_strip(document)  # native: a regex match per string literal is slow


@functools.lru_cache(maxsize=2)
def json_layout(text: str) -> Literal["document", "lines"] | None:
    """Whether ``text`` is one JSON document, JSON Lines (every non-blank line a JSON
    value), or neither (``None``). Parsed, not guessed: only then is removing whitespace
    outside strings lossless.

    >>> json_layout('{"a": 1}'), json_layout('{"a": 1}\\n[2]'), json_layout("user 1 logged in")
    ('document', 'lines', None)

    The router and the minifier both ask for the same piece, one after the other; the
    small cache makes that one parse (a hit costs a hash, which a str computes once).
    """
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return None
    if _parses(stripped):
        return "document"
    lines = [line for line in stripped.split("\n") if line.strip()]
    if len(lines) > 1 and all(_parses(line) for line in lines):
        return "lines"
    return None


def _parses(document: str) -> bool:
    # orjson first, several times faster; what it refuses the json module judges (it also
    # takes NaN, 64-bit overflow and lone surrogates, which are still JSON to Python).
    try:
        orjson.loads(document)
    except (orjson.JSONDecodeError, UnicodeEncodeError):
        pass
    else:
        return True
    try:
        json.loads(document)
    except (ValueError, RecursionError):
        return False
    return True


def minify_json(text: str) -> str:
    """Minify a JSON document or JSON Lines text; any other text is returned unchanged.

    >>> minify_json('{\\n  "a": [1, 2],\\n  "b": "x y"\\n}')
    '{"a":[1,2],"b":"x y"}'
    >>> minify_json('{"a": 1}\\n{"b": 2}')
    '{"a":1}\\n{"b":2}'
    >>> minify_json('{"msg": "user 1501 logged in"}\\ngoroutine 1 [running]:')
    '{"msg": "user 1501 logged in"}\\ngoroutine 1 [running]:'
    """
    layout = json_layout(text)
    if layout == "document":
        return _strip(text.strip())
    if layout == "lines":
        return "\n".join(_strip(line) for line in text.strip().split("\n") if line.strip())
    return text


class JsonMinifier:
    """Removes whitespace outside JSON strings."""

    name = "json.minify"
    kinds = frozenset({"json"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        if is_table_document(text):  # its spaces are data, and it is minified already
            return None
        minified = minify_json(text)
        if minified == text:
            return None
        return Compressed(minified, self.name, lossless=True)
