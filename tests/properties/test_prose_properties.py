"""Invariants of query-less prose shrinking (salience): never empty, never larger,
deterministic, kept sentences in their original order, the original retrievable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from headroom import MemoryStore, TextPruner
from headroom.handles import find_markers
from headroom.relevance.segment import segment

vocabulary = [
    "alpha", "beta", "gamma", "Paris", "1889", "run_job", "getUser", "--force", "/etc/hosts",
    "https://example.com/a", "error", "the", "of", "42%", "2024-01-31", '"quoted words"',
]  # fmt: skip
sentence = st.lists(st.sampled_from(vocabulary), min_size=1, max_size=10).map(
    lambda ws: " ".join(ws).capitalize() + "."
)
paragraph = st.lists(sentence, min_size=1, max_size=6).map(" ".join)
heading = st.sampled_from(["# Overview", "## Usage", "Notes:"])
block = st.one_of(paragraph, paragraph, heading)
texts = st.lists(block, min_size=1, max_size=8).map("\n\n".join)
ratios = st.floats(min_value=0.05, max_value=1.0)


@given(texts, ratios)
def test_never_empty_never_larger_deterministic_and_in_order(text: str, ratio: float) -> None:
    store = MemoryStore()
    pruner = TextPruner(target_ratio=ratio, no_query="salience", store=store)
    result = pruner.prune(text)
    assert result.tokens_after <= result.tokens_before
    assert result == pruner.prune(text)
    originals = [s.text for s in segment(text)]
    markers = find_markers(result.text)
    if not markers:
        assert result.text == text
        return
    assert store.get(markers[0].handle).data == text.encode()
    body = result.text[: result.text.rindex("\n\n[")] if "\n\n[" in result.text else ""
    kept = [s.text for s in segment(body)]
    assert kept, "only a marker"
    position = 0
    for piece in kept:  # a subsequence of the input's sentences
        position = originals.index(piece, position) + 1
