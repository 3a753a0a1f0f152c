"""The tool wrapper and the retrieve tool, outside agents."""

from __future__ import annotations

import asyncio

from headroom import Headroom
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool

from langchain_headroom import compress_tool, make_retrieve_tool


def _call(args: dict[str, str], call_id: str = "c1") -> dict[str, object]:
    return {"name": "read_log", "args": args, "id": call_id, "type": "tool_call"}


def test_wrapper_keeps_name_description_and_schema(data_tools):
    for original in data_tools:
        wrapped = compress_tool(original, store="memory")
        assert wrapped.name == original.name
        assert wrapped.description == original.description
        assert wrapped.args == original.args
        assert wrapped.tool_call_schema.model_json_schema() == (
            original.tool_call_schema.model_json_schema()
        )


def test_plain_invoke_returns_compressed_text(data_tools, log_text):
    wrapped = compress_tool(data_tools[0], store="memory")
    out = wrapped.invoke({"path": "hdfs.log"})
    assert isinstance(out, str)
    assert len(out) < len(log_text) / 3
    assert "retrieve: headroom:" in out


def test_tool_call_returns_marked_message_with_original_artifact(data_tools, log_text):
    hr = Headroom(store="memory")
    wrapped = compress_tool(data_tools[0], headroom=hr, original_as_artifact=True)
    msg = wrapped.invoke(_call({"path": "hdfs.log"}))
    assert isinstance(msg, ToolMessage)
    assert msg.tool_call_id == "c1" and msg.name == "read_log"
    assert msg.artifact == log_text
    meta = msg.response_metadata["headroom"]
    assert meta["kind"] == "log" and meta["tokens_after"] < meta["tokens_before"]
    # The handle in the marker returns the original through the retrieve tool.
    handle = meta["handles"][0]
    assert make_retrieve_tool(hr).invoke({"handle": handle}) == log_text


def test_async_invoke_matches_sync(data_tools):
    wrapped = compress_tool(data_tools[1], store="memory")
    sync = wrapped.invoke({"repo": "rails_admin"})
    assert asyncio.run(wrapped.ainvoke({"repo": "rails_admin"})) == sync


def test_small_and_non_string_outputs_pass_through():
    @tool
    def small(x: int) -> str:
        """Say hi."""
        return f"hi {x}"

    @tool
    def numbers(n: int) -> list[int]:
        """Count."""
        return list(range(n))

    assert compress_tool(small, store="memory").invoke({"x": 1}) == "hi 1"
    assert compress_tool(numbers, store="memory").invoke({"n": 3}) == [0, 1, 2]


def test_retrieve_tool_unknown_handle_is_an_answer_not_an_error():
    out = make_retrieve_tool(Headroom(store="memory")).invoke({"handle": "headroom:000000000000"})
    assert "No original is stored" in out


def test_retrieve_with_query_returns_matching_parts(data_tools, log_text):
    hr = Headroom(store="memory")
    handle = (
        compress_tool(data_tools[0], headroom=hr)
        .invoke(_call({"path": "x"}))
        .response_metadata["headroom"]["handles"][0]
    )
    part = make_retrieve_tool(hr).invoke({"handle": handle, "query": "WARN"})
    assert 0 < len(part) < len(log_text)


def test_original_goes_beside_a_tools_own_artifact(log_text):
    # Before, original_as_artifact=True replaced the tool's artifact with the original.
    from langchain_core.tools import tool

    @tool(response_format="content_and_artifact")
    def read_log(path: str) -> tuple[str, dict[str, int]]:
        """Read a log file; the artifact says how many lines it has."""
        return log_text, {"lines": log_text.count("\n")}

    wrapped = compress_tool(read_log, store="memory", original_as_artifact=True)
    msg = wrapped.invoke(_call({"path": "hdfs.log"}))
    assert msg.artifact == {"lines": log_text.count("\n")}
    meta = msg.response_metadata["headroom"]
    assert meta["original"] == log_text
    assert len(msg.content) < len(log_text) / 3


def test_a_checkpointed_thread_keeps_originals_a_new_process_can_read(data_tools, log_text):
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage, HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver
    from scripted import ScriptedChatModel, call

    from langchain_headroom import HeadroomMiddleware

    model = ScriptedChatModel(
        script=[call("read_log", {"path": "hdfs.log"}, "c1"), AIMessage("Nothing failed.")]
    )
    saver = InMemorySaver()
    mw = HeadroomMiddleware(store="memory", original_as_artifact=True)
    agent = create_agent(model, tools=data_tools, middleware=[mw], checkpointer=saver)
    thread = {"configurable": {"thread_id": "t"}}
    agent.invoke({"messages": [HumanMessage("Which blocks failed?")]}, thread)
    # Another process: same checkpointer, a new in-memory store that never saw the log.
    other = create_agent(
        model, tools=data_tools, middleware=[HeadroomMiddleware(store="memory")], checkpointer=saver
    )
    result = next(m for m in other.get_state(thread).values["messages"] if m.type == "tool")
    handle = result.response_metadata["headroom"]["handles"][0]
    assert "No original is stored" in make_retrieve_tool(Headroom(store="memory")).invoke(
        {"handle": handle}
    )
    assert result.artifact == log_text
    assert len(result.content) < len(log_text) / 3
