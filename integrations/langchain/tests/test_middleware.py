"""Real ``create_agent`` runs with a scripted model calling real tools over real data."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
from typing import Any

import pytest
from headroom import CompressConfig, Headroom
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.types import Command
from scripted import ScriptedChatModel, call

from langchain_headroom import HeadroomMiddleware, compress_tool


def _script(*calls: AIMessage) -> list[AIMessage]:
    return [*calls, AIMessage(content="The datanodes are fine.")]


def _tool_messages(messages: list[Any]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


def _agent(model: ScriptedChatModel, tools: list[Any], mw: HeadroomMiddleware) -> Any:
    return create_agent(model, tools=tools, middleware=[mw])


def test_tool_results_are_compressed_before_the_model_sees_them(data_tools, log_text, json_text):
    model = ScriptedChatModel(
        script=_script(
            call("read_log", {"path": "hdfs.log"}, "c1"),
            call("list_issues", {"repo": "rails_admin"}, "c2"),
        )
    )
    mw = HeadroomMiddleware(store="memory")
    out = _agent(model, data_tools, mw).invoke({"messages": [HumanMessage("Which blocks failed?")]})
    # The third model call saw both tool results, compressed and marked.
    seen = _tool_messages(model.received[2])
    assert [m.name for m in seen] == ["read_log", "list_issues"]
    for message, original in zip(seen, [log_text, json_text], strict=True):
        assert isinstance(message.content, str)
        assert len(message.content) < len(original) / 3
        meta = message.response_metadata["headroom"]
        assert meta["compressed"] is True
        assert meta["tokens_after"] < meta["tokens_before"]
    assert seen[0].response_metadata["headroom"]["kind"] == "log"
    assert seen[1].response_metadata["headroom"]["kind"] == "json"
    # The agent's state holds the compressed results too (compressed once, at production).
    assert _tool_messages(out["messages"])[0].content == seen[0].content
    assert out["messages"][-1].content == "The datanodes are fine."


def test_retrieve_tool_returns_the_original(data_tools, log_text):
    hr = Headroom(store="memory")
    model = ScriptedChatModel(script=_script(call("read_log", {"path": "hdfs.log"}, "c1")))
    mw = HeadroomMiddleware(headroom=hr)
    agent = _agent(model, data_tools, mw)
    first = agent.invoke({"messages": [HumanMessage("Show the log")]})
    handle = _tool_messages(first["messages"])[0].response_metadata["headroom"]["handles"][0]
    assert handle in _tool_messages(first["messages"])[0].content

    # A second agent asks for the original through the contributed tool.
    model2 = ScriptedChatModel(script=_script(call("headroom_retrieve", {"handle": handle}, "r1")))
    second = create_agent(model2, tools=data_tools, middleware=[mw]).invoke(
        {"messages": [HumanMessage("Get the whole log")]}
    )
    got = _tool_messages(second["messages"])[0]
    assert got.name == "headroom_retrieve"
    assert got.content == log_text  # byte-exact, and not compressed again
    assert "headroom" not in got.response_metadata
    assert "headroom_retrieve" in {t.name for t in mw.tools}


def test_async_run_compresses_the_same_way(data_tools, log_text):
    model = ScriptedChatModel(script=_script(call("read_log", {"path": "hdfs.log"}, "c1")))
    mw = HeadroomMiddleware(store="memory")
    out = asyncio.run(
        _agent(model, data_tools, mw).ainvoke({"messages": [HumanMessage("Which blocks?")]})
    )
    seen = _tool_messages(model.received[1])[0]
    assert len(seen.content) < len(log_text) / 3
    assert seen.response_metadata["headroom"]["compressed"] is True
    assert _tool_messages(out["messages"])[0].content == seen.content


def test_async_hooks_compress_off_the_event_loop(data_tools, log_text):
    # Compression is CPU work and writes the store: an async agent must not run it on the
    # loop's thread, where it would stall every other coroutine.
    threads: set[int] = set()

    def counting(text: str) -> int:
        threads.add(threading.get_ident())
        return len(text) // 4

    hr = Headroom(CompressConfig(token_counter=counting), store="memory")
    model = ScriptedChatModel(script=_script(call("read_log", {"path": "hdfs.log"}, "c1")))
    mw = HeadroomMiddleware(headroom=hr, compress_requests=True)

    async def run() -> tuple[Any, int]:
        agent = _agent(model, data_tools, mw)
        out = await agent.ainvoke({"messages": [HumanMessage("Which blocks?")]})
        return out, threading.get_ident()

    out, loop_thread = asyncio.run(run())
    assert len(_tool_messages(out["messages"])[0].content) < len(log_text) / 3
    assert threads and loop_thread not in threads


@pytest.mark.parametrize("mode", ["updates", "messages"])
def test_streaming_run_compresses(data_tools, log_text, mode):
    model = ScriptedChatModel(script=_script(call("read_log", {"path": "hdfs.log"}, "c1")))
    mw = HeadroomMiddleware(store="memory")
    chunks = list(
        _agent(model, data_tools, mw).stream(
            {"messages": [HumanMessage("Which blocks?")]}, stream_mode=mode
        )
    )
    assert chunks
    seen = _tool_messages(model.received[1])[0]
    assert len(seen.content) < len(log_text) / 3
    if mode == "messages":
        streamed = [c[0] for c in chunks if isinstance(c[0], ToolMessage)]
        assert streamed and streamed[0].content == seen.content


def test_async_streaming_run_compresses(data_tools, log_text):
    model = ScriptedChatModel(script=_script(call("read_log", {"path": "hdfs.log"}, "c1")))
    mw = HeadroomMiddleware(store="memory")

    async def run() -> list[Any]:
        agent = _agent(model, data_tools, mw)
        return [c async for c in agent.astream({"messages": [HumanMessage("?")]})]

    assert asyncio.run(run())
    assert len(_tool_messages(model.received[1])[0].content) < len(log_text) / 3


def test_tool_returning_command_is_compressed(log_text):
    @tool
    def fetch(path: str, tool_call_id: str = "") -> Command:  # type: ignore[type-arg]
        """Fetch a log and record it in the state."""
        return Command(
            update={"messages": [ToolMessage(log_text, tool_call_id="c1", name="fetch")]}
        )

    model = ScriptedChatModel(script=_script(call("fetch", {"path": "a.log"}, "c1")))
    out = _agent(model, [fetch], HeadroomMiddleware(store="memory")).invoke(
        {"messages": [HumanMessage("?")]}
    )
    result = _tool_messages(out["messages"])[0]
    assert len(result.content) < len(log_text) / 3
    assert result.response_metadata["headroom"]["compressed"] is True


def test_error_results_and_excluded_tools_pass_through(data_tools, log_text):
    model = ScriptedChatModel(script=_script(call("read_log", {"path": "hdfs.log"}, "c1")))
    mw = HeadroomMiddleware(store="memory", exclude_tools=["read_log"])
    out = _agent(model, data_tools, mw).invoke({"messages": [HumanMessage("?")]})
    assert _tool_messages(out["messages"])[0].content == log_text


def test_already_compressed_results_are_not_compressed_again(data_tools, log_text):
    hr = Headroom(store="memory")
    wrapped = [compress_tool(t, headroom=hr) for t in data_tools]
    model = ScriptedChatModel(script=_script(call("read_log", {"path": "hdfs.log"}, "c1")))
    mw = HeadroomMiddleware(headroom=hr)
    calls_before = hr.stats.calls
    out = _agent(model, wrapped, mw).invoke({"messages": [HumanMessage("?")]})
    result = _tool_messages(out["messages"])[0]
    assert result.response_metadata["headroom"]["compressed"] is True
    assert hr.stats.calls == calls_before + 1  # the wrapper compressed; the middleware skipped


def test_request_compression_is_view_time_and_idempotent(log_text):
    hr = Headroom(store="memory")
    history = [
        HumanMessage("Which blocks failed?"),
        call("read_log", {"path": "hdfs.log"}, "c0"),
        ToolMessage(log_text, tool_call_id="c0", name="read_log"),
        AIMessage("Nothing failed."),
        HumanMessage("Thanks"),
    ]
    frozen = [m.model_copy(deep=True) for m in history]
    model = ScriptedChatModel(script=[AIMessage("ok")])
    mw = HeadroomMiddleware(headroom=hr, compress_requests=True, compress_tool_results=False)
    out = create_agent(model, tools=[], middleware=[mw]).invoke({"messages": history})
    sent = _tool_messages(model.received[0])[0]
    assert len(sent.content) < len(log_text) / 3
    assert sent.response_metadata["headroom"]["source"] == "request"
    # The state (and the caller's list) keep the original.
    assert _tool_messages(out["messages"])[0].content == log_text
    assert [m.content for m in history] == [m.content for m in frozen]
    # A request made of already-marked messages is passed on unchanged.
    from langchain_headroom._common import compress_message_list

    once = compress_message_list(hr, history)
    twice = compress_message_list(hr, once)
    assert all(a is b for a, b in zip(once, twice, strict=True))


def test_history_compaction_keeps_tool_pairs(log_text):
    hr = Headroom(store="memory")
    history: list[Any] = []
    for i in range(6):
        history += [
            HumanMessage(f"Question {i}: what about node {i}?"),
            call("read_log", {"path": f"n{i}.log"}, f"c{i}"),
            ToolMessage(log_text[i * 2000 : (i + 1) * 2000], tool_call_id=f"c{i}", name="read_log"),
            AIMessage(f"Node {i} is healthy."),
        ]
    history.append(HumanMessage("Summarize everything."))
    model = ScriptedChatModel(script=[AIMessage("done")])
    mw = HeadroomMiddleware(headroom=hr, compress_tool_results=False, max_messages=8, keep_recent=3)
    out = create_agent(model, tools=[], middleware=[mw]).invoke({"messages": history})
    sent = model.received[0]
    assert len(sent) <= 8
    summary = sent[0]
    assert isinstance(summary, HumanMessage)
    assert summary.response_metadata["headroom"]["summary"] is True
    handle = summary.response_metadata["headroom"]["handles"][0]
    originals = json.loads(hr.retrieve(handle))
    assert originals[0]["content"] == "Question 0: what about node 0?"
    # Every tool result still follows the AI message that called it.
    ids = set()
    for m in sent:
        if isinstance(m, AIMessage):
            ids |= {c["id"] for c in m.tool_calls}
        if isinstance(m, ToolMessage):
            assert m.tool_call_id in ids
    assert out["messages"][-1].content == "done"
    assert sent[-1].content == "Summarize everything."


class _Refusing(Headroom):
    """A client that rejects every message list, as headroom does for shapes it cannot read."""

    def compress(self, messages, **kwargs):  # type: ignore[override]
        from headroom import InvalidMessageError

        raise InvalidMessageError("messages[0].content", "unsupported block")


def test_request_headroom_cannot_read_is_sent_unchanged(log_text, caplog):
    model = ScriptedChatModel(script=[AIMessage("ok")])
    mw = HeadroomMiddleware(headroom=_Refusing(store="memory"), compress_requests=True)
    history = [
        HumanMessage("?"),
        call("read_log", {"path": "a.log"}, "c0"),
        ToolMessage(log_text, tool_call_id="c0", name="read_log"),
        HumanMessage("and?"),
    ]
    out = create_agent(model, tools=[], middleware=[mw]).invoke({"messages": history})
    assert _tool_messages(model.received[0])[0].content == log_text
    assert out["messages"][-1].content == "ok"
    assert "request left uncompressed" in caplog.text


def test_second_turn_on_a_thread_does_not_recompress(data_tools):
    from langgraph.checkpoint.memory import InMemorySaver

    hr = Headroom(store="memory")
    model = ScriptedChatModel(
        script=[
            call("read_log", {"path": "hdfs.log"}, "c1"),
            AIMessage("first answer"),
            call("list_issues", {"repo": "rails_admin"}, "c2"),
            AIMessage("second answer"),
        ]
    )
    agent = create_agent(
        model,
        tools=data_tools,
        middleware=[HeadroomMiddleware(headroom=hr, compress_requests=True)],
        checkpointer=InMemorySaver(),
    )
    thread = {"configurable": {"thread_id": "t1"}}
    first = agent.invoke({"messages": [HumanMessage("Which blocks failed?")]}, thread)
    kept = _tool_messages(first["messages"])[0]
    second = agent.invoke({"messages": [HumanMessage("And the issues?")]}, thread)
    results = _tool_messages(second["messages"])
    assert results[0] == kept  # the stored result is the one compressed in turn one
    assert [m.name for m in results] == ["read_log", "list_issues"]
    # What the last model call saw: each tool result compressed exactly once.
    sent = _tool_messages(model.received[-1])
    assert sent[0].content == kept.content
    assert all(m.response_metadata["headroom"]["compressed"] for m in sent)


def _replay_agent(model: ScriptedChatModel, mw: HeadroomMiddleware) -> Any:
    from conftest import DATA
    from langgraph.checkpoint.memory import InMemorySaver
    from replay import replay_tools

    if not DATA.exists():
        pytest.skip(f"benchmark data not found: {DATA}")
    return create_agent(
        model, tools=replay_tools(DATA), middleware=[mw], checkpointer=InMemorySaver()
    )


def test_budget_keeps_the_latest_question_and_open_exchange(caplog):
    # 30 user turns over real loghub and GitHub data: 60 model requests. Before the open
    # exchange was pinned, 9 of them reached the model without the newest question.
    from replay import question, replay_script, run_replay

    from langchain_headroom._common import count_tokens

    budget = 8_000
    model = ScriptedChatModel(script=replay_script(30))
    mw = HeadroomMiddleware(headroom=Headroom(store="memory"), budget_tokens=budget)
    run_replay(_replay_agent(model, mw), 30)
    assert len(model.received) == 60
    over = 0
    for index, request in enumerate(model.received):
        turn = index // 2
        asked = question(turn)
        position = [i for i, m in enumerate(request) if m.content == asked]
        assert position, f"request {index} lost the question of turn {turn}"
        exchange = request[position[0] :]
        if index % 2:  # the tool call made for the question, and its result, follow it
            assert [type(m) for m in exchange] == [HumanMessage, AIMessage, ToolMessage]
            assert exchange[1].tool_calls[0]["id"] == f"call_{turn}"
            assert exchange[2].tool_call_id == f"call_{turn}"
        tokens = count_tokens(request, model="gpt-4o")
        if tokens > budget:
            over += 1
            # Over budget only when the exchange that must stay is itself too big.
            assert count_tokens(exchange, model="gpt-4o") > budget * 0.9
    assert over and re.search(
        rf"budget of {budget} tokens not met \(\d+ tokens\): .*; the latest user turn and its "
        rf"open tool-call exchange \(3 messages, \d+-\d+\) alone cost \d+ tokens, more than the "
        rf"budget of {budget}",
        caplog.text,
    )
    # Requests with room to spare fit: most requests are within budget.
    assert over < len(model.received) / 4


def test_a_retrieved_original_is_for_the_turn_that_asked(data_tools, log_text):
    # Before: the whole 80 kB log, once retrieved, was sent on every later call.
    from langgraph.checkpoint.memory import InMemorySaver

    hr = Headroom(store="memory")
    first = hr.compress_text(log_text, query="Which blocks failed?", tool_name="read_log")
    handle = first.handles[0]
    model = ScriptedChatModel(
        script=[
            call("read_log", {"path": "hdfs.log"}, "c1"),
            AIMessage("Some blocks were replicated."),
            call("headroom_retrieve", {"handle": handle}, "r1"),
            AIMessage("The full log shows no failures."),
            AIMessage("Yes, the same node."),
            AIMessage("Done."),
        ]
    )
    mw = HeadroomMiddleware(headroom=hr, compress_requests=True)
    agent = create_agent(model, tools=data_tools, middleware=[mw], checkpointer=InMemorySaver())
    thread = {"configurable": {"thread_id": "t"}}
    for question in ["Which blocks failed?", "Show me the whole log.", "Same node?", "Thanks"]:
        agent.invoke({"messages": [HumanMessage(question)]}, thread)

    def retrieved(request: list[Any]) -> ToolMessage:
        return next(m for m in _tool_messages(request) if m.name == "headroom_retrieve")

    # The call answering "Show me the whole log." sees the original, whole.
    assert retrieved(model.received[3]).content == log_text
    # Later turns see it compressed again: smaller, the same handle, byte-identical.
    later = [retrieved(model.received[i]).content for i in (4, 5)]
    assert later[0] == later[1]
    assert handle in later[0] and len(later[0]) < len(log_text) / 10
    # The checkpointed state keeps what the tool returned.
    state = agent.get_state(thread).values["messages"]
    assert retrieved(state).content == log_text


def test_two_middlewares_on_one_agent(data_tools, log_text):
    # Before, create_agent refused a second HeadroomMiddleware ("Please remove duplicate
    # middleware instances."): every instance had the class name as its name.
    hr = Headroom(store="memory")
    history = [
        HumanMessage("Question 0"),
        call("read_log", {"path": "a.log"}, "c0"),
        ToolMessage(log_text, tool_call_id="c0", name="read_log"),
        AIMessage("Answer 0"),
        HumanMessage("Question 1"),
    ]
    model = ScriptedChatModel(script=[call("read_log", {"path": "b.log"}, "c1"), AIMessage("ok")])
    tools_mw = HeadroomMiddleware(headroom=hr)  # compresses tool results as they come
    view_mw = HeadroomMiddleware(
        headroom=hr,
        name="headroom_view",
        compress_tool_results=False,
        compress_requests=True,
        retrieve_tool=False,
    )
    agent = create_agent(model, tools=data_tools, middleware=[tools_mw, view_mw])
    tool_names = [t.name for t in agent.nodes["tools"].bound.tools_by_name.values()]
    assert tool_names.count("headroom_retrieve") == 1
    agent.invoke({"messages": history})
    first, second = (_tool_messages(r) for r in model.received)
    # The second middleware compressed the old result at view time ...
    assert first[0].response_metadata["headroom"]["source"] == "request"
    # ... and the first one the new result when the tool returned.
    assert second[1].response_metadata["headroom"]["kind"] == "log"
    assert all(len(m.content) < len(log_text) / 3 for m in second)
    with pytest.raises(ValueError, match="name: expected a non-empty str"):
        HeadroomMiddleware(store="memory", name="")


def test_view_time_compression_keeps_every_request_a_prefix_of_the_next():
    # Each piece's compressed bytes come from the client's engine, so a request repeats the
    # previous one byte for byte and only appends (what a provider's prompt cache reuses).
    from replay import replay_script, run_replay

    from langchain_headroom._common import to_dicts

    hr = Headroom(store="memory")
    model = ScriptedChatModel(script=replay_script(8))
    mw = HeadroomMiddleware(headroom=hr, compress_requests=True)
    run_replay(_replay_agent(model, mw), 8)
    sent = [[json.dumps(m, sort_keys=True) for m in to_dicts(r)] for r in model.received]
    assert len(sent) == 16
    for earlier, later in itertools.pairwise(sent):
        assert later[: len(earlier)] == earlier
    # And it is compressed: the 8 tool results are well under their raw size.
    from conftest import DATA
    from replay import SOURCES

    raw = sum(len((DATA / path).read_text()[:40_000]) for path, _ in SOURCES[:8])
    sent_chars = sum(len(t.content) for t in _tool_messages(model.received[-1]))
    assert sent_chars < 0.7 * raw
