"""An agent's chat history with large tool outputs: what HeadroomMemory sends, turn by turn.

Runs offline (no LLM, no API key; originals kept in memory):

    python examples/chat_memory.py
"""

from __future__ import annotations

from headroom import count_tokens
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.memory import ChatMemoryBuffer

from llama_index.memory.headroom import HeadroomMemory


def service_log(service: str, turn: int) -> str:
    """A service's log as a tool returns it: 600 routine lines and one error."""
    lines = []
    for i in range(600):
        ts = f"2024-05-0{turn + 1}T12:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
        if i == 417:
            lines.append(
                f"{ts} ERROR [{service}-{i % 4}] Gateway: upstream {service}-db timed out "
                "after 30 s; request aborted"
            )
        else:
            lines.append(
                f"{ts} INFO [{service}-{i % 4}] Gateway: request r-{i:05d} served for "
                f"customer c-{i * 7 % 311} in {3 + i % 40} ms"
            )
    return "\n".join(lines)


def turn_messages(turn: int, service: str) -> list[ChatMessage]:
    """One agent turn: the question, a tool call, the tool's output and the answer."""
    call_id = f"call-{turn}"
    return [
        ChatMessage(role=MessageRole.USER, content=f"Why is {service} failing?"),
        ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[
                ToolCallBlock(
                    tool_call_id=call_id, tool_name="read_log", tool_kwargs={"service": service}
                )
            ],
        ),
        ChatMessage(
            role=MessageRole.TOOL,
            blocks=[TextBlock(text=service_log(service, turn))],
            additional_kwargs={"tool_call_id": call_id, "name": "read_log"},
        ),
        ChatMessage(role=MessageRole.ASSISTANT, content=f"{service}-db timed out."),
    ]


def tokens(messages: list[ChatMessage]) -> int:
    """Tokens of the messages' text, as headroom counts them."""
    return sum(count_tokens(m.content or "") for m in messages)


def main() -> None:
    """Put four agent turns into both memories and compare what each would send."""
    buffer = ChatMemoryBuffer.from_defaults(token_limit=1_000_000)
    memory = HeadroomMemory.from_defaults(store="memory")
    for turn, service in enumerate(["checkout", "billing", "search", "auth"]):
        for message in turn_messages(turn, service):
            buffer.put(message)
            memory.put(message)
        raw, sent = tokens(buffer.get()), tokens(memory.get())
        print(f"turn {turn + 1}: full history {raw:6d} tokens, HeadroomMemory sends {sent:5d}")
    view = memory.get()
    print(f"the latest question is sent as is: {view[-4].content == 'Why is auth failing?'}")


if __name__ == "__main__":
    main()
