"""LangChain's standard test suites (``langchain-tests``) on our components, over real data.

* ``ToolsUnitTests`` / ``ToolsIntegrationTests`` on :class:`HeadroomTool` (what
  :func:`compress_tool` returns) around a real tool reading the HDFS LogHub log.
* ``RetrieversIntegrationTests`` on a ``ContextualCompressionRetriever`` (``langchain-classic``)
  built on :class:`HeadroomDocumentCompressor` over an in-memory keyword retriever of SQuAD 2.0
  paragraphs.

Needs the ``test`` extra (``pip install -e 'integrations/langchain[test]'``).
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import pytest
from conftest import DATA
from headroom import Headroom
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import ToolMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, tool
from langchain_tests.integration_tests import RetrieversIntegrationTests, ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_headroom import HeadroomDocumentCompressor, HeadroomTool, compress_tool

# --- the tool ---------------------------------------------------------------------------------


@cache
def _log_lines() -> tuple[str, ...]:
    path = DATA / "loghub" / "HDFS_2k.log"
    if not path.exists():
        pytest.skip(f"benchmark data not found: {path} (set HEADROOM_BENCH_DATA)")
    return tuple(path.read_text().splitlines())


@tool
def read_log(component: str, limit: int = 400) -> str:
    """Read up to `limit` lines of the HDFS cluster log mentioning `component`."""
    lines = [line for line in _log_lines() if component in line]
    return "\n".join(lines[:limit])


_TOOL_ARGS = {"component": "dfs.DataNode$PacketResponder", "limit": 400}


class TestHeadroomToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[HeadroomTool]:
        return HeadroomTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"tool": read_log, "headroom": Headroom(store="memory")}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return dict(_TOOL_ARGS)


class TestHeadroomToolIntegration(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> BaseTool:
        return compress_tool(read_log, store="memory")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return dict(_TOOL_ARGS)


def test_wrapped_tool_really_compresses_the_standard_example() -> None:
    wrapped = compress_tool(read_log, store="memory", original_as_artifact=True)
    original = read_log.invoke(_TOOL_ARGS)
    msg = wrapped.invoke({"name": "read_log", "args": _TOOL_ARGS, "id": "c1", "type": "tool_call"})
    assert isinstance(msg, ToolMessage)
    assert msg.artifact == original
    meta = msg.response_metadata["headroom"]
    assert meta["tokens_after"] < meta["tokens_before"]


# --- the retriever ----------------------------------------------------------------------------


@cache
def _squad_docs() -> tuple[Document, ...]:
    path = DATA / "squad" / "dev-v2.0.json"
    if not path.exists():
        pytest.skip(f"benchmark data not found: {path} (set HEADROOM_BENCH_DATA)")
    articles = json.loads(path.read_text())["data"][:1]  # the Normans article
    return tuple(
        Document(p["context"], id=f"{a['title']}-{i}", metadata={"title": a["title"], "para": i})
        for a in articles
        for i, p in enumerate(a["paragraphs"])
    )


def _words(text: str) -> set[str]:
    return {w.strip("?.,;:()\"'").lower() for w in text.split()} - {""}


class KeywordRetriever(BaseRetriever):
    """The ``k`` documents whose words best match the query, rarer words weighing more."""

    docs: list[Document]
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        bags = [_words(d.page_content) for d in self.docs]
        n = len(bags)

        def score(bag: set[str]) -> float:
            return sum(math.log(n / sum(w in b for b in bags)) for w in _words(query) if w in bag)

        ranked = sorted(range(n), key=lambda i: -score(bags[i]))
        return [self.docs[i] for i in ranked[: k or self.k]]


def compressed_squad_retriever(k: int = 4) -> ContextualCompressionRetriever:
    """``ContextualCompressionRetriever`` = keyword retriever + Headroom's compressor."""
    return ContextualCompressionRetriever(
        base_compressor=HeadroomDocumentCompressor(store="memory", target_ratio=0.5),
        base_retriever=KeywordRetriever(docs=list(_squad_docs()), k=k),
    )


class TestCompressedRetrieverIntegration(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        # The standard suite calls this with ``k=``; the factory builds the real
        # ContextualCompressionRetriever (which has no ``k`` of its own).
        return compressed_squad_retriever  # type: ignore[return-value]

    @property
    def retriever_query_example(self) -> str:
        return "Who was the duke in the battle of Hastings?"


def test_compression_retriever_prunes_and_keeps_the_answer() -> None:
    question = "Who was the duke in the battle of Hastings?"
    base = KeywordRetriever(docs=list(_squad_docs()), k=4)
    before = base.invoke(question)
    after = compressed_squad_retriever(k=4).invoke(question)
    assert isinstance(compressed_squad_retriever(), ContextualCompressionRetriever)
    assert "William" in " ".join(d.page_content for d in after)
    assert sum(len(d.page_content) for d in after) < sum(len(d.page_content) for d in before)
    assert {d.id for d in after} <= {d.id for d in before}
    assert all("headroom" in d.metadata for d in after)
