"""``headroom_retrieve`` with the handles models really write, in a real FunctionAgent run.

A model copies a handle loosely (upper case, no prefix, the whole marker line) or gets it
wrong. What can be normalised returns the original; what cannot, or is unknown, is answered
with a tool output (not an error) saying what a handle looks like, and the run goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from headroom import Headroom
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM

from llama_index.tools.headroom import make_retrieve_tool

LOG = "\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO worker {i} done" for i in range(400))


@pytest.fixture(autouse=True)
def _headroom_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Unknown handles fall back to the default (SQLite) store: keep it out of $HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEADROOM_HOME", str(tmp_path_factory.mktemp("headroom-home")))
        yield


@pytest.fixture
def stored() -> tuple[Headroom, str, str]:
    hr = Headroom(store="memory")
    result = hr.compress_text(LOG)
    [handle] = result.handles
    [marker] = [line for line in result.text.splitlines() if handle in line]
    return hr, handle, marker


def test_loose_handles_return_the_original(stored: tuple[Headroom, str, str]) -> None:
    hr, handle, marker = stored
    digits = handle.removeprefix("headroom:")
    tool = make_retrieve_tool(hr)
    for loose in (handle.upper(), digits, f"`{handle}`", f"'{handle}'", f"{handle}]", marker):
        out = tool.call(handle=loose)
        assert not out.is_error and out.content == LOG, loose


@pytest.mark.parametrize("bad", ["", "nonsense", "headroom:", "headroom:3f9a1c2e4b7"])
def test_what_cannot_be_normalised_is_answered_not_raised(bad: str) -> None:
    out = make_retrieve_tool(Headroom(store="memory")).call(handle=bad)
    assert not out.is_error
    assert out.content.startswith("Cannot retrieve: handle: ")
    assert "'headroom:' followed by 12 hex digits" in out.content


# workflows' step discovery runs inspect.getmembers over the (pydantic) agent.
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
def test_function_agent_run_goes_on_after_bad_handles(stored: tuple[Headroom, str, str]) -> None:
    hr, handle, marker = stored
    handles = ["the log please", "headroom:000000000000", marker, handle.upper()]
    final: list[Sequence[ChatMessage]] = []

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        done = sum(1 for m in messages if m.role == MessageRole.TOOL)
        if done < len(handles):
            return ChatMessage(
                role="assistant",
                blocks=[
                    ToolCallBlock(
                        tool_call_id=f"r{done}",
                        tool_name="headroom_retrieve",
                        tool_kwargs={"handle": handles[done]},
                    )
                ],
            )
        final.append(messages)
        return ChatMessage(role="assistant", content="All 400 workers finished.")

    agent = FunctionAgent(
        tools=[make_retrieve_tool(hr)], llm=MockFunctionCallingLLM(response_generator=respond)
    )

    async def run() -> Any:
        return await agent.run(user_msg="Show me the whole log")

    response = asyncio.run(run())

    assert "All 400 workers finished." in str(response)
    outputs = [c.tool_output for c in response.tool_calls]
    assert len(outputs) == 4
    assert not any(o.is_error for o in outputs)
    assert "'headroom:' followed by 12 hex digits" in outputs[0].content
    assert outputs[1].content.startswith("No original is stored under 'headroom:000000000000'")
    assert outputs[2].content == LOG
    assert outputs[3].content == LOG
    # The model saw the explanation as a tool message.
    tool_texts = [m.content or "" for m in final[0] if m.role == MessageRole.TOOL]
    assert "12 hex digits" in tool_texts[0]
