"""``HeadroomCallbackHandler``: what was sent to chat models, and what compression saved.

LangChain callbacks observe; they cannot rewrite a prompt. Compression happens in
:class:`~langchain_headroom.HeadroomMiddleware` and :func:`~langchain_headroom.compress_tool`,
which mark each message they edit in ``response_metadata["headroom"]`` with its token
counts; this handler reads those marks off the messages each chat model actually receives.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from headroom.tools import DEFAULT_MODEL
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage, ToolMessage

from langchain_headroom._common import TOOL_RESULT_EVENT, count_tokens, saved_tokens

__all__ = ["DEFAULT_PRICES", "HeadroomCallbackHandler", "ToolRecord", "Usage"]

# USD per million input tokens, list prices when this was written. Estimates only:
# pass ``prices=`` for your own models and contracts.
DEFAULT_PRICES: Mapping[str, float] = {
    "gpt-4o": 2.50,
    "gpt-4o-mini": 0.15,
    "gpt-4.1": 2.00,
    "gpt-4.1-mini": 0.40,
    "gpt-4.1-nano": 0.10,
    "o3": 2.00,
    "o4-mini": 1.10,
    "claude-opus-4": 15.00,
    "claude-sonnet-4": 3.00,
    "claude-3-5-haiku": 0.80,
}


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts over a set of chat-model calls.

    Tokens saved have one definition, here and in the LlamaIndex integration: per model
    call, what that call would have been sent without headroom minus what it was sent.
    A tool result counts in every call that carries it; a compaction that costs more than
    what it replaced counts negative.

    Attributes:
        calls: chat-model calls observed.
        tokens_sent: input tokens the models received (headroom's count).
        tokens_saved: input tokens the calls would have carried without headroom, minus
            ``tokens_sent``.
        cost_saved: estimated USD saved on input, or ``None`` when no price is known.
        tool_tokens_saved: the part of ``tokens_saved`` from tool results.
    """

    calls: int = 0
    tokens_sent: int = 0
    tokens_saved: int = 0
    cost_saved: float | None = None
    tool_tokens_saved: int = 0

    def _add(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_saved is None and other.cost_saved is None
            else (self.cost_saved or 0.0) + (other.cost_saved or 0.0)
        )
        return Usage(
            calls=self.calls + other.calls,
            tokens_sent=self.tokens_sent + other.tokens_sent,
            tokens_saved=self.tokens_saved + other.tokens_saved,
            cost_saved=cost,
            tool_tokens_saved=self.tool_tokens_saved + other.tool_tokens_saved,
        )


@dataclass(frozen=True, slots=True)
class ToolRecord:
    """One tool result: what the tool returned, and what the model was sent instead.

    Attributes:
        tool: the tool's name.
        tool_call_id: the id of the call it answers.
        raw: the tool's output (the tool run's ``on_tool_end``).
        sent: what the model is sent, when headroom compressed it (``None``: sent as is).
        tokens_before / tokens_after: the compression's counts (``None``: not compressed).
    """

    tool: str | None
    tool_call_id: str | None
    raw: Any
    sent: Any = None
    tokens_before: int | None = None
    tokens_after: int | None = None


class HeadroomCallbackHandler(BaseCallbackHandler):
    """Count tokens sent and saved, per model, per run and in total.

    A *run* is a top-level invocation (an agent's ``invoke``, a chain's ``invoke``): its
    nested model and tool calls are added to it.

    Args:
        prices: USD per million input tokens by model name, for the cost estimate; a
            name matches the longest key it starts with. Default: :data:`DEFAULT_PRICES`.
        count_model: whose tokenizer counts when the model's own name is unknown.

    Example:
        >>> from langchain_core.language_models.fake_chat_models import FakeListChatModel
        >>> from langchain_core.messages import HumanMessage
        >>> handler = HeadroomCallbackHandler()
        >>> model = FakeListChatModel(responses=["ok"])
        >>> _ = model.invoke([HumanMessage("hello")], config={"callbacks": [handler]})
        >>> handler.total.calls, handler.total.tokens_sent > 0, handler.total.tokens_saved
        (1, True, 0)
    """

    raise_error = False  # an accounting bug must never break the user's run

    def __init__(
        self,
        *,
        prices: Mapping[str, float] | None = None,
        count_model: str = DEFAULT_MODEL,
    ) -> None:
        super().__init__()
        self.prices = dict(DEFAULT_PRICES if prices is None else prices)
        self.count_model = count_model
        self._lock = threading.Lock()
        self._parents: dict[UUID, UUID | None] = {}
        self._by_model: dict[str, Usage] = {}
        self._by_run: dict[UUID, Usage] = {}
        self._total = Usage()
        self._tools: dict[str, ToolRecord] = {}

    # -- what callers read -------------------------------------------------------------

    @property
    def total(self) -> Usage:
        """Everything observed by this handler."""
        with self._lock:
            return self._total

    @property
    def by_model(self) -> dict[str, Usage]:
        """Usage per model name."""
        with self._lock:
            return dict(self._by_model)

    @property
    def by_run(self) -> dict[UUID, Usage]:
        """Usage per top-level run id, in the order the runs started."""
        with self._lock:
            return dict(self._by_run)

    @property
    def tool_results(self) -> list[ToolRecord]:
        """Every tool result observed, with what the model saw, in the order they came."""
        with self._lock:
            return list(self._tools.values())

    def price(self, model: str) -> float | None:
        """USD per million input tokens for ``model``, or ``None`` if unknown."""
        keys = [k for k in self.prices if model == k or model.startswith(k)]
        return self.prices[max(keys, key=len)] if keys else None

    # -- callbacks -----------------------------------------------------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: dict[str, Any] | Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._link(run_id, parent_run_id)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._link(run_id, parent_run_id)
        model = self._model_name(metadata, kwargs.get("invocation_params"))
        # headroom counts any model name (unknown ones approximately); "unknown" means
        # no name was reported at all.
        count_as = self.count_model if model == "unknown" else model
        for batch in messages:
            sent = count_tokens(batch, model=count_as)
            # Each edited message records what it stands for: the call would have been
            # sent those tokens instead (not clamped: a larger summary counts negative).
            saved = sum(saved_tokens(m) for m in batch)
            tool = sum(saved_tokens(m) for m in batch if isinstance(m, ToolMessage))
            price = self.price(model)
            cost = None if price is None else saved * price / 1_000_000
            self._record(run_id, model, Usage(1, sent, saved, cost, tool))

    def on_tool_end(
        self,
        output: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._link(run_id, parent_run_id)
        if isinstance(output, ToolMessage):
            key = output.tool_call_id or str(run_id)
            record = ToolRecord(output.name, output.tool_call_id, output.content)
        else:
            key, record = str(run_id), ToolRecord(kwargs.get("name"), None, output)
        with self._lock:
            known = self._tools.get(key)
            # The middleware's event can come first (async runs): keep what it said.
            self._tools[key] = record if known is None else replace(known, raw=record.raw)

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if name != TOOL_RESULT_EVENT or not isinstance(data, Mapping):
            return
        key = str(data.get("tool_call_id") or run_id)
        with self._lock:
            known = self._tools.get(key) or ToolRecord(data.get("tool"), key, None)
            self._tools[key] = replace(
                known,
                sent=data.get("sent"),
                tokens_before=data.get("tokens_before"),
                tokens_after=data.get("tokens_after"),
            )

    # -- bookkeeping ---------------------------------------------------------------------

    def _link(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        with self._lock:
            self._parents.setdefault(run_id, parent_run_id)

    def _root(self, run_id: UUID) -> UUID:
        seen = {run_id}
        while (parent := self._parents.get(run_id)) is not None and parent not in seen:
            seen.add(parent)
            run_id = parent
        return run_id

    def _record(self, run_id: UUID, model: str | None, usage: Usage) -> None:
        with self._lock:
            root = self._root(run_id)
            self._by_run[root] = self._by_run.get(root, Usage())._add(usage)
            if model is not None:
                self._by_model[model] = self._by_model.get(model, Usage())._add(usage)
            self._total = self._total._add(usage)

    @staticmethod
    def _model_name(metadata: Mapping[str, Any] | None, params: Any) -> str:
        for source in (metadata or {}, params if isinstance(params, Mapping) else {}):
            for key in ("ls_model_name", "model", "model_name"):
                value = source.get(key)
                if isinstance(value, str) and value:
                    return value
        return "unknown"
