"""Shared pieces of ``llama-index-headroom``: the compression event and message plumbing.

The user-facing components are in ``llama_index.postprocessor.headroom``,
``llama_index.memory.headroom``, ``llama_index.tools.headroom`` and
``llama_index.observability.headroom``.
"""

from llama_index.utils.headroom._common import make_headroom
from llama_index.utils.headroom.events import Component, HeadroomCompressionEvent, emit, emit_result
from llama_index.utils.headroom.messages import last_user_text, message_text, to_dicts, with_texts

__all__ = [
    "Component",
    "HeadroomCompressionEvent",
    "emit",
    "emit_result",
    "last_user_text",
    "make_headroom",
    "message_text",
    "to_dicts",
    "with_texts",
]
