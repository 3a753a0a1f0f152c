"""The package's public surface: pinned names, version, LlamaIndex serialisation."""

from __future__ import annotations

from importlib.metadata import version

import llama_index.memory.headroom as memory_pkg
from llama_index.memory.headroom import HeadroomMemory, HeadroomMemoryBlock


def test_public_names_are_pinned() -> None:
    assert memory_pkg.__all__ == ["HeadroomMemory", "HeadroomMemoryBlock"]
    assert memory_pkg.__version__ == version("llama-index-memory-headroom")


def test_memories_serialise_like_other_llamaindex_components() -> None:
    memory = HeadroomMemory.from_defaults(max_messages=10, store="memory")
    assert memory.to_dict()["class_name"] == "HeadroomMemory"
    assert HeadroomMemoryBlock(store="memory").name == "headroom_history"
