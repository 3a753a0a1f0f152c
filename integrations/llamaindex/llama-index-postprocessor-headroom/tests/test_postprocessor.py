"""HeadroomNodePostprocessor on a real VectorStoreIndex over SQuAD, through real engines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from headroom import Headroom, count_tokens
from llama_index.core import VectorStoreIndex
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode
from llama_index.core.tools import RetrieverTool

from llama_index.observability.headroom import HeadroomEventHandler
from llama_index.postprocessor.headroom import METADATA_KEY, HeadroomNodePostprocessor

Questions = list[tuple[str, list[str]]]


def _engines(index: VectorStoreIndex, pp: HeadroomNodePostprocessor) -> tuple[Any, Any]:
    # MockLLM echoes its prompt: a response is exactly what the LLM was sent.
    plain = index.as_query_engine(llm=MockLLM(), similarity_top_k=4)
    pruned = index.as_query_engine(llm=MockLLM(), similarity_top_k=4, node_postprocessors=[pp])
    return plain, pruned


def test_the_llm_gets_pruned_context_and_the_gold_answer_survives(
    squad_index: VectorStoreIndex, squad_questions: Questions
) -> None:
    plain, pruned = _engines(squad_index, HeadroomNodePostprocessor(store="memory"))
    retrieved = survived = 0
    sent_plain = sent_pruned = 0
    for question, answers in squad_questions:
        full = str(plain.query(question))
        short = str(pruned.query(question))
        assert question in short
        sent_plain += count_tokens(full)
        sent_pruned += count_tokens(short)
        if any(a in full for a in answers):
            retrieved += 1
            survived += any(a in short for a in answers)
    # Measured: 65 of the 71 answers the retriever found survive at 70% fewer prompt tokens.
    assert retrieved >= 60
    assert survived / retrieved >= 0.85
    assert sent_pruned < 0.45 * sent_plain


def test_stored_nodes_are_not_mutated_and_ids_scores_metadata_are_kept(
    squad_index: VectorStoreIndex, squad_questions: Questions
) -> None:
    question = squad_questions[0][0]
    retriever = squad_index.as_retriever(similarity_top_k=4)
    before = retriever.retrieve(question)
    stored = {n.node_id: squad_index.docstore.get_node(n.node_id).get_content() for n in before}
    out = HeadroomNodePostprocessor(store="memory").postprocess_nodes(before, query_str=question)
    assert out, "the paragraph that answers must survive"
    by_id = {n.node_id: n for n in before}
    for item in out:
        original = by_id[item.node_id]
        assert item.node is not original.node
        assert item.score == original.score
        assert item.node.metadata["title"] == original.node.metadata["title"]
        assert item.node.relationships == original.node.relationships
        stats = item.node.metadata[METADATA_KEY]
        assert stats["sentences_kept"] <= stats["sentences_total"]
        assert stats["handles"] and stats["tokens_after"] < stats["tokens_before"]
        # The stats are for the application, not the model or the embedder.
        assert "sentences_kept" not in item.node.get_content(metadata_mode=MetadataMode.LLM)
        assert "sentences_kept" not in item.node.get_content(metadata_mode=MetadataMode.EMBED)
        assert item.node.get_content() in original.node.get_content() or stats["pruned"]
    for item in before:
        assert METADATA_KEY not in item.node.metadata
        assert item.node.get_content() == stored[item.node_id]
        assert squad_index.docstore.get_node(item.node_id).get_content() == stored[item.node_id]


def test_kept_sentences_are_verbatim_and_the_handle_returns_the_originals(
    squad_index: VectorStoreIndex, squad_questions: Questions
) -> None:
    hr = Headroom(store="memory")
    question = squad_questions[3][0]
    nodes = squad_index.as_retriever(similarity_top_k=4).retrieve(question)
    out = HeadroomNodePostprocessor(headroom=hr).postprocess_nodes(nodes, query_str=question)
    originals = {n.node_id: n.node.get_content() for n in nodes}
    handle = out[0].node.metadata[METADATA_KEY]["handles"][0]
    everything = hr.retrieve(handle)
    for item in out:
        source = originals[item.node_id]
        for line in item.node.get_content().split(". "):
            assert line.rstrip(".") in source
        assert source in everything


def test_near_duplicate_nodes_are_dropped(squad_articles: list[dict[str, Any]]) -> None:
    text = squad_articles[0]["paragraphs"][0]["context"]
    nodes = [
        NodeWithScore(node=TextNode(id_="a", text=text), score=0.9),
        NodeWithScore(
            node=TextNode(id_="b", text=text.replace("Normandy", "Normandy,")), score=0.8
        ),
        NodeWithScore(node=TextNode(id_="c", text=squad_articles[1]["paragraphs"][0]["context"])),
    ]
    out = HeadroomNodePostprocessor(store="memory", target_ratio=1.0).postprocess_nodes(nodes)
    assert [n.node_id for n in out] == ["a", "c"]  # no query: only duplicates go


def test_irrelevant_nodes_are_dropped_or_kept_whole(squad_articles: list[dict[str, Any]]) -> None:
    normans = squad_articles[0]["paragraphs"][0]["context"]
    other = squad_articles[1]["paragraphs"][0]["context"]
    nodes = [
        NodeWithScore(node=TextNode(id_="n", text=normans), score=0.5),
        NodeWithScore(node=TextNode(id_="o", text=other), score=0.4),
    ]
    query = "In what country is Normandy located?"
    dropped = HeadroomNodePostprocessor(store="memory").postprocess_nodes(nodes, query_str=query)
    assert [n.node_id for n in dropped] == ["n"]
    kept = HeadroomNodePostprocessor(store="memory", drop_irrelevant=False).postprocess_nodes(
        nodes, query_str=query
    )
    assert [n.node_id for n in kept] == ["n", "o"]
    assert kept[1].node.get_content() == other
    assert kept[1].node.metadata[METADATA_KEY]["relevant"] is False
    # What the batch costs after pruning includes the node sent whole.
    assert kept[1].node.metadata[METADATA_KEY]["tokens_after"] > count_tokens(other)
    assert kept[1].node.metadata[METADATA_KEY]["tokens_after"] == dropped[0].node.metadata[
        METADATA_KEY
    ]["tokens_after"] + count_tokens(other)


def test_when_nothing_matches_the_top_nodes_are_kept_whole(
    squad_articles: list[dict[str, Any]],
) -> None:
    texts = [p["context"] for p in squad_articles[1]["paragraphs"][:3]]
    nodes = [NodeWithScore(node=TextNode(id_=str(i), text=t)) for i, t in enumerate(texts)]
    query = "zebra migration xylophone"
    out = HeadroomNodePostprocessor(store="memory").postprocess_nodes(nodes, query_str=query)
    assert [(n.node_id, n.node.get_content()) for n in out] == [("0", texts[0])]
    pp = HeadroomNodePostprocessor(store="memory", min_nodes=0)
    assert pp.postprocess_nodes(nodes, query_str=query) == []


def test_nodes_without_text_pass_through_in_place(squad_articles: list[dict[str, Any]]) -> None:
    text = squad_articles[0]["paragraphs"][0]["context"] * 3
    empty = NodeWithScore(node=TextNode(id_="e", text=""), score=0.1)
    nodes = [empty, NodeWithScore(node=TextNode(id_="t", text=text), score=0.2)]
    out = HeadroomNodePostprocessor(store="memory").postprocess_nodes(
        nodes, query_str="Normandy France"
    )
    assert out[0] is empty
    assert out[1].node_id == "t" and len(out[1].node.get_content()) < len(text)


def test_invalid_options_are_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="target_ratio"):
        HeadroomNodePostprocessor(target_ratio=0)
    with pytest.raises(ValueError, match="scorer"):
        HeadroomNodePostprocessor(scorer="tfidf")  # type: ignore[arg-type]


def test_async_queries_prune_like_sync_ones(
    squad_index: VectorStoreIndex, squad_questions: Questions
) -> None:
    _, pruned = _engines(squad_index, HeadroomNodePostprocessor(store="memory"))

    async def run() -> list[str]:
        responses = await asyncio.gather(*(pruned.aquery(q) for q, _ in squad_questions[:5]))
        return [str(r) for r in responses]

    assert asyncio.run(run()) == [str(pruned.query(q)) for q, _ in squad_questions[:5]]


def test_retriever_query_engine_chat_engine_and_retriever_tool(
    squad_index: VectorStoreIndex, squad_questions: Questions
) -> None:
    pp = HeadroomNodePostprocessor(store="memory")
    retriever = squad_index.as_retriever(similarity_top_k=4)
    # Engine wiring, not pruning quality (tested above): a question whose answer the
    # retriever finds and the pruner keeps.
    for question, answers in squad_questions:
        nodes = retriever.retrieve(question)
        full = "\n".join(n.node.get_content() for n in nodes)
        kept = "\n".join(n.node.get_content() for n in pp.postprocess_nodes(nodes, None, question))
        if any(a in kept for a in answers):
            break

    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(), node_postprocessors=[pp])
    response = engine.query(question)
    assert all(METADATA_KEY in n.node.metadata for n in response.source_nodes)
    assert any(a in str(response) for a in answers)

    llm = _PromptRecorder()
    chat = squad_index.as_chat_engine(
        chat_mode="context", llm=llm, similarity_top_k=4, node_postprocessors=[pp]
    )
    chat.chat(question)
    system = llm.prompts[-1]
    assert any(a in system for a in answers)
    assert count_tokens(system) < count_tokens(full)

    tool = RetrieverTool.from_defaults(retriever, node_postprocessors=[pp])
    output = tool.call(input=question)
    assert any(a in output.content for a in answers)
    assert count_tokens(output.content) < count_tokens(full)


def test_instrumentation_counts_each_querys_prompt_and_savings(
    squad_index: VectorStoreIndex,
    squad_questions: Questions,
    events: Any,
    handler: HeadroomEventHandler,
) -> None:
    _, pruned = _engines(squad_index, HeadroomNodePostprocessor(store="memory"))
    prompts = [str(pruned.query(q)) for q, _ in squad_questions[:3]]
    compressions = events.headroom
    assert [e.component for e in compressions] == ["node_postprocessor"] * 3
    assert [q.query for q in handler.queries] == [q for q, _ in squad_questions[:3]]
    for query, prompt, event in zip(handler.queries, prompts, compressions, strict=True):
        assert query.done
        assert query.usage.llm_calls == 1
        # The prompt travels as one user message to the completion model.
        assert query.usage.tokens_sent == count_tokens(prompt)
        assert query.usage.tokens_saved == event.tokens_saved > 0
    total = handler.usage
    assert total.tokens_saved == sum(e.tokens_saved for e in compressions)
    assert total.saved_by_component == {"node_postprocessor": total.tokens_saved}


class _PromptRecorder(MockLLM):
    """MockLLM that keeps every prompt it completes (chat calls arrive as prompts)."""

    prompts: list[str] = Field(default_factory=list)

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        self.prompts.append(prompt)
        return super().complete(prompt, formatted=formatted, **kwargs)


def test_options_are_checked_when_set_and_take_effect_on_the_next_call(
    squad_articles: list[dict[str, Any]],
) -> None:
    from headroom import InvalidArgumentError

    paragraphs = squad_articles[0]["paragraphs"][:5]
    query = paragraphs[0]["qas"][0]["question"]

    def nodes() -> list[NodeWithScore]:
        return [NodeWithScore(node=TextNode(text=p["context"]), score=1.0) for p in paragraphs]

    pp = HeadroomNodePostprocessor(store="memory", target_ratio=0.3)

    def size() -> int:
        out = pp.postprocess_nodes(nodes(), query_str=query)
        return sum(len(n.node.get_content()) for n in out)

    small = size()
    with pytest.raises(InvalidArgumentError, match=r"target_ratio: expected a number"):
        pp.target_ratio = 3
    assert pp.target_ratio == 0.3  # a refused value is not kept
    with pytest.raises(ValueError, match="min_nodes"):
        pp.min_nodes = -1
    pp.target_ratio = 0.9  # set after the first call: used by the next one
    assert size() > 2 * small
