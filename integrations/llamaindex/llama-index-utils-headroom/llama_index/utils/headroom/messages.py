"""LlamaIndex ``ChatMessage`` <-> the OpenAI-shaped dicts headroom compresses.

Only text travels: a message's ``TextBlock``s become its content, its ``ToolCallBlock``s (or
OpenAI-style ``additional_kwargs["tool_calls"]``) its tool calls, so headroom knows which
tool produced each result. Images, audio and other blocks are not sent to headroom and come
back as the same objects. Messages handed in are never mutated: edits are copies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, TextBlock, ToolCallBlock

__all__ = ["to_dicts", "with_texts"]

_ROLES = {"chatbot": "assistant", "model": "assistant", "function": "tool"}


def to_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """One OpenAI-shaped dict per message, in order (text content and tool calls only)."""
    return [_to_dict(m) for m in messages]


def _to_dict(message: ChatMessage) -> dict[str, Any]:
    role = _ROLES.get(message.role.value, message.role.value)
    texts = [b.text for b in message.blocks if isinstance(b, TextBlock)]
    content: Any
    if len(texts) > 1:
        content = [{"type": "text", "text": t} for t in texts]
    elif texts:
        content = texts[0]
    else:
        content = None if role == "assistant" else ""
    out: dict[str, Any] = {"role": role, "content": content}
    kwargs = message.additional_kwargs
    if role == "tool":
        out["tool_call_id"] = str(kwargs.get("tool_call_id") or "")
        if isinstance(kwargs.get("name"), str):
            out["name"] = kwargs["name"]
    calls = _tool_calls(message)
    if role == "assistant" and calls:
        out["tool_calls"] = calls
    return out


def _tool_calls(message: ChatMessage) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, ToolCallBlock):
            args = block.tool_kwargs
            calls.append(_call(block.tool_call_id or "", block.tool_name, args))
    for raw in message.additional_kwargs.get("tool_calls") or ():
        # OpenAI SDK objects or plain dicts, as LlamaIndex's OpenAI LLM stores them.
        data = raw.model_dump() if hasattr(raw, "model_dump") else raw
        if isinstance(data, Mapping) and isinstance(data.get("function"), Mapping):
            fn = data["function"]
            calls.append(
                _call(str(data.get("id") or ""), str(fn.get("name", "")), fn.get("arguments"))
            )
    return calls


def _call(call_id: str, name: str, args: Any) -> dict[str, Any]:
    arguments = args if isinstance(args, str) else json.dumps(args or {}, default=str)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def with_texts(message: ChatMessage, content: Any) -> ChatMessage | None:
    """A copy of ``message`` whose text blocks say ``content`` (an OpenAI-shaped content).

    Returns None when ``content`` does not line up with the message's text blocks (then the
    message is kept as it was). Non-text blocks stay where they were, as the same objects.
    """
    positions = [i for i, b in enumerate(message.blocks) if isinstance(b, TextBlock)]
    if isinstance(content, str):
        texts = [content]
    elif isinstance(content, list) and all(
        isinstance(p, Mapping) and isinstance(p.get("text"), str) for p in content
    ):
        texts = [str(p["text"]) for p in content]
    else:
        return None
    if len(texts) != len(positions):
        return None
    blocks = list(message.blocks)
    for i, text in zip(positions, texts, strict=True):
        blocks[i] = TextBlock(text=text)
    return message.model_copy(
        update={"blocks": blocks, "additional_kwargs": dict(message.additional_kwargs)}
    )
