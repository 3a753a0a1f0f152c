"""Shared pieces of ``llama-index-headroom``: the compression event and message plumbing.

The user-facing components are in ``llama_index.postprocessor.headroom``,
``llama_index.memory.headroom``, ``llama_index.tools.headroom`` and
``llama_index.observability.headroom``.
"""

from llama_index.utils.headroom._common import make_headroom
from llama_index.utils.headroom.events import Component, HeadroomCompressionEvent, emit, emit_result
from llama_index.utils.headroom.messages import to_dicts, with_texts

__all__ = [
    "Component",
    "HeadroomCompressionEvent",
    "emit",
    "emit_result",
    "make_headroom",
    "to_dicts",
    "with_texts",
]
