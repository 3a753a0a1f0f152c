"""A lossless, token-lean text form of JSON: tables for lists of records.

``encode`` writes a JSON value as a *table document*; ``decode`` reads it back, so
``decode(encode(x, count)) == x`` for every JSON value ``x`` (object key order may change:
JSON objects are unordered). The grammar is in ``docs/json-tables.md``.

>>> from headroom.jsontables import decode, encode
>>> issues = [{"number": n, "state": "open", "url": f"https://x/issues/{n}"} for n in (7, 9)]
>>> decode(encode(issues, len)) == issues
True
"""

import json
from typing import Any

from headroom.jsontables.decoder import decode, decode_text, is_table_document
from headroom.jsontables.encoder import encode
from headroom.jsontables.syntax import FormatError

__all__ = ["FormatError", "decode", "decode_text", "encode", "is_table_document", "loads"]


def loads(text: str) -> Any:
    """Read JSON text or a table document: whatever a tool result holds after Headroom.

    >>> loads('[1, 2]'), loads('[headroom-json/1 · x]\\n[1,2]')
    ([1, 2], [1, 2])
    """
    return decode(text) if is_table_document(text) else json.loads(text)
