"""Query-less salience: which sentences of a text to keep when nobody asked anything.

Used by the :class:`~headroom.compressors.text.pruner.TextPruner` (``no_query="salience"``) when a
caller asks for a ratio or a budget without a question. Deterministic: the same sentences
always give the same choice (ties go to the earlier sentence).

A sentence's score adds four signals, each in [0, 1]:

- **position**: the lead of a document and the first sentence of each paragraph carry the
  topic (news and docs are written that way), and earlier sentences a little more than later;
- **headings**: a heading, and the sentence right under it, say what a section is about;
- **information density**: the mean in-document IDF of its words, so a sentence of words found
  everywhere in the text ranks below one with words found only there;
- **must-keep signal**: identifiers (``snake_case``, ``camelCase``, paths, URLs, ``--flags``,
  code spans), quoted strings, numbers (with units, dates), error words. Dropping these to hit
  a ratio is what a reader notices first (ARCHITECTURE.md, contract 6).

Selection is greedy by score per square root of cost, with a novelty discount (the share of
a sentence's words already covered by what was kept), so two sentences saying the same thing
do not both make the cut.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from headroom._regex import compile_possessive
from headroom.relevance.bm25 import STOPWORDS, tokenize

__all__ = ["Sentence", "salience_scores", "select"]

_HEADING_RE = re.compile(r"^(?:#{1,6}\s|=+$|-+$)|^[^.!?:;,]{1,80}:?$")
# Each pattern is one kind of signal; a sentence scores by how many kinds it holds. Each may
# start only where its run of characters starts (a lookbehind) and never backtracks into
# the run (possessive): searched from every position of "a.a.a…" or "1.1.1…" a plain
# `\b[a-z][a-z.]*://` is quadratic (a 100 KB sentence of them took 16 s).
_SIGNALS = (
    compile_possessive(r"(?<!\w)[A-Za-z][A-Za-z0-9]*+_[A-Za-z0-9]"),  # snake_case, CONSTANT_CASE
    compile_possessive(r"(?<!\w)[a-z]++[A-Z]"),  # camelCase
    compile_possessive(r"(?<![\w+.-])[a-z][a-z0-9+.-]*+://\S|(?<!\w)www\.\S"),  # URLs
    compile_possessive(r"(?:^|[\s(\"'])(?:~|\.{1,2})?/?[\w.-]++/[\w.-]"),  # paths
    re.compile(r"(?:^|\s)--?[A-Za-z]"),  # command-line flags
    compile_possessive(r"`[^`\n]++`|\"[^\"\n]{1,80}+\"|“[^”\n]{1,80}+”"),  # code spans, quotations
    compile_possessive(
        r"(?<![\w,.])\d[\d,.]*+\s?(?:%|[kKMGT]?i?[bB]\b|ms\b|[smh]\b|kg\b|km\b|m\b|°|\$)"
        r"|[$€£]\s?\d"
    ),  # numbers with units or currencies
    compile_possessive(
        r"(?<!\w)(?:\d{4}-\d{2}-\d{2}\b|(?:1[5-9]|20)\d{2}\b|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|"
        r"Aug|Sep|Oct|Nov|Dec)[a-z]*+\.? \d{1,2}\b)"
    ),  # dates and years
    re.compile(r"\d"),  # any number
    re.compile(
        r"\b(?:error|errors|fail|failed|fails|failure|exception|warning|fatal|crash|crashed|"
        r"denied|timeout|timed out|panic|traceback|deprecated|must not)\b",
        re.I,
    ),
)
# Value per sqrt(token): greedy by raw score spends a budget on a few long sentences, by score
# per token on fragments. On whole SQuAD articles kept at 30%, sqrt keeps 54.9% of answers,
# raw score 52.2% (python -m headroom.bench.rag --no-query).
_COST_EXPONENT = 0.5
# Fewer content words than this scale density down: a fragment ("Most people never change
# it.") is all rare words by the mean, and cheap, yet says little. Neutral on SQuAD answers.
_SHORT = 4
_WEIGHTS = {"position": 1.0, "heading": 0.6, "density": 1.0, "signal": 1.2}


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence to score.

    Attributes:
        text: the sentence.
        document: index of the document (chunk) it belongs to.
        paragraph: index of its paragraph within the document.
    """

    text: str
    document: int
    paragraph: int


def _is_heading(text: str) -> bool:
    return "\n" not in text and _HEADING_RE.search(text.strip()) is not None


def _signal(text: str) -> float:
    kinds = 0
    for pattern in _SIGNALS:
        if pattern.search(text) is not None:
            kinds += 1
            if kinds == 3:  # the cap: the other patterns cannot change the score
                break
    return kinds / 3


def salience_scores(sentences: Sequence[Sentence]) -> list[float]:
    """How much each sentence is worth keeping when there is no query (higher is better).

    >>> s = [Sentence("Paris is the capital.", 0, 0), Sentence("It is nice.", 0, 0),
    ...      Sentence("Set max_retries to 5 in config.yaml.", 0, 0)]
    >>> [round(x, 2) for x in salience_scores(s)]
    [1.5, 0.38, 1.87]
    """
    return _scores(sentences, [_content_words(s.text) for s in sentences])


def _scores(sentences: Sequence[Sentence], words: list[list[str]]) -> list[float]:
    if not sentences:
        return []
    df = Counter(w for ws in words for w in set(ws))
    n = len(sentences)
    # dict.fromkeys, not set: summing floats in hash order would differ between processes.
    unique = [list(dict.fromkeys(ws)) for ws in words]
    density = [sum(math.log((n + 1) / df[w]) for w in ws) / max(len(ws), _SHORT) for ws in unique]
    top_density = max(density) or 1.0
    headings = [_is_heading(s.text) for s in sentences]
    lengths = Counter(s.document for s in sentences)
    scores: list[float] = []
    index_in_doc: Counter[int] = Counter()
    previous: Sentence | None = None
    for k, s in enumerate(sentences):
        i = index_in_doc[s.document]
        index_in_doc[s.document] += 1
        first_of_paragraph = previous is None or (previous.document, previous.paragraph) != (
            s.document,
            s.paragraph,
        )
        position = (
            (0.5 if i == 0 else 0.0)
            + (0.3 if first_of_paragraph else 0.0)
            + 0.2 * (1 - i / lengths[s.document])
        )
        heading = 1.0 if headings[k] else (0.6 if k > 0 and headings[k - 1] else 0.0)
        scores.append(
            _WEIGHTS["position"] * position
            + _WEIGHTS["heading"] * heading
            + _WEIGHTS["density"] * density[k] / top_density
            + _WEIGHTS["signal"] * _signal(s.text)
        )
        previous = s
    return scores


def select(
    sentences: Sequence[Sentence],
    cost: Callable[[int], int],
    budget: int,
) -> list[bool]:
    """Which sentences to keep within ``budget`` tokens (``cost(k)`` is sentence k's).

    The first sentence is always kept (and the one after it when it is a heading), whatever
    the budget, so the result is never empty. Others are taken best first by
    :func:`salience_scores` times novelty, skipping those that no longer fit.

    >>> s = [Sentence(t, 0, 0) for t in ["Intro.", "Same words here.", "Same words here too.",
    ...      "Error 42 in run_job."]]
    >>> select(s, lambda k: 4, 12)
    [True, True, False, True]
    """
    keep = [False] * len(sentences)
    if not sentences:
        return keep
    content = [_content_words(s.text) for s in sentences]
    costs = [cost(k) for k in range(len(sentences))]
    base = _scores(sentences, content)
    words = [set(ws) for ws in content]
    covered: set[str] = set()
    spent = 0

    def take(k: int) -> None:
        nonlocal spent
        keep[k] = True
        spent += costs[k]
        covered.update(words[k])

    take(0)
    if _is_heading(sentences[0].text) and len(sentences) > 1:
        take(1)
    # Lazy greedy: a sentence's value only falls as coverage grows, so a popped sentence
    # whose refreshed value still beats the next stored one is the true best.
    base = [b / max(1, costs[k]) ** _COST_EXPONENT for k, b in enumerate(base)]
    heap = [(-base[k], k) for k in range(len(sentences)) if not keep[k]]
    heapq.heapify(heap)
    while heap and spent < budget:
        stored, k = heapq.heappop(heap)
        value = base[k] * _novelty(words[k], covered)
        if heap and -value > heap[0][0] + 1e-12 and value < -stored:
            heapq.heappush(heap, (-value, k))
            continue
        if spent + costs[k] <= budget:
            take(k)
    _drop_empty_headings(sentences, keep)
    return keep


def _drop_empty_headings(sentences: Sequence[Sentence], keep: list[bool]) -> None:
    """Unkeep headings none of whose section was kept: a bare title says nothing."""
    pending: int | None = None
    for k, s in enumerate(sentences):
        if _is_heading(s.text):
            if pending is not None:
                keep[pending] = False
            pending = k if keep[k] and k > 1 else None
        elif keep[k]:
            pending = None
    if pending is not None:
        keep[pending] = False


def _novelty(words: set[str], covered: set[str]) -> float:
    if not words:
        return 0.5
    return 0.5 + 0.5 * len(words - covered) / len(words)


def _content_words(text: str) -> list[str]:
    return [w for w in tokenize(text) if w not in STOPWORDS]
