"""The package's public surface: namespace imports, pinned names, LlamaIndex serialisation."""

from __future__ import annotations

import subprocess
import sys

import llama_index.memory.headroom as memory_pkg
import llama_index.observability.headroom as observability_pkg
import llama_index.postprocessor.headroom as postprocessor_pkg
import llama_index.tools.headroom as tools_pkg
from llama_index.memory.headroom import HeadroomMemory, HeadroomMemoryBlock
from llama_index.postprocessor.headroom import HeadroomNodePostprocessor


def test_public_names_are_pinned() -> None:
    assert postprocessor_pkg.__all__ == ["METADATA_KEY", "HeadroomNodePostprocessor"]
    assert memory_pkg.__all__ == ["HeadroomMemory", "HeadroomMemoryBlock"]
    assert set(observability_pkg.__all__) == {
        "HeadroomCompressionEvent",
        "HeadroomEventHandler",
        "QueryUsage",
        "Usage",
        "instrument",
    }
    assert {"compress_tool", "headroom_callback", "make_retrieve_tool"} <= set(tools_pkg.__all__)


def test_llamaindex_core_is_still_importable_next_to_the_namespace_leaves() -> None:
    code = (
        "import llama_index.core, llama_index.postprocessor.headroom, llama_index.tools.headroom;"
        "from llama_index.core.postprocessor import SimilarityPostprocessor; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_components_serialise_like_other_llamaindex_components() -> None:
    pp = HeadroomNodePostprocessor(target_ratio=0.4, context_window=2, store="memory")
    data = pp.to_dict()
    assert data["class_name"] == "HeadroomNodePostprocessor"
    assert "store" not in data and "headroom" not in data  # clients are not serialisable
    again = HeadroomNodePostprocessor.from_dict(data)
    assert (again.target_ratio, again.context_window) == (0.4, 2)

    memory = HeadroomMemory.from_defaults(max_messages=10, store="memory")
    assert memory.to_dict()["class_name"] == "HeadroomMemory"
    assert HeadroomMemoryBlock(store="memory").name == "headroom_history"
