"""``HeadroomMiddleware``: compression inside a LangChain v1 ``create_agent`` loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from headroom import CompressConfig, Headroom, InvalidArgumentError, Store
from headroom.tools import DEFAULT_MODEL, client_for, path_hint
from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    RemoveMessage,
    ToolMessage,
)

# Agent middleware is the one part of this package that needs `langchain` (create_agent's
# middleware types) and `langgraph` (state updates); both come with the `agents` extra, so
# that the rest works with langchain-core alone (as langchain-anthropic's middleware does).
try:
    from langchain.agents.middleware import (
        AgentMiddleware,
        AgentState,
        ModelRequest,
        ModelResponse,
    )
    from langchain.agents.middleware.types import ToolCallRequest
    from langgraph.graph.message import REMOVE_ALL_MESSAGES
    from langgraph.runtime import Runtime
    from langgraph.types import Command
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        f"HeadroomMiddleware needs langchain and langgraph ({exc.name or exc} is missing): "
        'pip install "langchain-headroom[agents]"'
    ) from exc

from langchain_headroom._common import (
    META_KEY,
    TOOL_RESULT_EVENT,
    compress_message_list,
    compress_tool_message,
    fold_retrieved,
    is_retrieved,
    last_user_text,
    open_exchange_start,
)
from langchain_headroom._compaction import Compactor
from langchain_headroom.tools import RETRIEVE_TOOL_NAME, make_retrieve_tool

__all__ = ["TOOL_RESULT_EVENT", "HeadroomMiddleware"]


ToolResult = ToolMessage | Command[Any]


class HeadroomMiddleware(AgentMiddleware[AgentState[Any], Any, Any]):
    """Compress tool results as they are produced, and keep history within a budget.

    * ``wrap_tool_call`` / ``awrap_tool_call``: each tool result (a ``ToolMessage``, or the
      ``ToolMessage`` objects inside a ``Command`` update) is compressed once, when the tool
      returns, and marked in ``response_metadata["headroom"]``; marked messages are never
      compressed again. The tool run's trace keeps the raw output; a custom callback event
      (:data:`TOOL_RESULT_EVENT`) records what the model is sent instead. The query is the
      last human message. Error results and the output
      of ``headroom_retrieve`` itself pass through verbatim.
    * ``wrap_model_call`` / ``awrap_model_call``: an original the model fetched with
      ``headroom_retrieve`` is sent whole for the turn that asked for it; later calls get
      it compressed again (same handle, the same bytes on every call), so one retrieval
      does not cost its full size for the rest of the thread (``compress_tool_results``).
      With ``compress_requests=True``, also view-time compression of what the model is
      sent (older assistant text, unmarked tool results). The agent's state keeps the
      originals.
    * ``before_model`` / ``abefore_model`` (``budget_tokens`` or ``max_messages`` set): the
      oldest turns are condensed by a :class:`headroom.RollingSummarizer` into summary
      messages; tool calls are never separated from their results, and the open exchange
      (the newest human message and the tool calls and results after it) always stays
      verbatim. When the budget cannot be met (the open exchange alone is over it), a
      warning on the ``langchain_headroom`` logger says so.
    * ``tools``: ``headroom_retrieve``, with which the model gets any original back.

    Args:
        headroom: the client to use; otherwise one is made from ``config``/``store``/``model``.
        config: what may be compressed and how.
        store: where originals go (``"memory"``, ``"sqlite"``, a path or a ``Store``).
        model: whose tokenizer counts tokens.
        compress_tool_results: compress tool results as they are produced.
        compress_requests: also compress each model request at view time.
        exclude_tools: names of tools whose results are left alone.
        budget_tokens: condense history when it costs more tokens than this.
        max_messages: condense history when it has more messages than this.
        keep_recent: trailing messages that stay verbatim when condensing.
        summarizer: a ``Callable[[list[dict]], str]`` (OpenAI-shaped messages) writing the
            summary instead of headroom's extractive one.
        retrieve_tool: contribute the ``headroom_retrieve`` tool.
        original_as_artifact: keep each compressed tool result's original in its
            ``ToolMessage`` (as the ``artifact``, or in ``response_metadata["headroom"]
            ["original"]`` beside a tool's own artifact), so a checkpointed thread holds it
            whatever becomes of the store.
        name: the middleware's name in the agent's graph. ``create_agent`` refuses two
            middlewares with one name: give each ``HeadroomMiddleware`` after the first its
            own (and ``retrieve_tool=False``, as one ``headroom_retrieve`` answers for every
            store this process wrote to).

    Example:
        >>> from langchain.agents import create_agent
        >>> mw = HeadroomMiddleware(store="memory", budget_tokens=50_000)
        >>> [t.name for t in mw.tools]
        ['headroom_retrieve']
        >>> # agent = create_agent("openai:gpt-4.1", tools=[...], middleware=[mw])
    """

    def __init__(
        self,
        *,
        headroom: Headroom | None = None,
        config: CompressConfig | None = None,
        store: Store | str | None = None,
        model: str = DEFAULT_MODEL,
        compress_tool_results: bool = True,
        compress_requests: bool = False,
        exclude_tools: Sequence[str] = (),
        budget_tokens: int | None = None,
        max_messages: int | None = None,
        keep_recent: int = 4,
        summarizer: Callable[[list[Any]], str] | None = None,
        retrieve_tool: bool = True,
        original_as_artifact: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__()
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidArgumentError(f"name: expected a non-empty str, got {name!r}")
        self._name = name
        self.headroom = client_for(headroom, config=config, store=store, model=model)
        self.compress_tool_results = compress_tool_results
        self.compress_requests = compress_requests
        self.original_as_artifact = original_as_artifact
        # The retrieve tool's answer is the original the model asked for: never shrink it.
        self.exclude_tools = frozenset(exclude_tools) | {RETRIEVE_TOOL_NAME}
        self.compactor: Compactor | None = None
        if budget_tokens is not None or max_messages is not None:
            self.compactor = Compactor(
                self.headroom,
                budget_tokens=budget_tokens,
                max_messages=max_messages,
                keep_recent=keep_recent,
                summarizer=summarizer,
            )
        self.tools = [make_retrieve_tool(self.headroom)] if retrieve_tool else []

    @property
    def name(self) -> str:
        """The middleware's name in the agent graph (unique per agent)."""
        return self._name or type(self).__name__

    # -- tool results ------------------------------------------------------------------

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolResult],
    ) -> ToolResult:
        """Run the tool, then compress its result (see the class docstring)."""
        raw = handler(request)
        result = self._compress_result(request, raw)
        # Not inside a run (the hook called directly): nobody to tell.
        with contextlib.suppress(RuntimeError):
            for data in _sent_tool_results(raw, result):
                dispatch_custom_event(TOOL_RESULT_EVENT, data)
        return result

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        """Async twin of :meth:`wrap_tool_call`; compression runs in a worker thread."""
        raw = await handler(request)
        # Compression and store writes are CPU and disk work: off the event loop, so one big
        # tool output never stalls the other coroutines.
        result = await asyncio.to_thread(self._compress_result, request, raw)
        with contextlib.suppress(RuntimeError):  # not inside a run: nobody to tell
            for data in _sent_tool_results(raw, result):
                await adispatch_custom_event(TOOL_RESULT_EVENT, data)
        return result

    def _compress_result(self, request: ToolCallRequest, result: ToolResult) -> ToolResult:
        name = request.tool_call.get("name")
        if not self.compress_tool_results or name in self.exclude_tools:
            return result
        state = request.state
        history = state.get("messages", []) if isinstance(state, dict) else []
        query = last_user_text(history)
        path = path_hint(request.tool_call.get("args"))

        def one(message: Any) -> Any:
            if not isinstance(message, ToolMessage):
                return message
            return compress_tool_message(
                self.headroom,
                message,
                query=query,
                tool_name=name,
                path=path,
                keep_original_as_artifact=self.original_as_artifact,
            )

        if isinstance(result, ToolMessage):
            compressed = one(result)
            assert isinstance(compressed, ToolMessage)
            return compressed
        if isinstance(result, Command) and isinstance(result.update, dict):
            messages = result.update.get("messages")
            if isinstance(messages, list):
                new = [one(m) for m in messages]
                if any(a is not b for a, b in zip(new, messages, strict=True)):
                    update = {**result.update, "messages": new}
                    return dataclasses.replace(result, update=update)
        return result

    # -- model requests ----------------------------------------------------------------

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        """Send the model a compressed view of the request when ``compress_requests``."""
        return handler(self._compress_request(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        """Async twin of :meth:`wrap_model_call`; compression runs in a worker thread."""
        return await handler(await asyncio.to_thread(self._compress_request, request))

    def _compress_request(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        if not request.messages:
            return request
        given: list[BaseMessage] = list(request.messages)
        messages = given
        if self.compress_tool_results:
            messages = fold_retrieved(self.headroom, messages)
        if self.compress_requests:
            compressed = compress_message_list(self.headroom, messages)
            # What headroom_retrieve answered in the open exchange is what the model
            # asked for now: it goes whole.
            pin = open_exchange_start(messages)
            messages = [
                m if i >= pin and is_retrieved(m) else c
                for i, (m, c) in enumerate(zip(messages, compressed, strict=True))
            ]
        if all(a is b for a, b in zip(messages, given, strict=True)):
            return request
        # The helpers return the given messages or copies of them, so every element is
        # still one of the AnyMessage types.
        return request.override(messages=cast("list[AnyMessage]", messages))

    # -- history ------------------------------------------------------------------------

    def before_model(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Condense the oldest turns when the history is over budget."""
        return self._compact(state)

    async def abefore_model(
        self, state: AgentState[Any], runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async twin of :meth:`before_model`; compaction runs in a worker thread."""
        return await asyncio.to_thread(self._compact, state)

    def _compact(self, state: AgentState[Any]) -> dict[str, Any] | None:
        if self.compactor is None:
            return None
        new = self.compactor.compact(state["messages"]).messages
        if new is None:
            return None
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *new]}


def _sent_tool_results(raw: ToolResult, result: ToolResult) -> list[dict[str, Any]]:
    """What :data:`TOOL_RESULT_EVENT` reports for each tool message ``result`` changed."""
    if raw is result:
        return []
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, ToolMessage) and isinstance(result, ToolMessage):
        pairs = [(raw, result)]
    elif isinstance(raw, Command) and isinstance(result, Command):
        before = raw.update.get("messages") if isinstance(raw.update, dict) else None
        after = result.update.get("messages") if isinstance(result.update, dict) else None
        if isinstance(before, list) and isinstance(after, list):
            pairs = list(zip(before, after, strict=False))
    out: list[dict[str, Any]] = []
    for old, new in pairs:
        if old is new or not isinstance(new, ToolMessage):
            continue
        meta = new.response_metadata.get(META_KEY, {})
        out.append(
            {
                "tool": new.name,
                "tool_call_id": new.tool_call_id,
                "sent": new.content,
                "tokens_before": meta.get("tokens_before"),
                "tokens_after": meta.get("tokens_after"),
                "handles": list(meta.get("handles", [])),
            }
        )
    return out
