"""Cut prose into sentences that survive real text.

A :class:`Segment` is a sentence (or a list item, a heading, a code block) with the exact
whitespace that preceded it, so that the concatenation ``sep + text`` of all segments gives
back the input byte for byte and a selection of segments renders with its original spacing.

Rules, in order:

- blank lines separate paragraphs; fenced code blocks (```` ``` ````) are one segment each;
- a paragraph of 3 or more lines with fewer than one sentence end per 3 lines (a log, a CSV,
  a table) is cut at its lines instead of its sentences;
- inside a paragraph, a line that starts a list item (``-``, ``*``, ``•``, ``1.``, ``a)``) or is
  a heading (``#``) starts a new segment, and a heading ends at its line;
- a sentence ends at ``.``, ``!`` or ``?`` (with closing quotes/brackets) followed by whitespace
  and a plausible sentence start, except after a known abbreviation (``e.g.``, ``Dr.``,
  ``U.S.``), a single initial (``J. Smith``), or inside an inline code span; decimals and URLs
  never end a sentence because their dots are not followed by whitespace.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left
from dataclasses import dataclass
from itertools import pairwise

from headroom._regex import compile_possessive

__all__ = ["Segment", "segment", "sentences"]

_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al fig figs no nos vol vols pp ed eds
    approx dept est inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec
    u.s u.k u.n a.m p.m ph.d b.a m.a gen col lt sgt capt gov sen rep rev hon op ca
    """.split()  # noqa: SIM905  (a word list reads better as text)
)
_FENCE_RE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
_BLANK_RE = re.compile(r"\n[ \t]*\n\s*")
_ITEM_RE = re.compile(r"\n(?=[ \t]*(?:[-*•+]\s|\d{1,3}[.)]\s|[a-zA-Z][.)]\s|#{1,6}\s))")
_HEADING_LINE_RE = re.compile(r"^[ \t]*#{1,6}\s[^\n]*")
# End punctuation, optional closers, whitespace, then something that can start a sentence.
# Tried only from the start of a run of end punctuation: from inside the run it fails when
# the start does (and retrying from every character was quadratic in a run of dots).
_END_RE = compile_possessive(
    r"(?<![.!?…])[.!?…]++[\"'”’)\]]*(\s+)(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ¿¡]|[^\x00-\x7f])"
)
_CODE_SPAN_RE = re.compile(r"`[^`\n]+`")
_WORD_BEFORE_RE = re.compile(r"([\w.]+)\.$")


@dataclass(frozen=True, slots=True)
class Segment:
    """One sentence-like piece of a text.

    Attributes:
        text: the segment, without surrounding whitespace.
        sep: the whitespace that preceded it in the input.
        paragraph: index of its paragraph (blank-line separated block).
    """

    text: str
    sep: str
    paragraph: int


def _split_sentences(block: str) -> list[tuple[int, int]]:
    """Sentence spans of one paragraph piece (no blank lines, no item starts inside)."""
    # Code spans, in order and disjoint: (start, end) each.
    protected = [(m.start(), m.end()) for m in _CODE_SPAN_RE.finditer(block)]
    protected_starts = [a for a, _ in protected]
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END_RE.finditer(block):
        end = m.start(1)
        inside = bisect_left(protected_starts, end) - 1  # the last span with a < end
        if inside >= 0 and end <= protected[inside][1]:
            continue
        # Only the last 32 characters before the closing quotes matter, and those lie
        # within this match or the 32 before it: slicing from `start` (which stays put
        # past abbreviations) was quadratic in a run of them.
        head = block[max(start, m.start() - 32) : end].rstrip("\"'”’)]")
        word = _WORD_BEFORE_RE.search(head[-32:])
        if word is not None:
            token = word.group(1).lower().lstrip(".")
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue
        spans.append((start, end))
        start = m.end(1)
    if start < len(block):
        spans.append((start, len(block)))
    return spans


def _pieces(paragraph: str) -> list[tuple[int, int]]:
    """Item/heading pieces of a paragraph, as spans."""
    cuts = [0, *(m.start() + 1 for m in _ITEM_RE.finditer(paragraph)), len(paragraph)]
    spans: list[tuple[int, int]] = []
    for a, b in pairwise(cuts):
        heading = _HEADING_LINE_RE.match(paragraph, a)
        if heading is not None and heading.end() < b:
            spans.append((a, heading.end()))
            spans.append((heading.end(), b))
        else:
            spans.append((a, b))
    return spans


_CARRIED_STARTS = frozenset("abcdefghijklmnopqrstuvwxyz(\"'")


def _line_oriented(piece: str, sentence_count: int) -> bool:
    """Whether a paragraph piece is lines (a log, a CSV, a table) rather than prose.

    Hard-wrapped prose ends a sentence every line or two; a log or CSV has lines and next to
    no sentence ends, so as sentences it would be one piece larger than any budget.
    """
    lines = piece.split("\n")
    if len(lines) < 3 or sentence_count * 3 >= len(lines):
        return False
    # Hard-wrapped prose with long sentences: most lines carry on the previous one's sentence
    # (a lowercase word after a line that did not end a clause). Log lines start with a
    # timestamp or a level, CSV rows have no spaces to wrap at.
    carried = sum(
        1
        for before, line in pairwise(lines)
        if line.lstrip(" \t")[:1] in _CARRIED_STARTS
        and line.count(" ") >= 2
        and not before.rstrip().rstrip("\"'”’)]").endswith((".", "!", "?", ":", ";"))
    )
    return carried * 2 < len(lines) - 1


def _line_spans(piece: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    while start <= len(piece):
        end = piece.find("\n", start)
        if end < 0:
            end = len(piece)
        if piece[start:end].strip():
            spans.append((start, end))
        start = end + 1
    return spans


def segment(text: str) -> list[Segment]:
    """Cut ``text`` into segments; ``"".join(s.sep + s.text for s in ...)`` gives it back
    up to trailing whitespace.

    >>> [s.text for s in segment("Dr. Smith paid $3.50 at example.com. Then he left!")]
    ['Dr. Smith paid $3.50 at example.com.', 'Then he left!']
    >>> [s.text for s in segment("# Title\\nIntro line.\\n\\n- one\\n- two")]
    ['# Title', 'Intro line.', '- one', '- two']
    """
    return list(_segments(text))


# The prose compressor asks whether a piece has enough sentences to prune, then the pruner
# cuts the same piece: the second cut of a long text is a lookup (segments are immutable).
@functools.lru_cache(maxsize=4)
def _segments(text: str) -> tuple[Segment, ...]:
    blocks: list[tuple[int, int, bool]] = []  # (start, end, is_code)
    pos = 0
    for fence in _FENCE_RE.finditer(text):
        blocks.append((pos, fence.start(), False))
        blocks.append((fence.start(), fence.end(), True))
        pos = fence.end()
    blocks.append((pos, len(text), False))

    out: list[Segment] = []
    cursor = 0
    paragraph = -1

    def emit(a: int, b: int, new_paragraph: bool) -> bool:
        nonlocal cursor, paragraph
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a >= b:
            return False
        if new_paragraph or paragraph < 0:
            paragraph += 1
        out.append(Segment(text[a:b], text[cursor:a], paragraph))
        cursor = b
        return True

    for start, end, is_code in blocks:
        if start >= end:
            continue
        if is_code:
            emit(start, end, True)
            continue
        para_start = start
        bounds = [(m.start(), m.end()) for m in _BLANK_RE.finditer(text, start, end)]
        for blank_start, blank_end in [*bounds, (end, end)]:
            first = True
            for a, b in _pieces(text[para_start:blank_start]):
                piece = text[para_start + a : para_start + b]
                spans = _split_sentences(piece)
                if _line_oriented(piece, len(spans)):
                    spans = _line_spans(piece)
                for s, e in spans:
                    if emit(para_start + a + s, para_start + a + e, first):
                        first = False
            para_start = blank_end
    return tuple(out)


def sentences(text: str) -> list[str]:
    """The texts of :func:`segment`.

    >>> sentences("Pi is approx. 3.14 (see https://en.wikipedia.org/wiki/Pi). Nice.")
    ['Pi is approx. 3.14 (see https://en.wikipedia.org/wiki/Pi).', 'Nice.']
    """
    return [s.text for s in segment(text)]
