"""OpenAI Responses ``input`` items: read and written like the chat and Anthropic shapes.

The Responses API (``POST /v1/responses``, used by Codex) takes ``input`` as a string or a
list of *items*, each with a ``type``:

* ``message``: ``{"type": "message", "role": "user" | "assistant" | "system" | "developer",
  "content": str | [parts]}``; parts are ``input_text`` / ``output_text`` (with ``text``),
  ``input_image``, ``input_file``, ``refusal``... (``type`` may be left out of a message
  item, the "easy input message": it is then known by its ``role``).
* ``function_call``: ``{"type": "function_call", "call_id", "name", "arguments"}``, the
  model's tool call (``arguments`` a JSON string).
* ``function_call_output``: ``{"type": "function_call_output", "call_id", "output"}``, the
  tool result: ``output`` is a string or a list of ``input_text`` / ``input_image`` parts.
* anything else (``reasoning``, ``item_reference``, built-in tool calls...): passed through.

A list is Responses-shaped when an item at the top level has a ``type`` other than
``message``, or is a ``message`` whose content is a string or holds ``input_*`` /
``output_*`` / ``refusal`` parts. (An Anthropic message dumped from an API response also
carries ``type: "message"``, but its blocks are ``text`` / ``tool_use`` / ``tool_result``:
that list stays Anthropic-shaped.)

What may change, with the same rules as the chat shape: ``function_call_output.output``
(a tool result, matched to its call by ``call_id`` for the tool name and path hints), and
message text per ``protect_recent``, ``compress_user_messages`` and
``compress_assistant_messages``; ``system`` and ``developer`` messages never. Items are
never added, removed or reordered, and every other field stays the same object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from headroom.errors import InvalidMessageError
from headroom.messages.hints import path_argument
from headroom.messages.untrusted import untrusted_text
from headroom.router import Hints
from headroom.tokens import REPLY_PRIMING, TOKENS_PER_MESSAGE, TokenCounter

if TYPE_CHECKING:
    from headroom.config import CompressConfig
    from headroom.messages.slots import Slot, Source

__all__ = [
    "is_responses",
    "responses_last_user_text",
    "responses_overhead",
    "responses_slots",
    "validate_responses",
]

Path = tuple[int | str, ...]

_ROLES: Final = frozenset({"user", "assistant", "system", "developer"})
_TEXT_PARTS: Final = frozenset({"input_text", "output_text", "text"})
_CALL: Final = "function_call"
_OUTPUT: Final = "function_call_output"


def _is_responses_item(item: object) -> bool:
    if not isinstance(item, Mapping) or "parts" in item:
        return False
    kind = item.get("type")
    if not isinstance(kind, str):
        return False
    if kind != "message":
        return True
    content = item.get("content")
    if isinstance(content, str):
        return True
    return isinstance(content, list | tuple) and any(
        isinstance(part, Mapping)
        and isinstance(part.get("type"), str)
        and (part["type"].startswith(("input_", "output_")) or part["type"] == "refusal")
        for part in content
    )


def is_responses(messages: Sequence[Any]) -> bool:
    """True when ``messages`` is a Responses ``input`` item list (see the module docstring).

    >>> is_responses([{"type": "function_call_output", "call_id": "c1", "output": "ok"}])
    True
    >>> is_responses([{"role": "tool", "tool_call_id": "c1", "content": "ok"}])
    False
    """
    return any(_is_responses_item(item) for item in messages)


def _kind(item: Mapping[str, Any]) -> str:
    kind = item.get("type")
    return kind if isinstance(kind, str) else "message"


def validate_responses(messages: Sequence[Any], name: str) -> None:
    """Check Responses ``input`` items; raise InvalidMessageError naming index and field."""
    for i, item in enumerate(messages):
        where = f"{name}[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidMessageError(where, f"expected a dict, got {type(item).__name__}")
        kind = item.get("type", "message")
        if not isinstance(kind, str):
            raise InvalidMessageError(f"{where}.type", f"expected str, got {type(kind).__name__}")
        if kind == "message":
            role = item.get("role")
            if not isinstance(role, str) or role not in _ROLES:
                raise InvalidMessageError(
                    f"{where}.role", f"expected one of {sorted(_ROLES)}, got {role!r:.80}"
                )
            _validate_content(item.get("content"), f"{where}.content", required=True)
        elif kind == _OUTPUT:
            _validate_content(item.get("output"), f"{where}.output", required=False)
        elif kind == _CALL:
            for key in ("name", "arguments"):
                value = item.get(key)
                if value is not None and not isinstance(value, str):
                    raise InvalidMessageError(
                        f"{where}.{key}", f"expected str, got {type(value).__name__}"
                    )


def _validate_content(content: object, where: str, *, required: bool) -> None:
    if content is None:
        if required:
            raise InvalidMessageError(where, "missing (None)")
        return
    if isinstance(content, str):
        return
    if not isinstance(content, list | tuple):
        raise InvalidMessageError(
            where, f"expected str or a list of content parts, got {type(content).__name__}"
        )
    for j, part in enumerate(content):
        if not isinstance(part, Mapping):
            raise InvalidMessageError(
                f"{where}[{j}]", f"expected a dict, got {type(part).__name__}"
            )
        if part.get("type") in _TEXT_PARTS and not isinstance(part.get("text"), str):
            raise InvalidMessageError(
                f"{where}[{j}].text", f"expected str, got {type(part.get('text')).__name__}"
            )


def _own_texts(item: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """(path inside the item, text) of a message item's text."""
    content = item.get("content")
    if isinstance(content, str):
        return [(("content",), content)]
    out: list[tuple[Path, str]] = []
    for j, part in enumerate(content or ()):
        if part.get("type") in _TEXT_PARTS:
            out.append((("content", j, "text"), part["text"]))
    return out


def _protected(messages: Sequence[Mapping[str, Any]], keep: int) -> set[int]:
    protected: set[int] = set()
    for i in range(len(messages) - 1, -1, -1):
        if len(protected) >= keep:
            break
        item = messages[i]
        if (
            _kind(item) == "message"
            and item.get("role") in ("user", "assistant")
            and any(text for _, text in _own_texts(item))
        ):
            protected.add(i)
    return protected


def _calls(messages: Sequence[Mapping[str, Any]]) -> dict[str, Hints]:
    found: dict[str, Hints] = {}
    for item in messages:
        if _kind(item) == _CALL and isinstance(item.get("call_id"), str):
            name = item.get("name")
            found[item["call_id"]] = Hints(
                name if isinstance(name, str) else None, path_argument(item.get("arguments"))
            )
    return found


def responses_slots(messages: Sequence[Mapping[str, Any]], config: CompressConfig) -> list[Slot]:
    """Every text slot of validated Responses items, eligible or not per ``config``."""
    from headroom.messages.slots import Slot  # slots.py imports this module: not at the top

    calls: dict[str, Hints] = {}  # from the calls before each output, as in slots.py
    protected = _protected(messages, config.protect_recent)
    slots: list[Slot] = []
    for i, item in enumerate(messages):
        calls.update(_calls((item,)))
        kind = _kind(item)
        if kind == _OUTPUT:
            call_id = item.get("call_id")
            hints = calls.get(call_id, Hints()) if isinstance(call_id, str) else Hints()
            ok = config.compress_tool_results
            output = item.get("output")
            if isinstance(output, str):
                slots.append(Slot((i, "output"), output, "tool", ok, hints))
            elif isinstance(output, list | tuple):
                for k, part in enumerate(output):
                    if part.get("type") in _TEXT_PARTS:
                        slots.append(
                            Slot((i, "output", k, "text"), part["text"], "tool", ok, hints)
                        )
            continue
        if kind != "message":
            continue
        role = item["role"]
        source: Source = "system" if role in ("system", "developer") else role
        own_ok = i not in protected and (
            (source == "user" and config.compress_user_messages)
            or (source == "assistant" and config.compress_assistant_messages)
        )
        for path, text in _own_texts(item):
            slots.append(Slot((i, *path), text, source, own_ok, Hints()))
    return slots


def responses_overhead(messages: Sequence[Mapping[str, Any]], count: TokenCounter) -> int:
    """Tokens of everything in validated Responses items except the text slots.

    Each item costs a message's framing and its role (or type); a function call its name
    and arguments. Other items (images, files, reasoning) are not counted: they never
    change, so savings stay exact.
    """
    total = REPLY_PRIMING
    for item in messages:
        kind = _kind(item)
        label = item.get("role") if kind == "message" else kind
        total += TOKENS_PER_MESSAGE + count(untrusted_text(label or ""))
        if kind == _CALL:
            total += count(untrusted_text(item.get("name") or ""))
            total += count(untrusted_text(item.get("arguments") or ""))
    return total


def responses_last_user_text(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The text of the last user message item that has any (the default query)."""
    for item in reversed(messages):
        if _kind(item) != "message" or item.get("role") != "user":
            continue
        texts = [text for _, text in _own_texts(item)]
        if any(text.strip() for text in texts):
            return "\n".join(texts)
    return None
