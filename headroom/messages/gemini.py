"""Gemini ``contents``: read and written like the OpenAI and Anthropic shapes.

A list whose items have ``parts`` is Gemini-shaped: each item is
``{"role": "user" | "model", "parts": [...]}`` (``role`` may be left out, meaning
``user``), and each part holds one of ``text``, ``functionCall`` (``name``, ``args``,
optional ``id``), ``functionResponse`` (``name``, ``response``, optional ``id``),
``inlineData``, ``fileData``, ``executableCode``, ``codeExecutionResult``, ... The REST API
spells the fields in camelCase; the google-genai Python SDK's dict form in snake_case
(``function_call``, ``function_response``, ``inline_data``); both are read, and written
back under the key they came with.

What may change:

* ``text`` parts: ``model`` turns are assistant text, ``user`` turns user text, with the
  same protection rules as the other shapes (``protect_recent``, ``compress_user_messages``,
  ``compress_assistant_messages``). A part that is a thought (``thought: true``) or carries
  a thought signature is never changed: the signature vouches for that part as it was.
* ``functionResponse.response`` is a tool result. It is a JSON object whose keys the
  application chose (``output``, ``result``, ``content``, ``error``, ``stdout``...). Each of
  its top-level values is handled on its own and every key stays:

  - a string is a text slot, written back as a string;
  - a list or an object is a slot whose text is its compact JSON
    (``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``, so minifying alone
    never changes it). If compression rewrites it (a table, dropped rows behind a marker),
    the value is written back as a *string* holding the compressed text, under the same key;
    the original JSON text is in the CCR store. Gemini's ``response`` is a free-form JSON
    object, so this is valid on the wire, and the model reads the same text an OpenAI or
    Anthropic tool result would carry. A value compression leaves alone stays the same
    object.
  - numbers, booleans, ``null``, and values JSON cannot write (sets, datetimes...) are
    counted and never changed.

* Everything else (``functionCall`` parts, ``inlineData``, ``fileData``, code execution
  parts, unknown fields) passes through as the same objects.

``functionCall`` parts name the tool and its path argument, given as hints to the router
for the matching ``functionResponse``: matched by ``id`` when both carry one, else by name,
in order, among the calls of the last ``model`` turn that made any.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from headroom.config import CompressConfig
from headroom.errors import InvalidMessageError
from headroom.messages.hints import path_argument
from headroom.messages.untrusted import untrusted_json, untrusted_text
from headroom.router import Hints
from headroom.tokens import REPLY_PRIMING, TOKENS_PER_MESSAGE, TokenCounter

__all__ = [
    "gemini_last_user_text",
    "gemini_overhead",
    "gemini_slots",
    "is_gemini",
    "validate_gemini",
]

if TYPE_CHECKING:
    from headroom.messages.slots import Slot, Source

Path = tuple[int | str, ...]

_ROLES = ("user", "model")
_TEXT = ("text",)
_CALL = ("functionCall", "function_call")
_RESPONSE = ("functionResponse", "function_response")
_SIGNATURE = ("thoughtSignature", "thought_signature")


def is_gemini(messages: Sequence[Any]) -> bool:
    """True when any item of ``messages`` is a dict with ``parts`` (Gemini ``contents``)."""
    return any(isinstance(item, Mapping) and "parts" in item for item in messages)


def _key(part: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` that ``part`` has with a value (camelCase before snake_case).

    ``None`` counts as absent: the SDK's ``Part.model_dump()`` writes every field, unset
    ones as ``None``.
    """
    for name in names:
        if part.get(name) is not None:
            return name
    return None


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ (or a value nested too deep for it)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def validate_gemini(messages: Sequence[Any], name: str) -> None:
    """Check Gemini ``contents``; raise InvalidMessageError naming index and field."""
    first = next(
        i for i, item in enumerate(messages) if isinstance(item, Mapping) and "parts" in item
    )
    for i, content in enumerate(messages):
        where = f"{name}[{i}]"
        if not isinstance(content, Mapping):
            raise InvalidMessageError(where, f"expected a dict, got {type(content).__name__}")
        role = content.get("role")
        if role is not None and (not isinstance(role, str) or role not in _ROLES):
            raise InvalidMessageError(
                f"{where}.role", f"expected 'user', 'model' or no role, got {_short(role)}"
            )
        parts = content.get("parts")
        if "parts" not in content:
            raise InvalidMessageError(
                f"{where}.parts",
                f"missing; {name}[{first}] has parts, so this is a Gemini contents list and "
                "every item needs parts (OpenAI and Anthropic messages cannot be mixed in)",
            )
        if isinstance(parts, str | bytes | bytearray) or not isinstance(parts, list | tuple):
            raise InvalidMessageError(
                f"{where}.parts", f"expected a list of parts, got {type(parts).__name__}"
            )
        for j, part in enumerate(parts):
            _validate_part(part, f"{where}.parts[{j}]")


def _validate_part(part: object, spot: str) -> None:
    if not isinstance(part, Mapping):
        raise InvalidMessageError(spot, f"expected a dict, got {type(part).__name__}")
    if part.get("text") is not None and not isinstance(part["text"], str):
        raise InvalidMessageError(
            f"{spot}.text", f"expected str, got {type(part['text']).__name__}"
        )
    call = _key(part, _CALL)
    if call is not None:
        value = part[call]
        if not isinstance(value, Mapping):
            raise InvalidMessageError(
                f"{spot}.{call}", f"expected a dict, got {type(value).__name__}"
            )
        if not isinstance(value.get("name"), str):
            raise InvalidMessageError(
                f"{spot}.{call}.name", f"expected str, got {_short(value.get('name'))}"
            )
        args = value.get("args")
        if args is not None and not isinstance(args, Mapping):
            raise InvalidMessageError(
                f"{spot}.{call}.args", f"expected a dict or None, got {type(args).__name__}"
            )
    reply = _key(part, _RESPONSE)
    if reply is not None:
        value = part[reply]
        if not isinstance(value, Mapping):
            raise InvalidMessageError(
                f"{spot}.{reply}", f"expected a dict, got {type(value).__name__}"
            )
        name = value.get("name")
        if name is not None and not isinstance(name, str):
            raise InvalidMessageError(f"{spot}.{reply}.name", f"expected str, got {_short(name)}")
        response = value.get("response")
        if response is not None and not isinstance(response, Mapping):
            raise InvalidMessageError(
                f"{spot}.{reply}.response",
                f"expected a dict (a JSON object), got {type(response).__name__}",
            )


def _role(content: Mapping[str, Any]) -> Source:
    return "assistant" if content.get("role") == "model" else "user"


def _is_own_text(part: object) -> bool:
    """A text part the model reads as the turn's words (not a thought, not signed)."""
    return (
        isinstance(part, Mapping)
        and isinstance(part.get("text"), str)
        and not part.get("thought")
        and _key(part, _SIGNATURE) is None
    )


def _structured_text(value: object) -> str | None:
    """Compact JSON of a list or object value, or None when JSON cannot write it."""
    if not isinstance(value, Mapping | list | tuple):
        return None
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except Exception:  # sets, datetimes, cycles, deep nesting, a broken Mapping: left alone
        return None


def _response_values(response: object) -> list[tuple[str, object, str | None]]:
    """(key, value, slot text or None) for each top-level item of a ``response``."""
    if not isinstance(response, Mapping):
        return []
    out: list[tuple[str, object, str | None]] = []
    for key, value in response.items():
        text = value if isinstance(value, str) else _structured_text(value)
        out.append((key, value, text if isinstance(key, str) else None))
    return out


def _protected(messages: Sequence[Mapping[str, Any]], keep: int) -> set[int]:
    protected: set[int] = set()
    for i in range(len(messages) - 1, -1, -1):
        if len(protected) >= keep:
            break
        if any(_is_own_text(part) for part in messages[i]["parts"]):
            protected.add(i)
    return protected


def gemini_slots(messages: Sequence[Mapping[str, Any]], config: CompressConfig) -> list[Slot]:
    """Every text slot of validated Gemini ``contents``, eligible or not per ``config``."""
    from headroom.messages.slots import Slot  # slots.py imports this module: not at the top

    protected = _protected(messages, config.protect_recent)
    slots: list[Slot] = []
    by_id: dict[str, Hints] = {}
    pending: dict[str, list[Hints]] = {}
    for i, content in enumerate(messages):
        parts = content["parts"]
        source: Source = _role(content)
        own_ok = i not in protected and (
            (source == "user" and config.compress_user_messages)
            or (source == "assistant" and config.compress_assistant_messages)
        )
        calls = [part[k] for part in parts if (k := _key(part, _CALL)) is not None]
        if calls:
            pending = {}
            for call in calls:
                hints = Hints(call["name"], path_argument(call.get("args")))
                pending.setdefault(call["name"], []).append(hints)
                if isinstance(call.get("id"), str):
                    by_id[call["id"]] = hints
        for j, part in enumerate(parts):
            if isinstance(part.get("text"), str):
                eligible = own_ok and _is_own_text(part)
                slots.append(Slot((i, "parts", j, "text"), part["text"], source, eligible, Hints()))
            reply = _key(part, _RESPONSE)
            if reply is None:
                continue
            value = part[reply]
            hints = _response_hints(value, by_id, pending)
            for key, _, text in _response_values(value.get("response")):
                if text is not None:
                    path: Path = (i, "parts", j, reply, "response", key)
                    slots.append(Slot(path, text, "tool", config.compress_tool_results, hints))
    return slots


def _response_hints(
    reply: Mapping[str, Any], by_id: dict[str, Hints], pending: dict[str, list[Hints]]
) -> Hints:
    name = reply.get("name")
    call_id = reply.get("id")
    if isinstance(call_id, str) and call_id in by_id:
        return by_id[call_id]
    if isinstance(name, str):
        queue = pending.get(name)
        if queue:
            return queue.pop(0)
        return Hints(name)
    return Hints()


def gemini_overhead(messages: Sequence[Mapping[str, Any]], count: TokenCounter) -> int:
    """Tokens of everything in validated Gemini ``contents`` except the text slots.

    Each content costs its framing and role, like a chat message; function calls their name
    and arguments; function responses their name, the keys of ``response`` and the values
    that are not slots. Inline and file data are not counted: they never change.
    """
    total = REPLY_PRIMING
    for content in messages:
        total += TOKENS_PER_MESSAGE + count(str(content.get("role") or "user"))
        for part in content["parts"]:
            call = _key(part, _CALL)
            if call is not None:
                total += count(untrusted_text(part[call].get("name", "")))
                total += count(untrusted_json(part[call].get("args") or {}))
            reply = _key(part, _RESPONSE)
            if reply is not None:
                total += count(untrusted_text(part[reply].get("name") or ""))
                for key, value, text in _response_values(part[reply].get("response")):
                    total += count(untrusted_text(key))
                    if text is None:
                        total += count(untrusted_json(value))
    return total


def gemini_last_user_text(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The text of the last ``user`` content that has any (the default query)."""
    for content in reversed(messages):
        if _role(content) != "user":
            continue
        texts = [part["text"] for part in content["parts"] if _is_own_text(part)]
        if any(text.strip() for text in texts):
            return "\n".join(texts)
    return None
