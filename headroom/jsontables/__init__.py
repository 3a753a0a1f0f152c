"""A lossless, token-lean text form of JSON: tables for lists of records.

``encode`` writes a JSON value as a *table document*; ``decode`` reads it back, so
``decode(encode(x, count)) == x`` for every JSON value ``x`` (object key order may change:
JSON objects are unordered). The grammar is in ``docs/json-tables.md``.

>>> from headroom.jsontables import decode, encode
>>> issues = [{"number": n, "state": "open", "url": f"https://x/issues/{n}"} for n in (7, 9)]
>>> decode(encode(issues, len)) == issues
True
"""

from headroom.jsontables.decoder import decode, decode_text, is_table_document
from headroom.jsontables.encoder import encode
from headroom.jsontables.syntax import FormatError

__all__ = ["FormatError", "decode", "decode_text", "encode", "is_table_document"]
