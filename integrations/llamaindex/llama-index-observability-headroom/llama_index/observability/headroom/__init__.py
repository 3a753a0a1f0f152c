"""Headroom instrumentation for LlamaIndex: tokens sent and saved, per query and in all."""

from importlib.metadata import PackageNotFoundError, version

from llama_index.observability.headroom.base import (
    HeadroomEventHandler,
    QueryUsage,
    Usage,
    instrument,
)
from llama_index.utils.headroom.events import HeadroomCompressionEvent

try:
    __version__ = version("llama-index-observability-headroom")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = ["HeadroomCompressionEvent", "HeadroomEventHandler", "QueryUsage", "Usage", "instrument"]
