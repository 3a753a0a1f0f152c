"""Native hot loops of Headroom, compiled from the Rust crate in ``native/``.

Import :mod:`headroom._core` instead of this module: it falls back to the pure-Python
reference (:mod:`headroom._reference`) when the extension is not built and for strings that
cannot be encoded as UTF-8.

Every function takes and returns plain data and runs with the GIL released, except
``table_columns``, ``leaf_columns``, ``record_texts`` and ``format_value``, which read JSON
values as Python holds them, with the GIL.
"""

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "bm25_okapi",
    "cluster_templates",
    "format_value",
    "group_templates",
    "json_same_outside_strings",
    "json_strip",
    "leaf_columns",
    "mask_line",
    "mask_lines",
    "mine_templates",
    "record_texts",
    "seeds_inside",
    "simhashes",
    "string_cells",
    "string_column",
    "table_columns",
    "table_rows",
    "term_counts",
    "text_cells",
    "token_lists",
    "variable_values",
    "version",
]

def version() -> str:
    """Return the version of the native crate (the single source of Headroom's version)."""

def mask_line(line: str) -> tuple[str, list[str]]:
    """Mask one line: return its template and the variable tokens it replaced, in order.

    Raises:
        UnicodeEncodeError: ``line`` contains a lone surrogate.
    """

def mask_lines(lines: list[str]) -> list[str]:
    """Mask many lines and return only their templates, in input order.

    Raises:
        UnicodeEncodeError: a line contains a lone surrogate.
        TypeError: ``lines`` is a ``str`` or holds something other than ``str``.
    """

def group_templates(lines: list[str]) -> tuple[list[int], list[str]]:
    """Group lines by template.

    Returns the template id of each line (ids assigned ``0, 1, 2, ...`` in order of first
    appearance) and the distinct templates in id order.

    Raises:
        UnicodeEncodeError: a line contains a lone surrogate.
        TypeError: ``lines`` is a ``str`` or holds something other than ``str``.
    """

def mine_templates(lines: list[str]) -> tuple[list[int], list[str], list[int], list[int]]:
    """Group lines by template, with the first line and the line count of each template.

    Returns the template id of each line (ids in order of first appearance), the distinct
    templates in id order, and for each template the index of its first line and its number
    of lines.

    Raises:
        UnicodeEncodeError: a line contains a lone surrogate.
        TypeError: ``lines`` is a ``str`` or holds something other than ``str``.
    """

def cluster_templates(
    templates: list[str], keys: list[str], starts: list[int], min_values: int
) -> tuple[list[int], list[str]]:
    """Merge masked templates into Drain-style clusters (rules in ``headroom._reference``).

    Returns the cluster id of each template (ids in order of first appearance) and the
    template of each cluster.

    Raises:
        ValueError: ``templates``, ``keys`` and ``starts`` differ in length.
        OverflowError: a start or ``min_values`` is negative.
        UnicodeEncodeError: a template or key contains a lone surrogate.
        TypeError: an argument has the wrong type.
    """

def variable_values(
    lines: list[str], line_templates: list[int], wanted: list[int], max_values: int
) -> list[list[tuple[int, list[tuple[str, int]]]]]:
    """Count the values of the variables of the wanted templates (rules in
    ``headroom._reference``).

    Returns, for each id in ``wanted``, ``(token index, [(value, count), ...])`` pairs in token
    order, each list cut at ``max_values + 1`` values.

    Raises:
        ValueError: ``lines`` and ``line_templates`` differ in length.
        OverflowError: a number is negative.
        UnicodeEncodeError: a line contains a lone surrogate.
        TypeError: an argument has the wrong type.
    """

def bm25_okapi(
    corpus: list[list[str]], query: list[str], k1: float, b: float, epsilon: float
) -> list[float]:
    """BM25 score of each tokenized document for the tokenized query, exactly as
    ``rank_bm25.BM25Okapi`` (rules in ``headroom._reference``); all zeros for an empty corpus.

    Raises:
        UnicodeEncodeError: a token contains a lone surrogate.
        TypeError: an argument has the wrong type.
    """

def simhashes(texts: list[str]) -> list[int]:
    """64-bit SimHash fingerprint of each text (rules in ``headroom._reference``).

    Raises:
        UnicodeEncodeError: a text contains a lone surrogate.
        TypeError: ``texts`` is a ``str`` or holds something other than ``str``.
    """

def json_same_outside_strings(text: str, written: bytes) -> bool:
    """Whether ``written`` is ``text`` outside its string literals, with no number spelled as
    orjson and Python spell differently.

    Raises:
        UnicodeEncodeError: ``text`` contains a lone surrogate.
    """

def json_strip(document: str) -> str:
    """``document`` without the JSON whitespace outside its string literals (rules in
    ``headroom._reference``).

    Raises:
        UnicodeEncodeError: ``document`` contains a lone surrogate.
        TypeError: ``document`` is not a ``str``.
    """

def string_cells(values: list[str]) -> list[str]:
    """The table cell of each string (rules in ``headroom._reference.string_cells``): the
    same string object when it is written bare, else its JSON literal.

    Raises:
        UnicodeEncodeError: a string contains a lone surrogate.
        TypeError: ``values`` is a ``str`` or holds something other than ``str``.
    """

def term_counts(
    documents: list[str], terms: list[str]
) -> list[tuple[int, list[tuple[int, int]]] | None]:
    """For each ASCII document, its length in word tokens and ``(term index, occurrences)``
    of the terms it holds (rules in ``headroom._reference.term_counts``); ``None`` for a
    document with any non-ASCII character.

    Raises:
        UnicodeEncodeError: a string contains a lone surrogate.
        TypeError: an argument is a ``str`` or holds something other than ``str``.
    """

def token_lists(texts: list[str]) -> list[list[str] | None]:
    """The word tokens of each ASCII text (rules in ``headroom._reference.token_lists``);
    ``None`` for a text with any non-ASCII character.

    Raises:
        UnicodeEncodeError: a text contains a lone surrogate.
        TypeError: ``texts`` is a ``str`` or holds something other than ``str``.
    """

def string_column(values: list[str]) -> tuple[list[int], list[str], bool]:
    """The strings that need quotes in a table cell (rules in
    ``headroom._reference.string_column``): their indexes and JSON literals (every other
    string is its own cell); and whether a text column of them would gain.

    Raises:
        UnicodeEncodeError: a string contains a lone surrogate.
        TypeError: ``values`` is a ``str`` or holds something other than ``str``.
    """

def text_cells(values: list[str]) -> list[str] | None:
    """The cells of a text column of these strings (rules in
    ``headroom._reference.text_cells``), bare ones the same string objects; ``None`` when no
    string gains from a text column.

    Raises:
        UnicodeEncodeError: a string contains a lone surrogate.
        TypeError: ``values`` is a ``str`` or holds something other than ``str``.
    """

def format_value(
    value: Any,
    table_ref: Callable[[Any], str | None],
    raw_float: type,
    dumps: Callable[[Any], str],
    encode_key: Callable[[Any], str],
) -> str:
    """``value`` written inline (rules in ``headroom.jsontables.syntax.format_value``): a
    list or dict of two or more items whose first is a dict as ``table_ref`` refers to it
    (``None``: inline); exact JSON types here, ``raw_float`` by its ``spelling``, anything
    else by ``dumps``, and a key that is not a ``str`` by ``encode_key``.

    Raises:
        UnicodeEncodeError: a string contains a lone surrogate.
        RecursionError: the value is nested more than 400 deep.
        Whatever ``table_ref``, ``dumps`` or ``encode_key`` raise.
    """

def leaf_columns(
    items: Sequence[Any], max_depth: int
) -> list[tuple[tuple[Any, ...], list[int], list[Any]]]:
    """The scalar columns of an array's items (rules in ``headroom._reference.leaf_columns``):
    ``(path, rows, values)`` each, the values the items' own objects.

    Raises:
        TypeError: ``items`` is not iterable, or an argument has the wrong type.
        OverflowError: ``max_depth`` is negative.
    """

def record_texts(items: Sequence[Any], max_depth: int) -> list[str]:
    """Each item's scalar values, space-separated (rules in
    ``headroom._reference.record_texts``).

    Raises:
        TypeError: ``items`` is not iterable, or an argument has the wrong type.
        OverflowError: ``max_depth`` is negative.
        Whatever ``str()`` of a value raises.
    """

def table_columns(
    records: list[dict[Any, Any]],
    rows: Sequence[int],
    count: int,
    max_depth: int,
    max_keys: int,
    max_cells_per_value: int,
) -> list[tuple[tuple[Any, ...], Sequence[int], list[Any]]] | None:
    """The columns of a table of JSON records (rules in ``headroom._reference.table_columns``):
    ``(path, rows, values)`` each, the values the records' own objects; a column present in
    every record of its level has that level's row list (``rows`` itself at the top).

    Raises:
        TypeError: a record is not exactly a dict, or an argument has the wrong type.
        ValueError: ``rows`` and ``records`` differ in length.
        OverflowError: a row number or limit is negative.
    """

def table_rows(count: int, columns: list[str], rows: list[list[int]], min_ditto: int) -> str:
    """The rows of a table of ``count`` rows (rules in ``headroom._reference.table_rows``),
    each column given as its cells joined by ``"\\n"`` (a column of no cells is ``""``).

    Raises:
        ValueError: the row lists do not fit the columns (a cell holding a ``"\\n"`` makes
            its column one cell too long).
        OverflowError: a number is negative.
        UnicodeEncodeError: a cell contains a lone surrogate.
        TypeError: an argument has the wrong type.
    """

def seeds_inside(seeds: list[str], texts: list[str], starts: list[int]) -> list[list[int]]:
    """For each text, the indexes from its start on of the seeds it contains (rules in
    ``headroom._reference.seeds_inside``).

    Raises:
        ValueError: ``texts`` and ``starts`` differ in length.
        OverflowError: a start is negative.
        UnicodeEncodeError: a string contains a lone surrogate.
        TypeError: an argument has the wrong type.
    """

class BpeCounter:
    """A BPE vocabulary that counts tokens exactly as tiktoken's ``encode_ordinary`` does.

    Raises:
        ValueError: ``pattern`` is neither ``"o200k_base"`` nor ``"cl100k_base"``.
    """

    def __init__(self, ranks: list[tuple[bytes, int]], pattern: str) -> None: ...
    def count(self, text: str) -> int:
        """How many tokens ``encode_ordinary`` makes of ``text`` (the GIL is released).

        Raises:
            UnicodeEncodeError: ``text`` holds a lone surrogate.
        """
    def encode(self, text: str) -> list[int]:
        """The token ids ``encode_ordinary`` makes of ``text``."""
    def pieces(self, text: str) -> list[str]:
        """The pieces the encoding's pattern cuts ``text`` into."""
    def counting(self, chunks: list[str], threads: int, part: int = 16384) -> Counting:
        """Starts counting ``chunks`` (in order) on ``threads`` threads of its own, or, when
        ``threads`` is 0, on the one background thread all such countings share. Each chunk
        is counted in parts of about ``part`` bytes, cut after a newline that a letter, digit
        or punctuation other than ``/`` follows, where the parts' counts add up to the
        chunk's: so that the threads share a long chunk.

        Raises:
            UnicodeEncodeError: a chunk holds a lone surrogate.
        """

class Counting:
    """Counting a text's chunks on the extension's threads (the GIL is never needed)."""

    def at_least(self, bound: int) -> tuple[int, bool]:
        """``(count, True)`` when the text has at most ``bound`` tokens (or was counted
        whole), else ``(part, False)`` with ``bound < part``; counting stops there. The
        calling thread helps count, with the GIL released."""
    def total(self) -> int:
        """The whole count (the calling thread helps)."""
    def stop(self) -> None:
        """Count no further chunk."""
