"""HeadroomEventHandler: LLM calls counted once, savings attributed to the right query."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from headroom import Headroom, count_tokens
from llama_index.core import VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms import MockLLM
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.tools import FunctionTool
from llama_index_instrumentation import get_dispatcher

from llama_index.observability.headroom import HeadroomEventHandler, instrument
from llama_index.postprocessor.headroom import HeadroomNodePostprocessor
from llama_index.tools.headroom import compress_tool
from llama_index.utils.headroom.events import HeadroomCompressionEvent, emit
from llama_index.utils.headroom.messages import to_dicts

Questions = list[tuple[str, list[str]]]


def test_instrument_registers_once() -> None:
    root = get_dispatcher()
    handler = instrument()
    try:
        assert instrument(handler) is handler
        assert sum(h is handler for h in root.event_handlers) == 1
    finally:
        root.event_handlers = [h for h in root.event_handlers if h is not handler]


def test_a_chat_through_a_completion_model_is_one_call(handler: HeadroomEventHandler) -> None:
    # MockLLM implements chat() with complete(): both events fire, one request was made.
    messages = [ChatMessage(role="user", content="The quick brown fox jumps.")]
    MockLLM().chat(messages)
    usage = handler.usage
    assert usage.llm_calls == 1
    assert usage.tokens_sent == count_tokens(to_dicts(messages))


def test_savings_by_component_and_reset(handler: HeadroomEventHandler) -> None:
    emit(HeadroomCompressionEvent(component="tool", tokens_before=1000, tokens_after=100))
    emit(HeadroomCompressionEvent(component="memory", tokens_before=500, tokens_after=400))
    assert handler.usage.tokens_saved == 1000
    assert handler.usage.saved_by_component == {"tool": 900, "memory": 100}
    assert handler.usage.compressions == 2
    assert [e.component for e in handler.events] == ["tool", "memory"]
    handler.reset()
    assert handler.usage.tokens_saved == 0 and handler.events == []


def test_concurrent_async_queries_are_kept_apart(
    handler: HeadroomEventHandler, squad_index: VectorStoreIndex, squad_questions: Questions
) -> None:
    engine = squad_index.as_query_engine(
        llm=MockLLM(),
        similarity_top_k=4,
        node_postprocessors=[HeadroomNodePostprocessor(store="memory")],
    )
    questions = [q for q, _ in squad_questions[:6]]

    async def run() -> list[str]:
        return [str(r) for r in await asyncio.gather(*(engine.aquery(q) for q in questions))]

    prompts = dict(zip(questions, asyncio.run(run()), strict=True))
    assert sorted(q.query for q in handler.queries) == sorted(questions)
    for query in handler.queries:
        assert query.done and query.usage.llm_calls == 1
        assert query.usage.tokens_sent == count_tokens(prompts[query.query])
        assert query.usage.saved_by_component["node_postprocessor"] > 0
    assert handler.usage.tokens_saved == sum(q.usage.tokens_saved for q in handler.queries)


@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
def test_an_agent_run_counts_what_each_llm_call_was_sent(
    handler: HeadroomEventHandler, log_text: str
) -> None:
    seen: list[list[ChatMessage]] = []

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        seen.append(list(messages))
        if not any(m.role == MessageRole.TOOL for m in messages):
            call = ToolCallBlock(tool_call_id="c1", tool_name="read_log", tool_kwargs={})
            return ChatMessage(role="assistant", blocks=[call])
        return ChatMessage(role="assistant", content="Several blocks failed to serve.")

    def read_log() -> str:
        """Read the HDFS log."""
        return log_text

    agent = FunctionAgent(
        tools=[compress_tool(FunctionTool.from_defaults(read_log), store="memory")],
        llm=MockFunctionCallingLLM(response_generator=respond),
    )

    async def run() -> str:
        return str(await agent.run(user_msg="what failed?"))

    asyncio.run(run())
    usage = handler.usage
    assert usage.llm_calls == len(seen) == 2
    assert usage.tokens_sent == sum(count_tokens(to_dicts(m)) for m in seen)
    assert usage.saved_by_component["tool"] == usage.tokens_saved > count_tokens(log_text) // 2
    assert handler.queries == []  # agent runs are not query-engine queries


def test_a_second_handler_counts_the_same_calls(handler: HeadroomEventHandler) -> None:
    # Before, the "inside an LLM call" depth was shared by all handlers: the first one
    # raised it, and the second then took every call for a nested one and counted 0.
    second = instrument(HeadroomEventHandler())
    try:
        messages = [ChatMessage(role="user", content="The quick brown fox jumps.")]
        MockLLM().chat(messages)
        MockLLM().complete("Over the lazy dog.")
        assert handler.usage.llm_calls == second.usage.llm_calls == 2
        assert handler.usage.tokens_sent == second.usage.tokens_sent > 0
    finally:
        get_dispatcher().event_handlers.remove(second)


def _agent_run(bench_data: Any, *, headroom: bool, turns: int = 6) -> HeadroomEventHandler:
    from llama_index.core.memory import ChatMemoryBuffer

    from llama_index.memory.headroom import HeadroomMemory

    logs = ["HDFS", "Zookeeper", "OpenStack", "Hadoop", "BGL", "Apache"]

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        if messages[-1].role == MessageRole.USER:
            # Which log, by the turn asked about ("Turn N: ..."), not by len(messages): the
            # memory's roll-up changes how many messages a call carries, and a raw run must
            # read the same logs to be the same run without headroom.
            turn = int(str(messages[-1].content).split(":")[0].removeprefix("Turn "))
            call = ToolCallBlock(
                tool_call_id=f"c{turn}",
                tool_name="read_log",
                tool_kwargs={"name": logs[turn % len(logs)]},
            )
            return ChatMessage(role="assistant", blocks=[call])
        return ChatMessage(role="assistant", content="Nothing failed there.")

    def read_log(name: str) -> str:
        """Read one system's log."""
        return (bench_data / "loghub" / f"{name}_2k.log").read_text()[:20_000]

    tool = FunctionTool.from_defaults(read_log)
    handler = instrument(HeadroomEventHandler())
    try:
        if headroom:
            hr = Headroom(store="memory")
            memory: Any = HeadroomMemory.from_defaults(headroom=hr, budget_tokens=3_000)
            tools = [compress_tool(tool, headroom=hr)]
        else:
            memory, tools = ChatMemoryBuffer.from_defaults(token_limit=10**9), [tool]
        agent = FunctionAgent(tools=tools, llm=MockFunctionCallingLLM(response_generator=respond))

        async def run() -> None:
            for turn in range(turns):
                await agent.run(user_msg=f"Turn {turn}: what failed?", memory=memory)

        asyncio.run(run())
    finally:
        get_dispatcher().event_handlers.remove(handler)
    return handler


def test_memory_and_tool_savings_count_per_llm_call_against_a_raw_run(bench_data: Any) -> None:
    # One definition: per LLM call, what it would have sent without headroom minus what it
    # sent. Before, the memory counted one event per view computed and tool results once.
    raw = _agent_run(bench_data, headroom=False).usage
    hr = _agent_run(bench_data, headroom=True).usage
    assert raw.llm_calls == hr.llm_calls == 12
    assert raw.tokens_saved == 0
    # Both runs make the same calls over the same logs, so what the headroom run would
    # have sent is what the raw run sent, token for token (each saving is recorded against
    # what its message stands for, counted with the same tokenizer).
    assert hr.tokens_sent + hr.tokens_saved == raw.tokens_sent, (raw, hr)
    assert hr.tokens_sent < raw.tokens_sent / 2
    assert hr.saved_by_component["tool"] > 0 and hr.saved_by_component["memory"] > 0
