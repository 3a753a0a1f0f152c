"""Headroom memory for LlamaIndex: compressed chat memory and a condensing memory block."""

from llama_index.memory.headroom.block import HeadroomMemoryBlock
from llama_index.memory.headroom.memory import HeadroomMemory

__all__ = ["HeadroomMemory", "HeadroomMemoryBlock"]
