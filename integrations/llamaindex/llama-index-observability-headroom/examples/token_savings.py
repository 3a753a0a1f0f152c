"""Tokens sent to an LLM and saved by headroom, counted by HeadroomEventHandler.

A tool result is compressed with headroom and the compression is announced the way every
Headroom component announces it (``emit_result``); then the LLM is called twice with the
compressed text in its messages. The handler counts the saving in each call that carries
it. Runs offline: LlamaIndex's MockLLM stands in for a real model.

    python examples/token_savings.py
"""

from __future__ import annotations

from headroom import Headroom
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms import MockLLM

from llama_index.observability.headroom import instrument
from llama_index.utils.headroom import emit_result


def disk_report() -> str:
    """A tool's output: 800 disk-usage lines, two of them over 90% full."""
    lines = []
    for i in range(800):
        used = 97 if i in (211, 640) else 20 + i % 50
        lines.append(
            f"2024-05-01T03:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z INFO "
            f"[node-{i % 8}] DiskMonitor: volume /data/v{i:03d} at {used}% used"
        )
    return "\n".join(lines)


def main() -> None:
    """Compress one tool result, send it in two LLM calls, and print what was counted."""
    handler = instrument()  # on LlamaIndex's root dispatcher
    result = Headroom(store="memory").compress_text(disk_report(), query="volumes over 90%")
    emit_result("tool", "disk_report", result)

    llm = MockLLM(max_tokens=8)
    history = [
        ChatMessage(role=MessageRole.USER, content="Which volumes are almost full?"),
        ChatMessage(role=MessageRole.TOOL, content=result.text),
    ]
    llm.chat(history)
    history.append(ChatMessage(role=MessageRole.ASSISTANT, content="v211 and v640."))
    history.append(ChatMessage(role=MessageRole.USER, content="On which nodes?"))
    llm.chat(history)

    usage = handler.usage
    print(f"tool result: {result.tokens_before} tokens raw, {result.tokens_after} compressed")
    print(
        f"LLM calls: {usage.llm_calls}, tokens sent: {usage.tokens_sent}, "
        f"tokens saved: {usage.tokens_saved} ({usage.saved_by_component})"
    )


if __name__ == "__main__":
    main()
