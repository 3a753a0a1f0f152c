"""The kernels Headroom's compressors call, native when built, pure Python otherwise.

This is the only module that imports the Rust extension ``headroom._native``. Keeping that
import in one place means:

- the rest of Headroom never depends on whether the extension was built: it imports the
  kernels from here and gets the same results either way;
- there is exactly one place that decides between native and reference, and one place that
  repairs the seams between them, such as Python strings Rust cannot receive;
- native types and signatures never leak into the public API.

The pure-Python twins live in :mod:`headroom._reference`, the executable specification.
Differential property tests keep the two equal, so falling back is a change of speed, never
of output.

Python strings may hold lone surrogates (``"\\ud800"``), which are not valid UTF-8; PyO3
raises :class:`UnicodeEncodeError` when asked to pass one to Rust. Such a call is answered by
the reference instead, so every function here accepts every ``str``.

Example:
    >>> from headroom import _core
    >>> _core.mask_line("took 12ms reading /etc/hosts")
    ('took <*> reading <*>', ['12ms', '/etc/hosts'])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from headroom import _reference

if TYPE_CHECKING:  # the extension's types (headroom/_native.pyi), for annotations only
    from headroom._native import BpeCounter as BpeCounter
    from headroom._native import Counting as Counting

__all__ = [
    "NATIVE_AVAILABLE",
    "WORD_RE",
    "bm25_okapi",
    "bpe_counter",
    "cell_length",
    "cluster_templates",
    "format_value",
    "group_templates",
    "json_same_outside_strings",
    "json_strip",
    "leaf_columns",
    "mask_line",
    "mask_lines",
    "mine_templates",
    "native_version",
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
    "tokenize",
    "too_sparse",
    "variable_values",
    "word_tokens",
]

tokenize = _reference.tokenize
"""Cut a line into tokens as masking does (pure Python: used on few lines, never in bulk)."""
WORD_RE = _reference.WORD_RE
"""A word for relevance scoring: a run of letters and digits (``_`` separates)."""
cell_length = _reference.cell_length
"""A table cell's length as the ditto rule counts it, a provisional table number as one
character (pure Python: a text without NUL is measured by ``len``, one with by a split)."""
too_sparse = _reference.too_sparse
"""Whether columns would make a table mostly of empty cells (pure Python: one sum)."""
word_tokens = _reference.word_tokens
"""The relevance tokens of one word (pure Python, cached: used on queries and few words)."""

try:
    from headroom import _native
except ImportError:
    NATIVE_AVAILABLE = False
else:
    NATIVE_AVAILABLE = True
"""Whether the compiled extension ``headroom._native`` was imported."""


_R = TypeVar("_R")


def _dispatch(reference: Callable[..., _R], *args: object) -> _R:
    """``reference(*args)``, computed by the native kernel of the same name when it is built
    and can take the arguments (a lone surrogate in a string raises UnicodeEncodeError in
    the binding, and only the reference can take it)."""
    if NATIVE_AVAILABLE:
        try:
            return cast("_R", getattr(_native, reference.__name__)(*args))
        except UnicodeEncodeError:
            pass
    return reference(*args)


def native_version() -> str | None:
    """Return the version of the native crate, or ``None`` when the extension is not built.

    Example:
        >>> from headroom import _core
        >>> _core.native_version() is None or _core.native_version().count(".") >= 2
        True
    """
    if NATIVE_AVAILABLE:
        return _native.version()
    return None


def bpe_counter(ranks: dict[bytes, int], encoding: str) -> BpeCounter | None:
    """The native counter of ``encoding``'s tokens (``"o200k_base"`` or ``"cl100k_base"``),
    which takes its vocabulary from ``ranks``; ``None`` when the extension is not built.

    It counts exactly the tokens tiktoken's ``encode_ordinary`` makes, without making them
    (the pieces and token ids are compared with tiktoken's in the tests), and releases the
    GIL while it counts. A text holding a lone surrogate raises ``UnicodeEncodeError``, as
    tiktoken does.

    Example:
        >>> from headroom.tokens.vocabularies import load_ranks
        >>> counter = bpe_counter(load_ranks("o200k_base"), "o200k_base")
        >>> counter is None or counter.count("hello world") == 2
        True
    """
    if not NATIVE_AVAILABLE:
        return None
    return _native.BpeCounter(list(ranks.items()), encoding)


def mask_line(line: str) -> tuple[str, list[str]]:
    """Mask one line: return its template and the variable tokens it replaced, in order.

    See :mod:`headroom._reference` for the rules.

    Example:
        >>> mask_line("uid=0 euid=0 tty=NODEVssh ruser=")
        ('uid=<*> euid=<*> tty=NODEVssh ruser=', ['0', '0'])
    """
    return _dispatch(_reference.mask_line, line)


def mask_lines(lines: list[str]) -> list[str]:
    """Mask many lines and return only their templates, in input order.

    Example:
        >>> mask_lines(["Received block blk_42 of size 67108864"])
        ['Received block <*> of size <*>']
    """
    return _dispatch(_reference.mask_lines, lines)


def group_templates(lines: list[str]) -> tuple[list[int], list[str]]:
    """Group lines by template.

    Returns:
        For each line the id of its template, and the distinct templates in id order. Ids are
        assigned ``0, 1, 2, ...`` in order of first appearance.

    Example:
        >>> group_templates(["a 1", "b", "a 2"])
        ([0, 1, 0], ['a <*>', 'b'])
    """
    return _dispatch(_reference.group_templates, lines)


def mine_templates(lines: list[str]) -> tuple[list[int], list[str], list[int], list[int]]:
    """Group lines by template, with the first line and the line count of each template.

    Returns:
        The template id of each line (ids in order of first appearance), the distinct
        templates in id order, and for each template its first line and its line count.

    Example:
        >>> mine_templates(["a 1", "b", "a 2", "b"])
        ([0, 1, 0, 1], ['a <*>', 'b'], [0, 1], [2, 2])
    """
    return _dispatch(_reference.mine_templates, lines)


def cluster_templates(
    templates: list[str], keys: list[str], starts: list[int], min_values: int
) -> tuple[list[int], list[str]]:
    """Merge masked templates into Drain-style clusters.

    See :mod:`headroom._reference` for the rules.

    Args:
        templates: masked templates, e.g. from :func:`mine_templates`.
        keys: one opaque key per template; different keys never share a cluster.
        starts: for each template, the index of its first content token (``>= 0``).
        min_values: how many distinct words a position must take to become a variable.

    Returns:
        The cluster id of each template and the template of each cluster.

    Raises:
        ValueError: the three lists differ in length, or a number is negative.

    Example:
        >>> cluster_templates(["GET a", "GET b", "PUT c"], ["", "", ""], [0, 0, 0], 2)
        ([0, 0, 1], ['GET <*>', 'PUT c'])
    """
    # Negative numbers would surface as OverflowError from the binding; validate here so
    # both paths raise the same error.
    if min_values < 0 or any(start < 0 for start in starts):
        raise ValueError("starts and min_values must be non-negative")
    return _dispatch(_reference.cluster_templates, templates, keys, starts, min_values)


def variable_values(
    lines: list[str], line_templates: list[int], wanted: list[int], max_values: int
) -> list[list[tuple[int, list[tuple[str, int]]]]]:
    """Count the values of the variables of the wanted templates.

    Returns:
        For each id in ``wanted``, ``(token index, [(value, count), ...])`` pairs in token
        order; a list longer than ``max_values`` means "more than ``max_values`` values".

    Raises:
        ValueError: ``lines`` and ``line_templates`` differ in length, or a number is
            negative.

    Example:
        >>> variable_values(["v 1", "w", "v 2", "v 1"], [0, 1, 0, 0], [0], 5)
        [[(1, [('1', 2), ('2', 1)])]]
    """
    if max_values < 0 or min(line_templates, default=0) < 0 or min(wanted, default=0) < 0:
        raise ValueError("template ids and max_values must be non-negative")
    return _dispatch(_reference.variable_values, lines, line_templates, wanted, max_values)


def bm25_okapi(
    corpus: list[list[str]],
    query: list[str],
    *,
    k1: float = 1.5,
    b: float = 0.75,
    epsilon: float = 0.25,
) -> list[float]:
    """BM25 score of each tokenized document for the tokenized query (``rank_bm25.BM25Okapi``).

    Example:
        >>> [round(s, 3) for s in bm25_okapi([["a", "b"], ["b"], ["c"]], ["a"])]
        [0.417, 0.0, 0.0]
    """
    return _dispatch(_reference.bm25_okapi, corpus, query, k1, b, epsilon)


def simhashes(texts: list[str]) -> list[int]:
    """64-bit SimHash fingerprint of each text (rules in :mod:`headroom._reference`).

    Example:
        >>> a, b = simhashes(["the cat sat on the mat", "The cat sat on the  mat"])
        >>> a == b
        True
    """
    return _dispatch(_reference.simhashes, texts)


def string_cells(values: list[str]) -> list[str]:
    """The table cell of each string, in order: the string itself when it can be written
    without quotes, else its JSON literal (rules in :func:`headroom._reference.string_cells`).

    Called once per column of every table, so it calls the kernel directly rather than
    through the generic dispatch.

    Raises:
        TypeError: a value is not a ``str`` (native and reference alike).

    Example:
        >>> string_cells(["main", "007", "1e5", "a|b", "true", "é"])
        ['main', '007', '"1e5"', '"a|b"', '"true"', 'é']
    """
    if NATIVE_AVAILABLE:
        try:
            return _native.string_cells(values)
        except UnicodeEncodeError:
            pass
    return _reference.string_cells(values)


def string_column(values: list[str]) -> tuple[list[str], bool]:
    """:func:`string_cells`, and whether a text column of these strings would gain (see
    :func:`headroom._reference.string_column`): one pass for a table's string column.

    Raises:
        TypeError: a value is not a ``str`` (native and reference alike).

    Example:
        >>> string_column(["a b", "2019"])
        (['a b', '"2019"'], True)
    """
    if NATIVE_AVAILABLE:
        try:
            # The kernel returns only the strings that need quotes: most cells are the
            # strings themselves, copied here at C speed.
            quoted, literals, gains = _native.string_column(values)
        except UnicodeEncodeError:
            pass
        else:
            cells = list(values)
            for index, literal in zip(quoted, literals, strict=True):
                cells[index] = literal
            return cells, gains
    return _reference.string_column(values)


def text_cells(values: list[str]) -> list[str] | None:
    """The cells of a text column (``:str``) of these strings, or ``None`` when no string
    gains from one (rules in :func:`headroom._reference.text_cells`).

    Example:
        >>> text_cells(["2019", "a b", "x|y"]), text_cells(["a b", "x|y"])
        (['2019', 'a b', '"x|y"'], None)
    """
    if NATIVE_AVAILABLE:
        try:
            return _native.text_cells(values)
        except UnicodeEncodeError:
            pass
    return _reference.text_cells(values)


def format_value(
    value: Any,
    table_ref: Callable[[Any], str | None],
    raw_float: type,
    dumps: Callable[[Any], str],
    encode_key: Callable[[Any], str],
) -> str | None:
    """``value`` as inline JSON by the native writer (rules in
    :func:`headroom.jsontables.syntax.format_value`, which passes its writers of other
    types), or ``None`` when the writer is not built or cannot take it (a lone surrogate,
    nesting deeper than it goes): then the Python writer answers.

    Raises:
        Whatever ``table_ref``, ``dumps`` or ``encode_key`` raise.
    """
    if NATIVE_AVAILABLE:
        try:
            return _native.format_value(value, table_ref, raw_float, dumps, encode_key)
        except (UnicodeEncodeError, RecursionError):
            pass
    return None


def leaf_columns(items: Sequence[Any], max_depth: int) -> list[_reference.LeafColumn]:
    """The scalar columns of an array's items (rules in
    :func:`headroom._reference.leaf_columns`). The kernel reads the Python values themselves.

    Example:
        >>> leaf_columns([{"id": 1, "user": {"login": "ana"}}, {"id": 2}], 6)
        [(('id',), [0, 1], [1, 2]), (('user', 'login'), [0], ['ana'])]
    """
    if NATIVE_AVAILABLE:
        return _native.leaf_columns(items, max_depth)
    return _reference.leaf_columns(items, max_depth)


def record_texts(items: Sequence[Any], max_depth: int) -> list[str]:
    """Each item's scalar values, space-separated, for text matching (rules in
    :func:`headroom._reference.record_texts`). The kernel reads the Python values themselves.

    Example:
        >>> record_texts([{"id": 7, "tags": ["a", None], "ok": True}], 200)
        ['7 a  ']
    """
    if NATIVE_AVAILABLE:
        return _native.record_texts(items, max_depth)
    return _reference.record_texts(items, max_depth)


def table_columns(
    records: list[dict[Any, Any]],
    rows: Sequence[int],
    count: int,
    max_depth: int,
    max_keys: int,
    max_cells_per_value: int,
) -> list[_reference.TableColumn] | None:
    """The columns of a table of JSON records, nested objects flattened (rules in
    :func:`headroom._reference.table_columns`). The kernel reads the Python values themselves.

    Raises:
        TypeError: a record is not exactly a dict (native and reference alike).
        ValueError: ``rows`` and ``records`` differ in length.

    Example:
        >>> records = [{"id": 1, "user": {"login": "ana"}}, {"id": 2, "user": {"login": "bo"}}]
        >>> table_columns(records, range(2), 2, 6, 256, 16)
        [(('id',), range(0, 2), [1, 2]), (('user', 'login'), range(0, 2), ['ana', 'bo'])]
    """
    if NATIVE_AVAILABLE:
        return _native.table_columns(records, rows, count, max_depth, max_keys, max_cells_per_value)
    return _reference.table_columns(records, rows, count, max_depth, max_keys, max_cells_per_value)


def table_rows(count: int, columns: list[list[str]], rows: list[list[int]], min_ditto: int) -> str:
    """The rows of a table of ``count`` rows: each column's cells in its ``rows`` (every row
    when empty), long repeats written ``^``, cells joined by ``|`` and rows by ``\\n`` (rules
    in :func:`headroom._reference.table_rows`).

    Raises:
        ValueError: the row lists do not fit the columns, or a number is negative.

    Example:
        >>> table_rows(2, [["a", "b"], ["abcdefg", "abcdefg"]], [[], []], 6)
        'a|abcdefg\\nb|^'
    """
    if NATIVE_AVAILABLE:
        # Each column crosses as one text, its cells joined by "\n", which no cell of a table
        # holds; a cell that does makes the kernel see one cell too many (ValueError), and
        # the reference answers.
        try:
            # (An empty column joins to "", which the kernel reads as one empty cell when
            # the table has one row: the reference checks those.)
            if all(columns):
                joined = ["\n".join(cells) for cells in columns]
                return _native.table_rows(count, joined, rows, min_ditto)
        except (UnicodeEncodeError, ValueError):
            pass
        except OverflowError as error:  # a negative number, as the reference reports it
            raise ValueError(
                f"table_rows: numbers must be from 0 to 2**64 - 1 ({error})"
            ) from error
    return _reference.table_rows(count, columns, rows, min_ditto)


def seeds_inside(seeds: list[str], texts: list[str], starts: list[int]) -> list[list[int]]:
    """For each of ``texts``, the indexes from ``starts[t]`` on of the ``seeds`` it contains
    (see :func:`headroom._reference.seeds_inside`).

    Raises:
        ValueError: ``texts`` and ``starts`` differ in length, or a start is negative.

    Example:
        >>> seeds_inside(["ab", "b", "zz"], ["abc", "abc"], [0, 1])
        [[0, 1], [1]]
    """
    if NATIVE_AVAILABLE:
        try:
            return _native.seeds_inside(seeds, texts, starts)
        except UnicodeEncodeError:
            pass
        except OverflowError as error:
            raise ValueError(
                f"seeds_inside: starts must be from 0 to 2**64 - 1 ({error})"
            ) from error
    return _reference.seeds_inside(seeds, texts, starts)


def term_counts(documents: list[str], terms: list[str]) -> list[tuple[int, list[tuple[int, int]]]]:
    """For each document, its length in word tokens and ``(term index, occurrences)`` of the
    ``terms`` it holds (see :func:`headroom._reference.term_counts`).

    The native kernel counts ASCII documents, and most others once made ASCII
    (:func:`_as_ascii`: the same counts); the rest are counted by the reference, whose
    Unicode rules for letters and case are Python's.

    Example:
        >>> term_counts(["getUserById failed", "échec"], ["user", "échec"])
        [(6, [(0, 1)]), (1, [(1, 1)])]
    """
    if NATIVE_AVAILABLE:
        joined = "".join(terms)
        filler = next((letter for letter in _FILLERS if letter not in joined), None)
        if filler is not None:
            wanted = frozenset(terms)
            documents = [
                document if document.isascii() else _as_ascii(document, wanted, filler)
                for document in documents
            ]
    return _each_ascii_native(_reference.term_counts, documents, terms)


_OUTSIDE_ASCII_RE: Final = re.compile(r"[^\x00-\x7f]")
_FILLERS: Final = "qxzjvkwyfgbphmucdlnrtisoae"


def _as_ascii(document: str, terms: frozenset[str], filler: str) -> str:
    """``document`` made ASCII with the same token count and term counts, or itself when a
    word outside ASCII has a term among its tokens.

    A document's counts depend only on its words' tokens: each character outside ASCII and
    outside words becomes a space (it separates words either way), and each word holding
    one becomes an ASCII word with as many tokens, made of ``filler``, a letter no term
    holds.
    """
    pieces: list[str] = []
    done = 0  # document[:done] is in pieces
    for found in _OUTSIDE_ASCII_RE.finditer(document):
        at = found.start()
        if at < done:  # inside a word made ASCII already
            continue
        if not document[at].isalnum():  # not a word character: a separator either way
            pieces += (document[done:at], " ")
            done = at + 1
            continue
        # The word around it: its start is ASCII (an earlier character outside ASCII would
        # have taken the word), its end the end of the run of word characters.
        start = at
        while start > done and document[start - 1].isalnum():
            start -= 1
        end = WORD_RE.match(document, at).end()  # type: ignore[union-attr]
        tokens = word_tokens(document[start:end])
        if len(tokens) == 2 or not terms.isdisjoint(tokens):  # two: never made, but exact
            return document
        # One token: the letter; n more: n camel-case parts ("Qq" each) and the whole.
        word = filler if len(tokens) == 1 else (filler.upper() + filler) * (len(tokens) - 1)
        pieces += (document[done:start], word)
        done = end
    pieces.append(document[done:])
    return "".join(pieces)


def token_lists(texts: list[str]) -> list[list[str]]:
    """The word tokens of each text (see :func:`headroom._reference.token_lists`); ASCII
    texts are cut by the native kernel, the others by the reference.

    Example:
        >>> token_lists(["getUserById", "Zürich HTTPServer"])
        [['getuserbyid', 'get', 'user', 'by', 'id'], ['zürich', 'httpserver', 'http', 'server']]
    """
    return _each_ascii_native(_reference.token_lists, texts)


def _each_ascii_native(
    reference: Callable[..., list[_R]], texts: list[str], *args: object
) -> list[_R]:
    """``reference(texts, *args)``, one result per text: by the native kernel of the same
    name, which answers ``None`` for a text it leaves to Python (not ASCII), then by the
    reference for those texts."""
    if not NATIVE_AVAILABLE:
        return reference(texts, *args)
    try:
        native: list[_R | None] = getattr(_native, reference.__name__)(texts, *args)
    except UnicodeEncodeError:  # a lone surrogate: only the reference can take it
        return reference(texts, *args)
    rest = [i for i, result in enumerate(native) if result is None]
    if rest:
        redone = reference([texts[i] for i in rest], *args)
        for i, result in zip(rest, redone, strict=True):
            native[i] = result
    return cast("list[_R]", native)


def json_same_outside_strings(text: str, written: bytes) -> bool:
    """Whether ``written`` is ``text`` outside its string literals, with no number in it that
    orjson and Python spell differently (rules in :mod:`headroom._reference`).

    Example:
        >>> json_same_outside_strings('{"u":"a\\\\/b"}', b'{"u":"a/b"}')
        True
    """
    return _dispatch(_reference.json_same_outside_strings, text, written)


def json_strip(document: str) -> str:
    """``document`` without the JSON whitespace outside its string literals (rules in
    :mod:`headroom._reference`).

    Example:
        >>> json_strip('{ "a b" : [1, 2] }')
        '{"a b":[1,2]}'
    """
    return _dispatch(_reference.json_strip, document)
