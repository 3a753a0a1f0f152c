"""Okapi BM25 over short documents (sections of an original, records, lines)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["bm25_scores", "tokenize"]

_WORD_RE = re.compile(r"[A-Za-z0-9]+")
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-cased words, with ``camelCase`` and ``snake_case`` identifiers also split.

    >>> tokenize("getUserById failed for user_id=42")
    ['getuserbyid', 'get', 'user', 'by', 'id', 'failed', 'for', 'user', 'id', '42']
    """
    out: list[str] = []
    for word in _WORD_RE.findall(text):
        parts = _CAMEL_RE.findall(word)
        out.append(word.lower())
        if len(parts) > 1:
            out.extend(p.lower() for p in parts)
    return out


def bm25_scores(
    query: str, documents: Sequence[str], *, k1: float = 1.5, b: float = 0.75
) -> list[float]:
    """BM25 score of each document for ``query`` (0.0 where no query term occurs).

    >>> [round(s, 2) for s in bm25_scores("disk error", ["disk full", "all good", "error"])]
    [0.9, 0.0, 1.2]
    """
    terms = set(tokenize(query))
    if not terms or not documents:
        return [0.0] * len(documents)
    tokenized = [tokenize(d) for d in documents]
    average = sum(len(t) for t in tokenized) / len(tokenized) or 1.0
    frequency: Counter[str] = Counter()
    for tokens in tokenized:
        frequency.update(terms.intersection(tokens))
    n = len(documents)
    idf = {t: math.log((n - frequency[t] + 0.5) / (frequency[t] + 0.5) + 1) for t in terms}
    scores = []
    for tokens in tokenized:
        counts = Counter(tokens)
        norm = k1 * (1 - b + b * len(tokens) / average)
        scores.append(
            float(
                sum(idf[t] * counts[t] * (k1 + 1) / (counts[t] + norm) for t in terms if counts[t])
            )
        )
    return scores
