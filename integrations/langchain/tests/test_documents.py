"""The document compressor over real retrieved passages (SQuAD 2.0, Normans article)."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import DATA
from headroom import CompressConfig, Headroom
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda

from langchain_headroom import HeadroomDocumentCompressor, make_retrieve_tool


class KeywordRetriever(BaseRetriever):
    """An in-memory retriever: the k documents sharing the most words with the query."""

    docs: list[Document]
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        words = set(query.lower().split())
        scored = sorted(self.docs, key=lambda d: -len(words & set(d.page_content.lower().split())))
        return scored[: self.k]


def _docs(article: dict) -> list[Document]:
    return [
        Document(p["context"], id=f"p{i}", metadata={"title": article["title"], "para": i})
        for i, p in enumerate(article["paragraphs"])
    ]


def _question(article: dict, para: int = 0, q: int = 0) -> tuple[str, str]:
    qa = article["paragraphs"][para]["qas"][q]
    return qa["question"], qa["answers"][0]["text"]


def test_prunes_retrieved_documents_keeping_answer_and_metadata(squad_article):
    docs = _docs(squad_article)
    question, answer = _question(squad_article, 0, 2)  # Denmark, Iceland and Norway
    retrieved = KeywordRetriever(docs=docs).invoke(question)
    snapshot = [d.model_dump() for d in retrieved]
    hr = Headroom(store="memory")
    out = HeadroomDocumentCompressor(headroom=hr).compress_documents(retrieved, question)
    assert [d.model_dump() for d in retrieved] == snapshot  # inputs untouched
    assert answer in " ".join(d.page_content for d in out)
    assert sum(len(d.page_content) for d in out) < sum(len(d.page_content) for d in retrieved)
    by_id = {d.id: d for d in retrieved}
    for doc in out:
        original = by_id[doc.id]
        assert doc.metadata["title"] == original.metadata["title"]
        assert doc.metadata["para"] == original.metadata["para"]
        stats = doc.metadata["headroom"]
        assert stats["sentences_kept"] <= stats["sentences_total"]
        assert stats["tokens_after"] < stats["tokens_before"]
    # The batch's original comes back through the retrieve tool.
    handle = out[0].metadata["headroom"]["handles"][0]
    assert original.page_content in make_retrieve_tool(hr).invoke({"handle": handle})


def test_duplicates_are_dropped(squad_article):
    docs = _docs(squad_article)[:3]
    dup = Document(docs[0].page_content, id="dup", metadata={})
    out = HeadroomDocumentCompressor(store="memory").compress_documents([*docs, dup], "Normandy")
    assert "dup" not in {d.id for d in out}


def test_async_matches_sync_and_lcel_pipeline(squad_article):
    docs = _docs(squad_article)
    question, answer = _question(squad_article, 0, 0)
    compressor = HeadroomDocumentCompressor(store="memory")
    retriever = KeywordRetriever(docs=docs)
    retrieved = retriever.invoke(question)
    sync = compressor.compress_documents(retrieved, question)
    asynced = asyncio.run(compressor.acompress_documents(retrieved, question))
    assert [d.page_content for d in sync] == [d.page_content for d in asynced]
    assert answer in " ".join(d.page_content for d in sync)

    chain = RunnableLambda(lambda q: compressor.compress_documents(retriever.invoke(q), q))
    piped = chain.invoke(question)
    assert [d.page_content for d in piped] == [d.page_content for d in sync]
    assert json.dumps([d.metadata for d in piped])  # metadata stays JSON-serialisable


def test_empty_input():
    assert HeadroomDocumentCompressor(store="memory").compress_documents([], "q") == []


def test_a_log_and_a_csv_come_back_pruned_by_lines(log_text):
    # One "sentence" each before lines were segments: over budget, so nothing came back.
    log = "\n".join(log_text.splitlines()[:300]) + "\n"
    csv_path = DATA / "loghub" / "Zookeeper_2k.log_structured.csv"
    csv_text = "\n".join(csv_path.read_text().splitlines()[:200]) + "\n"
    docs = [Document(log, id="log"), Document(csv_text, id="csv")]
    compressor = HeadroomDocumentCompressor(store="memory")
    out = compressor.compress_documents(docs, "Which blocks did NameSystem.delete remove?")
    assert [d.id for d in out] == ["log"]
    assert "NameSystem.delete" in out[0].page_content
    assert len(out[0].page_content) < len(log) / 2
    out = compressor.compress_documents(docs, "When did the notification time out?")
    assert [d.id for d in out] == ["csv"]
    assert "Notification time out" in out[0].page_content


def test_min_docs_when_the_query_matches_nothing(squad_article):
    docs = _docs(squad_article)[:3]
    out = HeadroomDocumentCompressor(store="memory").compress_documents(docs, "zebra xylophone")
    assert [(d.id, d.page_content) for d in out] == [("p0", docs[0].page_content)]
    assert out[0].metadata["headroom"]["relevant"] is False
    two = HeadroomDocumentCompressor(store="memory", min_docs=2)
    assert [d.id for d in two.compress_documents(docs, "zebra xylophone")] == ["p0", "p1"]
    none = HeadroomDocumentCompressor(store="memory", min_docs=0)
    assert none.compress_documents(docs, "zebra xylophone") == []


def test_the_clients_token_counter_counts_the_batch(squad_article):
    # A client's custom counter is what the compressor counts with, as every other adapter
    # does (it was ignored here: tiktoken counted, whatever the client said).
    counted: list[str] = []

    def words(text: str) -> int:
        counted.append(text)
        return len(text.split())

    docs = _docs(squad_article)
    question, _ = _question(squad_article, 0, 2)
    retrieved = KeywordRetriever(docs=docs).invoke(question)
    hr = Headroom(CompressConfig(token_counter=words), store="memory")
    out = HeadroomDocumentCompressor(headroom=hr).compress_documents(retrieved, question)
    stats = out[0].metadata["headroom"]
    assert counted
    assert stats["tokens_before"] == sum(len(d.page_content.split()) for d in retrieved)
    assert stats["tokens_after"] < stats["tokens_before"]


def test_bad_pruning_options_are_refused_when_the_compressor_is_made():
    # Checked once, by headroom's PrunerConfig (pydantic reports it as a ValidationError,
    # a ValueError); before, a bad ratio surfaced only at the first query.
    with pytest.raises(ValueError, match=r"PrunerConfig\.target_ratio: expected a number"):
        HeadroomDocumentCompressor(store="memory", target_ratio=1.5)
    with pytest.raises(ValueError, match=r"PrunerConfig\.context_window: expected an int"):
        HeadroomDocumentCompressor(store="memory", context_window=-1)


def test_options_are_checked_when_set_and_take_effect_on_the_next_call(squad_article):
    from headroom import InvalidArgumentError

    docs = [Document(p["context"]) for p in squad_article["paragraphs"][:5]]
    query = squad_article["paragraphs"][0]["qas"][0]["question"]
    compressor = HeadroomDocumentCompressor(store="memory", target_ratio=0.3)
    small = sum(len(d.page_content) for d in compressor.compress_documents(docs, query))
    with pytest.raises(InvalidArgumentError, match=r"target_ratio: expected a number"):
        compressor.target_ratio = 3
    assert compressor.target_ratio == 0.3  # a refused value is not kept
    with pytest.raises(ValueError, match="min_docs"):
        compressor.min_docs = -1
    compressor.target_ratio = 0.9  # set after the first call: used by the next one
    large = sum(len(d.page_content) for d in compressor.compress_documents(docs, query))
    assert large > 2 * small


def test_never_an_empty_answer_over_150_squad_retrievals():
    data = json.loads((DATA / "squad" / "dev-v2.0.json").read_text())["data"]
    compressor = HeadroomDocumentCompressor(store="memory")
    asked = 0
    for article in data[:15]:
        paragraphs = article["paragraphs"][:5]
        docs = [Document(p["context"]) for p in paragraphs]
        for q in [q["question"] for p in paragraphs for q in p["qas"]][:10]:
            asked += 1
            assert compressor.compress_documents(docs, q), q
    assert asked == 150
