"""Lossless JSON minification: drop insignificant whitespace, nothing else.

The text is not parsed and re-serialised, so number spellings, key order, duplicate keys
and string escapes stay byte-for-byte as they were. JSON Lines keep one record per line.
"""

from __future__ import annotations

import re

from headroom.compressors.base import Compressed, Context
from headroom.jsontables import is_table_document

__all__ = ["JsonMinifier", "minify_json"]

# A string literal (skipped), or a run of JSON whitespace outside strings (group 1). The
# string pattern is the "unrolled loop" form, several times faster than an alternation.
_TOKEN_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|([ \t\r\n]+)', re.DOTALL)


def _strip(document: str) -> str:
    pieces = []
    last = 0
    for match in _TOKEN_RE.finditer(document):
        if match.group(1):
            pieces.append(document[last : match.start()])
            last = match.end()
    if not pieces:
        return document
    pieces.append(document[last:])
    return "".join(pieces)


def minify_json(text: str) -> str:
    """Minify a JSON document or JSON Lines text (already known to be valid).

    >>> minify_json('{\\n  "a": [1, 2],\\n  "b": "x y"\\n}')
    '{"a":[1,2],"b":"x y"}'
    """
    stripped = text.strip()
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) > 1 and all(line.lstrip()[:1] in "{[" for line in lines):
        candidates = [_strip(line) for line in lines]
        if all(_balanced(c) for c in candidates):  # JSON Lines, one value per line
            return "\n".join(candidates)
    return _strip(stripped)


def _balanced(document: str) -> bool:
    # JSON Lines records each close on their own line; a pretty-printed document does not.
    return (document[:1], document[-1:]) in (("{", "}"), ("[", "]"))


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
