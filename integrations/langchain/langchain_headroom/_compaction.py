"""History compaction for LangChain message lists, around :class:`headroom.RollingSummarizer`.

The summarizer only knows that the last message stays. In an agent loop the last message is
often a tool result, and the turn that matters is earlier: the newest human question and the
tool calls made for it. :class:`Compactor` pins that *open exchange* (the last human message
and everything after it) verbatim, gives the summarizer only what comes before, with the
budget left once the exchange is paid for, and says why when the budget cannot be met.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from headroom import Headroom, HeadroomError
from langchain_core.messages import AnyMessage, BaseMessage, HumanMessage

from langchain_headroom._common import (
    META_KEY,
    count_tokens,
    open_exchange_start,
    saved_tokens,
    to_dicts,
)

__all__ = ["Compaction", "Compactor"]

logger = logging.getLogger("langchain_headroom")

# The summarizer's warning when fewer than keep_recent messages stayed verbatim.
_KEPT = re.compile(r"kept only (\d+) recent messages verbatim \(keep_recent=(\d+)\)")


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
        pin = open_exchange_start(messages)
        head, tail = messages[: pin + 1], messages[pin + 1 :]
        tail_cost = total - self._count(head)
        warnings: list[str] = []
        budget = None
        if self.budget_tokens is not None:
            budget = self.budget_tokens - tail_cost
            if budget < self._count(head[-1:]):
                warnings.append(
                    f"budget_tokens={self.budget_tokens} cannot be met: the latest user turn "
                    f"and its open tool-call exchange ({len(tail) + 1} messages) alone cost "
                    f"{self._count(head[-1:]) + tail_cost} tokens, and they are never condensed"
                )
            budget = max(1, budget)
        limit = None
        if self.max_messages is not None:
            limit = max(2, self.max_messages - len(tail))
        new_head: list[AnyMessage] | None = None
        if len(head) > 1:
            try:
                rolling = self.headroom.summarizer(
                    budget,
                    max_messages=limit,
                    keep_recent=max(1, self.keep_recent - len(tail)),
                    summarizer=self.summarizer,
                )
                new_head, more = _summarize(rolling, head, self._cost)
                # Once the open exchange alone is over budget, the summarizer's own
                # shortfalls follow from it: the first warning says why.
                if not warnings:
                    warnings += _restated(
                        more,
                        tail=len(tail),
                        keep_recent=self.keep_recent,
                        budget_set=self.budget_tokens is not None,
                    )
            except HeadroomError as exc:
                warnings.append(f"history left as it was: {exc}")
        # The tail is the state's own messages, each one of the AnyMessage types.
        out = None if new_head is None else [*new_head, *cast("list[AnyMessage]", tail)]
        after = total if out is None else self._count(out)
        explained = any(w.startswith(f"budget_tokens={self.budget_tokens} ") for w in warnings)
        if self.budget_tokens is not None and after > self.budget_tokens and not explained:
            warnings.append(
                f"budget_tokens={self.budget_tokens} not met ({after} tokens): nothing "
                "older than the open exchange could be condensed further"
            )
        for warning in warnings:
            logger.warning("headroom: %s", warning)
        return Compaction(out, after, warnings)


def _restated(
    warnings: Sequence[str], *, tail: int, keep_recent: int, budget_set: bool
) -> list[str]:
    """The summarizer's warnings, told of the whole list, open exchange included.

    It saw only what precedes the open exchange, with the budget and ``keep_recent`` left
    once the exchange is paid for: its counts are restated over the whole list, and what
    is no longer true of it (fewer recent messages than ``keep_recent`` when the exchange
    makes up for them, a shortfall counted without the exchange) is left out.
    """
    out: list[str] = []
    for warning in warnings:
        if budget_set and warning.startswith("budget of "):
            continue  # compact() says it of the whole list
        kept = _KEPT.search(warning)
        if kept is not None:
            n = int(kept.group(1)) + tail
            if n >= keep_recent:
                continue
            warning = _KEPT.sub(
                f"kept only {n} recent messages verbatim (keep_recent={keep_recent})", warning
            )
        out.append(warning)
    return out


def _summarize(
    rolling: Any, messages: Sequence[BaseMessage], cost: Callable[[BaseMessage], int]
) -> tuple[list[AnyMessage] | None, list[str]]:
    dicts = to_dicts(messages)
    result = rolling.summarize(dicts)
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
