"""Hypothesis properties of BM25's term counts: documents outside ASCII, made ASCII so the
native kernel can count them, count exactly what the reference counts on the originals."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from headroom import _core, _reference
from headroom.relevance import bm25_scores, tokenize

# Words and separators where the rules have edge cases: letters outside ASCII inside and
# around camelCase words, digits of other scripts, combining marks, lone surrogates,
# letters whose lower case is ASCII (Kelvin sign) or longer (dotted capital I), and the
# query's own words spelled inside non-ASCII words.
_PIECES = st.sampled_from(
    [
        "look", "Look", "at", "this", "AtéLook", "MüllerSchmidt", "ÜberLook", "İstanbul",
        "\u212aelvin", "ΣΑΣ", "٣٤", "abc٣def", "e\u0301", "\ud800", "—", "\u00a0", " ", "_",
        ".", "Zürich", "zq", "QqQq", "HTTPServer", "x2", "naïve",
    ]
)  # fmt: skip
_DOCUMENTS = st.lists(st.lists(_PIECES, max_size=12).map("".join) | st.text(max_size=20))
_QUERIES = st.lists(_PIECES, min_size=1, max_size=4).map(" ".join)


@example(["AtéLook and look", "Zürich naïve"], "look at this")
@given(_DOCUMENTS, _QUERIES)
def test_term_counts_equal_the_reference_on_the_original_documents(
    documents: list[str], query: str
) -> None:
    terms = sorted(set(tokenize(query)))
    assert _core.term_counts(documents, terms) == _reference.term_counts(documents, terms)


@given(_DOCUMENTS, st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=80))
def test_a_query_holding_every_letter_still_counts_exactly(
    documents: list[str], query: str
) -> None:
    # No letter is left for the ASCII stand-ins: every document goes as it is.
    query += " " + " ".join("abcdefghijklmnopqrstuvwxyz")
    terms = sorted(set(tokenize(query)))
    assert _core.term_counts(documents, terms) == _reference.term_counts(documents, terms)


def test_scores_of_names_with_accents_match_their_words() -> None:
    documents = ["Müller et al. look at fires", "Zürich: no match here", "look look"]
    scores = bm25_scores("look", documents)
    assert scores[1] == 0.0 and scores[0] > 0.0 and scores[2] > scores[0]
