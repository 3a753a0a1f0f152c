"""Pure-Python reference of the native kernels: the executable specification.

Every function here has a twin in the Rust crate under ``native/`` (exposed as
``headroom._native``). The two must return identical results for every input; the
differential property tests in ``tests/properties/test_native_vs_reference.py`` hold them to
it. When the specification changes, change it here first, then in Rust.

This module is also what Headroom runs when the extension is not built, and for the rare
strings Rust cannot receive (Python strings with lone surrogates, which are not valid
UTF-8). Import the kernels from :mod:`headroom._core`, which chooses between the two.

Per-line variable masking
-------------------------

- **Separators** are the ASCII whitespace characters ``' '``, ``'\\t'``, ``'\\n'``,
  ``'\\r'``, ``'\\x0b'``, ``'\\x0c'``, the characters ``, ; = ( ) [ ] { } < > " ' |``, and
  every ``.`` that has another ``.`` right before or after it (a run of two or more dots, as in
  ``icbi.........0`` or ``Loading...``). A lone ``.`` (as in ``10.0.0.1``) is not a separator.
- A **token** is a maximal run of non-separator characters; any other character (non-ASCII
  whitespace, non-ASCII digits, emoji, lone surrogates) belongs to tokens.
- A token is **variable** if it contains an ASCII digit ``0-9``, or if it starts with ``/``
  and contains at least two ``/`` (a path such as ``/usr/lib/x``).
- The **template** of a line is the line with every variable token replaced by ``<*>``;
  separators and other tokens are kept verbatim. The **values** are the replaced tokens,
  in order. A template has as many tokens as its line: ``<*>`` is the token ``*`` between the
  separators ``<`` and ``>``.

>>> mask_line("took 12ms reading /etc/hosts")
('took <*> reading <*>', ['12ms', '/etc/hosts'])

Template mining
---------------

:func:`mine_templates` groups lines by template: template ids ``0, 1, 2, ...`` in order of
first appearance, and for each template the line where it first appears and its line count.

Template clustering
-------------------

Masking only hides values with a digit or a path shape, so lines that differ in a word (a user
name, a host name) still get different templates. :func:`cluster_templates` merges them, in
the spirit of the Drain log parser but independent of input order:

1. **Tokens.** Each template is cut into tokens as above. A token ``*`` written ``<*>`` is a
   *wildcard*, and its brackets belong to it rather than to the separators around it (so
   ``user <*> in`` and ``user bob in`` have the same separators); any other token, a lone
   ``*`` included, is a *literal*. ``starts[i]``, clamped to the number of tokens, is the
   index of the first *content* token of template ``i``; the tokens before it are the line's prefix
   (timestamp, level, thread, ...) and play no part in clustering. The *content text* is the
   template from its first content token to its end (empty without content tokens); the
   *content separators* are the separators that follow each content token.
2. **Exact step.** Templates with the same key and content text form one *group*; groups are
   numbered in order of first appearance.
3. **Merge step.** For a group with content tokens ``c[0..m]`` and each position
   ``p < min(m, HOLE_POSITIONS)`` such that some token other than ``c[p]`` is a literal, the
   group belongs to the *hole* ``(key, content separators, c with c[p] replaced by "*", p)``.
   When the groups of one hole have at least ``min_values`` distinct literal tokens at ``p``,
   every group of the hole (wildcards at ``p`` included) joins one cluster. Joining is
   transitive.
4. **Clusters** are numbered by their first group. A cluster's template is the template that
   opened its first group, with the literal at every content position where the cluster's
   groups disagree replaced by ``<*>``.

Keys are opaque; templates with different keys never share a cluster.

Variable values
---------------

:func:`variable_values` counts, for each wanted template id and each token index where a
line with that id has a variable token, the distinct values in order of first appearance
with the number of lines that have each. A list stops growing at ``max_values + 1`` values
(so a longer list than ``max_values`` means "more"); values already listed keep counting.

>>> cluster_templates(
...     ["sshd: Invalid user alice", "sshd: Invalid user bob", "sshd: Accepted"],
...     ["", "", ""], [1, 1, 1], 2)
([0, 0, 1], ['sshd: Invalid user <*>', 'sshd: Accepted'])
"""

from __future__ import annotations

import functools
import itertools
import json.encoder
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

__all__ = [
    "HOLE_POSITIONS",
    "WILDCARD",
    "WORD_RE",
    "cluster_templates",
    "group_templates",
    "json_same_outside_strings",
    "json_strip",
    "mask_line",
    "mask_lines",
    "mine_templates",
    "term_counts",
    "token_lists",
    "tokenize",
    "variable_values",
    "word_tokens",
]

WILDCARD = "<*>"
"""The placeholder that replaces each variable token in a template."""

HOLE_POSITIONS = 64
"""Content positions the merge step of :func:`cluster_templates` considers (bounds the work
on very long lines)."""

# Character classes are spelled out in ASCII on purpose: ``\s`` and ``\d`` would also match
# Unicode whitespace and digits, which the specification treats as token characters. A dot is
# a token character unless another dot touches it.
_TOKEN_CHAR = r"""(?:[^ \t\n\r\x0b\x0c,;=()\[\]{}<>"'|.]|(?<!\.)\.(?!\.))"""
# In a line without two dots in a row every dot is a token character, and this plain class
# finds the same tokens without look-arounds, three to four times faster.
_TOKEN_CHAR_NO_DOT_RUN = r"""[^ \t\n\r\x0b\x0c,;=()\[\]{}<>"'|]"""

_TOKEN = re.compile(rf"{_TOKEN_CHAR}+")
_TOKEN_NO_DOT_RUN = re.compile(rf"{_TOKEN_CHAR_NO_DOT_RUN}+")


def _variable_token_pattern(char: str) -> re.Pattern[str]:
    # Matches exactly the variable tokens. The negative look-behind anchors a match at the
    # start of a token, and the trailing greedy run always extends it to the end of the token,
    # so each match is a whole token. Each alternative backtracks at most once over its token,
    # which keeps the scan linear in the length of the line.
    return re.compile(rf"(?<!{char})(?:{char}*[0-9]{char}*|/{char}*/{char}*)")


_VARIABLE_TOKEN = _variable_token_pattern(_TOKEN_CHAR)
_VARIABLE_TOKEN_NO_DOT_RUN = _variable_token_pattern(_TOKEN_CHAR_NO_DOT_RUN)


def _variables(line: str) -> re.Pattern[str]:
    return _VARIABLE_TOKEN if ".." in line else _VARIABLE_TOKEN_NO_DOT_RUN


def _widen_wildcard(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of a token, widened to its brackets when it is the ``*`` of a ``<*>``."""
    if text[start:end] == "*" and text[start - 1 : start] == "<" and text[end : end + 1] == ">":
        return start - 1, end + 1
    return start, end


def tokenize(line: str) -> list[str]:
    """Cut a line into its tokens, as masking does.

    Not a kernel (it has no native twin): compressors use it on the few lines they inspect
    one by one. Token ``i`` of a line and token ``i`` of its template are the same token, or
    the value the template replaced with ``<*>`` (whose token is ``*``).

    Example:
        >>> tokenize("sshd[24200]: Invalid user x from 10.0.0.1")
        ['sshd', '24200', ':', 'Invalid', 'user', 'x', 'from', '10.0.0.1']
    """
    if ".." in line:
        return _TOKEN.findall(line)
    return _TOKEN_NO_DOT_RUN.findall(line)


def mask_line(line: str) -> tuple[str, list[str]]:
    """Mask one line.

    Args:
        line: one line of text (it may contain newlines; they are separators).

    Returns:
        The template of the line and the variable tokens it replaced, in order.

    Example:
        >>> mask_line("uid=0 euid=0 tty=NODEVssh ruser=")
        ('uid=<*> euid=<*> tty=NODEVssh ruser=', ['0', '0'])
    """
    variables = _variables(line)
    return variables.sub(WILDCARD, line), variables.findall(line)


def mask_lines(lines: list[str]) -> list[str]:
    """Mask many lines and return only their templates, in input order.

    Args:
        lines: the lines to mask.

    Returns:
        One template per line.

    Example:
        >>> mask_lines(["Received block blk_42 of size 67108864", "Verification succeeded"])
        ['Received block <*> of size <*>', 'Verification succeeded']
    """
    return [_variables(line).sub(WILDCARD, line) for line in lines]


def group_templates(lines: list[str]) -> tuple[list[int], list[str]]:
    """Group lines by template.

    Args:
        lines: the lines to group.

    Returns:
        For each line the id of its template, and the distinct templates in id order. Ids are
        assigned ``0, 1, 2, ...`` in order of first appearance.

    Example:
        >>> group_templates(["a 1", "b", "a 2"])
        ([0, 1, 0], ['a <*>', 'b'])
    """
    ids, templates, _, _ = mine_templates(lines)
    return ids, templates


def mine_templates(lines: list[str]) -> tuple[list[int], list[str], list[int], list[int]]:
    """Group lines by template, with the first line and the line count of each template.

    Args:
        lines: the lines to group.

    Returns:
        The template id of each line (ids in order of first appearance), the distinct
        templates in id order, and for each template the index of its first line and the
        number of lines that have it.

    Example:
        >>> mine_templates(["a 1", "b", "a 2", "b"])
        ([0, 1, 0, 1], ['a <*>', 'b'], [0, 1], [2, 2])
    """
    index: dict[str, int] = {}
    ids: list[int] = []
    first_lines: list[int] = []
    counts: list[int] = []
    for number, line in enumerate(lines):
        template = _variables(line).sub(WILDCARD, line)
        template_id = index.get(template)
        if template_id is None:
            template_id = index[template] = len(index)
            first_lines.append(number)
            counts.append(1)
        else:
            counts[template_id] += 1
        ids.append(template_id)
    return ids, list(index), first_lines, counts


def cluster_templates(
    templates: list[str], keys: list[str], starts: list[int], min_values: int
) -> tuple[list[int], list[str]]:
    """Merge masked templates into clusters (see the module docstring for the rules).

    Args:
        templates: masked templates, e.g. from :func:`mine_templates`.
        keys: one opaque key per template; different keys never share a cluster.
        starts: for each template, the index of its first content token (``>= 0``).
        min_values: how many distinct words a position must take to become a variable.

    Returns:
        The cluster id of each template (ids in order of first appearance) and the template
        of each cluster.

    Raises:
        ValueError: the three lists differ in length, or a number is negative.

    Example:
        >>> cluster_templates(["GET a", "GET b", "PUT c"], ["", "", ""], [0, 0, 0], 2)
        ([0, 0, 1], ['GET <*>', 'PUT c'])
    """
    if not len(templates) == len(keys) == len(starts):
        raise ValueError(
            "templates, keys and starts must have the same length "
            f"(got {len(templates)}, {len(keys)} and {len(starts)})"
        )
    if min_values < 0 or any(start < 0 for start in starts):
        raise ValueError("starts and min_values must be non-negative")

    # Exact step: (key, content text) -> group. A group keeps the template that opened it.
    group_index: dict[tuple[str, str], int] = {}
    opened_by: list[str] = []
    group_keys: list[str] = []
    group_tokens: list[tuple[str, ...]] = []
    group_separators: list[tuple[str, ...]] = []
    group_spans: list[list[tuple[int, int]]] = []
    group_of_template: list[int] = []
    for text, key, start in zip(templates, keys, starts, strict=True):
        spans = [_widen_wildcard(text, *match.span()) for match in _TOKEN.finditer(text)]
        start = min(start, len(spans))
        content = text[spans[start][0] :] if start < len(spans) else ""
        group = group_index.setdefault((key, content), len(group_index))
        if group == len(opened_by):
            spans = spans[start:]
            # Each content token's separator runs to the next token, the last one's to the end.
            ends = [next_start for next_start, _ in spans[1:]] + [len(text)] * bool(spans)
            opened_by.append(text)
            group_keys.append(key)
            group_spans.append(spans)
            group_tokens.append(tuple(text[a:b] for a, b in spans))
            group_separators.append(tuple(text[b:e] for (_, b), e in zip(spans, ends, strict=True)))
        group_of_template.append(group)

    # Merge step.
    # (key, content separators, tokens before p, tokens after p, p)
    members: dict[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], int], list[int]]
    members = {}
    values: dict[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], int], set[str]]
    values = {}
    for group, tokens in enumerate(group_tokens):
        literals = sum(token != WILDCARD for token in tokens)
        for p in range(min(len(tokens), HOLE_POSITIONS)):
            literal = tokens[p] != WILDCARD
            if literals - literal < 1:
                continue
            hole = (group_keys[group], group_separators[group], tokens[:p], tokens[p + 1 :], p)
            members.setdefault(hole, []).append(group)
            if literal:
                values.setdefault(hole, set()).add(tokens[p])
    parent = list(range(len(group_tokens)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for shared, groups in members.items():
        if len(values.get(shared, ())) >= min_values:
            for a, b in pairwise(groups):
                root_a, root_b = find(a), find(b)
                if root_a != root_b:
                    parent[max(root_a, root_b)] = min(root_a, root_b)

    # Clusters, numbered by first group; their templates mark where their groups disagree.
    cluster_of_root: dict[int, int] = {}
    cluster_of_group = [
        cluster_of_root.setdefault(find(group), len(cluster_of_root))
        for group in range(len(group_tokens))
    ]
    first_group = list(cluster_of_root)  # each root is the first group of its cluster
    differs = [[False] * len(group_tokens[group]) for group in first_group]
    for group, tokens in enumerate(group_tokens):
        cluster = cluster_of_group[group]
        first_tokens = group_tokens[first_group[cluster]]
        row = differs[cluster]
        for j, token in enumerate(tokens):
            if token != first_tokens[j]:
                row[j] = True
    cluster_templates = []
    for group, row in zip(first_group, differs, strict=True):
        text = opened_by[group]
        parts = []
        copied = 0
        for j, differ in enumerate(row):
            if differ and group_tokens[group][j] != WILDCARD:
                a, b = group_spans[group][j]
                parts += [text[copied:a], WILDCARD]
                copied = b
        parts.append(text[copied:])
        cluster_templates.append("".join(parts))
    return [cluster_of_group[group] for group in group_of_template], cluster_templates


def variable_values(
    lines: list[str], line_templates: list[int], wanted: list[int], max_values: int
) -> list[list[tuple[int, list[tuple[str, int]]]]]:
    """Count the values of the variables of the wanted templates (see the module docstring).

    Args:
        lines: the lines.
        line_templates: the template id of each line, e.g. from :func:`mine_templates`.
        wanted: the template ids to report on.
        max_values: distinct values listed per variable, plus one that means "more".

    Returns:
        For each id in ``wanted``, ``(token index, [(value, count), ...])`` pairs in token
        order.

    Raises:
        ValueError: ``lines`` and ``line_templates`` differ in length, or a number is
            negative.

    Example:
        >>> variable_values(["v 1", "w", "v 2", "v 1"], [0, 1, 0, 0], [0], 5)
        [[(1, [('1', 2), ('2', 1)])]]
    """
    if len(lines) != len(line_templates):
        raise ValueError(
            "lines and line_templates must have the same length "
            f"(got {len(lines)} and {len(line_templates)})"
        )
    if max_values < 0 or any(t < 0 for t in line_templates) or any(t < 0 for t in wanted):
        raise ValueError("template ids and max_values must be non-negative")
    positions: dict[int, dict[int, dict[str, int]]] = {t: {} for t in wanted}
    for line, template in zip(lines, line_templates, strict=True):
        slot = positions.get(template)
        if slot is None:
            continue
        for index, match in enumerate(_iter_tokens(line)):
            value = match.group()
            if not _is_variable(value):
                continue
            counts = slot.setdefault(index, {})
            if value in counts:
                counts[value] += 1
            elif len(counts) <= max_values:
                counts[value] = 1
    return [
        [(index, list(counts.items())) for index, counts in sorted(positions[t].items())]
        for t in wanted
    ]


def _iter_tokens(line: str) -> Iterator[re.Match[str]]:
    return _TOKEN.finditer(line)


def _is_variable(token: str) -> bool:
    return any("0" <= c <= "9" for c in token) or (token[:1] == "/" and token.count("/") >= 2)


# --- BM25 (Okapi, exactly as ``rank_bm25.BM25Okapi``) ---------------------------------------


def bm25_okapi(
    corpus: list[list[str]], query: list[str], k1: float, b: float, epsilon: float
) -> list[float]:
    """BM25 score of each tokenized document of ``corpus`` for the tokenized ``query``.

    The formula of ``rank_bm25.BM25Okapi`` (its reference implementation), step by step:

    - ``n(w)`` = number of documents containing ``w``; ``idf(w) = ln(N - n + 0.5) -
      ln(n + 0.5)`` for every word of the corpus, summed in order of first appearance to get
      the average idf; a negative idf is replaced by ``epsilon * average idf``;
    - ``score(d) = Σ_{q in query} idf(q) · tf(q, d) · (k1 + 1) / (tf(q, d) + k1 · (1 - b +
      b · |d| / avgdl))``, summed over the query tokens in order (repeats count), a token
      absent from the corpus contributing 0.

    Where ``rank_bm25`` divides by zero (an empty corpus, or only empty documents) the scores
    are all ``0.0``.

    >>> [round(s, 3) for s in bm25_okapi([["a", "b"], ["b"], ["c"]], ["a"], 1.5, 0.75, 0.25)]
    [0.417, 0.0, 0.0]
    """
    n_docs = len(corpus)
    total = sum(len(d) for d in corpus)
    if n_docs == 0 or total == 0:
        return [0.0] * n_docs
    avgdl = total / n_docs
    doc_freqs: list[dict[str, int]] = []
    nd: dict[str, int] = {}
    for document in corpus:
        frequencies: dict[str, int] = {}
        for word in document:
            frequencies[word] = frequencies.get(word, 0) + 1
        doc_freqs.append(frequencies)
        for word in frequencies:
            nd[word] = nd.get(word, 0) + 1
    idf: dict[str, float] = {}
    idf_sum = 0.0
    negative: list[str] = []
    for word, freq in nd.items():
        value = math.log(n_docs - freq + 0.5) - math.log(freq + 0.5)
        idf[word] = value
        idf_sum += value
        if value < 0:
            negative.append(word)
    eps = epsilon * (idf_sum / len(idf))
    for word in negative:
        idf[word] = eps
    scores = [0.0] * n_docs
    norms = [k1 * (1 - b + b * len(d) / avgdl) for d in corpus]
    for q in query:
        weight = idf.get(q, 0.0)
        for i, frequencies in enumerate(doc_freqs):
            tf = frequencies.get(q, 0)
            if tf:  # a zero term adds nothing (and would be 0/0 when k1 == 0)
                scores[i] += weight * (tf * (k1 + 1) / (tf + norms[i]))
    return scores


# --- SimHash for near-duplicate detection -----------------------------------------------------

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def fnv1a64(data: bytes) -> int:
    """64-bit FNV-1a of ``data``.

    >>> hex(fnv1a64(b"a"))
    '0xaf63dc4c8601ec8c'
    """
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _MASK64
    return h


def simhash(text: str) -> int:
    """64-bit SimHash of ``text`` over its word shingles.

    Words are the runs of characters between ASCII whitespace, with ASCII letters
    lower-cased (other characters untouched). The features are the word 3-shingles (the
    words joined by one space), or the single "shingle" of all words when there are fewer
    than three; no words gives 0. Each feature is hashed with 64-bit FNV-1a over its UTF-8
    bytes (lone surrogates encoded as-is); bit ``i`` of the result is set when more features
    have bit ``i`` set than clear.

    >>> simhash("") == 0
    True
    >>> simhash("The cat  sat on the mat") == simhash("the cat sat on THE mat")
    True
    """
    words = [w.translate(_ASCII_LOWER) for w in _split_ascii_space(text)]
    if not words:
        return 0
    if len(words) < 3:
        features = [" ".join(words)]
    else:
        features = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    counts = [0] * 64
    for feature in features:
        h = fnv1a64(feature.encode("utf-8", "surrogatepass"))
        for bit in range(64):
            counts[bit] += 1 if (h >> bit) & 1 else -1
    return sum(1 << bit for bit in range(64) if counts[bit] > 0)


def simhashes(texts: list[str]) -> list[int]:
    """:func:`simhash` of each text."""
    return [simhash(t) for t in texts]


_ASCII_SPACE_RE = re.compile(r"[ \t\n\r\x0b\x0c]+")


def _split_ascii_space(text: str) -> list[str]:
    return [w for w in _ASCII_SPACE_RE.split(text) if w]


# A string literal (skipped), or a run of JSON whitespace outside strings (group 1). The
# string pattern is the "unrolled loop" form, several times faster than an alternation.
_JSON_TOKEN_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|([ \t\r\n]+)', re.DOTALL)


def json_strip(document: str) -> str:
    """``document`` without the JSON whitespace (space, tab, CR, LF) outside its string
    literals; a ``"`` that opens no complete literal is an ordinary character.

    >>> json_strip('{ "a b" : [1, 2] }\\n')
    '{"a b":[1,2]}'
    """
    pieces = []
    last = 0
    for match in _JSON_TOKEN_RE.finditer(document):
        if match.group(1):
            pieces.append(document[last : match.start()])
            last = match.end()
    if not pieces:
        return document
    pieces.append(document[last:])
    return "".join(pieces)


_JSON_LITERAL_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Numbers orjson spells unlike Python (below 1e-4: "0.00001" and "1e-7" for "1e-05" and
# "1e-07"): outside literals only an exponent has "e-", and such a number starts "0.0000".
_SPELLED_APART_RE = re.compile(r"[eE]-|(?<![0-9])0\.0000")


def json_same_outside_strings(text: str, written: bytes) -> bool:
    """Whether ``written`` (a serializer's output for the value parsed from ``text``) is
    ``text`` outside its string literals, with no number in ``text`` that orjson and Python
    spell differently; a literal that does not close answers ``False``.

    Literals may differ in their escapes (``\\/``, ``\\u00e9``): the parsed strings are the
    same. A duplicate key would be missing from ``written``.

    >>> json_same_outside_strings('{"u":"a\\\\/b","n":1.5}', b'{"u":"a/b","n":1.5}')
    True
    >>> json_same_outside_strings('{"a":1,"a":2}', b'{"a":2}')
    False
    >>> json_same_outside_strings("[0.00001]", b"[0.00001]")
    False
    """
    other = written.decode("utf-8", "surrogateescape")
    outside = _JSON_LITERAL_RE.split(text)
    if outside != _JSON_LITERAL_RE.split(other):
        return False
    # Every quote must open a literal that closes: none may be left between them.
    return not any('"' in part or _SPELLED_APART_RE.search(part) for part in outside)


# A table cell may hold a string without quotes when reading it back cannot mistake it for
# anything else (``headroom/jsontables/syntax.py`` reads cells with these, and
# ``docs/json-tables.md``).
CELL_BARE_RE = re.compile(r'[^\x00-\x20|"\\@&\[{\x7f][^\x00-\x1f|"\\\x7f]*')
CELL_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_CELL_RESERVED = frozenset({"null", "true", "false", "^"})


def string_cells(values: list[str]) -> list[str]:
    """The table cell of each string, in order.

    A string is written **bare** (as it is) when it matches ``CELL_BARE_RE`` whole (not
    empty; a first character other than a control character, space, ``| " \\ @ & [ {`` and
    U+007F; no later control character, ``| " \\`` or U+007F), does not end with a space,
    is none of ``null``, ``true``, ``false``, ``^``, and, when it starts with ``-`` or an
    ASCII digit, is not a whole JSON number. Any other string is written as the JSON
    literal ``json.encoder.encode_basestring`` writes: in double quotes, ``"`` and ``\\``
    escaped by a backslash, ``\\b \\f \\n \\r \\t`` for those controls, ``\\u00xx``
    for the other characters below U+0020, every other character (U+007F, U+2028, lone
    surrogates) verbatim.

    Raises:
        TypeError: a value is not a ``str``.

    >>> string_cells(["main", "007", "1e5", "a|b", "true", "tab\\there"])
    ['main', '007', '"1e5"', '"a|b"', '"true"', '"tab\\\\there"']
    """
    return [_string_cell(value) for value in values]


def is_bare_cell(text: str) -> bool:
    """Whether ``text`` can be written in a table cell without quotes (see
    :func:`string_cells`).

    >>> is_bare_cell("main"), is_bare_cell("007"), is_bare_cell("1e5"), is_bare_cell("true")
    (True, True, False, False)
    """
    return (
        CELL_BARE_RE.fullmatch(text) is not None
        and text[-1] != " "
        and text not in _CELL_RESERVED
        and (text[0] not in "-0123456789" or CELL_NUMBER_RE.fullmatch(text) is None)
    )


def _string_cell(value: str) -> str:
    # A value that is not a str raises TypeError in the regex, as in the native kernel.
    return value if is_bare_cell(value) else json.encoder.encode_basestring(value)


WORD_RE = re.compile(r"[^\W_]+")
"""A word for relevance scoring: a run of letters and digits (``_`` separates)."""
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


@functools.lru_cache(maxsize=65_536)
def word_tokens(word: str) -> tuple[str, ...]:
    """The tokens of one :data:`WORD_RE` word: itself lower-cased, then, when it mixes case
    or letters and digits, its ``camelCase`` parts lower-cased (cached: text repeats its
    words, and every document of a corpus is tokenized, so most lookups are hits).

    >>> word_tokens("getUserById"), word_tokens("Title"), word_tokens("http2")
    (('getuserbyid', 'get', 'user', 'by', 'id'), ('title',), ('http2', 'http', '2'))
    """
    if word.isdigit() or (word.isalpha() and (word.islower() or word[1:].islower())):
        return (word.lower(),)  # cannot split further
    parts = _CAMEL_RE.findall(word)
    if len(parts) > 1:
        return (word.lower(), *(p.lower() for p in parts))
    return (word.lower(),)


def token_lists(texts: list[str]) -> list[list[str]]:
    """The :func:`word_tokens` of each text's :data:`WORD_RE` words, in order.

    >>> token_lists(["getUserById failed", "x_y"])
    [['getuserbyid', 'get', 'user', 'by', 'id', 'failed'], ['x', 'y']]
    """
    return [[t for w in WORD_RE.findall(text) for t in word_tokens(w)] for text in texts]


def term_counts(documents: list[str], terms: list[str]) -> list[tuple[int, list[tuple[int, int]]]]:
    """For each document, its length in :func:`word_tokens` tokens and ``(term index,
    occurrences)`` for each of ``terms`` it holds, in term order (a repeated term counts
    under its first index).

    >>> term_counts(["getUserById failed", "ok"], ["user", "failed"])
    [(6, [(0, 1), (1, 1)]), (1, [])]
    """
    index: dict[str, int] = {}
    for number, term in enumerate(terms):
        index.setdefault(term, number)
    out = []
    for document in documents:
        length = 0
        found: dict[int, int] = {}
        for word, n in Counter(WORD_RE.findall(document)).items():
            tokens = word_tokens(word)
            length += n * len(tokens)
            for token in tokens:
                hit = index.get(token)
                if hit is not None:
                    found[hit] = found.get(hit, 0) + n
        out.append((length, sorted(found.items())))
    return out


# A string may be written without quotes in a text column (``:str``) of a table when it is
# not empty, holds no control character, ``|``, ``"``, ``\`` or U+007F, does not start or
# end with a space, and is not the ditto mark ``^``.
TEXT_BARE_RE = re.compile(r'[^\x00-\x20|"\\\x7f][^\x00-\x1f|"\\\x7f]*')


def is_text_bare(text: str) -> bool:
    """Whether ``text`` can be written without quotes in a text column (``TEXT_BARE_RE``).

    >>> is_text_bare("2019"), is_text_bare("true"), is_text_bare(" x"), is_text_bare("^")
    (True, True, False, False)
    """
    return TEXT_BARE_RE.fullmatch(text) is not None and text[-1] != " " and text != "^"


def text_cells(values: list[str]) -> list[str] | None:
    """The cells of a text column of these strings, or ``None`` when no string gains from
    one: only a string that needs quotes in an ordinary cell (:func:`string_cells`) but not
    in a text column does. A string is written as it is when :func:`is_text_bare`, else as
    its JSON literal.

    >>> text_cells(["2019", "a b", "x|y"]), text_cells(["a b", "x|y"])
    (['2019', 'a b', '"x|y"'], None)
    """
    cells = [value if is_text_bare(value) else _encode_string(value) for value in values]
    gains = any(c is v and not is_bare_cell(v) for c, v in zip(cells, values, strict=True))
    return cells if gains else None


_encode_string = json.encoder.encode_basestring


def string_column(values: list[str]) -> tuple[list[str], bool]:
    """The :func:`string_cells` of ``values``, and whether a text column of them would gain
    (whether :func:`text_cells` would write one).

    Raises:
        TypeError: a value is not a ``str``.

    >>> string_column(["a b", "2019"]), string_column(["a b", "x|y"])
    ((['a b', '"2019"'], True), (['a b', '"x|y"'], False))
    """
    cells = string_cells(values)
    # A quoted cell starts with '"', which no bare cell does.
    gains = any(
        cell[0] == '"' and is_text_bare(value) for cell, value in zip(cells, values, strict=True)
    )
    return cells, gains


def table_rows(count: int, columns: list[list[str]], rows: list[list[int]], min_ditto: int) -> str:
    """The rows of a table of ``count`` rows, joined by ``\\n`` (empty without columns).

    Column ``c`` has the cells ``columns[c]`` in the rows ``rows[c]`` (ascending), or in
    every row when ``rows[c]`` is empty; its other rows have an empty cell. A non-empty cell
    equal to the cell above it in its column and at least ``min_ditto`` characters long
    (:func:`cell_length`) is written ``^``. Cells are joined by ``|``.

    Raises:
        ValueError: the row lists do not fit the columns (one per column, as many rows as
            cells, ascending, each below ``count``), or ``count`` or ``min_ditto`` is
            negative.

    >>> table_rows(3, [["1", "2", "3"], ["abcdefg"] * 3, ["x"]], [[], [], [1]], 6)
    '1|abcdefg|\\n2|^|x\\n3|^|'
    """
    if min_ditto < 0:
        raise ValueError(f"table_rows: numbers must be from 0 to 2**64 - 1 (min_ditto {min_ditto})")
    if count < 0 or len(rows) != len(columns):
        raise ValueError(f"{len(columns)} columns but {len(rows)} row lists (count {count})")
    if not columns:
        return ""
    dense_columns = []
    for index, (cells, present) in enumerate(zip(columns, rows, strict=True)):
        if len(cells) != (len(present) if present else count):
            raise ValueError(f"column {index}: the number of cells does not match its rows")
        if present:
            ascending = all(map(operator.lt, present, present[1:]))
            if not ascending or present[0] < 0 or present[-1] >= count:
                raise ValueError(f"column {index}: rows must ascend and be below the row count")
            dense = [""] * count
            for row, cell in zip(present, cells, strict=True):
                dense[row] = cell
        else:
            dense = list(cells)
        dense_columns.append(_ditto(dense, min_ditto))
    return "\n".join(map("|".join, zip(*dense_columns, strict=True)))


def cell_length(text: str) -> int:
    """The length of a cell as the ditto rule counts it: characters, with each provisional
    table number (``@\\x00n\\x00``, between two NULs, which no written value holds) counted
    as one. Tables are numbered provisionally while a document is written and renumbered in
    reading order at the end: a number's length must not decide whether a cell is a ditto.

    >>> cell_length("@\\x00123\\x00"), cell_length("[@\\x007\\x00,é]"), cell_length("abc")
    (4, 8, 3)
    """
    if "\x00" not in text:
        return len(text)
    numbers = text.split("\x00")[1::2]
    return len(text) - sum(map(len, numbers)) + sum(1 for number in numbers if number)


def _ditto(cells: list[str], min_ditto: int) -> list[str]:
    """``cells`` with each non-empty one equal to the one above it and at least
    ``min_ditto`` characters long (:func:`cell_length`) replaced by ``^``."""
    below = cells[1:]
    # The rows to replace, found with C iterators (a comprehension took 0.2 us per cell).
    repeated = map(operator.eq, below, cells)
    # cell_length is len (at C speed) for a column without a provisional table number.
    measure = cell_length if any(map(operator.contains, below, itertools.repeat("\x00"))) else len
    long = map(operator.ge, map(measure, below), itertools.repeat(max(min_ditto, 1)))
    marked_rows = list(itertools.compress(range(1, len(cells)), map(operator.and_, repeated, long)))
    marked = cells
    for row in marked_rows:
        marked[row] = "^"
    return marked


TableColumn = tuple[tuple[Any, ...], Sequence[int], list[Any]]
"""A table column: its path (the keys leading to it), the rows (record numbers, ascending)
that have it, and their values."""


def table_columns(
    records: list[dict[Any, Any]],
    rows: Sequence[int],
    count: int,
    max_depth: int,
    max_keys: int,
    max_cells_per_value: int,
) -> list[TableColumn] | None:
    """The columns of ``records`` (dicts, in ``rows`` of a table of ``count`` rows), nested
    objects flattened where lossless and worthwhile; ``None`` when these records, being
    nested, are better one column: a map with more than ``max_keys`` keys, or a set of keys
    too sparse (:func:`too_sparse`). Columns come in order of first appearance. A column's
    rows are a sequence of row numbers: ``rows`` itself may stand for a column that every
    record has (the native kernel's and this one's choices of when differ, not the numbers).

    A key is flattened (to ``max_depth`` levels) only when every record that has it has a
    non-empty dict there: then "every sub-column missing" can only mean "key absent", so
    decoding is exact. The records are read once, row by row, so the work is the number of
    values they hold whatever the number of distinct keys.

    Raises:
        TypeError: a record is not exactly a dict.
        ValueError: ``rows`` and ``records`` differ in length.

    >>> table_columns([{"a": 1, "u": {"id": 2}}, {"a": 3, "u": {"id": 4}}], range(2), 2, 6, 256, 16)
    [(('a',), range(0, 2), [1, 3]), (('u', 'id'), range(0, 2), [2, 4])]
    >>> table_columns([{"a": 1, "u": {"id": 2}}, {"a": 3}], range(2), 2, 6, 256, 16)[1]
    (('u',), [0], [{'id': 2}])
    """
    if not all(type(record) is dict for record in records):
        raise TypeError("table_columns: every record must be a dict")
    if len(rows) != len(records):
        raise ValueError("table_columns: rows and records differ in length")
    if not records:
        return []
    return _table_columns(records, rows, count, (), 0, (max_depth, max_keys, max_cells_per_value))


def _table_columns(
    records: list[dict[Any, Any]],
    rows: Sequence[int],
    count: int,
    prefix: tuple[Any, ...],
    depth: int,
    limits: tuple[int, int, int],
) -> list[TableColumn] | None:
    max_depth, max_keys, max_cells_per_value = limits
    by_key: Mapping[Any, tuple[Sequence[int], list[Any]]]
    order = tuple(records[0])
    first = records[0].keys()
    if all(map(order.__eq__, map(tuple, records))):  # every key, in the same order
        # The columns are the records' values transposed (at C speed).
        by_key = {
            key: (rows, list(column))
            for key, column in zip(order, zip(*map(dict.values, records), strict=True), strict=True)
        }
    elif all(map(first.__eq__, map(dict.keys, records))):  # every key, in another order
        by_key = {key: (rows, list(map(operator.itemgetter(key), records))) for key in first}
    else:
        grouped: dict[Any, tuple[list[int], list[Any]]] = {}
        for row, record in zip(rows, records, strict=True):
            for key, value in record.items():
                found = grouped.get(key)
                if found is None:
                    grouped[key] = ([row], [value])
                else:
                    found[0].append(row)
                    found[1].append(value)
        by_key = grouped
    if depth and len(by_key) > max_keys:
        return None
    columns: list[TableColumn] = []
    for key, (key_rows, values) in by_key.items():
        path = (*prefix, key)
        inner = None
        if depth < max_depth and all(type(v) is dict and v for v in values):
            inner = _table_columns(values, key_rows, count, path, depth + 1, limits)
        if inner is None:
            columns.append((path, key_rows, values))
        else:
            columns.extend(inner)
    if depth and too_sparse(columns, count, keyed=False, max_cells_per_value=max_cells_per_value):
        return None
    return columns


def too_sparse(
    columns: list[TableColumn], count: int, *, keyed: bool, max_cells_per_value: int
) -> bool:
    """Whether a table of ``count`` rows with these columns (and a key column when
    ``keyed``) would have more than ``max_cells_per_value`` cells per value in its shared
    columns. Only a column that two or more records have saves anything: a key that one
    record has is written once either way, and costs the other rows an empty cell each.

    >>> too_sparse([(("a",), [0], [1]), (("b",), [1], [2])], 2, keyed=False, max_cells_per_value=16)
    True
    """
    shared = sum(len(rows) for _, rows, _ in columns if len(rows) > 1)
    cells = count * (len(columns) + keyed)
    return cells > max_cells_per_value * (shared + (count if keyed else 0))


LeafColumn = tuple[tuple[Any, ...], list[int], list[Any]]
"""A scalar column of an array: its path (the keys leading to it), the rows (item indexes,
ascending) that have it, and their values."""


def leaf_columns(items: Iterable[Any], max_depth: int) -> list[LeafColumn]:
    """The scalar columns of an array's items, in order of first appearance, item by item.

    The objects (exact dicts) among ``items`` are read; other items are skipped. A scalar
    (a string, a number or null) is a cell of the column named by the keys leading to it,
    through non-empty objects up to ``max_depth`` levels down; lists, empty objects and
    deeper objects are not read.

    >>> leaf_columns([{"id": 1, "user": {"login": "ana"}, "tags": ["x"]}, 7, {"id": 2}], 6)
    [(('id',), [0, 2], [1, 2]), (('user', 'login'), [0], ['ana'])]
    """
    root = _LeafNode(())
    columns: list[LeafColumn] = []
    for row, item in enumerate(items):
        if type(item) is dict:
            _leaves(item, root, 0, row, max_depth, columns)
    return columns


class _LeafNode:
    """The columns found so far under one path: the scalar leaves by key, and the objects
    by key (read further)."""

    __slots__ = ("leaves", "objects", "path")

    def __init__(self, path: tuple[Any, ...]) -> None:
        self.path = path
        self.leaves: dict[Any, LeafColumn] = {}
        self.objects: dict[Any, _LeafNode] = {}


_LEAF_TYPES = frozenset({str, int, float, bool, type(None)})  # and subclasses of the first three


def _leaves(
    record: dict[Any, Any],
    node: _LeafNode,
    depth: int,
    row: int,
    max_depth: int,
    columns: list[LeafColumn],
) -> None:
    leaves = node.leaves
    for key, value in record.items():
        kind = type(value)
        if kind in _LEAF_TYPES or isinstance(value, str | int | float):
            column = leaves.get(key)
            if column is None:
                column = leaves[key] = ((*node.path, key), [], [])
                columns.append(column)
            column[1].append(row)
            column[2].append(value)
        elif kind is dict and value and depth < max_depth:
            inner = node.objects.get(key)
            if inner is None:
                inner = node.objects[key] = _LeafNode((*node.path, key))
            _leaves(value, inner, depth + 1, row, max_depth, columns)


def record_texts(items: Iterable[Any], max_depth: int) -> list[str]:
    """Each item's scalar values (keys aside), space-separated, for text matching: a string
    as it is, an int in decimal, a float as ``str`` writes it, ``""`` for null, a boolean
    and an empty container; nothing read more than ``max_depth`` levels down.

    >>> record_texts([{"id": 7, "user": {"login": "ana", "admin": False}, "tags": ["a"]}, []], 9)
    ['7 ana  a', '']
    """
    texts = []
    for item in items:
        parts: list[str] = []
        _scalar_texts(item, 0, max_depth, parts)
        texts.append(" ".join(parts))
    return texts


def _scalar_texts(value: Any, depth: int, max_depth: int, parts: list[str]) -> None:
    # One part per scalar, "" for null, booleans and empty containers: the same text as
    # joining each container's values with spaces, level by level.
    if depth > max_depth:
        parts.append("")
    elif type(value) is dict or type(value) is list:
        items = value.values() if type(value) is dict else value
        if not items:
            parts.append("")
        if depth + 1 > max_depth:
            parts.extend("" for _ in items)
            return
        # The common scalars inline: a call per scalar was most of the time.
        append = parts.append
        for item in items:
            kind = type(item)
            if kind is str:
                append(item)
            elif item is None or kind is bool:
                append("")
            elif kind is int or isinstance(item, float):
                append(str(item))
            else:
                _scalar_texts(item, depth + 1, max_depth, parts)
    elif isinstance(value, dict | list):  # subclasses, as the recursive form took them
        copy = dict(value) if isinstance(value, dict) else list(value)
        _scalar_texts(copy, depth, max_depth, parts)
    elif isinstance(value, str):
        parts.append(value)
    elif value is None or isinstance(value, bool):
        parts.append("")
    else:
        parts.append(str(value))


def seeds_inside(seeds: list[str], texts: list[str], starts: list[int]) -> list[list[int]]:
    """For each of ``texts``, the indexes ``i >= starts[t]`` (ascending) of the ``seeds`` it
    contains.

    Raises:
        ValueError: ``texts`` and ``starts`` differ in length, or a start is negative.

    >>> seeds_inside(["ab", "b", "zz"], ["abc", "abc"], [0, 1])
    [[0, 1], [1]]
    """
    if len(texts) != len(starts) or any(start < 0 for start in starts):
        raise ValueError("texts and starts must pair up, and starts be non-negative")
    return [
        [i for i in range(start, len(seeds)) if seeds[i] in text]
        for text, start in zip(texts, starts, strict=True)
    ]
