"""``HeadroomMemory``: chat memory for agents and chat engines that sends less, loses nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from headroom import (
    CompressConfig,
    Headroom,
    HeadroomError,
    Store,
    count_tokens,
)
from headroom.conversation import OPEN_EXCHANGE, is_summary
from headroom.tools import DEFAULT_MODEL, RETRIEVE_TOOL_NAME, client_for
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.llms.llm import LLM
from llama_index.core.memory.types import DEFAULT_CHAT_STORE_KEY, BaseChatStoreMemory
from llama_index.core.storage.chat_store import BaseChatStore, SimpleChatStore
from pydantic import InstanceOf

from llama_index.utils.headroom.events import (
    HeadroomCompressionEvent,
    emit,
    record_saving,
    saving_in,
)
from llama_index.utils.headroom.messages import to_dicts, with_texts

__all__ = ["HeadroomMemory"]

logger = logging.getLogger(__name__)

# Share of an LLM's context window the history may fill, as ChatMemoryBuffer uses.
_CONTEXT_SHARE = 0.75


class HeadroomMemory(BaseChatStoreMemory):
    """A drop-in ``memory=`` for agents and chat engines: full history stored, less sent.

    Every message is stored as it came (``get_all()`` returns them all). What the model gets
    from ``get()`` / ``aget()`` is a compressed view of it:

    1. Tool outputs (JSON, logs, search results, code, ...) and long older assistant text are
       compressed as :func:`headroom.compress` does; user turns are never changed.
    2. With ``budget_tokens`` or ``max_messages``, when that compressed view is over them,
       the oldest turns are rolled up into summary messages by headroom's
       ``RollingSummarizer`` (extractive, no LLM call: ids, decisions, errors and numbers
       quoted verbatim, with a handle to the exact messages). Leading system messages, the
       latest user turn and everything after it (the tool calls made for it and their
       results) always stay verbatim, and so do the last ``keep_recent`` messages unless
       the budget forces fewer (a warning says so). The budget counts what is sent: a view
       within it is never rolled up, and when it cannot be met a warning says why.

    The view depends only on the stored history, so it is the same on every call until new
    messages arrive (provider prompt caches stay warm); it is computed once per history.
    Each changed message is a copy; stored messages are never mutated. A
    :class:`~llama_index.observability.headroom.HeadroomCompressionEvent` is emitted per
    view computed; ``HeadroomEventHandler`` counts the savings per LLM call carrying the
    view's messages (each records what it stands for), not per event.

    Example:
        >>> import json
        >>> from llama_index.core.llms import ChatMessage
        >>> memory = HeadroomMemory.from_defaults(store="memory")
        >>> rows = json.dumps([{"id": i, "status": "active"} for i in range(80)], indent=2)
        >>> memory.put_messages([
        ...     ChatMessage(role="user", content="list users"),
        ...     ChatMessage(role="tool", content=rows, additional_kwargs={"tool_call_id": "1"}),
        ... ])
        >>> sent = memory.get()
        >>> len(sent[1].content) < len(rows), memory.get_all()[1].content == rows
        (True, True)
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    budget_tokens: int | None = Field(
        default=None, gt=0, description="Roll up the oldest turns above this many tokens."
    )
    max_messages: int | None = Field(
        default=None, gt=2, description="Roll up the oldest turns above this many messages."
    )
    keep_recent: int = Field(
        default=4, ge=0, description="Trailing messages kept verbatim when rolling up."
    )
    model: str = Field(default=DEFAULT_MODEL, description="Whose tokenizer counts tokens.")
    # InstanceOf: CompressConfig is a dataclass whose fields pydantic must not re-validate.
    config: InstanceOf[CompressConfig] | None = Field(
        default=None, exclude=True, description="What may be compressed, and how."
    )
    headroom: Headroom | None = Field(
        default=None, exclude=True, description="Client whose store keeps the originals."
    )
    store: Store | str | None = Field(
        default=None, exclude=True, description="Where originals go when no client is given."
    )

    _hr: Headroom | None = PrivateAttr(default=None)
    _view: tuple[str, list[ChatMessage]] | None = PrivateAttr(default=None)
    # The summary blocks of the last roll-up: (fingerprint of the stored messages they
    # stand for, how many those are, the block messages). Fed back to the summarizer, so
    # a roll-up appends a block after them instead of summarizing from the start again.
    _blocks: tuple[str, int, list[ChatMessage]] | None = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomMemory"

    @classmethod
    def from_defaults(  # type: ignore[override]
        cls,
        chat_history: list[ChatMessage] | None = None,
        llm: LLM | None = None,
        chat_store: BaseChatStore | None = None,
        chat_store_key: str = DEFAULT_CHAT_STORE_KEY,
        *,
        budget_tokens: int | None = None,
        max_messages: int | None = None,
        keep_recent: int = 4,
        model: str = DEFAULT_MODEL,
        config: CompressConfig | None = None,
        headroom: Headroom | None = None,
        store: Store | str | None = None,
    ) -> HeadroomMemory:
        """A memory over ``chat_store`` (default: in memory), seeded with ``chat_history``.

        With an ``llm`` and no ``budget_tokens``, the budget is 75% of its context window,
        as ``ChatMemoryBuffer`` does.
        """
        if budget_tokens is None and llm is not None:
            budget_tokens = int(llm.metadata.context_window * _CONTEXT_SHARE)
        chat_store = chat_store or SimpleChatStore()
        if chat_history is not None:
            chat_store.set_messages(chat_store_key, chat_history)
        return cls(
            chat_store=chat_store,
            chat_store_key=chat_store_key,
            budget_tokens=budget_tokens,
            max_messages=max_messages,
            keep_recent=keep_recent,
            model=model,
            config=config,
            headroom=headroom,
            store=store,
        )

    @property
    def client(self) -> Headroom:
        """The headroom client (and store) this memory compresses with."""
        if self._hr is None:
            self._hr = client_for(
                self.headroom, config=self.config, store=self.store, model=self.model
            )
        return self._hr

    def get(
        self, input: str | None = None, initial_token_count: int = 0, **kwargs: Any
    ) -> list[ChatMessage]:
        """The compressed view of the history (what the model should be sent).

        Args:
            input: the next user input (unused: the view must not depend on it).
            initial_token_count: tokens the caller already spends elsewhere in the prompt
                (chat engines pass their system prompt and context); they come out of
                ``budget_tokens``, as in ``ChatMemoryBuffer``.
        """
        history = self.chat_store.get_messages(self.chat_store_key)
        return self.compressed(history, initial_token_count=initial_token_count)

    async def aget(
        self, input: str | None = None, initial_token_count: int = 0, **kwargs: Any
    ) -> list[ChatMessage]:
        """Async twin of :meth:`get`."""
        history = await self.chat_store.aget_messages(self.chat_store_key)
        # Compaction and compression are CPU work and write the store: off the event loop.
        return await asyncio.to_thread(
            self.compressed, history, initial_token_count=initial_token_count
        )

    def compressed(
        self, history: Sequence[ChatMessage], *, initial_token_count: int = 0
    ) -> list[ChatMessage]:
        """The view of ``history`` this memory sends: rolled up, then compressed."""
        budget = self.budget_tokens
        if budget is not None and initial_token_count > 0:
            if initial_token_count >= budget:
                raise ValueError(
                    f"initial_token_count: {initial_token_count} leaves nothing of "
                    f"budget_tokens={budget} for the history"
                )
            budget -= initial_token_count
        key = f"{budget}:{_fingerprint(history)}"
        if self._view is not None and self._view[0] == key:
            return list(self._view[1])
        stored = list(history)
        before = self._count(stored)
        # Compressed first: the budget is about what the model is sent, so the roll-up
        # weighs each message as it will be sent (a raw 10k-token log that goes as 400
        # tokens must not push the latest question out of the view).
        messages, compressed = self._compress(stored)
        messages, rolled = self._roll_up(stored, messages, budget)
        handles = [*rolled, *(h for h in compressed if h not in rolled)]
        after = self._count(messages)
        if after < before:
            emit(
                HeadroomCompressionEvent(
                    component="memory",
                    name=self.chat_store_key,
                    tokens_before=before,
                    tokens_after=after,
                    handles=handles,
                    transforms=["conversation.memory"],
                    per_call=True,
                )
            )
        self._view = (key, messages)
        return list(messages)

    def _cost(self, message: ChatMessage) -> int:
        # One message's share of a request (the request's fixed priming left out).
        return self._count([message]) - self._count([])

    def _raw_cost(self, message: ChatMessage) -> int:
        """What ``message`` would cost sent without headroom (its own savings added back)."""
        return self._cost(message) + saving_in(message.content or "")[0]

    def _count(self, messages: Sequence[ChatMessage]) -> int:
        hr = self.client
        counter = hr.config.token_counter
        return count_tokens(to_dicts(messages), model=hr.model, token_counter=counter)

    def _roll_up(
        self, stored: list[ChatMessage], view: list[ChatMessage], budget: int | None
    ) -> tuple[list[ChatMessage], list[str]]:
        """``view`` (``stored`` compressed, one for one) with its oldest turns rolled up."""
        if budget is None and self.max_messages is None:
            return view, []
        head = 0
        while head < len(view) and view[head].role.value in ("system", "developer"):
            head += 1
        # The blocks already sent stand for a prefix of the stored history: when it is
        # still there, they replace it, and the summarizer keeps them byte for byte.
        blocks: list[ChatMessage] = []
        covered = 0
        if self._blocks is not None:
            fingerprint, count, kept = self._blocks
            if count <= len(stored) - head and fingerprint == _fingerprint(stored[: head + count]):
                blocks, covered = kept, count
        given = [*view[:head], *blocks, *view[head + covered :]]
        # The open exchange (the latest user turn and the tool calls and results made for
        # it) is never rolled up: the summarizer pins it (keep_from), counts it toward the
        # budget, and says so when it alone is over it.
        pin = _latest_user(given, head + len(blocks))
        rolling = self.client.summarizer(
            budget, max_messages=self.max_messages, keep_recent=self.keep_recent
        )
        dicts = to_dicts(given)
        try:
            result = rolling.summarize(dicts, keep_from=pin, pinned_as=OPEN_EXCHANGE)
        except HeadroomError as exc:
            logger.warning("headroom: history left as it was: %s", exc)
            return view, []
        # The summarizer passes the dicts it keeps through as the same objects, in order,
        # which maps each back to its message (or block already made). A rebuild of the
        # blocks also brings back, as new dicts from its store, messages they stood for:
        # those map back to the view messages they were made from, by content.
        by_id = {id(d): m for d, m in zip(dicts, given, strict=True)}
        restored = _by_content(view[head : head + covered]) if covered else {}
        out: list[ChatMessage] = []
        made: list[ChatMessage] = []
        for item in result.messages:
            original = by_id.get(id(item))
            if original is None:
                original = restored.get(_content_key(item))
            if original is None:
                original = ChatMessage(role=item["role"], content=item["content"])
                made.append(original)
            out.append(original)
        # The new blocks stand for what was rolled up, as it would have been sent without
        # headroom: everything given minus what stays (each message counted once, so a
        # message a rebuild brought back is not also counted inside the block).
        if made:  # nothing new: nothing to record, and nothing to count
            kept = [m for m in out if not any(m is b for b in made)]
            raw = sum(map(self._raw_cost, given)) - sum(map(self._raw_cost, kept))
            # The saving goes to the last summary block; any other new message stands for
            # itself.
            blocks_made = [b for b in made if is_summary({"content": b.content})]
            carrier = (blocks_made or made)[-1]
            made_cost = sum(self._cost(b) for b in made)
            for block in made:
                saved = raw - made_cost if block is carrier else 0
                record_saving(block.content or "", saved, "memory")
        if result.blocks:
            made_blocks = out[head : head + len(result.blocks)]
            self._blocks = (
                _fingerprint(stored[: head + result.covers]),
                result.covers,
                made_blocks,
            )
        else:
            self._blocks = None
        for warning in result.warnings:
            logger.warning("headroom: %s", warning)
        return out, list(result.handles)

    def _compress(self, messages: list[ChatMessage]) -> tuple[list[ChatMessage], list[str]]:
        if not messages:
            return messages, []
        dicts = to_dicts(messages)
        try:
            # query="" : history is compressed the same way whatever the next question is,
            # so the view (and the provider's prompt cache) is stable from turn to turn.
            result = self.client.compress(dicts, query="")
        except HeadroomError as exc:
            logger.warning("headroom: history left uncompressed: %s", exc)
            return messages, []
        out: list[ChatMessage] = []
        keep = _open_retrievals(dicts)
        for index, (message, before, after) in enumerate(
            zip(messages, dicts, result.messages, strict=True)
        ):
            edited = None
            if index in keep:
                pass  # the original the model just asked for goes whole
            elif after.get("content") != before.get("content"):
                edited = with_texts(message, after.get("content"))
            if edited is not None:
                saved = self._raw_cost(message) - self._cost(edited)
                record_saving(edited.content or "", saved, "memory")
            out.append(edited if edited is not None else message)
        return out, list(result.handles)


def _latest_user(messages: Sequence[ChatMessage], first: int) -> int | None:
    """Index of the last user message at or after ``first`` (None when there is none)."""
    for index in range(len(messages) - 1, first - 1, -1):
        if messages[index].role.value == "user":
            return index
    return None


def _content_key(message: Any) -> str:
    return json.dumps(message, sort_keys=True, ensure_ascii=False, default=str)


def _by_content(messages: Sequence[ChatMessage]) -> dict[str, ChatMessage]:
    """``messages`` by the content key of their OpenAI-shaped dict (first one wins)."""
    out: dict[str, ChatMessage] = {}
    for message, d in zip(messages, to_dicts(messages), strict=True):
        out.setdefault(_content_key(d), message)
    return out


def _fingerprint(history: Sequence[ChatMessage]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for message in history:
        digest.update(message.model_dump_json().encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _open_retrievals(dicts: Sequence[dict[str, Any]]) -> set[int]:
    """Indexes of ``headroom_retrieve`` answers after the last user message.

    An original the model retrieved is for the turn that asked for it: sent whole in that
    turn, and compressed again (the same bytes every time) in later ones.
    """
    last_user = max((i for i, d in enumerate(dicts) if d.get("role") == "user"), default=-1)
    names: dict[str, str] = {}
    for d in dicts:
        for call in d.get("tool_calls") or ():
            names[str(call.get("id"))] = str(call.get("function", {}).get("name"))
    return {
        i
        for i, d in enumerate(dicts)
        if i > last_user
        and d.get("role") == "tool"
        and RETRIEVE_TOOL_NAME in (d.get("name"), names.get(str(d.get("tool_call_id"))))
    }
