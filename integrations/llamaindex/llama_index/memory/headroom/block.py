"""``HeadroomMemoryBlock``: a memory block holding a condensed, retrievable history."""

from __future__ import annotations

import asyncio
from typing import Any

from headroom import Headroom, HeadroomError, Store, count_tokens
from headroom.tools import DEFAULT_MODEL, client_for
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory.memory import BaseMemoryBlock

from llama_index.memory.headroom.messages import to_dicts
from llama_index.observability.headroom.events import HeadroomCompressionEvent, emit

__all__ = ["HeadroomMemoryBlock"]

_PLACEHOLDER = {"role": "user", "content": "(continue)"}


class HeadroomMemoryBlock(BaseMemoryBlock[str]):
    """A block for ``Memory(memory_blocks=[...])`` that condenses the turns it is given.

    ``Memory`` flushes its oldest messages into its blocks when the chat history outgrows
    ``token_limit * chat_history_token_ratio``. This block keeps every flushed message and
    returns headroom's extractive summary of them (no LLM call): one line per salient turn,
    quoting ids, decisions, errors and numbers verbatim, and ending with a marker whose
    handle returns the exact original messages (``headroom_retrieve``). The summary is
    recomputed only when new messages arrive; ``budget_tokens`` caps it by dropping its
    oldest lines first (markers always stay), as does ``Memory`` when it must truncate
    (``priority`` 1 by default, so it may).

    Example:
        >>> import asyncio
        >>> from llama_index.core.llms import ChatMessage
        >>> block = HeadroomMemoryBlock(store="memory")
        >>> asyncio.run(block.aput([ChatMessage(role="user", content="My id is omar_3817."),
        ...                         ChatMessage(role="assistant", content="Noted.")]))
        >>> text = asyncio.run(block.aget())
        >>> "omar_3817" in text and "retrieve: headroom:" in text
        True
        >>> # Memory.from_defaults(token_limit=40000, memory_blocks=[block])
    """

    name: str = Field(default="headroom_history", description="The block's name.")
    description: str | None = Field(
        default="Earlier turns of this conversation, condensed; each marker's handle "
        "returns the originals.",
        description="What the block holds.",
    )
    priority: int = Field(
        default=1, description="Truncation priority (0 = never truncate, 1 = truncate last)."
    )
    budget_tokens: int | None = Field(
        default=None, gt=0, description="Cap on the summary's tokens (oldest lines go first)."
    )
    model: str = Field(default=DEFAULT_MODEL, description="Whose tokenizer counts tokens.")
    headroom: Headroom | None = Field(
        default=None, exclude=True, description="Client whose store keeps the originals."
    )
    store: Store | str | None = Field(
        default=None, exclude=True, description="Where originals go when no client is given."
    )

    _messages: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _summary: str | None = PrivateAttr(default=None)
    _hr: Headroom | None = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomMemoryBlock"

    @property
    def client(self) -> Headroom:
        """The headroom client (and store) this block writes originals to."""
        if self._hr is None:
            self._hr = client_for(self.headroom, store=self.store, model=self.model)
        return self._hr

    async def _aput(self, messages: list[ChatMessage]) -> None:
        self._messages.extend(to_dicts(messages))
        self._summary = None

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        if not self._messages:
            return ""
        if self._summary is None:
            # Summarising is CPU work and writes the store: off the event loop.
            self._summary = await asyncio.to_thread(self._summarize)
        return self._summary

    async def atruncate(self, content: str, tokens_to_truncate: int) -> str | None:
        """``content`` with its oldest summary lines dropped until ``tokens_to_truncate`` go.

        Returns None when even the markers alone are too many.
        """
        if tokens_to_truncate <= 0:
            return content
        target = self._count(content) - tokens_to_truncate
        shorter = _drop_oldest_lines(content, target, self._count)
        return shorter if shorter is not None and self._count(shorter) <= target else None

    def _count(self, text: str) -> int:
        return count_tokens(text, model=self.model, token_counter=self.client.config.token_counter)

    def _summarize(self) -> str:
        hr = self.client
        # The summarizer keeps the last message verbatim; a placeholder turn makes every
        # held message eligible, and max_messages = 2 (summary + placeholder) condenses all.
        rolling = hr.summarizer(
            max_messages=2,
            keep_recent=0,
        )
        try:
            result = rolling.summarize([*self._messages, _PLACEHOLDER])
        except HeadroomError as exc:
            return f"{len(self._messages)} earlier messages could not be condensed: {exc}"
        summary = result.summary or ""
        if self.budget_tokens is not None:
            summary = _drop_oldest_lines(summary, self.budget_tokens, self._count) or summary
        emit(
            HeadroomCompressionEvent(
                component="memory_block",
                name=self.name,
                tokens_before=count_tokens(
                    self._messages, model=hr.model, token_counter=hr.config.token_counter
                ),
                tokens_after=self._count(summary),
                handles=list(result.handles),
                transforms=["conversation.summary"],
            )
        )
        return summary


def _drop_oldest_lines(summary: str, target: int, count: Any) -> str | None:
    """``summary`` without its oldest cited lines, within ``target`` tokens if possible.

    The header (first line) and every marker line (``[... retrieve: headroom:...]``) stay,
    so what was dropped can still be retrieved; None if those alone exceed ``target``.
    """
    lines = summary.split("\n")
    fixed = {0} | {i for i, line in enumerate(lines) if "retrieve: headroom:" in line}
    droppable = [i for i in range(1, len(lines)) if i not in fixed]
    keep = [True] * len(lines)

    def text() -> str:
        return "\n".join(line for line, k in zip(lines, keep, strict=True) if k)

    # Estimate with per-line counts first, then confirm on the real text (a line's tokens
    # depend a little on its neighbours).
    # A quote longer than one line continues on rows starting "| ": it goes with its
    # labelled first line, never leaving rows that no longer say whose words they are.
    groups: list[list[int]] = []
    for i in droppable:
        if lines[i].startswith("| ") and groups and groups[-1][-1] == i - 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    estimate = count(summary)
    dropped = 0
    while estimate > target and dropped < len(groups):
        for i in groups[dropped]:
            keep[i] = False
            estimate -= count(lines[i]) + 1
        dropped += 1
    while count(text()) > target and dropped < len(groups):
        for i in groups[dropped]:
            keep[i] = False
        dropped += 1
    out = text()
    return out if count(out) <= target else None
