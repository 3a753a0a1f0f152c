"""Headroom instrumentation for LlamaIndex: tokens sent and saved, per query and in all."""

from llama_index.observability.headroom.base import (
    HeadroomEventHandler,
    QueryUsage,
    Usage,
    instrument,
)
from llama_index.observability.headroom.events import HeadroomCompressionEvent

__all__ = ["HeadroomCompressionEvent", "HeadroomEventHandler", "QueryUsage", "Usage", "instrument"]
