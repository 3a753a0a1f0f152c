"""Token counts of whole message lists, per OpenAI's counting rules.

Each message costs its framing (3 tokens), its role, a ``name`` (1 more), its text, the
names and arguments of tool calls it makes; every reply is primed with 3. Images and other
non-text parts are not counted: compression never changes them, so savings are exact.

Tool-call names and arguments are untrusted (a model wrote them, an application may have
put anything in them): they are counted as :func:`~headroom.messages.untrusted.untrusted_text`
gives them, which never raises and is linear in their size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from headroom.messages.gemini import gemini_overhead, is_gemini
from headroom.messages.responses import is_responses, responses_overhead
from headroom.messages.untrusted import untrusted_json, untrusted_text
from headroom.tokens import REPLY_PRIMING, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, TokenCounter

__all__ = ["count_overhead"]


def count_overhead(messages: Sequence[Mapping[str, Any]], count: TokenCounter) -> int:
    """Tokens of everything in ``messages`` except the text slots."""
    if is_gemini(messages):
        return gemini_overhead(messages, count)
    if is_responses(messages):
        return responses_overhead(messages, count)
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE + count(str(message.get("role", "")))
        if isinstance(message.get("name"), str):
            total += TOKENS_PER_NAME + count(message["name"])
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                total += count(untrusted_text(function.get("name", "")))
                total += count(untrusted_text(function.get("arguments", "")))
        content = message.get("content")
        if isinstance(content, list | tuple):
            for block in content:
                if isinstance(block, Mapping) and block.get("type") == "tool_use":
                    total += count(untrusted_text(block.get("name", "")))
                    total += count(untrusted_json(block.get("input", {})))
    return total
