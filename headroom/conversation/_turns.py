"""How the conversation layer reads one message: its text, its tool calls, its cost.

Works on OpenAI chat and Anthropic block shapes alike (see :mod:`headroom.messages`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from headroom.config import CompressConfig
from headroom.messages import count_overhead, find_slots, untrusted_json, untrusted_text
from headroom.tokens import TokenCounter

__all__ = [
    "call_ids",
    "count_messages",
    "label",
    "message_cost",
    "result_ids",
    "tool_name_map",
    "turn_text",
    "unwrap_event",
    "valid_cuts",
]

_ALL_TEXT = CompressConfig()


def _calls(message: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(id, name, arguments) of every tool call ``message`` makes, arguments as text.

    Whatever the ids, names and arguments hold (they are untrusted: sets, Decimals, bytes,
    cycles, deep nesting), they become text without raising; see
    :mod:`headroom.messages.untrusted`.
    """
    out: list[tuple[str, str, str]] = []
    for call in message.get("tool_calls") or ():
        if isinstance(call, Mapping):
            function = call.get("function")
            function = function if isinstance(function, Mapping) else {}
            out.append(
                (
                    untrusted_text(call.get("id", "")),
                    untrusted_text(function.get("name", "")),
                    untrusted_text(function.get("arguments", "")),
                )
            )
    content = message.get("content")
    if isinstance(content, list | tuple):
        for block in content:
            if isinstance(block, Mapping) and block.get("type") == "tool_use":
                arguments = untrusted_json(block.get("input", {}), ensure_ascii=False)
                out.append(
                    (
                        untrusted_text(block.get("id", "")),
                        untrusted_text(block.get("name", "")),
                        arguments,
                    )
                )
    return out


def call_ids(message: Mapping[str, Any]) -> list[str]:
    """Ids of the tool calls ``message`` opens."""
    return [cid for cid, _, _ in _calls(message)]


def result_ids(message: Mapping[str, Any]) -> list[str]:
    """Ids of the tool calls ``message`` answers (OpenAI ``tool`` role or Anthropic blocks)."""
    if message.get("role") in ("tool", "function"):
        cid = message.get("tool_call_id")
        return [cid] if isinstance(cid, str) else []
    content = message.get("content")
    if not isinstance(content, list | tuple):
        return []
    return [
        untrusted_text(block.get("tool_use_id", ""))
        for block in content
        if isinstance(block, Mapping) and block.get("type") == "tool_result"
    ]


def tool_name_map(messages: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Tool-call id -> tool name over ``messages``."""
    return {cid: name for message in messages for cid, name, _ in _calls(message)}


def _content_text(content: object) -> list[str]:
    if isinstance(content, str):
        return [content] if content else []
    parts: list[str] = []
    if isinstance(content, list | tuple):
        for block in content:
            if not isinstance(block, Mapping):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "tool_result":
                parts.extend(_content_text(block.get("content")))
    return parts


def turn_text(message: Mapping[str, Any]) -> str:
    """The text a summary line may quote from ``message``.

    Its own text, then one ``called NAME(ARGUMENTS)`` line per tool call, arguments as
    sent. Summary lines are verbatim fragments of this, which is what makes them traceable.
    """
    parts = _content_text(message.get("content"))
    parts.extend(f"called {name}({arguments})" for _, name, arguments in _calls(message))
    return "\n".join(parts)


def unwrap_event(text: str) -> str | None:
    """The ``message`` inside a user turn sent as a JSON envelope, else None.

    Some agent frameworks send each user event as ``{"type": ..., "message": "...", ...}``;
    its ``message`` is what the user said, and what a summary should quote.

    >>> unwrap_event('{"event": "user_message", "message": "Book HAT123."}')
    'Book HAT123.'
    """
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    inner = data.get("message") if isinstance(data, dict) else None
    return inner if isinstance(inner, str) and inner.strip() else None


_FENCE = "```"


def is_command_output(message: Mapping[str, Any], previous: Mapping[str, Any] | None) -> bool:
    """Whether a ``user`` turn is really a tool's output sent back as user text.

    Agents without native tool calls (mini-swe-agent, early SWE-agent) put the command in a
    fenced block of the assistant turn and return its output as the next user turn, e.g.
    ``<returncode>1</returncode><output>...``. Such a turn is summarized like a tool result:
    one line and a handle, not as the user's goals.
    """
    if message.get("role") != "user" or previous is None or previous.get("role") != "assistant":
        return False
    text = turn_text(message).lstrip()
    return text.startswith("<returncode>") or _FENCE in turn_text(previous)


def is_output(message: Mapping[str, Any], previous: Mapping[str, Any] | None) -> bool:
    """A tool result, native (``tool`` role, ``tool_result`` block) or sent as user text."""
    return bool(result_ids(message)) or is_command_output(message, previous)


def label(message: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """``user``, ``assistant``, ``tool NAME`` ... : who a turn is, for a summary line."""
    ids = result_ids(message)
    if ids:
        name = names.get(ids[0]) or message.get("name")
        return f"tool {name}" if isinstance(name, str) and name else "tool"
    return str(message.get("role", "?"))


def count_messages(messages: Sequence[Mapping[str, Any]], count: TokenCounter) -> int:
    """Tokens of a whole message list, the same way :func:`headroom.compress` counts."""
    return count_overhead(messages, count) + sum(
        count(slot.text) for slot in find_slots(messages, _ALL_TEXT)
    )


def message_cost(message: Mapping[str, Any], count: TokenCounter) -> int:
    """What one more message adds to :func:`count_messages` (no reply priming)."""
    return count_messages([message], count) - count_messages([], count)


def valid_cuts(messages: Sequence[Mapping[str, Any]]) -> list[bool]:
    """``cuts[j]``: splitting before ``messages[j]`` leaves no tool call without its result.

    ``len(cuts) == len(messages) + 1``; a cut is valid when every call opened before it is
    answered before it and nothing after it answers a call opened before it.
    """
    cuts = [True] * (len(messages) + 1)
    # Walked in order, each result closing the latest open call with its id: real
    # transcripts reuse ids (tau-bench does), so a call's span ends at its next answer.
    open_at: dict[str, int] = {}
    for i, message in enumerate(messages):
        for cid in result_ids(message):
            if cid in open_at:
                for j in range(open_at.pop(cid) + 1, i + 1):
                    cuts[j] = False
        for cid in call_ids(message):
            open_at[cid] = i
    for start in open_at.values():
        # A call still unanswered pins every cut after it: its result may yet arrive.
        for j in range(start + 1, len(messages) + 1):
            cuts[j] = False
    return cuts
