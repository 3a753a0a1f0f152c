"""Compressed chat memory for chains that keep their own history.

* :func:`compress_messages`: a Runnable for LCEL (``prompt | compress_messages() | model``).
* :func:`headroom_summarizer`: a ``summarizer`` for LangChain's ``SummarizationMiddleware``
  that writes headroom's extractive summary (no LLM call) with a retrieve handle.

Agents built with ``create_agent`` get history compaction from
:class:`~langchain_headroom.HeadroomMiddleware` (``budget_tokens=`` / ``max_messages=``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from headroom import CompressConfig, Headroom, Store
from headroom.tools import DEFAULT_MODEL, client_for
from langchain_core.messages import AnyMessage, BaseMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableLambda

from langchain_headroom._common import compress_message_list, to_dicts
from langchain_headroom._compaction import Compactor

__all__ = ["compress_messages", "headroom_summarizer"]

MessagesInput = PromptValue | Sequence[BaseMessage]


def compress_messages(
    *,
    headroom: Headroom | None = None,
    config: CompressConfig | None = None,
    store: Store | str | None = None,
    model: str = DEFAULT_MODEL,
    query: str | None = None,
    budget_tokens: int | None = None,
    max_messages: int | None = None,
    keep_recent: int = 4,
) -> Runnable[MessagesInput, list[BaseMessage]]:
    """A Runnable that compresses a message list (or chat prompt value), sync and async.

    Tool results and older assistant text are compressed as :func:`headroom.compress`
    does; with ``budget_tokens`` or ``max_messages``, when the compressed list is over
    them, the oldest turns are then condensed into summary blocks (one message each, never
    rewritten once sent; see the core's ``RollingSummarizer``). The newest human message
    and everything after it stay verbatim; when the budget cannot be met, a warning on the
    ``langchain_headroom`` logger says why. Edited messages are copies marked in
    ``response_metadata["headroom"]``; the input is never mutated, and running the output
    through again changes nothing.

    Args:
        headroom: the client to use; otherwise one is made from the options below.
        config: what may be compressed and how.
        store: where originals go.
        model: whose tokenizer counts tokens.
        query: what the next answer is about; default the last human message.
        budget_tokens: condense history above this many tokens.
        max_messages: condense history above this many messages.
        keep_recent: trailing messages kept verbatim when condensing.

    Returns:
        ``Runnable[PromptValue | Sequence[BaseMessage], list[BaseMessage]]``.

    Example:
        >>> import json
        >>> from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
        >>> rows = json.dumps([{"id": i, "status": "active"} for i in range(80)], indent=2)
        >>> history = [
        ...     HumanMessage("list users"),
        ...     AIMessage("", tool_calls=[{"name": "users", "args": {}, "id": "1"}]),
        ...     ToolMessage(rows, tool_call_id="1"),
        ... ]
        >>> out = compress_messages(store="memory").invoke(history)
        >>> len(out[2].content) < len(rows), out[2].response_metadata["headroom"]["compressed"]
        (True, True)
    """
    hr = client_for(headroom, config=config, store=store, model=model)
    compactor = None
    if budget_tokens is not None or max_messages is not None:
        compactor = Compactor(
            hr, budget_tokens=budget_tokens, max_messages=max_messages, keep_recent=keep_recent
        )

    def run(value: MessagesInput) -> list[BaseMessage]:
        messages = value.to_messages() if isinstance(value, PromptValue) else list(value)
        # Compressed first: the budget is about what the model is sent, so the history is
        # condensed by what each message costs compressed (a raw 10k-token log sent as 400
        # tokens must not condense turns that fit). The summary it adds is a human
        # message, which compression never changes: nothing is left to compress after.
        messages = compress_message_list(hr, messages, query=query)
        if compactor is not None:
            compacted = compactor.compact(messages).messages
            if compacted is not None:
                messages = list(compacted)
        return messages

    async def arun(value: MessagesInput) -> list[BaseMessage]:
        # Compression is CPU work and writes the store: off the event loop, like every
        # async entry point of the adapters.
        return await asyncio.to_thread(run, value)

    return RunnableLambda(run, afunc=arun, name="headroom_compress_messages")


def headroom_summarizer(
    *,
    headroom: Headroom | None = None,
    store: Store | str | None = None,
    model: str = DEFAULT_MODEL,
) -> Callable[[list[AnyMessage]], str]:
    """A ``summarizer`` for ``langchain.agents.middleware.SummarizationMiddleware``.

    It writes headroom's extractive summary of the messages (no model call): one line per
    salient turn (ids, decisions, errors, numbers), ending with a marker whose handle
    returns the exact original messages as JSON — pair it with ``headroom_retrieve``
    (e.g. from :class:`~langchain_headroom.HeadroomMiddleware` on the same store).

    Args:
        headroom: the client whose store keeps the originals.
        store: where originals go when no client is given.
        model: whose tokenizer counts tokens.

    Returns:
        ``Callable[[list[AnyMessage]], str]``.

    Example:
        >>> from langchain_core.messages import AIMessage, HumanMessage
        >>> summarize = headroom_summarizer(store="memory")
        >>> text = summarize([HumanMessage("My id is omar_3817."), AIMessage("Noted.")])
        >>> "omar_3817" in text and "retrieve: headroom:" in text
        True
        >>> # SummarizationMiddleware(model=..., trigger=("messages", 40), summarizer=summarize)
    """
    hr = client_for(headroom, store=store, model=model)

    def summarize(messages: list[AnyMessage]) -> str:
        dicts = to_dicts(messages)
        head = 0
        while head < len(dicts) and dicts[head].get("role") in ("system", "developer"):
            head += 1
        # The summarizer always keeps the last message verbatim; a placeholder turn makes
        # every given message eligible, and a limit of head + 2 (summary + placeholder)
        # makes it condense them all.
        rolling = hr.summarizer(
            max_messages=head + 2,
            keep_recent=0,
        )
        result = rolling.summarize([*dicts, {"role": "user", "content": "(continue)"}])
        if result.summary is None:
            return f"{len(messages)} earlier messages could not be summarized."
        return result.summary

    return summarize
