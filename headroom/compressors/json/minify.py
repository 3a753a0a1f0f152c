"""Lossless JSON minification: drop insignificant whitespace, nothing else.

The text is parsed only to prove it is JSON (a document, or JSON Lines with every line a
value); text that is not is left alone, whatever kind it was routed as. The output is not
re-serialised, so number spellings, key order, duplicate keys and string escapes stay
byte-for-byte as they were. JSON Lines keep one record per line.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Iterator
from typing import Any, Final, Literal

import orjson

from headroom import _core
from headroom.compressors.base import Compressed, Context
from headroom.jsontables import is_table_document

__all__ = [
    "NOT_PARSED",
    "JsonMinifier",
    "forget_parsed",
    "json_layout",
    "keeping_parsed",
    "minify_json",
    "take_parsed",
]


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
    _last.parsed = None
    try:
        value = orjson.loads(stripped)
    except (orjson.JSONDecodeError, UnicodeEncodeError):
        pass
    else:
        if _last.keeping:
            _last.parsed = (stripped, value)
        return "document"
    if _json_parses(stripped):  # what orjson refused, the json module judges
        return "document"
    lines = [line for line in stripped.split("\n") if line.strip()]
    if len(lines) > 1 and all(_parses(line) for line in lines):
        return "lines"
    return None


class _Last(threading.local):
    parsed: tuple[str, Any] | None = None
    keeping: bool = False


# The value of the last document json_layout parsed in this thread, for take_parsed: the
# router parses a piece first, and SmartCrusher needs the same value (see take_parsed). Kept
# only while a piece is compressed (keeping_parsed), so that nothing else holds it on.
_last = _Last()


@contextlib.contextmanager
def keeping_parsed() -> Iterator[None]:
    """While in this block, :func:`json_layout` keeps the value it parsed for
    :func:`take_parsed`; on leaving, what was not taken is dropped."""
    _last.keeping = True
    try:
        yield
    finally:
        _last.keeping = False
        _last.parsed = None


def take_parsed(document: str) -> Any:
    """The value orjson parsed from ``document`` when :func:`json_layout` last read it in
    this thread, or :data:`NOT_PARSED`; a value is handed out once, and forgotten.

    The router asks :func:`json_layout` about a piece before its compressors run, so the
    value is there when SmartCrusher wants it (unless the minifier changed the text), and a
    large document is not parsed twice. Values are kept only inside :func:`keeping_parsed`.

    >>> with keeping_parsed():
    ...     json_layout('{"take": [1]}'), take_parsed('{"take": [1]}'), take_parsed('{"take": [1]}')
    ('document', {'take': [1]}, NOT_PARSED)
    """
    last, _last.parsed = _last.parsed, None
    if last is not None and last[0] == document:
        return last[1]
    return NOT_PARSED


def forget_parsed() -> None:
    """Drop the value :func:`take_parsed` would hand out (the text it was parsed from is
    not what the next compressor reads)."""
    _last.parsed = None


class _NotParsed:
    def __repr__(self) -> str:
        return "NOT_PARSED"


NOT_PARSED: Final = _NotParsed()
"""What :func:`take_parsed` returns when it has no value for the document."""


def _parses(document: str) -> bool:
    # orjson first, several times faster; what it refuses the json module judges (it also
    # takes NaN, 64-bit overflow and lone surrogates, which are still JSON to Python).
    try:
        orjson.loads(document)
    except (orjson.JSONDecodeError, UnicodeEncodeError):
        return _json_parses(document)
    return True


def _json_parses(document: str) -> bool:
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
        forget_parsed()  # the next compressor parses the minified text, not this one
        return Compressed(minified, self.name, lossless=True)
