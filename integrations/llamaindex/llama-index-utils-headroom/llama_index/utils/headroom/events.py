"""The instrumentation event every headroom component emits, and how it is emitted.

Events go through LlamaIndex's dispatcher tree (this module's dispatcher propagates to the
root dispatcher), so any ``BaseEventHandler`` on the root sees them next to LlamaIndex's
own query, retrieval and LLM events; ``HeadroomEventHandler`` (in
``llama_index.observability.headroom``) adds them up.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Literal

from headroom import TextResult
from llama_index.core.bridge.pydantic import Field
from llama_index.core.instrumentation.events import BaseEvent
from llama_index_instrumentation import get_dispatcher

__all__ = [
    "Component",
    "HeadroomCompressionEvent",
    "emit",
    "emit_result",
    "record_saving",
    "saving_in",
]

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
    per_call: bool = Field(
        default=False,
        description="The saving is counted in each LLM call that carries the compressed "
        "text (see record_saving), not when this event is emitted.",
    )

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
    """Emit the event for one :class:`headroom.TextResult`, if it changed anything.

    A tool's result is sent in every later LLM call of the run: its saving is recorded
    (:func:`record_saving`) and counted per call.
    """
    if not result.changed:
        return
    if component == "tool":
        record_saving(result.text, result.tokens_before - result.tokens_after, component)
    emit(
        HeadroomCompressionEvent(
            component=component,
            name=name,
            tokens_before=result.tokens_before,
            tokens_after=result.tokens_after,
            handles=list(result.handles),
            transforms=list(result.transforms_applied),
            per_call=component == "tool",
        )
    )


# What each compressed message text saves against what it stands for, by a digest of the
# text: LLM-call events carry messages, not marks, so the handler looks each one up here.
# Bounded, oldest first out; a text evicted counts as saving nothing.
_SAVINGS: OrderedDict[bytes, tuple[int, Component]] = OrderedDict()
_SAVINGS_LOCK = threading.Lock()
_SAVINGS_MAX = 100_000


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def record_saving(text: str, saved: int, component: Component) -> None:
    """Record that a message whose text is ``text`` saves ``saved`` tokens (negative when it
    costs more than what it replaced), against what it stands for as sent without headroom.
    """
    key = _digest(text)
    with _SAVINGS_LOCK:
        _SAVINGS[key] = (saved, component)
        _SAVINGS.move_to_end(key)
        while len(_SAVINGS) > _SAVINGS_MAX:
            _SAVINGS.popitem(last=False)


def saving_in(text: str) -> tuple[int, Component | None]:
    """What a message with text ``text`` saves, and which component made it (0, None: it
    is not a text headroom made)."""
    with _SAVINGS_LOCK:
        found = _SAVINGS.get(_digest(text))
    return (0, None) if found is None else found
