"""The package's public surface: pinned names and version."""

from __future__ import annotations

from importlib.metadata import version

import llama_index.tools.headroom as tools_pkg


def test_public_names_are_pinned() -> None:
    assert tools_pkg.__all__ == [
        "RETRIEVE_TOOL_NAME",
        "HeadroomTool",
        "compress_tool",
        "headroom_callback",
        "make_retrieve_tool",
    ]
    assert tools_pkg.__version__ == version("llama-index-tools-headroom")
