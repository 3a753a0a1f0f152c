"""llama_index.tools.headroom: the FunctionTool callback, compress_tool and the retrieve tool.

Real objects throughout: headroom compresses real logs and JSON, LlamaIndex runs the tools
(and, at the end, a FunctionAgent driven by a scripted LLM).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import headroom
import pytest
from headroom import CompressConfig, Headroom
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import (
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.schema import TextNode
from llama_index.core.tools import FunctionTool
from llama_index.core.tools.calling import acall_tool, call_tool
from llama_index.core.tools.types import BaseTool, ToolMetadata, ToolOutput

import llama_index.tools.headroom as tools_pkg
from llama_index.tools.headroom import (
    RETRIEVE_TOOL_NAME,
    HeadroomTool,
    compress_tool,
    headroom_callback,
    make_retrieve_tool,
)

HANDLE = re.compile(r"headroom:[0-9a-f]+")
SOURCE = Path(headroom.__file__).with_name("client.py")


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def _headroom_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Unknown handles fall back to the default (SQLite) store: keep it out of $HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEADROOM_HOME", str(tmp_path_factory.mktemp("headroom-home")))
        yield


@pytest.fixture
def hr() -> Headroom:
    return Headroom(store="memory")


@pytest.fixture
def log_tool(log_text: str) -> FunctionTool:
    def read_log(path: str) -> str:
        """Read a log file from the cluster."""
        return log_text

    return FunctionTool.from_defaults(read_log)


@pytest.fixture
def async_log_tool(log_text: str) -> FunctionTool:
    async def read_log(path: str) -> str:
        """Read a log file from the cluster."""
        await asyncio.sleep(0)
        return log_text

    return FunctionTool.from_defaults(async_fn=read_log)


class _SyncLogTool(BaseTool):
    """A plain (not async) BaseTool, as older integrations write them."""

    def __init__(self, text: str) -> None:
        self.text = text

    @property
    def metadata(self) -> ToolMetadata:
        return ToolMetadata(name="read_log", description="Read a log file from the cluster.")

    def __call__(self, input: Any = None, **kwargs: Any) -> ToolOutput:
        raw_input = {"input": input, **kwargs}
        return ToolOutput(
            content=self.text, tool_name="read_log", raw_input=raw_input, raw_output=self.text
        )


def _handle(text: str) -> str:
    match = HANDLE.search(text)
    assert match, text[-300:]
    return match.group(0)


# --- headroom_callback ----------------------------------------------------------------------


def test_callback_compresses_a_real_log(hr: Headroom, log_text: str, events: Any) -> None:
    def read_log(path: str) -> str:
        """Read a log file from the cluster."""
        return log_text

    tool = FunctionTool.from_defaults(
        read_log, callback=headroom_callback(headroom=hr, tool_name="read_log")
    )
    out = tool.call(path="hdfs.log")

    assert out.raw_output is log_text
    assert out.raw_input == {"args": (), "kwargs": {"path": "hdfs.log"}}
    assert "retrieve: headroom:" in out.content
    assert len(out.content) < len(log_text) // 10
    [event] = events.headroom
    assert (event.component, event.name) == ("tool", "read_log")
    assert event.tokens_after < event.tokens_before // 10
    handle = _handle(out.content)
    assert event.handles == [handle]
    assert make_retrieve_tool(hr).call(handle=handle).content == log_text


def test_callback_keeps_the_default_output_when_nothing_changes(hr: Headroom, events: Any) -> None:
    callback = headroom_callback(headroom=hr)
    assert callback("3 jobs running") is None

    def status() -> str:
        """Cluster status."""
        return "3 jobs running"

    out = FunctionTool.from_defaults(status, callback=callback).call()
    assert (out.content, out.raw_output) == ("3 jobs running", "3 jobs running")
    assert events.headroom == []


def test_callback_compresses_dict_output_as_json(hr: Headroom, json_text: str, events: Any) -> None:
    issues = {"repo": "sferik/rails_admin", "issues": json.loads(json_text)}

    def list_issues(repo: str) -> dict[str, Any]:
        """List a GitHub repository's issues."""
        return issues

    tool = FunctionTool.from_defaults(
        list_issues, callback=headroom_callback(headroom=hr, tool_name="list_issues")
    )
    out = tool.call(repo="sferik/rails_admin")

    assert out.raw_output is issues
    serialised = json.dumps(issues, ensure_ascii=False)
    assert len(out.content) < len(serialised) // 2
    assert "sferik/rails_admin" in out.content
    [event] = events.headroom
    assert event.name == "list_issues"
    assert any(t.startswith("json.") for t in event.transforms)
    assert event.tokens_after < event.tokens_before


def test_callback_leaves_nodes_and_other_outputs_to_llamaindex(hr: Headroom) -> None:
    callback = headroom_callback(headroom=hr)
    nodes = [TextNode(text="x " * 2000) for _ in range(3)]
    assert callback(nodes) is None  # FunctionTool renders nodes as text blocks itself
    assert callback(42) is None
    circular: list[Any] = []
    circular.append(circular)
    assert callback(circular) is None  # not serialisable: the default output stays


# --- compress_tool / HeadroomTool -----------------------------------------------------------


def test_compress_tool_keeps_the_tools_metadata(hr: Headroom, log_tool: FunctionTool) -> None:
    wrapped = compress_tool(log_tool, headroom=hr)
    assert isinstance(wrapped, HeadroomTool)
    assert wrapped.metadata == log_tool.metadata
    assert wrapped.metadata.to_openai_tool() == log_tool.metadata.to_openai_tool()
    assert wrapped.tool is log_tool
    assert wrapped.headroom is hr


@pytest.mark.parametrize("kind", ["sync", "async-only", "plain BaseTool"])
@pytest.mark.parametrize("mode", ["call", "acall"])
def test_compress_tool_compresses_the_output(
    kind: str,
    mode: str,
    log_text: str,
    log_tool: FunctionTool,
    async_log_tool: FunctionTool,
    events: Any,
) -> None:
    tool: BaseTool = {
        "sync": log_tool,
        "async-only": async_log_tool,
        "plain BaseTool": _SyncLogTool(log_text),
    }[kind]
    wrapped = compress_tool(tool, store="memory")
    if mode == "call":
        out = wrapped.call(path="hdfs.log")
    else:
        out = asyncio.run(wrapped.acall(path="hdfs.log"))

    assert out.tool_name == "read_log"
    assert out.raw_output is log_text  # the application keeps the original
    assert "path" in json.dumps(out.raw_input) and "hdfs.log" in json.dumps(out.raw_input)
    assert "retrieve: headroom:" in out.content
    assert len(out.content) < len(log_text) // 10
    assert not out.is_error
    [event] = events.headroom
    assert (event.component, event.name) == ("tool", "read_log")
    assert wrapped.headroom.retrieve(_handle(out.content)) == log_text


def test_the_event_carries_the_compressions_token_counts(
    log_text: str, log_tool: FunctionTool, events: Any
) -> None:
    out = compress_tool(log_tool, store="memory").call(path="hdfs.log")
    expected = Headroom(store="memory").compress_text(
        log_text, tool_name="read_log", path="hdfs.log"
    )

    [event] = events.headroom
    assert event.component == "tool"
    assert (event.tokens_before, event.tokens_after) == (
        expected.tokens_before,
        expected.tokens_after,
    )
    assert event.tokens_saved == expected.tokens_before - expected.tokens_after > 20_000
    assert event.handles == list(expected.handles) == [_handle(out.content)]
    assert event.transforms == list(expected.transforms_applied)


def test_compress_tool_through_llamaindex_call_tool(
    hr: Headroom, log_text: str, log_tool: FunctionTool
) -> None:
    """call_tool passes a single argument positionally to tools that are not FunctionTools."""
    wrapped = compress_tool(log_tool, headroom=hr)
    for out in (
        call_tool(wrapped, {"path": "hdfs.log"}),
        asyncio.run(acall_tool(wrapped, {"path": "hdfs.log"})),
    ):
        assert out.raw_output is log_text
        assert hr.retrieve(_handle(out.content)) == log_text


def test_argument_naming_a_file_is_a_hint(hr: Headroom, events: Any) -> None:
    source = SOURCE.read_text()

    def read_file(path: str) -> str:
        """Read a file."""
        return source

    wrapped = compress_tool(FunctionTool.from_defaults(read_file), headroom=hr)
    assert wrapped.call(path="client.py").content != source  # code: skeletonised
    assert events.headroom[-1].transforms == ["code.skeleton"]
    # A .txt file is prose, whatever it looks like; positional arguments count too.
    assert wrapped.call(path="notes.txt").content == source
    assert wrapped.call("notes.txt").content == source
    assert len(events.headroom) == 1


def test_error_outputs_are_untouched(log_text: str, events: Any) -> None:
    class FailingTool(_SyncLogTool):
        def __call__(self, input: Any = None, **kwargs: Any) -> ToolOutput:
            return ToolOutput(
                content=self.text,
                tool_name="read_log",
                raw_input=kwargs,
                raw_output=None,
                is_error=True,
            )

    wrapped = compress_tool(FailingTool(log_text), store="memory")
    out = wrapped.call(path="hdfs.log")
    assert out.is_error and out.content == log_text
    assert asyncio.run(wrapped.acall(path="hdfs.log")).content == log_text
    assert events.headroom == []


def test_exceptions_propagate_unchanged(log_text: str, events: Any) -> None:
    error = FileNotFoundError(2, "No such file", "/var/log/hdfs.log")

    def read_log(path: str) -> str:
        """Read a log file from the cluster."""
        raise error

    wrapped = compress_tool(FunctionTool.from_defaults(read_log), store="memory")
    with pytest.raises(FileNotFoundError) as sync_info:
        wrapped.call(path="hdfs.log")
    with pytest.raises(FileNotFoundError) as async_info:
        asyncio.run(wrapped.acall(path="hdfs.log"))
    assert sync_info.value is error and async_info.value is error
    # Agents turn the exception into an error output, which then reaches the model verbatim.
    out = call_tool(wrapped, {"path": "hdfs.log"})
    assert out.is_error and out.exception is error
    assert events.headroom == []


def test_non_text_blocks_are_kept_and_text_blocks_compressed(
    log_text: str, json_text: str, events: Any
) -> None:
    image = ImageBlock(url="https://example.com/dashboard.png", image_mimetype="image/png")
    log_block, json_block = TextBlock(text=log_text), TextBlock(text=json_text)
    note = TextBlock(text="2 files attached")

    def snapshot(path: str) -> list[Any]:
        """A log, a dashboard image and the open issues."""
        return [log_block, image, json_block, note]

    wrapped = compress_tool(FunctionTool.from_defaults(snapshot), store="memory")
    out = wrapped.call(path="hdfs.log")

    assert len(out.blocks) == 4
    assert out.blocks[1] is image
    assert out.blocks[3] is note  # nothing to gain: the same block
    first, third = out.blocks[0], out.blocks[2]
    assert isinstance(first, TextBlock) and isinstance(third, TextBlock)
    assert len(first.text) < len(log_text) and len(third.text) < len(json_text)
    assert out.raw_output == [log_block, image, json_block, note]
    assert log_block.text == log_text  # the tool's own blocks were not mutated
    [event] = events.headroom  # one event per call, adding up the blocks
    assert len(event.handles) >= 2
    assert wrapped.headroom.retrieve(event.handles[0]) == log_text


# --- make_retrieve_tool ---------------------------------------------------------------------


def test_retrieve_tool_schema() -> None:
    tool = make_retrieve_tool()
    assert tool.metadata.name == RETRIEVE_TOOL_NAME == "headroom_retrieve"
    assert "retrieve: headroom:3f9a1c2e4b7d" in tool.metadata.description
    params = tool.metadata.get_parameters_dict()
    assert set(params["properties"]) == {"handle", "query"}
    assert params["required"] == ["handle"]


def test_retrieve_tool_returns_the_original(hr: Headroom, log_text: str) -> None:
    handle = hr.compress_text(log_text).handles[0]
    assert make_retrieve_tool(hr).call(handle=f"  {handle}\n").content == log_text
    assert make_retrieve_tool().call(handle=handle).content.startswith("No original")
    # Without a client, the stores of headroom's module-level functions are tried.
    text = headroom.compress_text(log_text, config=CompressConfig(store="memory")).text
    assert make_retrieve_tool().call(handle=_handle(text)).content == log_text
    matching = make_retrieve_tool(hr).call(handle=handle, query="exception while serving")
    assert 0 < len(matching.content) < len(log_text)
    assert "Got exception while serving" in matching.content


def test_retrieve_tool_answers_an_unknown_handle(hr: Headroom) -> None:
    out = make_retrieve_tool(hr).call(handle=" headroom:000000000000 ")
    assert not out.is_error
    assert out.content == (
        "No original is stored under 'headroom:000000000000' (it was never stored here, or "
        "it expired or was evicted); check the handle in the marker."
    )


def test_public_api() -> None:
    # isort-style, as ruff's RUF022 wants: constants, classes, then functions.
    kinds = {n: 0 if n.isupper() else 1 if n[0].isupper() else 2 for n in tools_pkg.__all__}
    assert tools_pkg.__all__ == sorted(tools_pkg.__all__, key=lambda n: (kinds[n], n))
    assert set(tools_pkg.__all__) == {
        "RETRIEVE_TOOL_NAME",
        "HeadroomTool",
        "compress_tool",
        "headroom_callback",
        "make_retrieve_tool",
    }


# --- end to end -----------------------------------------------------------------------------


# workflows' step discovery runs inspect.getmembers over the (pydantic) agent.
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
def test_function_agent_sees_the_compressed_output(log_text: str, log_tool: FunctionTool) -> None:
    hr = Headroom(store="memory")
    seen: list[list[ChatMessage]] = []

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        if not seen and not any(m.role == MessageRole.TOOL for m in messages):
            seen.append([])
            return ChatMessage(
                role="assistant",
                blocks=[
                    ToolCallBlock(
                        tool_call_id="c1", tool_name="read_log", tool_kwargs={"path": "hdfs.log"}
                    )
                ],
            )
        seen.append(list(messages))
        return ChatMessage(role="assistant", content="Block serving failed on several nodes.")

    agent = FunctionAgent(
        tools=[compress_tool(log_tool, headroom=hr), make_retrieve_tool(hr)],
        llm=MockFunctionCallingLLM(response_generator=respond),
    )

    async def run() -> Any:
        return await agent.run(user_msg="what failed?")

    response = asyncio.run(run())

    assert "Block serving failed" in str(response)
    [tool_message] = [m for m in seen[-1] if m.role == MessageRole.TOOL]
    assert tool_message.additional_kwargs["tool_call_id"] == "c1"
    text = tool_message.content or ""
    assert "retrieve: headroom:" in text
    assert len(text) < len(log_text) // 10
    assert make_retrieve_tool(hr).call(handle=_handle(text)).content == log_text
    [call] = response.tool_calls
    assert call.tool_output.raw_output is log_text
