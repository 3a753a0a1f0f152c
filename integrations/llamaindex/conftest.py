"""Fixtures shared by the tests of every LlamaIndex distribution in this folder.

Each distribution's ``pyproject.toml`` runs pytest with ``--confcutdir=..`` so that this file
(one level above its ``tests/``) is loaded: real data from the benchmark corpus, a local
deterministic embedding and a SQuAD index over it, and collectors on LlamaIndex's dispatcher.
"""

from __future__ import annotations

import json
import math
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import Field
from llama_index.core.node_parser import SentenceSplitter
from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.base import BaseEvent
from llama_index_instrumentation.event_handlers.base import BaseEventHandler

from llama_index.utils.headroom.events import HeadroomCompressionEvent

# ../shared/bench-data next to the repository, as the root Makefile's DATA.
DATA = Path(
    os.environ.get(
        "HEADROOM_BENCH_DATA", Path(__file__).resolve().parents[2] / "../shared/bench-data"
    )
).resolve()


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"benchmark data not found: {path} (set HEADROOM_BENCH_DATA)")
    return path


@pytest.fixture
def log_text() -> str:
    """The first 80k characters of loghub's HDFS_2k.log."""
    return _require(DATA / "loghub" / "HDFS_2k.log").read_text()[:80_000]


@pytest.fixture
def json_text() -> str:
    """GitHub's issues API response for rails_admin (30 issues)."""
    return _require(DATA / "json" / "gh_issues_rails_admin.json").read_text()


# -- retrieval over real documents ------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = """a an and are as at be by for from has have in is it its of on or that the to
was were which with what who when where how did does do this"""
_STOP = frozenset(_STOPWORDS.split())


class HashingEmbedding(BaseEmbedding):
    """A local, deterministic embedding: hashed bag of words, L2-normalised.

    LlamaIndex's ``MockEmbedding`` returns one constant vector, so every node ties and
    retrieval is arbitrary; this one ranks by shared words, which is enough to retrieve
    SQuAD's gold paragraph for most questions without downloading a model.
    """

    dim: int = 1024

    @classmethod
    def class_name(cls) -> str:
        return "HashingEmbedding"

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in _WORD.findall(text.lower()):
            if word not in _STOP:
                vec[zlib.crc32(word.encode()) % self.dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture(scope="session")
def squad_articles() -> list[dict[str, Any]]:
    """The first three SQuAD 2.0 dev articles: paragraphs with questions and gold answers."""
    data = json.loads(_require(DATA / "squad" / "dev-v2.0.json").read_text())
    return list(data["data"][:3])


@pytest.fixture(scope="session")
def squad_index(squad_articles: list[dict[str, Any]]) -> VectorStoreIndex:
    """A real VectorStoreIndex with one node per SQuAD paragraph."""
    docs = [
        Document(
            text=p["context"],
            id_=f"{a['title']}-{i}",
            metadata={"title": a["title"], "paragraph": i},
        )
        for a in squad_articles
        for i, p in enumerate(a["paragraphs"])
    ]
    return VectorStoreIndex.from_documents(
        docs,
        embed_model=HashingEmbedding(),
        transformations=[SentenceSplitter(chunk_size=1024, chunk_overlap=0)],
    )


@pytest.fixture(scope="session")
def squad_questions(squad_articles: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Answerable questions of the first article, with their gold answer texts."""
    out = []
    for p in squad_articles[0]["paragraphs"]:
        for qa in p["qas"]:
            if not qa["is_impossible"]:
                out.append((qa["question"], [a["text"] for a in qa["answers"]]))
    return out


class EventCollector(BaseEventHandler):
    """Keeps every instrumentation event it is sent."""

    events: list[BaseEvent] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomTestCollector"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)

    @property
    def headroom(self) -> list[HeadroomCompressionEvent]:
        """The headroom compression events among them, in order."""
        return [e for e in self.events if isinstance(e, HeadroomCompressionEvent)]


@pytest.fixture
def events() -> Iterator[EventCollector]:
    """A collector on LlamaIndex's root dispatcher, removed afterwards."""
    dispatcher = get_dispatcher()
    collector = EventCollector()
    dispatcher.add_event_handler(collector)
    try:
        yield collector
    finally:
        dispatcher.event_handlers.remove(collector)


@pytest.fixture
def handler() -> Iterator[Any]:
    """A HeadroomEventHandler registered on the root dispatcher, removed afterwards.

    Needs llama-index-observability-headroom (in the `test` extra of the distributions
    whose tests use this fixture).
    """
    from llama_index.observability.headroom import HeadroomEventHandler, instrument

    handler = instrument(HeadroomEventHandler())
    try:
        yield handler
    finally:
        get_dispatcher().event_handlers.remove(handler)


@pytest.fixture(scope="session")
def bench_data() -> Path:
    """The benchmark corpus directory (the test is skipped when it is missing)."""
    return _require(DATA)
