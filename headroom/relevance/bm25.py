"""Okapi BM25 over short documents (sections of an original, records, lines, sentences).

Two scorers share one tokenizer: :func:`bm25_scores` (a compact variant used to rank
sections of an original on retrieval) and :func:`okapi_scores`, the formula of
``rank_bm25.BM25Okapi`` computed by the native kernel (``headroom._core.bm25_okapi``), which
the TextPruner uses.
"""

from __future__ import annotations

import functools
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
        out.extend(_word_tokens(word))
    return out


@functools.lru_cache(maxsize=65_536)
def _word_tokens(word: str) -> tuple[str, ...]:
    """The tokens of one word (cached: text repeats its words, and every document of a
    corpus is tokenized, so most lookups are hits)."""
    if word.isdigit() or (word.isalpha() and (word.islower() or word[1:].islower())):
        return (word.lower(),)  # cannot split further
    parts = _CAMEL_RE.findall(word)
    if len(parts) > 1:
        return (word.lower(), *(p.lower() for p in parts))
    return (word.lower(),)


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
    # Per document only its length and the counts of the query's terms matter: both come
    # from the counts of its distinct words, each tokenized once (and cached).
    lengths: list[int] = []
    counts: list[dict[str, int]] = []
    for document in documents:
        length = 0
        found: dict[str, int] = {}
        for word, n in Counter(_WORD_RE.findall(document)).items():
            tokens = _word_tokens(word)
            length += n * len(tokens)
            for token in tokens:
                if token in terms:
                    found[token] = found.get(token, 0) + n
        lengths.append(length)
        counts.append(found)
    average = sum(lengths) / len(lengths) or 1.0
    frequency: Counter[str] = Counter()
    for found in counts:
        frequency.update(found.keys())
    n = len(documents)
    idf = {t: math.log((n - frequency[t] + 0.5) / (frequency[t] + 0.5) + 1) for t in terms}
    scores = []
    for length, found in zip(lengths, counts, strict=True):
        norm = k1 * (1 - b + b * length / average)
        scores.append(
            float(
                sum(idf[t] * found[t] * (k1 + 1) / (found[t] + norm) for t in terms if found.get(t))
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
