"""Headroom tools for LlamaIndex: compressed tool output, and the tool that gets originals back."""

from llama_index.tools.headroom.base import (
    RETRIEVE_TOOL_NAME,
    HeadroomTool,
    compress_tool,
    headroom_callback,
    make_retrieve_tool,
)

__all__ = [
    "RETRIEVE_TOOL_NAME",
    "HeadroomTool",
    "compress_tool",
    "headroom_callback",
    "make_retrieve_tool",
]
