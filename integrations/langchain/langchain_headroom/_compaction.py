"""History compaction for LangChain message lists, around :class:`headroom.RollingSummarizer`.

In an agent loop the last message is often a tool result, and the turn that matters is
earlier: the newest human question and the tool calls made for it. :class:`Compactor` pins
that *open exchange* (the last human message and everything after it) with the summarizer's
``keep_from``: the whole list is summarized in one call, the exchange stays verbatim and
counts toward the budget, and the summarizer's warnings (why the budget was not met, with
what the exchange alone costs) are true of the whole list as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from headroom import Headroom, HeadroomError
from headroom.conversation import OPEN_EXCHANGE
from langchain_core.messages import AnyMessage, BaseMessage, HumanMessage

from langchain_headroom._common import (
    META_KEY,
    count_tokens,
    latest_user_turn,
    saved_tokens,
    to_dicts,
)

__all__ = ["Compaction", "Compactor"]

logger = logging.getLogger("langchain_headroom")


@dataclass(frozen=True, slots=True)
class Compaction:
    """What one :meth:`Compactor.compact` call did.

    Attributes:
        messages: the new list, or None when nothing was condensed.
        tokens: what the list costs after compaction (before, when nothing changed).
        warnings: why the budget was not met, if it was not.
    """

    messages: list[AnyMessage] | None
    tokens: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Compactor:
    """Condense the oldest turns of a message list, never the open exchange.

    Args:
        headroom: the client whose store, model and token counter the summaries use.
        budget_tokens: condense when the list costs more than this.
        max_messages: condense when the list has more messages than this.
        keep_recent: trailing messages that stay verbatim, the open exchange included.
        summarizer: writes the summary text instead of the extractive summarizer.
    """

    headroom: Headroom
    budget_tokens: int | None = None
    max_messages: int | None = None
    keep_recent: int = 4
    summarizer: Callable[[list[Any]], str] | None = None

    def __post_init__(self) -> None:
        # Checked once, here, by the summarizer the options are for.
        self.headroom.summarizer(
            self.budget_tokens,
            max_messages=self.max_messages,
            keep_recent=self.keep_recent,
            summarizer=self.summarizer,
        )

    def _count(self, messages: Sequence[BaseMessage]) -> int:
        hr = self.headroom
        return count_tokens(messages, model=hr.model, counter=hr.config.token_counter)

    def _cost(self, message: BaseMessage) -> int:
        # One message's share of a request (the request's fixed priming left out).
        return self._count([message]) - self._count([])

    def compact(self, messages: Sequence[BaseMessage]) -> Compaction:
        """Condense ``messages`` when over budget; log a warning when it cannot fit."""
        messages = list(messages)
        total = self._count(messages)
        over_budget = self.budget_tokens is not None and total > self.budget_tokens
        too_many = self.max_messages is not None and len(messages) > self.max_messages
        if not (over_budget or too_many):
            return Compaction(None, total)
        warnings: list[str] = []
        new: list[AnyMessage] | None = None
        try:
            rolling = self.headroom.summarizer(
                self.budget_tokens,
                max_messages=self.max_messages,
                keep_recent=self.keep_recent,
                summarizer=self.summarizer,
            )
            # With no user turn there is no open exchange to pin, only the last message.
            pin = latest_user_turn(messages)
            new, warnings = _summarize(rolling, messages, pin, self._cost)
        except HeadroomError as exc:
            warnings.append(f"history left as it was: {exc}")
        after = total if new is None else self._count(new)
        for warning in warnings:
            logger.warning("headroom: %s", warning)
        return Compaction(new, after, warnings)


def _summarize(
    rolling: Any,
    messages: Sequence[BaseMessage],
    pin: int | None,
    cost: Callable[[BaseMessage], int],
) -> tuple[list[AnyMessage] | None, list[str]]:
    dicts = to_dicts(messages)
    result = rolling.summarize(dicts, keep_from=pin, pinned_as=OPEN_EXCHANGE)
    if result.summarized == 0:
        return None, list(result.warnings)
    # The summarizer keeps the dicts it does not condense as the same objects, in order,
    # which maps every kept dict back to its LangChain message.
    by_id = {id(d): m for d, m in zip(dicts, messages, strict=True)}
    kept = {id(item) for item in result.messages}
    # What the new block stands for, as the model would have been sent it without
    # headroom: the replaced messages at their raw cost (earlier savings added back).
    raw = sum(
        cost(m) + saved_tokens(m) for d, m in zip(dicts, messages, strict=True) if id(d) not in kept
    )
    made = [item for item in result.messages if id(item) not in by_id]
    out: list[AnyMessage] = []
    for item in result.messages:
        original = by_id.get(id(item))
        if original is not None:
            out.append(original)  # type: ignore[arg-type]
            continue
        block = HumanMessage(content=str(item["content"]))
        after = cost(block)
        block.response_metadata[META_KEY] = {
            "compressed": True,
            "summary": True,
            "covers": result.covers,
            "handles": list(result.handles),
            # Per message, like every mark: the last new block carries what was replaced.
            "tokens_before": raw if item is made[-1] else after,
            "tokens_after": after,
        }
        out.append(block)
    return out, list(result.warnings)
