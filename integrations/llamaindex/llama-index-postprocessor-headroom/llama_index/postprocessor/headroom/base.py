"""``HeadroomNodePostprocessor``: query-aware pruning of retrieved nodes."""

from __future__ import annotations

from typing import Any, Literal

from headroom import Headroom, PrunerConfig, Store, TextPruner, count_tokens
from headroom.tools import client_for
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode

from llama_index.utils.headroom.events import HeadroomCompressionEvent, emit

__all__ = ["METADATA_KEY", "HeadroomNodePostprocessor"]

METADATA_KEY = "headroom"
"""Metadata key under which a pruned node records what was done to it (hidden from the LLM
and from embeddings)."""


class HeadroomNodePostprocessor(BaseNodePostprocessor):
    """Keep the sentences of retrieved nodes that answer the query; drop the rest.

    Runs headroom's ``TextPruner`` over the nodes' texts as one batch: exact and near-duplicate
    nodes are dropped, every sentence is scored against the query (BM25 by default, or a
    local bi-/cross-encoder), and the best sentences are kept within the token budget, in
    their original order. Nodes left with no relevant sentence are dropped
    (``drop_irrelevant=False`` keeps them unpruned instead); when the query matches no node
    at all, the retriever's top ``min_nodes`` are kept unpruned, so the LLM is still asked.

    Nodes are copies: the docstore, the vector store and the caller's nodes are never
    mutated. Ids, scores, relationships and metadata are kept; ``metadata["headroom"]``
    (excluded from the LLM prompt and from embeddings) records sentences kept/total, the
    batch's token counts and the handle that returns the original texts. Without a query
    only duplicates are removed. A
    :class:`~llama_index.observability.headroom.HeadroomCompressionEvent` is emitted per batch.

    Works wherever LlamaIndex takes ``node_postprocessors``: ``index.as_query_engine(...)``,
    ``RetrieverQueryEngine``, chat engines, ``RetrieverTool``.

    Example:
        >>> from llama_index.core.schema import TextNode, NodeWithScore
        >>> nodes = [
        ...     NodeWithScore(node=TextNode(id_="a", text=(
        ...         "Paris is the capital of France. It has 2.1 million people. "
        ...         "The Seine flows through it. Paris hosts many museums.")), score=0.9),
        ...     NodeWithScore(node=TextNode(id_="b", text=(
        ...         "Bananas are yellow. They grow in warm places. Monkeys eat them. "
        ...         "Plantains are cooked. Farmers ship them far away.")), score=0.4),
        ... ]
        >>> pp = HeadroomNodePostprocessor(target_ratio=0.5, store="memory")
        >>> out = pp.postprocess_nodes(nodes, query_str="capital of France")
        >>> [(n.node_id, n.score, n.get_content()) for n in out]
        [('a', 0.9, 'Paris is the capital of France. It has 2.1 million people.')]
    """

    scorer: Literal["bm25", "bi-encoder", "cross-encoder", "hybrid"] = Field(
        default="bm25",
        description="Relevance scorer; the neural ones need headroom-ctx's neural extra.",
    )
    target_ratio: float = Field(
        default=0.3, gt=0, le=1, description="Share of the nodes' tokens to keep."
    )
    token_budget: int | None = Field(
        default=None, ge=0, description="Keep at most this many tokens instead of target_ratio."
    )
    context_window: int = Field(
        default=1, ge=0, description="Sentences kept either side of each top hit."
    )
    dedup: bool = Field(default=True, description="Drop exact and near-duplicate nodes.")
    drop_irrelevant: bool = Field(
        default=True,
        description="Drop nodes with no sentence relevant to the query; if False they are "
        "returned unpruned.",
    )
    min_nodes: int = Field(
        default=1,
        ge=0,
        description="When the query matches no node, keep this many of the retriever's top "
        "nodes unpruned, so the LLM still gets context to say what it can.",
    )
    model: str | None = Field(
        default=None,
        description="For neural scorers: a local model directory or installed model package.",
    )
    headroom: Headroom | None = Field(
        default=None,
        exclude=True,
        description="Client whose store keeps the originals (for headroom_retrieve).",
    )
    store: Store | str | None = Field(
        default=None, exclude=True, description="Where originals go when no client is given."
    )

    # Options are checked when set as well as at construction, and a change takes effect
    # on the next call.
    model_config = ConfigDict(validate_assignment=True)

    _config: PrunerConfig = PrivateAttr()
    _pruner: TextPruner | None = PrivateAttr(default=None)
    _pruner_config: PrunerConfig | None = PrivateAttr(default=None)
    _hr: Headroom | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        """Check the pruning options when the postprocessor is made."""
        super().model_post_init(context)
        self._config = PrunerConfig(**self._options())

    def _options(self, **changed: Any) -> dict[str, Any]:
        # The fields named like PrunerConfig options are those options.
        fields = type(self).model_fields
        options = {n: getattr(self, n) for n in PrunerConfig.field_names() if n in fields}
        return {**options, **{k: v for k, v in changed.items() if k in options}}

    def __setattr__(self, name: str, value: Any) -> None:
        """Check a pruning option before it is set (InvalidArgumentError names it)."""
        if name in PrunerConfig.field_names() and name in type(self).model_fields:
            config = PrunerConfig(**self._options(**{name: value}))
            super().__setattr__(name, value)
            self._config = config
            return
        super().__setattr__(name, value)
        if name in ("headroom", "store"):
            self._pruner = self._hr = None  # the next call uses the new client's store

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomNodePostprocessor"

    def _get_pruner(self) -> TextPruner:
        # Built on first use (a neural scorer loads its model then, not at construction),
        # and again when an option changed since.
        if self._pruner is None or self._pruner_config != self._config:
            self._pruner = self._client().pruner(self._config)
            self._pruner_config = self._config
        return self._pruner

    def _count(self, text: str) -> int:
        hr = self._client()
        return count_tokens(text, model=hr.model, token_counter=hr.config.token_counter)

    def _client(self) -> Headroom:
        if self._hr is None:
            self._hr = client_for(self.headroom, store=self.store)
        return self._hr

    def _postprocess_nodes(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None = None,
    ) -> list[NodeWithScore]:
        # Only text nodes are pruned; anything else (images without text, custom nodes)
        # passes through in its place.
        prunable = [i for i, n in enumerate(nodes) if isinstance(n.node, TextNode) and n.node.text]
        if not prunable:
            return list(nodes)
        prunable_set = set(prunable)
        query = query_bundle.query_str if query_bundle is not None else None
        texts = [nodes[i].node.get_content(metadata_mode=MetadataMode.NONE) for i in prunable]
        result = self._get_pruner().prune(texts, query)
        if not result.handles:  # nothing dropped: the nodes as they came
            return list(nodes)
        # When nothing matched, the pruner keeps the lead of the first text; here the
        # retriever's own ranking decides instead (min_nodes kept whole, below).
        kept = {} if result.lead else {prunable[c.index]: c for c in result.chunks}
        irrelevant = {
            prunable[c.index]
            for c in (*result.dropped, *(result.chunks if result.lead else ()))
            if c.duplicate_of is None
        }
        whole = set() if self.drop_irrelevant else irrelevant
        if not kept and self.drop_irrelevant:
            whole = set(sorted(irrelevant)[: self.min_nodes])
        # Nodes kept whole are sent whole: they count in what the batch costs after pruning.
        text_at = dict(zip(prunable, texts, strict=True))
        after = result.tokens_after + sum(self._count(text_at[i]) for i in whole)
        batch: dict[str, Any] = {
            "tokens_before": result.tokens_before,
            "tokens_after": after,
            "handles": list(result.handles),
        }
        out: list[NodeWithScore] = []
        for i, item in enumerate(nodes):
            chunk = kept.get(i)
            if chunk is not None:
                stats = {
                    "pruned": chunk.kept < chunk.total,
                    "sentences_kept": chunk.kept,
                    "sentences_total": chunk.total,
                    **batch,
                }
                out.append(_copy(item, chunk.text, stats))
            elif i in whole:
                out.append(_copy(item, None, {"pruned": False, "relevant": False, **batch}))
            elif i not in prunable_set:
                out.append(item)
        emit(
            HeadroomCompressionEvent(
                component="node_postprocessor",
                name="nodes",
                tokens_before=result.tokens_before,
                tokens_after=after,
                handles=list(result.handles),
                transforms=["text.prune"],
            )
        )
        return out


def _copy(item: NodeWithScore, text: str | None, stats: dict[str, Any]) -> NodeWithScore:
    """A new ``NodeWithScore`` over a copy of its node, with ``text`` and ``stats`` recorded."""
    node = item.node
    assert isinstance(node, TextNode)

    def hidden(keys: list[str]) -> list[str]:
        return keys if METADATA_KEY in keys else [*keys, METADATA_KEY]

    update: dict[str, Any] = {
        "metadata": {**node.metadata, METADATA_KEY: stats},
        "excluded_llm_metadata_keys": hidden(list(node.excluded_llm_metadata_keys)),
        "excluded_embed_metadata_keys": hidden(list(node.excluded_embed_metadata_keys)),
        "relationships": dict(node.relationships),
    }
    if text is not None:
        update["text"] = text
    return NodeWithScore(node=node.model_copy(update=update), score=item.score)
