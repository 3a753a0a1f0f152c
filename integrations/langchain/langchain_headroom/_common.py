"""Helpers shared by the adapters: LangChain messages <-> headroom, and marks.

Every helper returns new objects; LangChain messages handed in are never mutated, because
the same objects live on in the agent's state and in the caller's history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from headroom import Headroom, HeadroomError, TextResult
from headroom import count_tokens as headroom_count_tokens
from headroom.tools import RETRIEVE_TOOL_NAME
from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages import convert_to_openai_messages as _to_openai

__all__ = [
    "META_KEY",
    "TOOL_RESULT_EVENT",
    "compress_message_list",
    "compress_tool_message",
    "fold_retrieved",
    "is_marked",
    "is_retrieved",
    "last_user_text",
    "latest_user_turn",
    "mark",
    "open_exchange_start",
    "result_info",
    "saved_tokens",
    "text_of",
    "to_dicts",
]

logger = logging.getLogger("langchain_headroom")

META_KEY = "headroom"
"""Key in ``response_metadata`` under which edited messages carry what was done to them."""

TOOL_RESULT_EVENT = "headroom_tool_result"
"""Name of the custom callback event sent when a tool result was compressed: the tool run's
own trace shows the raw output, this event what the model is sent instead (``data``: tool
name, ``tool_call_id``, ``sent`` content, ``tokens_before``, ``tokens_after``, ``handles``)."""


def is_marked(message: BaseMessage) -> bool:
    """Whether headroom already edited ``message`` (so it must not be compressed again)."""
    meta = getattr(message, "response_metadata", None) or {}
    entry = meta.get(META_KEY)
    return isinstance(entry, Mapping) and bool(entry.get("compressed"))


def mark(message: BaseMessage, content: Any, info: Mapping[str, Any]) -> BaseMessage:
    """A copy of ``message`` with ``content`` and ``info`` recorded under ``META_KEY``."""
    meta = dict(getattr(message, "response_metadata", None) or {})
    meta[META_KEY] = {"compressed": True, **info}
    return message.model_copy(update={"content": content, "response_metadata": meta})


def saved_tokens(message: BaseMessage) -> int:
    """Tokens ``message`` saves against what it stands for (negative when it costs more).

    Every message headroom edits records ``tokens_before`` (what it replaces, as the model
    would have been sent it) and ``tokens_after`` in ``response_metadata["headroom"]``;
    unmarked messages save 0.
    """
    entry = (getattr(message, "response_metadata", None) or {}).get(META_KEY)
    if not isinstance(entry, Mapping) or not entry.get("compressed"):
        return 0
    before, after = entry.get("tokens_before"), entry.get("tokens_after")
    if isinstance(before, int) and isinstance(after, int):
        return before - after
    return 0


def result_info(result: TextResult) -> dict[str, Any]:
    """What a compressed message records about its compression (JSON-serialisable)."""
    return {
        "kind": result.kind,
        "tokens_before": result.tokens_before,
        "tokens_after": result.tokens_after,
        "handles": list(result.handles),
        "transforms": list(result.transforms_applied),
    }


def text_of(content: Any) -> str:
    """The text of a message's content (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
    return "\n".join(parts)


def last_user_text(messages: Sequence[Any]) -> str | None:
    """The text of the last human message: what query-aware compressors should keep."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            text = text_of(message.content)
            if text:
                return text
    return None


def _is_summary_message(message: BaseMessage) -> bool:
    entry = (getattr(message, "response_metadata", None) or {}).get(META_KEY)
    return isinstance(entry, Mapping) and bool(entry.get("summary"))


def open_exchange_start(messages: Sequence[BaseMessage]) -> int:
    """Index of the newest human message that is not a summary (0 when there is none).

    It and every message after it (the tool calls made for it and their results) are the
    open exchange: the turn being answered, which is never condensed or re-compressed.
    """
    latest = latest_user_turn(messages)
    return 0 if latest is None else latest


def latest_user_turn(messages: Sequence[BaseMessage]) -> int | None:
    """Index of the newest human message that is not a summary, or ``None``."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, HumanMessage) and not _is_summary_message(message):
            return index
    return None


def is_retrieved(message: BaseMessage) -> bool:
    """Whether ``message`` is an answer of the ``headroom_retrieve`` tool."""
    return isinstance(message, ToolMessage) and message.name == RETRIEVE_TOOL_NAME


def fold_retrieved(hr: Headroom, messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """``messages`` with ``headroom_retrieve`` answers of earlier turns compressed again.

    An original the model retrieved is for the turn that asked for it; left whole, it would
    be sent on every later call. Before the open exchange each such answer is compressed
    again, without a query, so its bytes are the same on every later call (and, for a whole
    original, its marker carries the handle it was retrieved by). The answers of the open
    exchange, and error answers, are sent as they are.
    """
    pin = open_exchange_start(messages)
    out = list(messages)
    for index in range(pin):
        message = out[index]
        if not is_retrieved(message) or getattr(message, "status", None) == "error":
            continue
        assert isinstance(message, ToolMessage)
        text = text_of(message.content)
        result = hr.compress_text(text)
        if result.changed and result.text != text:
            out[index] = mark(message, result.text, {**result_info(result), "source": "retrieved"})
    return out


def to_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """OpenAI-shaped dicts for ``messages``, one per message, in the same order."""
    return list(_to_openai(list(messages)))


def compress_tool_message(
    hr: Headroom,
    message: ToolMessage,
    *,
    query: str | None,
    tool_name: str | None = None,
    path: str | None = None,
    keep_original_as_artifact: bool = False,
) -> ToolMessage:
    """``message`` with its text compressed and marked, or ``message`` itself if unchanged.

    A list of content blocks is compressed block by block, so images and other blocks
    pass through as the same objects. With ``keep_original_as_artifact`` the original
    content becomes the message's ``artifact`` (never sent to the model), or, when the tool
    returned an artifact of its own, ``response_metadata["headroom"]["original"]``.
    """
    if is_marked(message) or message.status == "error":
        return message  # errors are signal: they reach the model verbatim
    name = tool_name or message.name
    content = message.content
    results: list[TextResult] = []
    new_content: Any
    if isinstance(content, str):
        result = hr.compress_text(content, query=query, tool_name=name, path=path)
        if not result.changed or result.text == content:
            return message
        results.append(result)
        new_content = result.text
    elif isinstance(content, list):
        new_content = []
        for block in content:
            if isinstance(block, Mapping) and block.get("type") == "text":
                text = str(block.get("text", ""))
                result = hr.compress_text(text, query=query, tool_name=name, path=path)
                if result.changed and result.text != text:
                    results.append(result)
                    block = {**block, "text": result.text}
            new_content.append(block)
        if not results:
            return message
    else:
        return message
    info: dict[str, Any] = {
        "kind": results[0].kind,
        "tokens_before": sum(r.tokens_before for r in results),
        "tokens_after": sum(r.tokens_after for r in results),
        "handles": [h for r in results for h in r.handles],
        "transforms": sorted({t for r in results for t in r.transforms_applied}),
    }
    if keep_original_as_artifact and message.artifact is not None:
        # The tool's own artifact is the application's: the original goes beside it.
        info["original"] = content
    edited = mark(message, new_content, info)
    if keep_original_as_artifact and message.artifact is None:
        edited = edited.model_copy(update={"artifact": content})
    assert isinstance(edited, ToolMessage)
    return edited


def compress_message_list(
    hr: Headroom,
    messages: Sequence[BaseMessage],
    *,
    query: str | None = None,
) -> list[BaseMessage]:
    """A new list with the text of eligible messages compressed and those messages marked.

    The list is compressed whole (so tool results get their tool-call hints and protected
    turns stay protected), then each changed message is copied with its new text; messages
    already marked are kept as they are, which makes repeated calls idempotent.
    """
    messages = list(messages)
    if not messages:
        return messages
    dicts = to_dicts(messages)
    try:
        result = hr.compress(dicts, query=query)
    except HeadroomError as exc:
        # A message shape headroom does not accept must not break the user's model call:
        # send the request as it was, and say why.
        logger.warning("headroom: request left uncompressed: %s", exc)
        return messages
    out: list[BaseMessage] = []
    for original, before, after in zip(messages, dicts, result.messages, strict=True):
        if is_marked(original) or after.get("content") == before.get("content"):
            out.append(original)
            continue
        new_content = _content_like(original.content, after.get("content"))
        if new_content is None:
            out.append(original)
            continue
        edited = mark(
            original,
            new_content,
            {"source": "request", "handles": _handles_in(result.handles, after)},
        )
        # Per-message counts, so observers can add up what each message saved.
        counter = hr.config.token_counter
        entry = edited.response_metadata[META_KEY]
        entry["tokens_before"] = count_tokens([original], model=hr.model, counter=counter)
        entry["tokens_after"] = count_tokens([edited], model=hr.model, counter=counter)
        out.append(edited)
    return out


def _handles_in(handles: Sequence[str], message: Mapping[str, Any]) -> list[str]:
    text = text_of(message.get("content"))
    return [h for h in handles if h in text]


def _content_like(original: Any, new: Any) -> Any:
    """``new`` (OpenAI-shaped content) in the shape of ``original``; None if they differ."""
    if isinstance(original, str):
        return new if isinstance(new, str) else None
    if not isinstance(original, list):
        return None
    if isinstance(new, str):
        # The converter joins all-text block lists into one string.
        if all(isinstance(b, Mapping) and b.get("type") == "text" for b in original):
            return [{"type": "text", "text": new}]
        return None
    if isinstance(new, list) and len(new) == len(original):
        out: list[Any] = []
        for block, converted in zip(original, new, strict=True):
            if (
                isinstance(block, Mapping)
                and block.get("type") == "text"
                and isinstance(converted, Mapping)
                and "text" in converted
            ):
                out.append({**block, "text": converted["text"]})
            else:
                out.append(block)
        return out
    return None


def count_tokens(messages: Sequence[BaseMessage], *, model: str, counter: Any = None) -> int:
    """Tokens ``messages`` cost ``model`` with headroom's counting (OpenAI framing rules)."""
    return headroom_count_tokens(to_dicts(messages), model=model, token_counter=counter)
