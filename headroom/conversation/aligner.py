"""CacheAligner: keep the prompt prefix byte-identical across calls, for provider caching.

Providers cache a request's longest previously seen prefix. A timestamp or request id in
the system prompt changes every call and so defeats the cache from its first byte. The
aligner finds such *volatile* values in the stable prefix (leading system messages, the
first ``prefix_turns`` messages after them, and tool descriptions) and, with
``move_volatile=True``, replaces each by a placeholder ``[[v1]]``, ``[[v2]]``... and
states the values in a short note at the end of the request::

    [headroom: values of the placeholders above] [[v1]] = 2024-05-15 15:00:00 EST

The note is appended to the last user message after the prefix (as an extra text block
when its content is a list of blocks), or, when there is none, sent as a new final user
message; a trailing ``system`` message would not be accepted by Anthropic's API. Every
value is still in the request and bound to its placeholder, so the meaning is unchanged;
the same value always gets the same placeholder, and placeholders are numbered by first
occurrence, so two calls that differ only in those values have identical prefixes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from headroom.errors import InvalidArgumentError
from headroom.messages import untrusted_json, validate_messages

__all__ = ["NOTE_HEADER", "AlignResult", "CacheAligner", "VolatileKind", "VolatileValue"]

VolatileKind = Literal[
    "uuid", "datetime", "date", "time", "timestamp", "request_id", "hash", "counter"
]

NOTE_HEADER = "[headroom: values of the placeholders above]"

_TZ = r"(?:\s?(?:UTC|GMT|Z|[ECMP][SD]T|CES?T|[+-]\d{2}:?\d{2}))?"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
# One alternation, most specific first, so a datetime is one value rather than a date
# and a time, and a UUID is not mistaken for a hash.
_PATTERNS: tuple[tuple[VolatileKind, str], ...] = (
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    (
        "datetime",
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?" + _TZ + r"(?!\w)",
    ),
    (
        "date",
        r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b" + _MONTH + r" \d{1,2},? \d{4}\b"
        r"|\b\d{1,2} " + _MONTH + r" \d{4}\b",
    ),
    ("time", r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?" + _TZ + r"(?!\w)"),
    ("timestamp", r"\b1[5-9]\d{8}(?:\d{3})?\b"),
    (
        "request_id",
        r"\b(?:req|request|trace|span|session|correlation|run)[-_][A-Za-z0-9][\w-]{7,}\b",
    ),
    ("hash", r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b"),
    (
        "counter",
        r"\b(?i:turn|call|request|attempt|iteration|run|session) #\d+\b",
    ),
)
_VOLATILE_RE = re.compile("|".join(f"(?P<{kind}>{rx})" for kind, rx in _PATTERNS))


@dataclass(frozen=True, slots=True)
class VolatileValue:
    """One volatile value found in the prefix."""

    kind: VolatileKind
    value: str
    placeholder: str  # e.g. "[[v1]]"; the same value always gets the same one
    where: str  # e.g. "messages[0].content" or "tools[2].function.description"


@dataclass(frozen=True, slots=True)
class AlignResult:
    """What :meth:`CacheAligner.align` returns.

    Attributes:
        messages: the message list (new; the input is never mutated).
        tools: the tool definitions, with volatile values replaced when moved.
        fingerprint: SHA-256 (hex) of the stable prefix as sent; equal fingerprints on two
            calls mean the provider can reuse its cache for that prefix.
        prefix_messages: how many leading messages the prefix holds.
        volatile: every volatile value found in the prefix, in order.
        note: the trailing note that carries the moved values, or ``None``.
    """

    messages: list[Any]
    tools: list[Any] | None
    fingerprint: str
    prefix_messages: int
    volatile: list[VolatileValue] = field(default_factory=list)
    note: str | None = None


class CacheAligner:
    """Find volatile values in the stable prefix and, optionally, move them to the end.

    Args:
        move_volatile: replace volatile values in the prefix by placeholders and append
            their values in a trailing note; ``False`` only reports them.
        prefix_turns: messages after the leading system messages that also count as the
            stable prefix (e.g. a fixed first user turn).

    Example:
        >>> aligner = CacheAligner()
        >>> out = aligner.align([
        ...     {"role": "system", "content": "Policy. It is 2024-05-15 15:00:00 EST."},
        ...     {"role": "user", "content": "Hi"},
        ... ])
        >>> out.messages[0]["content"]
        'Policy. It is [[v1]].'
        >>> out.messages[1]["content"].splitlines()[-1]
        '[[v1]] = 2024-05-15 15:00:00 EST'
    """

    def __init__(self, *, move_volatile: bool = True, prefix_turns: int = 0) -> None:
        if not isinstance(move_volatile, bool):
            raise InvalidArgumentError(f"move_volatile: expected bool, got {move_volatile!r}")
        if not isinstance(prefix_turns, int) or isinstance(prefix_turns, bool) or prefix_turns < 0:
            raise InvalidArgumentError(f"prefix_turns: expected an int >= 0, got {prefix_turns!r}")
        self.move_volatile = move_volatile
        self.prefix_turns = prefix_turns

    def align(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> AlignResult:
        """Report (and by default move) the volatile values of the stable prefix.

        Raises:
            InvalidMessageError: a message has the wrong shape.
            InvalidArgumentError: ``tools`` is not a list of tool definitions (dicts).
        """
        validate_messages(messages)
        _validate_tools(tools)
        msgs: list[Any] = list(messages)
        head = 0
        while head < len(msgs) and msgs[head].get("role") in ("system", "developer"):
            head += 1
        prefix_len = min(len(msgs), head + self.prefix_turns)
        placeholders: dict[str, str] = {}
        found: list[VolatileValue] = []

        def replace(text: str, where: str) -> str:
            def sub(match: re.Match[str]) -> str:
                value = match.group()
                placeholder = placeholders.setdefault(value, f"[[v{len(placeholders) + 1}]]")
                kind: VolatileKind = match.lastgroup  # type: ignore[assignment]
                found.append(VolatileValue(kind, value, placeholder, where))
                return placeholder if self.move_volatile else value

            return _VOLATILE_RE.sub(sub, text)

        for i in range(prefix_len):
            msgs[i] = _map_message(msgs[i], f"messages[{i}]", replace)
        new_tools = (
            None
            if tools is None
            else [_map_descriptions(t, f"tools[{k}]", replace) for k, t in enumerate(tools)]
        )
        if not self.move_volatile:
            # Detection only: the request goes out exactly as given.
            msgs = list(messages)
            new_tools = None if tools is None else list(tools)
        note = None
        if self.move_volatile and placeholders:
            note = "\n".join(
                [NOTE_HEADER, *(f"{ph} = {value}" for value, ph in placeholders.items())]
            )
            msgs = _append_note(msgs, prefix_len, note)
        prefix = {"messages": msgs[:prefix_len], "tools": new_tools}
        # untrusted_json: what json.dumps(sort_keys=True, default=str) writes, but total
        # (tool-call arguments in the prefix may hold sets, cycles or deep nesting).
        digest = hashlib.sha256(
            untrusted_json(prefix, ensure_ascii=False).encode("utf-8", "surrogatepass")
        ).hexdigest()
        return AlignResult(msgs, new_tools, digest, prefix_len, found, note)


def _validate_tools(tools: object) -> None:
    if tools is None:
        return
    if isinstance(tools, str | bytes | bytearray) or not isinstance(tools, Sequence):
        raise InvalidArgumentError(
            f"tools: expected a list of tool definitions (dicts), got {type(tools).__name__}"
        )
    for k, tool in enumerate(tools):
        if not isinstance(tool, Mapping):
            raise InvalidArgumentError(
                f"tools[{k}]: expected a tool definition (dict), got {type(tool).__name__}"
            )


def _map_message(message: Mapping[str, Any], where: str, replace: Any) -> dict[str, Any]:
    """A copy of ``message`` with its own text (not tool-call arguments) passed through."""
    out = dict(message)
    content = message.get("content")
    if isinstance(content, str):
        out["content"] = replace(content, f"{where}.content")
    elif isinstance(content, list | tuple):
        blocks: list[Any] = []
        for j, block in enumerate(content):
            if isinstance(block, Mapping) and block.get("type") == "text":
                block = {**block, "text": replace(block["text"], f"{where}.content[{j}].text")}
            blocks.append(block)
        out["content"] = blocks
    return out


def _map_descriptions(value: Any, where: str, replace: Any) -> Any:
    """A copy of a tool definition with every ``description`` string passed through.

    Only descriptions: names, types and enums are part of the tool's contract.
    """
    if isinstance(value, Mapping):
        return {
            k: (
                replace(v, f"{where}.{k}")
                if k == "description" and isinstance(v, str)
                else _map_descriptions(v, f"{where}.{k}", replace)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_map_descriptions(v, f"{where}[{i}]", replace) for i, v in enumerate(value)]
    return value


def _append_note(msgs: list[Any], prefix_len: int, note: str) -> list[Any]:
    for i in range(len(msgs) - 1, prefix_len - 1, -1):
        message = msgs[i]
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            msgs[i] = {**message, "content": f"{content}\n\n{note}" if content else note}
        else:
            msgs[i] = {**message, "content": [*content, {"type": "text", "text": note}]}
        return msgs
    return [*msgs, {"role": "user", "content": note}]
