"""The callback handler counts what models received and what compression saved."""

from __future__ import annotations

import asyncio

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from scripted import ScriptedChatModel, call

from langchain_headroom import HeadroomCallbackHandler, HeadroomMiddleware


def _run(data_tools, handler, *, middleware=True, use_async=False):
    model = ScriptedChatModel(
        script=[call("read_log", {"path": "hdfs.log"}, "c1"), AIMessage("done")]
    )
    mw = [HeadroomMiddleware(store="memory")] if middleware else []
    agent = create_agent(model, tools=data_tools, middleware=mw)
    payload = {"messages": [HumanMessage("Which blocks failed?")]}
    config = {"callbacks": [handler]}
    if use_async:
        return asyncio.run(agent.ainvoke(payload, config=config)), model
    return agent.invoke(payload, config=config), model


def test_counts_sent_and_saved_per_run_model_and_total(data_tools):
    handler = HeadroomCallbackHandler()
    out, _ = _run(data_tools, handler)
    total = handler.total
    assert total.calls == 2
    saved = out["messages"][2].response_metadata["headroom"]
    assert total.tokens_saved == saved["tokens_before"] - saved["tokens_after"] > 1000
    assert 0 < total.tokens_sent < saved["tokens_before"]
    assert total.cost_saved is not None and total.cost_saved > 0  # gpt-4o has a list price
    assert list(handler.by_model) == ["gpt-4o"]
    assert len(handler.by_run) == 1
    assert next(iter(handler.by_run.values())) == total


def test_cumulative_over_runs_and_async(data_tools):
    handler = HeadroomCallbackHandler()
    _run(data_tools, handler)
    first = handler.total
    _run(data_tools, handler, use_async=True)
    assert len(handler.by_run) == 2
    assert handler.total.calls == 2 * first.calls
    assert handler.total.tokens_saved == 2 * first.tokens_saved


def test_without_compression_nothing_is_saved_and_more_is_sent(data_tools):
    plain = HeadroomCallbackHandler()
    _run(data_tools, plain, middleware=False)
    compressed = HeadroomCallbackHandler()
    _run(data_tools, compressed)
    assert plain.total.tokens_saved == 0
    assert plain.total.tokens_sent > compressed.total.tokens_sent + 1000


def test_unknown_model_price_gives_no_cost(data_tools):
    handler = HeadroomCallbackHandler(prices={})
    _run(data_tools, handler)
    assert handler.total.cost_saved is None
    assert handler.total.tokens_saved > 0


def _replay_run(middleware, turns=12):
    from conftest import DATA
    from langgraph.checkpoint.memory import InMemorySaver
    from replay import replay_script, replay_tools, run_replay

    handler = HeadroomCallbackHandler()
    model = ScriptedChatModel(script=replay_script(turns))
    agent = create_agent(
        model, tools=replay_tools(DATA), middleware=middleware, checkpointer=InMemorySaver()
    )
    agent = agent.with_config({"callbacks": [handler]})
    run_replay(agent, turns)
    return handler


def test_sent_plus_saved_is_what_a_raw_history_run_sends():
    # One definition: per model call, what it would have sent without headroom minus what
    # it sent. Before, summaries were counted against the whole list, tool results were
    # counted when the tool returned (always 0 under the middleware), and increases were
    # clamped to 0.
    raw = _replay_run([])
    mw = HeadroomMiddleware(store="memory", budget_tokens=8_000, compress_requests=True)
    hr = _replay_run([mw])
    assert raw.total.calls == hr.total.calls == 24
    assert raw.total.tokens_saved == 0
    would_send = hr.total.tokens_sent + hr.total.tokens_saved
    assert abs(would_send - raw.total.tokens_sent) <= 0.01 * raw.total.tokens_sent
    assert hr.total.tokens_sent < raw.total.tokens_sent / 3
    assert 0 < hr.total.tool_tokens_saved < hr.total.tokens_saved  # summaries save too


def test_records_the_raw_tool_output_and_what_the_model_saw(data_tools, log_text):
    # Before, callbacks (and traces) only had the raw output of a tool run.
    for use_async in (False, True):
        handler = HeadroomCallbackHandler()
        _, model = _run(data_tools, handler, use_async=use_async)
        [record] = handler.tool_results
        assert (record.tool, record.tool_call_id) == ("read_log", "c1")
        assert record.raw == log_text
        seen = next(m for m in model.received[1] if m.type == "tool")
        assert record.sent == seen.content != log_text
        assert record.tokens_after < record.tokens_before
