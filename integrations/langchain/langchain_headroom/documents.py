"""``HeadroomDocumentCompressor``: query-aware pruning of retrieved documents."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal

from headroom import Headroom, Store, TextPruner
from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import ConfigDict, Field, PrivateAttr

from langchain_headroom._common import META_KEY, make_headroom

__all__ = ["HeadroomDocumentCompressor"]


class HeadroomDocumentCompressor(BaseDocumentCompressor):
    """Keep the sentences of retrieved documents that answer the query; drop the rest.

    Runs headroom's ``TextPruner``: exact and near-duplicate documents are dropped, every
    sentence is scored against the query (BM25 by default), and the best ones are kept
    within the budget, in their original order. Documents left with no sentence are
    dropped. Each returned document is a new ``Document`` with the same ``id`` and
    metadata plus ``metadata["headroom"]`` (sentences kept/total, the batch's token counts
    and the handle that returns the original batch); input documents are never mutated.

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
        [('a', 'Paris is the capital of France.')]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

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
    headroom: Headroom | None = Field(
        default=None, description="Client whose store keeps the originals (for retrieval)."
    )
    store: Store | str | None = Field(
        default=None, description="Where originals go when no client is given."
    )

    _pruner: TextPruner | None = PrivateAttr(default=None)

    def _get_pruner(self) -> TextPruner:
        # Built on first use: a neural scorer loads its model then, not at construction.
        if self._pruner is None:
            hr = make_headroom(self.headroom, None, self.store, "gpt-4o")
            self._pruner = TextPruner(
                scorer=self.scorer,
                target_ratio=self.target_ratio,
                token_budget=self.token_budget,
                context_window=self.context_window,
                dedup=self.dedup,
                store=hr.store,
            )
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
        out: list[Document] = []
        for chunk in result.chunks:
            original = documents[chunk.index]
            stats = {
                "compressed": chunk.kept < chunk.total,
                "sentences_kept": chunk.kept,
                "sentences_total": chunk.total,
                **batch,
            }
            out.append(
                Document(
                    page_content=chunk.text,
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
