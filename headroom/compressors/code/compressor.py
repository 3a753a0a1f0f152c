"""CodeCompressor: a large source file becomes its skeleton plus what the question is about.

Rules:

* Languages: Python, JavaScript, TypeScript/TSX, Go, Rust, Java, C and C++, parsed with
  tree-sitter. The router supplies the language; a ``c`` file that only parses as C++ (a
  header with classes) is read as C++.
* Kept byte for byte: everything outside function bodies but long documentation (imports
  and includes, header comments and module docstrings, classes/structs/interfaces/traits/
  enums with their fields, every signature with its decorators and annotations, constants).
* Elided: a function or method body longer than ``short_body_lines`` lines. Python keeps
  the first line of its docstring, then ``# [N lines omitted: lines a–b · retrieve:
  headroom:…]`` and ``...``; the C family (JS, TS, Go, Rust, Java, C, C++) gets
  ``{ /* [N lines omitted: … · retrieve: headroom:…] */ }``. Line numbers refer to the
  original file, which is stashed once in the CCR store under the one handle. A comment
  block above an elided function is cut to its first line (see :mod:`.skeleton`).
* Documentation outside bodies, 4 lines or more: a Python class docstring keeps its first
  line, then ``# [N lines omitted: lines a–b · retrieve: headroom:…]``; a comment block at
  module, class or type level (Python ``#`` runs, C-family ``//`` runs and ``/* */``) keeps
  its first line of text and the marker. The file's header (comments before the first code,
  and the module docstring), comments above functions in the C family (trimmed with the
  body) and comments tools read (``# type:``, ``noqa``, ``//go:`` …) stay whole.
* Query-aware: a body whose function's name is a word of the query, and the few bodies
  BM25 ranks best for it (identifier-aware tokens: ``camelCase``, ``snake_case``), stay whole;
  so does documentation holding a word of the query, and the docstring of a class it names.
* Parse errors in the input (macros a grammar cannot expand) are worked around when they
  are few and small (see :mod:`.errors`): a body or comment overlapping one is kept, and the
  output may have no parse error that the input did not have in the same kept text.
* Passes through (returns ``None``): unsupported language or missing grammar, files under
  ``min_chars`` characters (about 1,000 tokens), minified code, input with parse errors all
  over (another language, HTML around scripts), non-UTF-8, output with new parse errors.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from headroom.compressors.base import Compressed, Context
from headroom.compressors.code.errors import error_spans, localized, overlaps
from headroom.compressors.code.languages import LanguageSpec, new_parser, spec_for
from headroom.compressors.code.skeleton import Body, Note, Outline, apply, outline, plan
from headroom.compressors.code.validate import parses
from headroom.handles import handle_for, has_marker
from headroom.relevance import bm25_scores, tokenize

if TYPE_CHECKING:
    from tree_sitter import Parser

__all__ = ["CodeCompressor"]


class _Parsed(NamedTuple):
    spec: LanguageSpec
    parser: Parser
    outline: Outline
    errors: list[tuple[int, int]]


_MIN_CHARS = 4_000  # ~1,000 tokens: below that a skeleton saves too little to be worth it
_SHORT_BODY_LINES = 4  # a body this short costs about what its marker would
_QUERY_BODIES = 3  # with a query, at most this many best-ranked bodies stay whole
_QUERY_SHARE = 0.5  # … and only those scoring at least this share of the best
_IDENTIFIER_RE = re.compile(r"\w+")
_MINIFIED_LINE = 250  # mean characters per line above which code counts as minified
# Question words that would otherwise keep every comment whole ("how does … work").
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
    }
)


class CodeCompressor:
    """Cuts source files to their skeleton, keeping bodies that match the query.

    Args:
        min_chars: files shorter than this pass through.
        short_body_lines: bodies spanning at most this many lines are kept.

    Example:
        >>> from headroom import CompressConfig, Headroom
        >>> hr = Headroom(CompressConfig(min_tokens=0), store="memory")
        >>> body = "".join(f"    total += {n}\\n" for n in range(300))
        >>> source = f"def add_all(total):\\n    \\"\\"\\"Add.\\"\\"\\"\\n{body}    return total\\n"
        >>> print(hr.compress_text(source, path="add.py").text)  # doctest: +ELLIPSIS
        def add_all(total):
            \"\"\"Add.\"\"\"
            # [302 lines omitted: lines 2–303 · retrieve: headroom:...]
            ...
        <BLANKLINE>
    """

    name = "code.skeleton"
    kinds = frozenset({"code"})

    def __init__(
        self, *, min_chars: int = _MIN_CHARS, short_body_lines: int = _SHORT_BODY_LINES
    ) -> None:
        self.min_chars = min_chars
        self.short_body_lines = short_body_lines

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        spec = spec_for(ctx.language)
        if (
            spec is None
            or len(text) < self.min_chars
            or len(text) / (text.count("\n") + 1) > _MINIFIED_LINE
            or has_marker(text)
        ):
            return None
        try:
            source = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: bytes we could not give back exactly
            return None
        parsed = _parse(source, spec)
        if parsed is None:
            return None
        spec, parser, found, errors = parsed
        # What tree-sitter could not read stays as written, with what surrounds it.
        elide = [
            body
            for body in self._select(found, source, ctx.query)
            if _clear(body.doc.start if body.doc else body.start, body.end, errors)
        ]
        notes = [n for n in _notes(found.notes, ctx.query) if _clear(n.start, n.end, errors)]
        if not elide and not notes:
            return None
        handle = handle_for(ctx.source(text))
        edits = plan(source, elide, spec, handle, notes)
        output = apply(source, edits)
        if not parses(output, parser, python=spec.python, edits=edits, errors=errors):
            return None
        if (
            ctx.keep_original(text) != handle
        ):  # a store that names originals differently: no way back
            return None
        return Compressed(output.decode("utf-8"), self.name, lossless=False, handles=(handle,))

    def _select(self, found: Outline, source: bytes, query: str | None) -> list[Body]:
        long = [b for b in found.bodies if b.lines > self.short_body_lines]
        if not query or not long:
            return long
        keep = _query_matches(long, source, query)
        return [b for i, b in enumerate(long) if i not in keep]


def _parse(source: bytes, spec: LanguageSpec) -> _Parsed | None:
    # A `c` file with errors is tried as C++ too (a header with classes), and the grammar
    # with the fewer error bytes wins.
    best: _Parsed | None = None
    for candidate in (spec, spec_for("cpp")) if spec.name == "c" else (spec,):
        parser = None if candidate is None else new_parser(candidate.name)
        if candidate is None or parser is None:
            continue
        tree = parser.parse(source)
        errors = error_spans(tree)
        if not localized(errors, len(source), source.count(b"\n") + 1):
            continue
        if best is None or _covered(errors) < _covered(best.errors):
            best = _Parsed(candidate, parser, outline(tree, source, candidate), errors)
        if not errors:
            break
    return best


def _covered(errors: list[tuple[int, int]]) -> int:
    return sum(end - start for start, end in errors)


def _clear(start: int, end: int, errors: list[tuple[int, int]]) -> bool:
    return not overlaps(errors, start, end)


def _notes(notes: tuple[Note, ...], query: str | None) -> list[Note]:
    # Documentation the query's words occur in (or the docstring of a class it names) stays.
    if not query:
        return list(notes)
    terms = set(tokenize(query)) - _STOPWORDS
    words = {w.strip("_").lower() for w in _IDENTIFIER_RE.findall(query)}
    return [
        note
        for note in notes
        if not (note.owner and _name_key(note.owner) in words)
        and not terms.intersection(tokenize(note.text))
    ]


def _query_matches(bodies: list[Body], source: bytes, query: str) -> set[int]:
    # Whole identifiers as written (`parse_args`, `__init__`), besides BM25's split words.
    words = {w.strip("_").lower() for w in _IDENTIFIER_RE.findall(query)}
    keep = {i for i, body in enumerate(bodies) if _name_key(body.name) in words}
    documents = [
        body.name + "\n" + source[body.start : body.end].decode("utf-8", "replace")
        for body in bodies
    ]
    scores = bm25_scores(query, documents)
    best = max(scores, default=0.0)
    if best > 0:
        ranked = sorted(range(len(bodies)), key=lambda i: (-scores[i], i))[:_QUERY_BODIES]
        keep.update(i for i in ranked if scores[i] >= _QUERY_SHARE * best)
    return keep


def _name_key(name: str) -> str:
    # `Foo::bar`, `Foo.bar`, `~Foo`, `operator==`: the last identifier is what people ask about.
    parts = _IDENTIFIER_RE.findall(name)
    return parts[-1].strip("_").lower() if parts else ""
