"""What the Headroom LlamaIndex packages share: messages as headroom sees them, and events.

Converts LlamaIndex chat messages to the OpenAI-shaped dicts headroom compresses, compresses
them, and shows the HeadroomCompressionEvent any handler on LlamaIndex's dispatcher receives.
Runs offline (no LLM, no API key):

    python examples/events.py
"""

from __future__ import annotations

from typing import Any

from headroom import Headroom
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.base import BaseEvent
from llama_index_instrumentation.event_handlers.base import BaseEventHandler

from llama_index.utils.headroom import HeadroomCompressionEvent, emit_result, to_dicts


class Printer(BaseEventHandler):
    """Prints every headroom compression event it is sent."""

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomEventPrinter"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, HeadroomCompressionEvent):
            print(
                f"event: {event.component} {event.name!r} "
                f"{event.tokens_before} -> {event.tokens_after} tokens, "
                f"handles={event.handles}, transforms={event.transforms}"
            )


def main() -> None:
    """Convert a tool exchange, compress the tool's JSON output, and emit the event."""
    rows = ",".join(
        f'{{"id":{i},"name":"item-{i}","status":"{"failed" if i == 42 else "ok"}","region":"eu"}}'
        for i in range(300)
    )
    messages = [
        ChatMessage(role=MessageRole.USER, content="Which item failed?"),
        ChatMessage(
            role=MessageRole.TOOL,
            content=f"[{rows}]",
            additional_kwargs={"tool_call_id": "call-1", "name": "list_items"},
        ),
    ]
    dicts = to_dicts(messages)
    print("as headroom sees them:", [(d["role"], len(d["content"])) for d in dicts])

    get_dispatcher().add_event_handler(Printer())
    result = Headroom(store="memory").compress_text(dicts[1]["content"])
    emit_result("tool", "list_items", result)


if __name__ == "__main__":
    main()
