"""Headroom memory for LlamaIndex: compressed chat memory and a condensing memory block."""

from importlib.metadata import PackageNotFoundError, version

from llama_index.memory.headroom.block import HeadroomMemoryBlock
from llama_index.memory.headroom.memory import HeadroomMemory

try:
    __version__ = version("llama-index-memory-headroom")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = ["HeadroomMemory", "HeadroomMemoryBlock"]
