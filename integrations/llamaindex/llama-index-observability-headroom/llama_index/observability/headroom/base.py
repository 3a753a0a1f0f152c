"""``HeadroomEventHandler``: what LLMs were sent, and what headroom saved, per query and in all."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from headroom import HeadroomError, count_tokens
from headroom.tools import DEFAULT_MODEL
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionStartEvent,
)
from llama_index.core.instrumentation.events.query import QueryEndEvent, QueryStartEvent
from llama_index.core.schema import QueryBundle
from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.base import BaseEvent
from llama_index_instrumentation.dispatcher import Dispatcher
from llama_index_instrumentation.event_handlers.base import BaseEventHandler
from pydantic import Field, PrivateAttr

from llama_index.utils.headroom.events import HeadroomCompressionEvent, saving_in
from llama_index.utils.headroom.messages import to_dicts

__all__ = ["HeadroomEventHandler", "QueryUsage", "Usage", "instrument"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts over a set of LLM calls and headroom compressions.

    Attributes:
        llm_calls: LLM requests observed (a chat or completion call, counted once even when
            one is implemented through the other).
        tokens_sent: input tokens those requests carried (headroom's count for ``model``).
        tokens_saved: per LLM call, what the call would have been sent without headroom
            minus what it was sent (messages made by the memory and compressed tool results
            count in every call carrying them, and negative when larger than what they
            replaced); node postprocessor and memory block savings count per event.
        compressions: headroom compression events observed.
        saved_by_component: ``tokens_saved`` split by component (``node_postprocessor``,
            ``tool``, ``memory``, ``memory_block``).
    """

    llm_calls: int = 0
    tokens_sent: int = 0
    tokens_saved: int = 0
    compressions: int = 0
    saved_by_component: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueryUsage:
    """:class:`Usage` of one query-engine query (``QueryStartEvent`` to ``QueryEndEvent``).

    Attributes:
        query: the query text.
        usage: what that query's LLM calls were sent and what headroom saved in it.
        done: whether the query has ended.
    """

    query: str
    usage: Usage
    done: bool


class _Tally:
    """Mutable counts behind a :class:`Usage` (guarded by the handler's lock)."""

    __slots__ = ("calls", "compressions", "saved", "sent", "split")

    def __init__(self) -> None:
        self.calls = 0
        self.sent = 0
        self.saved = 0
        self.compressions = 0
        self.split: dict[str, int] = {}

    def usage(self) -> Usage:
        return Usage(self.calls, self.sent, self.saved, self.compressions, dict(self.split))


class _Query:
    __slots__ = ("done", "parent", "tally", "text")

    def __init__(self, text: str, parent: _Query | None) -> None:
        self.text = text
        self.parent = parent  # the query this one runs inside (sub-question engines)
        self.tally = _Tally()
        self.done = False


# Per task/thread context: the query being answered.
_current_query: ContextVar[_Query | None] = ContextVar("headroom_query", default=None)


def _new_depth() -> ContextVar[int]:
    # How deep inside an LLM call this task is (a chat call implemented through a
    # completion call is counted once). One per handler: every handler sees every event,
    # so a shared depth would be raised by the first and misread by the next.
    return ContextVar("headroom_llm_depth", default=0)


class HeadroomEventHandler(BaseEventHandler):
    """Adds up what LLMs are sent and what headroom saves, per query and cumulatively.

    Register it on LlamaIndex's root dispatcher (:func:`instrument` does) and every LLM call
    is counted (the input it carries, with headroom's token counting for ``model``), as is
    every :class:`HeadroomCompressionEvent` emitted by the
    node postprocessor, tool wrappers and memories. Query-engine queries get their own
    :class:`QueryUsage`. Thread- and asyncio-safe: concurrent queries are kept apart.

    Example:
        >>> from llama_index.core.instrumentation import get_dispatcher
        >>> from llama_index.utils.headroom.events import HeadroomCompressionEvent, emit
        >>> handler = instrument(HeadroomEventHandler(), dispatcher=get_dispatcher("doc"))
        >>> get_dispatcher("doc").event(
        ...     HeadroomCompressionEvent(component="tool", tokens_before=900, tokens_after=120))
        >>> handler.usage.tokens_saved
        780
    """

    model: str = Field(default=DEFAULT_MODEL, description="Whose tokenizer counts tokens.")

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _total: _Tally = PrivateAttr(default_factory=_Tally)
    _queries: list[_Query] = PrivateAttr(default_factory=list)
    _events: list[HeadroomCompressionEvent] = PrivateAttr(default_factory=list)
    _depth: ContextVar[int] = PrivateAttr(default_factory=_new_depth)

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomEventHandler"

    @property
    def usage(self) -> Usage:
        """Cumulative counts since creation or :meth:`reset`."""
        with self._lock:
            return self._total.usage()

    @property
    def queries(self) -> list[QueryUsage]:
        """One entry per query-engine query seen, oldest first."""
        with self._lock:
            return [QueryUsage(q.text, q.tally.usage(), q.done) for q in self._queries]

    @property
    def events(self) -> list[HeadroomCompressionEvent]:
        """Every headroom compression event seen, oldest first."""
        with self._lock:
            return list(self._events)

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self._total = _Tally()
            self._queries = []
            self._events = []

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, HeadroomCompressionEvent):
            self._saved(event)
        elif isinstance(event, LLMChatStartEvent | LLMCompletionStartEvent):
            depth = self._depth.get()
            self._depth.set(depth + 1)
            if depth == 0:
                self._sent(event)
        elif isinstance(event, LLMChatEndEvent | LLMCompletionEndEvent):
            self._depth.set(max(0, self._depth.get() - 1))
        elif isinstance(event, QueryStartEvent):
            query = _Query(_query_text(event.query), _current_query.get())
            with self._lock:
                self._queries.append(query)
            _current_query.set(query)
        elif isinstance(event, QueryEndEvent):
            ended = _current_query.get()
            if ended is not None:
                ended.done = True
            _current_query.set(ended.parent if ended is not None else None)

    def _tallies(self) -> list[_Tally]:
        # A nested query's counts belong to every query it runs inside, too.
        tallies = [self._total]
        query = _current_query.get()
        while query is not None:
            tallies.append(query.tally)
            query = query.parent
        return tallies

    def _saved(self, event: HeadroomCompressionEvent) -> None:
        # Per-call savings (memories, tool results) are counted by the calls carrying them.
        saved = 0 if event.per_call else event.tokens_saved
        with self._lock:
            self._events.append(event)
            for tally in self._tallies():
                tally.compressions += 1
                if not event.per_call:
                    tally.saved += saved
                    tally.split[event.component] = tally.split.get(event.component, 0) + saved

    def _sent(self, event: LLMChatStartEvent | LLMCompletionStartEvent) -> None:
        try:
            if isinstance(event, LLMChatStartEvent):
                tokens = count_tokens(to_dicts(event.messages), model=self.model)
            else:
                tokens = count_tokens(event.prompt, model=self.model)
        except HeadroomError:
            tokens = 0  # a message shape headroom cannot count: the call is still counted
        # What the call would have been sent without headroom: each message headroom made
        # records what it saves against what it stands for.
        split: dict[str, int] = {}
        if isinstance(event, LLMChatStartEvent):
            for message in event.messages:
                saved, made_by = saving_in(message.content or "")
                if made_by is not None:
                    split[made_by] = split.get(made_by, 0) + saved
        with self._lock:
            for tally in self._tallies():
                tally.calls += 1
                tally.sent += tokens
                for name, saved in split.items():
                    tally.saved += saved
                    tally.split[name] = tally.split.get(name, 0) + saved


def _query_text(query: Any) -> str:
    return query.query_str if isinstance(query, QueryBundle) else str(query)


def instrument(
    handler: HeadroomEventHandler | None = None, *, dispatcher: Dispatcher | None = None
) -> HeadroomEventHandler:
    """Register ``handler`` (default: a new one) on ``dispatcher`` (default: the root).

    Registering the same handler twice is a no-op. Returns the handler.
    """
    handler = handler or HeadroomEventHandler()
    target = dispatcher or get_dispatcher()
    if not any(h is handler for h in target.event_handlers):
        target.add_event_handler(handler)
    return handler
