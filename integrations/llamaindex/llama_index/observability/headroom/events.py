"""The instrumentation event every headroom component emits, and how it is emitted.

Events go through LlamaIndex's dispatcher tree (this module's dispatcher propagates to the
root dispatcher), so any ``BaseEventHandler`` on the root sees them next to LlamaIndex's
own query, retrieval and LLM events; ``HeadroomEventHandler`` (in
``llama_index.observability.headroom``) adds them up.
"""

from __future__ import annotations

from typing import Literal

from headroom import TextResult
from llama_index.core.bridge.pydantic import Field
from llama_index.core.instrumentation.events import BaseEvent
from llama_index_instrumentation import get_dispatcher

__all__ = ["Component", "HeadroomCompressionEvent", "emit", "emit_result"]

dispatcher = get_dispatcher(__name__)

Component = Literal["node_postprocessor", "tool", "memory", "memory_block"]
"""Which headroom component compressed something."""


class HeadroomCompressionEvent(BaseEvent):
    """Something headroom compressed: where, how much, and how to get the original back.

    Attributes:
        component: which component did it.
        name: what it compressed (a tool's name, a memory block's name, "nodes").
        tokens_before: tokens of the input.
        tokens_after: tokens of what replaced it.
        handles: CCR handles that return the originals (``headroom_retrieve``).
        transforms: the transforms applied (e.g. ``json.tables``, ``text.prune``).
    """

    component: Component
    name: str = ""
    tokens_before: int
    tokens_after: int
    handles: list[str] = Field(default_factory=list)
    transforms: list[str] = Field(default_factory=list)

    @property
    def tokens_saved(self) -> int:
        """``tokens_before - tokens_after``."""
        return self.tokens_before - self.tokens_after

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomCompressionEvent"


def emit(event: HeadroomCompressionEvent) -> None:
    """Send ``event`` to every handler on this dispatcher and its ancestors."""
    dispatcher.event(event)


def emit_result(component: Component, name: str, result: TextResult) -> None:
    """Emit the event for one :class:`headroom.TextResult`, if it changed anything."""
    if not result.changed:
        return
    emit(
        HeadroomCompressionEvent(
            component=component,
            name=name,
            tokens_before=result.tokens_before,
            tokens_after=result.tokens_after,
            handles=list(result.handles),
            transforms=list(result.transforms_applied),
        )
    )
