"""``HeadroomDocumentCompressor``: query-aware pruning of retrieved documents."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal

from headroom import Headroom, PrunerConfig, Store, TextPruner
from headroom.tools import client_for
from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import ConfigDict, Field, PrivateAttr

from langchain_headroom._common import META_KEY

__all__ = ["HeadroomDocumentCompressor"]


class HeadroomDocumentCompressor(BaseDocumentCompressor):
    """Keep the sentences of retrieved documents that answer the query; drop the rest.

    Runs headroom's ``TextPruner``: exact and near-duplicate documents are dropped, every
    sentence is scored against the query (BM25 by default), and the best ones are kept
    within the budget, in their original order. Documents left with no sentence are
    dropped, but at least ``min_docs`` (1) come back: when the query matches no document
    the first ``min_docs`` are returned unpruned, and when fewer are left the next dropped
    ones are added whole (``min_docs=0`` allows an empty answer). Each returned document is
    a new ``Document`` with the same ``id`` and metadata plus ``metadata["headroom"]``
    (sentences kept/total, the batch's token counts and the handle that returns the
    original batch); input documents are never mutated.

    Use it in LCEL after a retriever, e.g.
    ``RunnableLambda(lambda q: compressor.compress_documents(retriever.invoke(q), q))``.

    Example:
        >>> from langchain_core.documents import Document
        >>> docs = [
        ...     Document("Paris is the capital of France. It has 2.1 million people. "
        ...              "The Seine flows through it. Paris hosts many museums.",
        ...              metadata={"source": "a"}),
        ...     Document("Bananas are yellow. They grow in warm places. Monkeys eat them. "
        ...              "Plantains are cooked. Farmers ship them far away.",
        ...              metadata={"source": "b"}),
        ... ]
        >>> out = HeadroomDocumentCompressor(store="memory", target_ratio=0.5).compress_documents(
        ...     docs, "capital of France")
        >>> [(d.metadata["source"], d.page_content) for d in out]
        [('a', 'Paris is the capital of France. It has 2.1 million people.')]
    """

    # Options are checked when set as well as at construction, and a change takes effect
    # on the next call.
    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=True)

    scorer: Literal["bm25", "bi-encoder", "cross-encoder", "hybrid"] = Field(
        default="bm25",
        description="Relevance scorer; the neural ones need headroom-ctx's neural extra.",
    )
    target_ratio: float = Field(default=0.3, description="Share of the input tokens to keep.")
    token_budget: int | None = Field(
        default=None, description="Keep at most this many tokens instead of target_ratio."
    )
    context_window: int = Field(default=1, description="Sentences kept around each top hit.")
    dedup: bool = Field(default=True, description="Drop exact and near-duplicate documents.")
    min_docs: int = Field(
        default=1,
        ge=0,
        description="Return at least this many documents (unpruned when the query matches "
        "none); 0 allows an empty list.",
    )
    headroom: Headroom | None = Field(
        default=None, description="Client whose store keeps the originals (for retrieval)."
    )
    store: Store | str | None = Field(
        default=None, description="Where originals go when no client is given."
    )

    _config: PrunerConfig = PrivateAttr()
    _pruner: TextPruner | None = PrivateAttr(default=None)
    _pruner_config: PrunerConfig | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        """Check the pruning options when the compressor is made."""
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
            self._pruner = None  # the next call uses the new client's store

    def _get_pruner(self) -> TextPruner:
        # Built on first use (a neural scorer loads its model then, not at construction),
        # and again when an option changed since.
        if self._pruner is None or self._pruner_config != self._config:
            self._pruner = client_for(self.headroom, store=self.store).pruner(self._config)
            self._pruner_config = self._config
        return self._pruner

    def compress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """Prune ``documents`` for ``query``; returns new documents, input order kept."""
        if not documents:
            return []
        items: list[dict[str, Any]] = [{"text": d.page_content} for d in documents]
        result = self._get_pruner().prune(items, query)
        batch = {
            "tokens_before": result.tokens_before,
            "tokens_after": result.tokens_after,
            "handles": list(result.handles),
        }
        # When nothing matched, the retriever's ranking picks what is sent, not the lead.
        pruned = {} if result.lead else {c.index: c for c in result.chunks}
        spare = [
            c.index
            for c in sorted(
                (*result.dropped, *(result.chunks if result.lead else ())), key=lambda c: c.index
            )
            if c.duplicate_of is None
        ]
        whole = set(spare[: max(0, self.min_docs - len(pruned))])
        out: list[Document] = []
        for index, original in enumerate(documents):
            chunk = pruned.get(index)
            if chunk is not None:
                text = chunk.text
                stats: dict[str, Any] = {
                    "compressed": chunk.kept < chunk.total,
                    "sentences_kept": chunk.kept,
                    "sentences_total": chunk.total,
                    **batch,
                }
            elif index in whole:
                text = original.page_content
                stats = {"compressed": False, "relevant": False, **batch}
            else:
                continue
            out.append(
                Document(
                    page_content=text,
                    metadata={**original.metadata, META_KEY: stats},
                    id=original.id,
                )
            )
        return out

    async def acompress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """Async twin of :meth:`compress_documents` (runs it in a worker thread)."""
        return await asyncio.to_thread(self.compress_documents, documents, query, callbacks)
