"""``headroom_retrieve`` with the handles models really write, in real ``create_agent`` runs.

A model copies a handle loosely (upper case, no prefix, the whole marker line) or gets it
wrong. What can be normalised returns the original; what cannot, or is unknown, is answered
with a tool message saying what a handle looks like, and the agent run goes on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from headroom import Headroom
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from scripted import ScriptedChatModel, call

from langchain_headroom import HeadroomMiddleware, make_retrieve_tool

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


def _loose(handle: str, marker: str) -> list[str]:
    digits = handle.removeprefix("headroom:")
    return [
        handle.upper(),
        digits,
        digits.upper(),
        f"`{handle}`",
        f'"{handle}"',
        f" {handle}\n",
        f"{handle}]",
        f"{handle}.",
        marker,
        f"Retrieve {handle} please",
    ]


def test_loose_handles_return_the_original(stored: tuple[Headroom, str, str]) -> None:
    hr, handle, marker = stored
    tool = make_retrieve_tool(hr)
    for loose in _loose(handle, marker):
        assert tool.invoke({"handle": loose}) == LOG, loose


@pytest.mark.parametrize(
    "bad", ["", "   ", "nonsense", "headroom:", "headroom:3f9a1c2e4b7", "3f9a1c2e4b7d3f9a"]
)
def test_what_cannot_be_normalised_is_answered_not_raised(bad: str) -> None:
    out = make_retrieve_tool(Headroom(store="memory")).invoke({"handle": bad})
    assert out.startswith("Cannot retrieve: handle: ")
    assert "'headroom:' followed by 12 hex digits" in out and "marker" in out


def test_several_and_unknown_handles_are_answered() -> None:
    tool = make_retrieve_tool(Headroom(store="memory"))
    several = tool.invoke({"handle": "headroom:aaaaaaaaaaaa or headroom:bbbbbbbbbbbb"})
    assert "names 2 different handles" in several
    unknown = tool.invoke({"handle": "AAAAAAAAAAAA"})
    assert unknown.startswith("No original is stored under 'headroom:aaaaaaaaaaaa'")
    assert "expired" in unknown


@pytest.mark.parametrize("via", ["tool", "middleware"])
def test_agent_run_goes_on_after_bad_handles(stored: tuple[Headroom, str, str], via: str) -> None:
    hr, handle, marker = stored
    model = ScriptedChatModel(
        script=[
            call("headroom_retrieve", {"handle": "the log please"}, "r1"),
            call("headroom_retrieve", {"handle": "headroom:000000000000"}, "r2"),
            call("headroom_retrieve", {"handle": marker}, "r3"),
            call("headroom_retrieve", {"handle": handle.removeprefix("headroom:").upper()}, "r4"),
            AIMessage(content="All 400 workers finished."),
        ]
    )
    if via == "tool":
        agent = create_agent(model, tools=[make_retrieve_tool(hr)])
    else:
        agent = create_agent(model, tools=[], middleware=[HeadroomMiddleware(headroom=hr)])
    out = agent.invoke({"messages": [HumanMessage("Show me the whole log")]})

    answers = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert [m.tool_call_id for m in answers] == ["r1", "r2", "r3", "r4"]
    assert all(m.status == "success" for m in answers)
    assert "'headroom:' followed by 12 hex digits" in answers[0].content
    assert answers[1].content.startswith("No original is stored under 'headroom:000000000000'")
    assert answers[2].content == LOG
    assert answers[3].content == LOG
    assert out["messages"][-1].content == "All 400 workers finished."
    # The model saw the explanation before its next call.
    assert "12 hex digits" in model.received[1][-1].content
