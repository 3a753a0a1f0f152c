"""The package's public surface: pinned names, version, LlamaIndex serialisation."""

from __future__ import annotations

from importlib.metadata import version

import llama_index.postprocessor.headroom as postprocessor_pkg
from llama_index.postprocessor.headroom import HeadroomNodePostprocessor


def test_public_names_are_pinned() -> None:
    assert postprocessor_pkg.__all__ == ["METADATA_KEY", "HeadroomNodePostprocessor"]
    assert postprocessor_pkg.__version__ == version("llama-index-postprocessor-headroom")


def test_the_postprocessor_serialises_like_other_llamaindex_components() -> None:
    pp = HeadroomNodePostprocessor(target_ratio=0.4, context_window=2, store="memory")
    data = pp.to_dict()
    assert data["class_name"] == "HeadroomNodePostprocessor"
    assert "store" not in data and "headroom" not in data  # clients are not serialisable
    again = HeadroomNodePostprocessor.from_dict(data)
    assert (again.target_ratio, again.context_window) == (0.4, 2)
