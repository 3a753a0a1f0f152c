"""HeadroomMemory under a token budget, over long real sessions (issue 20).

The budget is about what the model is sent: the latest user turn (and the tool calls and
results made for it) always reach the model verbatim, a view that fits the budget is never
rolled up, and every warning the memory logs is true of the view it returned.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.tools import FunctionTool

from llama_index.memory.headroom import HeadroomMemory
from llama_index.utils.headroom.events import saving_in

_LOGGER = "llama_index.memory.headroom"
_NOT_MET = re.compile(r"budget of (\d+) tokens not met \((\d+) tokens\): (.*)")
_PINNED = re.compile(
    r"the latest user turn and its open tool-call exchange "
    r"\((?:(\d+) messages, [\d-]+|message \d+)\) alone costs? (\d+) tokens(, more than the budget)?"
)
_KEPT = re.compile(r"kept only (\d+) recent messages verbatim \(keep_recent=(\d+)\)")


def _session(
    log_text: str, json_text: str, turns: int, *, long: bool, tools: bool
) -> Callable[[HeadroomMemory, Callable[[str], None]], None]:
    """A chat of ``turns`` user turns, fed to a memory as an agent does.

    Every even turn (with ``tools``) calls a tool whose output is a slice of a real loghub
    log or GitHub API response; ``check(question)`` runs each time the agent would call the
    model: after the user turn, after the tool call and after its result.
    """
    padding = " Please walk me through every step you took and why." * (12 if long else 0)

    def play(memory: HeadroomMemory, check: Callable[[str], None]) -> None:
        memory.put(ChatMessage(role="system", content="You are the on-call SRE assistant."))
        for t in range(turns):
            question = f"Turn {t}: what happened to block blk_{7000 + t}?{padding}"
            memory.put(ChatMessage(role="user", content=question))
            check(question)
            if tools and t % 2 == 0:
                call = ToolCallBlock(
                    tool_call_id=f"call_{t}", tool_name="read_log", tool_kwargs={"turn": t}
                )
                memory.put(ChatMessage(role="assistant", blocks=[call]))
                source = log_text if t % 4 == 0 else json_text
                start = (t * 1_700) % max(1, len(source) - 6_000)
                output = source[start : start + 2_000 + 150 * t]
                memory.put(
                    ChatMessage(
                        role="tool", content=output, additional_kwargs={"tool_call_id": f"call_{t}"}
                    )
                )
                check(question)
            memory.put(
                ChatMessage(
                    role="assistant",
                    content=f"Block blk_{7000 + t} was replicated to 3 datanodes at "
                    f"10.0.{t}.7 and verified at 12:{t % 60:02d}.{padding}",
                )
            )

    return play


@pytest.mark.parametrize("budget", [1_000, 2_000, 8_000])
@pytest.mark.parametrize(
    ("turns", "long", "tools"),
    [(50, False, False), (40, True, False), (44, False, True), (30, True, True)],
    ids=["short", "long", "tools", "long-tools"],
)
def test_latest_user_turn_is_sent_verbatim_and_budget_met_or_truly_warned(
    budget: int,
    turns: int,
    long: bool,
    tools: bool,
    log_text: str,
    json_text: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    memory = HeadroomMemory.from_defaults(budget_tokens=budget, store="memory")
    # The same history without a budget: what the model would be sent with no roll-up.
    unbounded = HeadroomMemory.from_defaults(headroom=memory.client)
    calls = 0

    def check(question: str) -> None:
        nonlocal calls
        calls += 1
        history = memory.get_all()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=_LOGGER):
            view = memory.get()
        warnings = [r.getMessage() for r in caplog.records]
        tokens = memory._count(view)
        latest = max(i for i, m in enumerate(history) if m.role.value == "user")
        # The latest user turn and everything after it, verbatim and in place at the end.
        exchange = history[latest:]
        assert [m.content for m in view[-len(exchange) :]][:1] == [question]
        assert [m.role for m in view[-len(exchange) :]] == [m.role for m in exchange]
        unbounded.chat_store.set_messages(unbounded.chat_store_key, history)
        plain = unbounded.get()
        if memory._count(plain) <= budget:
            # Not crossed: nothing rolled up, nothing to warn about.
            assert [m.content for m in view] == [m.content for m in plain]
            assert warnings == []
            return
        for warning in warnings:
            kept = _KEPT.search(warning)
            if kept is not None:
                # Counted over the whole view, open exchange included.
                assert int(kept.group(2)) == memory.keep_recent
                n = int(kept.group(1))
                assert n < memory.keep_recent
                assert [m.content for m in view[-n:]] == [m.content for m in plain[-n:]]
                assert view[-n - 1].content != plain[-n - 1].content
        if tokens > budget:
            reasons = [m for w in warnings if (m := _NOT_MET.search(w)) is not None]
            assert reasons, f"view of {tokens} tokens over {budget} with no reason: {warnings}"
            said_budget, said_tokens, why = map(reasons[0].group, (1, 2, 3))
            assert (int(said_budget), int(said_tokens)) == (budget, tokens)
            # The open exchange, never rolled up, is named and really costs what it says.
            pinned = _PINNED.search(why)
            assert pinned is not None, why
            assert int(pinned.group(1) or 1) == len(exchange)
            alone = memory._count(view[-len(exchange) :])
            assert int(pinned.group(2)) == alone
            assert (pinned.group(3) is not None) == (alone > budget)
        else:
            assert not any(_NOT_MET.search(w) for w in warnings)

    _session(log_text, json_text, turns, long=long, tools=tools)(memory, check)
    assert calls >= turns


@pytest.mark.parametrize(
    ("turns", "long", "tools"), [(50, False, False), (30, True, True)], ids=["short", "long-tools"]
)
def test_each_view_would_send_the_stored_history_exactly_when_blocks_are_rebuilt(
    turns: int,
    long: bool,
    tools: bool,
    log_text: str,
    json_text: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Per LLM call, saved = what it would have sent without headroom minus what it sent.
    # When the blocks no longer fit, the summarizer rebuilds them from their originals and
    # may keep some of those verbatim, as new dicts from its store: they were taken for new
    # blocks, and the whole roll-up's saving was recorded against a verbatim message's text
    # (counted in every later call) while the real block recorded none.
    memory = HeadroomMemory.from_defaults(budget_tokens=1_000, store="memory")
    rebuilt = 0

    def check(question: str) -> None:
        nonlocal rebuilt
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=_LOGGER):
            view = memory.get()
        rebuilt += any("summary rebuilt" in r.getMessage() for r in caplog.records)
        history = memory.get_all()
        saved = sum(saving_in(m.content or "")[0] for m in view)
        assert memory._count(view) + saved == memory._count(history)
        stored = {m.content for m in history}
        for message in view:
            if message.content in stored:  # sent as stored: it saves nothing
                assert saving_in(message.content or "") == (0, None)

    _session(log_text, json_text, turns, long=long, tools=tools)(memory, check)
    assert rebuilt > 0


def test_a_view_under_the_budget_is_not_rolled_up_even_when_the_raw_history_is_over(
    log_text: str, caplog: pytest.LogCaptureFixture
) -> None:
    history = [
        ChatMessage(role="system", content="You are the on-call SRE assistant."),
        ChatMessage(role="user", content="What went wrong on the cluster last night?"),
        ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="c1", tool_name="read_log", tool_kwargs={})],
        ),
        ChatMessage(
            role="tool", content=log_text[:20_000], additional_kwargs={"tool_call_id": "c1"}
        ),
        ChatMessage(role="assistant", content="Two datanodes lost blocks around 21:00."),
        ChatMessage(role="user", content="Which blocks exactly?"),
    ]
    memory = HeadroomMemory.from_defaults(chat_history=history, budget_tokens=2_000, store="memory")
    assert memory._count(history) > 2_000  # the raw history is over
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        view = memory.get()
    assert memory._count(view) <= 2_000
    assert [m.role for m in view] == [m.role for m in history]  # nothing rolled up
    assert view[1].content == history[1].content
    assert caplog.records == []


def test_the_question_asked_before_a_big_tool_result_is_kept(
    log_text: str, caplog: pytest.LogCaptureFixture
) -> None:
    history: list[Any] = [ChatMessage(role="system", content="You are the on-call SRE assistant.")]
    for t in range(6):
        history += [
            ChatMessage(role="user", content=f"Summarise part {t} of the HDFS log."),
            ChatMessage(role="assistant", content=f"Part {t}: blocks served, no errors."),
        ]
    history += [
        ChatMessage(role="user", content="Now read the whole log and list every WARN."),
        ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="c9", tool_name="read_log", tool_kwargs={})],
        ),
        ChatMessage(
            role="tool", content=log_text[:30_000], additional_kwargs={"tool_call_id": "c9"}
        ),
    ]
    memory = HeadroomMemory.from_defaults(chat_history=history, budget_tokens=1_000, store="memory")
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        view = memory.get()
    assert [m.content for m in view[-3:-1]] == [m.content for m in history[-3:-1]]
    assert view[-1].additional_kwargs == {"tool_call_id": "c9"}
    tokens = memory._count(view)
    assert tokens <= 1_000 or any(_NOT_MET.search(r.getMessage()) for r in caplog.records)


@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
def test_every_model_call_of_a_function_agent_carries_the_question_of_its_run(
    log_text: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[list[ChatMessage]] = []

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        seen.append(list(messages))
        if messages[-1].role == MessageRole.USER:
            call = ToolCallBlock(
                tool_call_id=f"c{len(seen)}", tool_name="read_log", tool_kwargs={"part": len(seen)}
            )
            return ChatMessage(role="assistant", blocks=[call])
        return ChatMessage(role="assistant", content=f"Block blk_{len(seen)} is healthy.")

    def read_log(part: int) -> str:
        """Read a part of the cluster's HDFS log."""
        start = (part * 3_000) % 60_000
        return log_text[start : start + 8_000]

    memory = HeadroomMemory.from_defaults(budget_tokens=2_000, store="memory")
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(read_log)],
        llm=MockFunctionCallingLLM(response_generator=respond),
    )

    async def ask(question: str) -> None:
        await agent.run(user_msg=question, memory=memory)

    for t in range(10):
        question = f"Turn {t}: what happened to block blk_{7000 + t}?"
        first = len(seen)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=_LOGGER):
            asyncio.run(ask(question))
        # Two model calls per run: the question, then the tool's result.
        assert len(seen) == first + 2
        for call in seen[first:]:
            assert [m.content for m in call if m.role == MessageRole.USER][-1] == question
        # The first call is the memory's view: within the budget, or a warning says why.
        assert memory._count(seen[first]) <= 2_000 or any(
            _NOT_MET.search(r.getMessage()) for r in caplog.records
        )
    assert any("[headroom summary]" in (m.content or "") for m in seen[-2])
