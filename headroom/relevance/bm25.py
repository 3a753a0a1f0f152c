"""Okapi BM25 over short documents (sections of an original, records, lines, sentences).

Two scorers share one tokenizer: :func:`bm25_scores` (a compact variant used to rank
sections of an original on retrieval) and :func:`okapi_scores`, the formula of
``rank_bm25.BM25Okapi`` computed by the native kernel (``headroom._core.bm25_okapi``), which
the TextPruner uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from headroom import _core

__all__ = [
    "STOPWORDS",
    "bm25_scores",
    "okapi_scores",
    "query_terms",
    "tokenize",
    "tokenize_many",
]

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


def tokenize(text: str) -> list[str]:
    """Lower-cased words, with ``camelCase`` and ``snake_case`` identifiers also split.

    >>> tokenize("getUserById failed for user_id=42")
    ['getuserbyid', 'get', 'user', 'by', 'id', 'failed', 'for', 'user', 'id', '42']
    """
    out: list[str] = []
    for word in _core.WORD_RE.findall(text):
        out.extend(_core.word_tokens(word))
    return out


def tokenize_many(texts: Sequence[str]) -> list[list[str]]:
    """:func:`tokenize` of each text, in one native call for the ASCII ones.

    >>> tokenize_many(["getUserById", "Zürich"])
    [['getuserbyid', 'get', 'user', 'by', 'id'], ['zürich']]
    """
    return _core.token_lists(list(texts))


def bm25_scores(
    query: str, documents: Sequence[str], *, k1: float = 1.5, b: float = 0.75
) -> list[float]:
    """BM25 score of each document for ``query`` (0.0 where no query term occurs).

    >>> [round(s, 2) for s in bm25_scores("disk error", ["disk full", "all good", "error"])]
    [0.9, 0.0, 1.2]
    """
    # Sorted: the scores are summed in one order, the same in every process.
    terms = sorted(set(tokenize(query)))
    if not terms or not documents:
        return [0.0] * len(documents)
    # Per document only its length (in tokens) and the counts of the query's terms matter.
    counted = _core.term_counts(list(documents), terms)
    lengths = [length for length, _ in counted]
    average = sum(lengths) / len(lengths) or 1.0
    frequency = [0] * len(terms)
    for _, found in counted:
        for term, _n in found:
            frequency[term] += 1
    n = len(documents)
    idf = [math.log((n - f + 0.5) / (f + 0.5) + 1) for f in frequency]
    scores = []
    for length, found in counted:
        if not found:  # most documents: the sum of nothing
            scores.append(0.0)
            continue
        norm = k1 * (1 - b + b * length / average)
        scores.append(float(sum(idf[t] * c * (k1 + 1) / (c + norm) for t, c in found)))
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
        tokenize_many(documents), query_terms(query), k1=k1, b=b, epsilon=epsilon
    )
