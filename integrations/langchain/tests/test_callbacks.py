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
