"""What the Headroom LlamaIndex integrations share.

* :mod:`~llama_index.utils.headroom.events` — the :class:`HeadroomCompressionEvent` every
  headroom component emits on LlamaIndex's instrumentation dispatcher, and the per-text
  savings registry ``HeadroomEventHandler`` reads to count tokens saved per LLM call. One
  module for all components, so emitters and the handler share one registry.
* :mod:`~llama_index.utils.headroom.messages` — LlamaIndex ``ChatMessage`` to and from the
  OpenAI-shaped dicts headroom compresses.

Installed as a dependency of ``llama-index-postprocessor-headroom``,
``llama-index-memory-headroom``, ``llama-index-tools-headroom`` and
``llama-index-observability-headroom``; nothing here is needed directly.
"""

from importlib.metadata import PackageNotFoundError, version

from llama_index.utils.headroom.events import (
    Component,
    HeadroomCompressionEvent,
    emit,
    emit_result,
    record_saving,
    saving_in,
)
from llama_index.utils.headroom.messages import to_dicts, with_texts

try:
    __version__ = version("llama-index-utils-headroom")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = [
    "Component",
    "HeadroomCompressionEvent",
    "emit",
    "emit_result",
    "record_saving",
    "saving_in",
    "to_dicts",
    "with_texts",
]
