"""``HeadroomMemoryBlock``: a memory block holding a condensed, retrievable history."""

from __future__ import annotations

import asyncio
from typing import Any

from headroom import Headroom, HeadroomError, Store, count_tokens
from headroom.tools import DEFAULT_MODEL, client_for
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory.memory import BaseMemoryBlock

from llama_index.utils.headroom.events import HeadroomCompressionEvent, emit
from llama_index.utils.headroom.messages import to_dicts

__all__ = ["HeadroomMemoryBlock"]

_PLACEHOLDER = {"role": "user", "content": "(continue)"}


class HeadroomMemoryBlock(BaseMemoryBlock[str]):
    """A block for ``Memory(memory_blocks=[...])`` that condenses the turns it is given.

    ``Memory`` flushes its oldest messages into its blocks when the chat history outgrows
    ``token_limit * chat_history_token_ratio``. This block keeps every flushed message and
    returns headroom's extractive summary of them (no LLM call): one line per salient turn,
    quoting ids, decisions, errors and numbers verbatim, and ending with a marker whose
    handle returns the exact original messages (``headroom_retrieve``). The summary is
    recomputed only when new messages arrive. ``budget_tokens`` caps it, as does ``Memory``
    when it must truncate (``priority`` 1 by default, so it may), by the summarizer's own
    rule (:class:`headroom.RollingSummarizer`): lines are shed by salience, not age, so the
    task and the ids the user typed outlast what the agent said and the tools printed;
    the block's marker always stays.

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
        default=None,
        gt=0,
        description="Cap on the summary's tokens (the least salient lines go first).",
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
        """The summary again, ``tokens_to_truncate`` tokens shorter than ``content``.

        ``content`` is what :meth:`aget` returned; the held messages are summarized again
        within the smaller cap, shedding the least salient lines first. Returns None when
        even the block's marker alone is too many.
        """
        if tokens_to_truncate <= 0:
            return content
        target = self._count(content) - tokens_to_truncate
        if target <= 0 or not self._messages:
            return None
        shorter = await asyncio.to_thread(self._summarize, target)
        return shorter if self._count(shorter) <= target else None

    def _count(self, text: str) -> int:
        return count_tokens(text, model=self.model, token_counter=self.client.config.token_counter)

    def _summarize(self, cap: int | None = None) -> str:
        """The summary of every held message, within ``cap`` (or ``budget_tokens``) tokens
        when that is possible."""
        hr = self.client
        cap = self.budget_tokens if cap is None else cap
        # The summarizer keeps the last message verbatim; a placeholder turn makes every
        # held message eligible, and max_messages = 2 (summary + placeholder) condenses all.
        # A cap on the summary's text is a budget on that two-message list: the text plus
        # what the two messages cost around it. Its shrinking is the core's, by salience.
        frame = count_tokens(
            [{"role": "user", "content": ""}, _PLACEHOLDER],
            model=hr.model,
            token_counter=hr.config.token_counter,
        )
        rolling = hr.summarizer(
            None if cap is None else cap + frame,
            max_messages=2,
            keep_recent=0,
            hysteresis=0,  # one summary, asked for again at each change: no slack to keep
        )
        try:
            result = rolling.summarize([*self._messages, _PLACEHOLDER])
        except HeadroomError as exc:
            return f"{len(self._messages)} earlier messages could not be condensed: {exc}"
        summary = result.summary or ""
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
