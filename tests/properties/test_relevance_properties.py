"""Invariants of the TextPruner, and the native BM25/SimHash kernels against their references.

The native module is called directly (not through ``headroom._core``) so a native failure
cannot hide behind the fallback. BM25 is also held to ``rank_bm25.BM25Okapi`` itself.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom import TextPruner, _core, _reference
from headroom.relevance.segment import segment, sentences

needs_native = pytest.mark.skipif(not _core.NATIVE_AVAILABLE, reason="headroom._native not built")

words = st.sampled_from(
    ["a", "b", "cat", "Paris", "1889", "x", "Dr.", "e.g.", "ß", "東京", "😀", "B", "the", "3.5"]
)
tokens = st.lists(words, max_size=12)
corpora = st.lists(tokens, max_size=12)
floats = st.floats(min_value=0.0, max_value=3.0, allow_nan=False)

vocabulary = ["alpha", "beta", "gamma", "delta", "Paris", "1889", "code", "river", "tower"]
sentence = st.lists(st.sampled_from(vocabulary), min_size=1, max_size=8).map(
    lambda ws: " ".join(ws).capitalize() + "."
)
chunk = st.lists(sentence, min_size=1, max_size=6).map(" ".join)
chunk_lists = st.lists(chunk, min_size=1, max_size=6)
queries = st.lists(st.sampled_from(vocabulary), min_size=1, max_size=4).map(" ".join)


@needs_native
@given(corpora, tokens, floats, st.floats(min_value=0.0, max_value=1.0), floats)
def test_native_bm25_equals_reference(
    corpus: list[list[str]], query: list[str], k1: float, b: float, epsilon: float
) -> None:
    from headroom import _native

    native = _native.bm25_okapi(corpus, query, k1, b, epsilon)
    reference = _reference.bm25_okapi(corpus, query, k1, b, epsilon)
    assert native == pytest.approx(reference, rel=1e-12, abs=1e-12)


@given(st.lists(tokens.filter(bool), min_size=1, max_size=12), tokens)
def test_reference_bm25_equals_rank_bm25(corpus: list[list[str]], query: list[str]) -> None:
    rank_bm25 = pytest.importorskip("rank_bm25")
    want = list(rank_bm25.BM25Okapi(corpus).get_scores(query))
    assert _reference.bm25_okapi(corpus, query, 1.5, 0.75, 0.25) == pytest.approx(
        want, rel=1e-9, abs=1e-12
    )
    assert _core.bm25_okapi(corpus, query) == pytest.approx(want, rel=1e-9, abs=1e-12)


@needs_native
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"])), max_size=10))
def test_native_simhash_equals_reference(texts: list[str]) -> None:
    from headroom import _native

    assert _native.simhashes(texts) == _reference.simhashes(texts)


@given(st.lists(st.text(), max_size=5))
def test_core_simhash_takes_every_str(texts: list[str]) -> None:
    assert _core.simhashes(texts) == _reference.simhashes(texts)


@given(st.text(max_size=300))
def test_segments_rebuild_the_text(text: str) -> None:
    assert "".join(s.sep + s.text for s in segment(text)) == text.rstrip()


@given(chunk_lists, queries, st.floats(min_value=0.05, max_value=1.0))
def test_output_sentences_are_an_ordered_subsequence(
    chunks: list[str], query: str, ratio: float
) -> None:
    result = TextPruner(target_ratio=ratio, dedup=False).prune(chunks, query=query)
    for pruned in result.chunks:
        kept = sentences(pruned.text)
        original = sentences(chunks[pruned.index])
        it = iter(original)
        assert all(any(s == o for o in it) for s in kept), (kept, original)


@given(chunk_lists, queries, st.integers(min_value=0, max_value=200))
def test_token_budget_respected_and_deterministic(
    chunks: list[str], query: str, budget: int
) -> None:
    pruner = TextPruner(token_budget=budget)
    result = pruner.prune(chunks, query=query)
    assert result.tokens_after <= result.tokens_before
    if result.handles:
        # Each kept sentence was charged with its leading whitespace against the budget.
        kept_segments = [s for c in result.chunks for s in segment(c.text)]
        kept = sum(pruner._count(s.sep + s.text) for s in kept_segments)
        # Over budget only by the floor: the best sentence and its context_window neighbours
        # (or the lead's first sentence when nothing matches), never an empty answer.
        assert kept <= budget + len(result.chunks) or len(kept_segments) <= 3
        assert result.chunks
    assert pruner.prune(chunks, query=query) == result


@given(chunk_lists)
def test_no_query_never_prunes_sentences(chunks: list[str]) -> None:
    result = TextPruner().prune(chunks, query=None)
    assert all(c.kept == c.total for c in result.chunks)
    assert all(c.duplicate_of is not None for c in result.dropped)


def _bm25_scores_per_token(query: str, documents: list[str]) -> list[float]:
    """bm25_scores as first written (every document tokenized whole): the specification the
    word-count version must equal bit for bit. Terms are summed in sorted order (a set's
    order depends on the process's hash seed)."""
    import math
    from collections import Counter

    from headroom.relevance.bm25 import tokenize

    k1, b = 1.5, 0.75
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
                sum(
                    idf[t] * counts[t] * (k1 + 1) / (counts[t] + norm)
                    for t in sorted(terms)
                    if counts[t]
                )
            )
        )
    return scores


_WORDS = st.sampled_from(
    ["disk", "Disk", "error", "getUserById", "user_id", "HTTPServer", "42", "x1y2", "é", "Éa"]
)
_DOCS = st.lists(st.lists(_WORDS, max_size=12).map(" ".join) | st.text(max_size=60), max_size=8)


@given(st.lists(_WORDS, min_size=1, max_size=4).map(" ".join) | st.text(max_size=20), _DOCS)
def test_bm25_scores_equal_the_per_token_specification(query: str, documents: list[str]) -> None:
    from headroom.relevance import bm25_scores

    assert bm25_scores(query, documents) == _bm25_scores_per_token(query, documents)
