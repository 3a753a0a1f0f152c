"""Find the text inside a message list, and what may be compressed.

Both provider shapes are read by one walker:

* OpenAI chat: ``content`` is a string or a list of parts (``text``, ``image_url``, ...);
  assistant ``tool_calls`` name the tool; ``role: "tool"`` messages carry results.
* Anthropic: ``content`` is a string or a list of blocks (``text``, ``image``,
  ``tool_use``, ``tool_result`` whose ``content`` is a string or a list of blocks).

A list whose items have ``parts`` is Gemini ``contents``, read by
:mod:`headroom.messages.gemini` behind the same functions; a list of OpenAI Responses
``input`` items (``function_call_output`` ...) by :mod:`headroom.messages.responses`.

A *slot* is one string that Headroom may replace, with its location and what is known
about it. Nothing outside text slots is ever changed; messages are never added, removed or
reordered, so a tool call and its result stay paired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from headroom.config import CompressConfig
from headroom.errors import InvalidMessageError
from headroom.messages.gemini import (
    gemini_last_user_text,
    gemini_slots,
    is_gemini,
    validate_gemini,
)
from headroom.messages.hints import path_argument
from headroom.messages.responses import (
    is_responses,
    responses_last_user_text,
    responses_slots,
    validate_responses,
)
from headroom.router import Hints

__all__ = [
    "Slot",
    "Source",
    "find_slots",
    "last_user_text",
    "latest_user_texts",
    "validate_messages",
]

Source = Literal["system", "user", "assistant", "tool"]
Path = tuple[int | str, ...]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


@dataclass(frozen=True, slots=True)
class Slot:
    """One replaceable string: where it is, whose it is, and whether it may change."""

    path: Path  # e.g. (3, "content") or (2, "content", 1, "content", 0, "text")
    text: str
    source: Source
    eligible: bool
    hints: Hints

    @property
    def where(self) -> str:
        """``messages[3].content[1].text`` style location, for warnings."""
        out = f"messages[{self.path[0]}]"
        for key in self.path[1:]:
            out += f"[{key}]" if isinstance(key, int) else f".{key}"
        return out


def validate_messages(
    messages: object, *, name: str = "messages", gemini: bool = False
) -> Sequence[Mapping[str, Any]]:
    """Check the shape of a message list; raise InvalidMessageError naming the spot.

    ``name`` is the argument the list was passed as, which errors start with
    (``messages[3].role: ...``, ``messages[3].parts[1].functionResponse: ...``).
    ``gemini`` accepts Gemini ``contents`` and OpenAI Responses ``input`` items too (a list
    whose items have ``parts``, or a top-level ``type``); callers
    that build or reorder messages themselves (the conversation layer) leave it off, so a
    Gemini list is refused there by name rather than mixed with chat-shaped messages.
    """
    if isinstance(messages, str | bytes | bytearray) or not isinstance(messages, Sequence):
        raise InvalidMessageError(
            name, f"expected a list of message dicts, got {type(messages).__name__}"
        )
    if is_gemini(messages):
        if not gemini:
            first = next(
                i
                for i, item in enumerate(messages)
                if isinstance(item, Mapping) and "parts" in item
            )
            raise InvalidMessageError(
                f"{name}[{first}].parts",
                "Gemini contents are not accepted here; give OpenAI or Anthropic messages",
            )
        validate_gemini(messages, name)
        return messages
    if is_responses(messages):
        if not gemini:
            raise InvalidMessageError(
                name, "OpenAI Responses input items are not accepted here; give chat messages"
            )
        validate_responses(messages, name)
        return messages
    for i, message in enumerate(messages):
        where = f"{name}[{i}]"
        if not isinstance(message, Mapping):
            raise InvalidMessageError(where, f"expected a dict, got {type(message).__name__}")
        role = message.get("role")
        # The str check first: an unhashable role (a list, a dict) cannot be looked up.
        if not isinstance(role, str) or role not in _ROLES:
            raise InvalidMessageError(
                f"{where}.role", f"expected one of {sorted(_ROLES)}, got {_short(role)}"
            )
        content = message.get("content")
        if content is None:
            if role not in ("assistant", "function", "tool"):
                raise InvalidMessageError(f"{where}.content", "missing (None)")
        elif isinstance(content, list | tuple):
            _validate_parts(content, f"{where}.content")
        elif not isinstance(content, str):
            raise InvalidMessageError(
                f"{where}.content",
                f"expected str or list of content parts, got {type(content).__name__}",
            )
        tool_calls = message.get("tool_calls")
        if tool_calls is not None and not isinstance(tool_calls, list | tuple):
            raise InvalidMessageError(
                f"{where}.tool_calls", f"expected a list, got {type(tool_calls).__name__}"
            )
    return messages


def _short(value: object) -> str:
    """``repr(value)`` cut to 80 characters (it may be huge, or fail)."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ (or a value nested too deep for it)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def _validate_parts(parts: Sequence[Any], where: str) -> None:
    for j, part in enumerate(parts):
        spot = f"{where}[{j}]"
        if not isinstance(part, Mapping):
            raise InvalidMessageError(spot, f"expected a dict, got {type(part).__name__}")
        kind = part.get("type")
        if not isinstance(kind, str):
            raise InvalidMessageError(f"{spot}.type", f"expected str, got {_short(kind)}")
        if kind == "text" and not isinstance(part.get("text"), str):
            raise InvalidMessageError(
                f"{spot}.text", f"expected str, got {type(part.get('text')).__name__}"
            )
        if kind == "tool_result":
            inner = part.get("content")
            if isinstance(inner, list | tuple):
                _validate_parts(inner, f"{spot}.content")
            elif inner is not None and not isinstance(inner, str):
                raise InvalidMessageError(
                    f"{spot}.content",
                    f"expected str or list of blocks, got {type(inner).__name__}",
                )


def _tool_names(messages: Sequence[Mapping[str, Any]]) -> dict[str, Hints]:
    """Tool-call id -> hints (tool name, file path argument) from assistant messages."""
    found: dict[str, Hints] = {}
    for message in messages:
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping) and isinstance(call.get("id"), str):
                function = call.get("function")
                if isinstance(function, Mapping):
                    found[call["id"]] = Hints(
                        _str(function.get("name")), path_argument(function.get("arguments"))
                    )
        content = message.get("content")
        if isinstance(content, list | tuple):
            for block in content:
                if (
                    isinstance(block, Mapping)
                    and block.get("type") == "tool_use"
                    and isinstance(block.get("id"), str)
                ):
                    found[block["id"]] = Hints(
                        _str(block.get("name")), path_argument(block.get("input"))
                    )
    return found


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _protected_indices(messages: Sequence[Mapping[str, Any]], keep: int) -> set[int]:
    """Indices of the last ``keep`` user/assistant messages that carry their own text."""
    protected: set[int] = set()
    for i in range(len(messages) - 1, -1, -1):
        if len(protected) >= keep:
            break
        message = messages[i]
        if message.get("role") in ("user", "assistant") and _has_own_text(message):
            protected.add(i)
    return protected


def _has_own_text(message: Mapping[str, Any]) -> bool:
    content = message.get("content")
    if isinstance(content, str):
        return bool(content)
    if isinstance(content, list | tuple):
        return any(isinstance(p, Mapping) and p.get("type") == "text" for p in content)
    return False


def find_slots(messages: Sequence[Mapping[str, Any]], config: CompressConfig) -> list[Slot]:
    """Every text slot in ``messages`` (validated), marked eligible or not per ``config``."""
    if is_gemini(messages):
        slots = gemini_slots(messages, config)
    elif is_responses(messages):
        slots = responses_slots(messages, config)
    else:
        slots = _chat_slots(messages, config)
    if not (config.compress_system_messages or config.frozen_message_count):
        return slots
    # The same two rules for every provider shape: system prompts when asked for, and
    # never the frozen head.
    return [replace(slot, eligible=_eligible(slot, config)) for slot in slots]


def _eligible(slot: Slot, config: CompressConfig) -> bool:
    index = slot.path[0]
    if isinstance(index, int) and index < config.frozen_message_count:
        return False
    return slot.eligible or (slot.source == "system" and config.compress_system_messages)


def _chat_slots(messages: Sequence[Mapping[str, Any]], config: CompressConfig) -> list[Slot]:
    # A result's hints come from the calls made before it (the latest with its id): a
    # later turn reusing a call id (some agents do) must not change what an earlier
    # result was keyed and compressed by, or its bytes would change on the next request.
    tools: dict[str, Hints] = {}
    protected = _protected_indices(messages, config.protect_recent)
    slots: list[Slot] = []
    for i, message in enumerate(messages):
        tools.update(_tool_names((message,)))
        role = message["role"]
        if role in ("tool", "function"):
            hints = tools.get(
                _str(message.get("tool_call_id")) or "", Hints(_str(message.get("name")))
            )
            _collect(
                slots,
                message.get("content"),
                (i, "content"),
                "tool",
                config.compress_tool_results,
                hints,
            )
            continue
        source: Source = "system" if role in ("system", "developer") else role
        own_ok = i not in protected and (
            (source == "user" and config.compress_user_messages)
            or (source == "assistant" and config.compress_assistant_messages)
        )
        content = message.get("content")
        if isinstance(content, str):
            slots.append(Slot((i, "content"), content, source, own_ok, Hints()))
            continue
        for j, part in enumerate(content or ()):
            kind = part.get("type")
            if kind == "text":
                slots.append(Slot((i, "content", j, "text"), part["text"], source, own_ok, Hints()))
            elif kind == "tool_result":
                hints = tools.get(_str(part.get("tool_use_id")) or "", Hints())
                _collect(
                    slots,
                    part.get("content"),
                    (i, "content", j, "content"),
                    "tool",
                    config.compress_tool_results,
                    hints,
                )
    return slots


def _collect(
    slots: list[Slot], content: object, path: Path, source: Source, ok: bool, hints: Hints
) -> None:
    if isinstance(content, str):
        slots.append(Slot(path, content, source, ok, hints))
    elif isinstance(content, list | tuple):
        for k, block in enumerate(content):
            if isinstance(block, Mapping) and block.get("type") == "text":
                slots.append(Slot((*path, k, "text"), block["text"], source, ok, hints))


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The text of the last user message that has any (the default query)."""
    if is_gemini(messages):
        return gemini_last_user_text(messages)
    if is_responses(messages):
        return responses_last_user_text(messages)
    return _chat_last_user_text(messages)


def _chat_last_user_text(messages: Sequence[Mapping[str, Any]]) -> str | None:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str) and content.strip():
            return content
        if isinstance(content, list | tuple):
            texts = [
                p["text"] for p in content if isinstance(p, Mapping) and p.get("type") == "text"
            ]
            if any(t.strip() for t in texts):
                return "\n".join(texts)
    return None


def latest_user_texts(messages: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """For each message (or Responses item, or Gemini content), the text of the latest user
    turn at or before it: the question a tool result there was first seen with.

    >>> latest_user_texts([{"role": "user", "content": "a?"}, {"role": "assistant",
    ...     "content": "b"}, {"role": "user", "content": "c?"}])
    ['a?', 'a?', 'c?']
    """
    # The shape is read from the whole list: a Responses item without a "type" looks like
    # a chat message on its own, and its input_text parts would then go unread.
    if is_gemini(messages):
        read = gemini_last_user_text
    elif is_responses(messages):
        read = responses_last_user_text
    else:
        read = _chat_last_user_text
    out: list[str | None] = []
    latest: str | None = None
    for message in messages:
        text = read([message])
        latest = text if text is not None else latest
        out.append(latest)
    return out
