"""Headroom tools for LlamaIndex: compressed tool output, and the tool that gets originals back."""

from importlib.metadata import PackageNotFoundError, version

from llama_index.tools.headroom.base import (
    RETRIEVE_TOOL_NAME,
    HeadroomTool,
    compress_tool,
    headroom_callback,
    make_retrieve_tool,
)

try:
    __version__ = version("llama-index-tools-headroom")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = [
    "RETRIEVE_TOOL_NAME",
    "HeadroomTool",
    "compress_tool",
    "headroom_callback",
    "make_retrieve_tool",
]
