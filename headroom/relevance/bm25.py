"""Okapi BM25 over short documents (sections of an original, records, lines, sentences).

Two scorers share one tokenizer: :func:`bm25_scores` (a compact variant used to rank
sections of an original on retrieval) and :func:`okapi_scores`, the formula of
``rank_bm25.BM25Okapi`` computed by the native kernel (``headroom._core.bm25_okapi``), which
the TextPruner uses.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from headroom import _core

__all__ = ["STOPWORDS", "bm25_scores", "okapi_scores", "query_terms", "tokenize"]

_WORD_RE = re.compile(r"[^\W_]+")

STOPWORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
    """.split()  # noqa: SIM905  (a word list reads better as text)
)
"""English function words left out of queries (they carry no topic)."""
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-cased words, with ``camelCase`` and ``snake_case`` identifiers also split.

    >>> tokenize("getUserById failed for user_id=42")
    ['getuserbyid', 'get', 'user', 'by', 'id', 'failed', 'for', 'user', 'id', '42']
    """
    out: list[str] = []
    for word in _WORD_RE.findall(text):
        if word.isdigit() or (word.isalpha() and (word.islower() or word[1:].islower())):
            out.append(word.lower())  # cannot split further: skip the regex (hot path)
            continue
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


def query_terms(query: str) -> list[str]:
    """The tokens of ``query`` that carry meaning: :func:`tokenize` minus :data:`STOPWORDS`
    (all tokens when the query is only stopwords), repeats kept.

    >>> query_terms("What is the capital of France?")
    ['capital', 'france']
    """
    tokens = tokenize(query)
    kept = [t for t in tokens if t not in STOPWORDS]
    return kept or tokens


def okapi_scores(
    query: str,
    documents: Sequence[str],
    *,
    k1: float = 1.5,
    b: float = 0.75,
    epsilon: float = 0.25,
) -> list[float]:
    """``rank_bm25.BM25Okapi`` scores of ``documents`` for ``query`` (tokenized with
    :func:`tokenize`, query stopwords removed), computed natively when built.

    >>> [round(s, 2) for s in okapi_scores("disk error", ["disk full", "all good", "no"])]
    [0.47, 0.0, 0.0]
    """
    return _core.bm25_okapi(
        [tokenize(d) for d in documents], query_terms(query), k1=k1, b=b, epsilon=epsilon
    )
