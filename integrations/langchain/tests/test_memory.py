"""Compressed chat memory: the LCEL Runnable and the SummarizationMiddleware summarizer."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from headroom import Headroom
from langchain.agents import create_agent
from langchain.agents.middleware import SummarizationMiddleware
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from scripted import ScriptedChatModel, call

from langchain_headroom import compress_messages, headroom_summarizer
from langchain_headroom._common import count_tokens


def _history(json_text: str) -> list:
    return [
        SystemMessage("You triage GitHub issues."),
        HumanMessage("List the open issues of rails_admin"),
        call("list_issues", {"repo": "rails_admin"}, "c1"),
        ToolMessage(json_text, tool_call_id="c1", name="list_issues"),
        AIMessage("There are 30 open issues."),
        HumanMessage("Which mention Mongoid?"),
    ]


def test_runnable_compresses_without_mutating_input(json_text):
    history = _history(json_text)
    snapshot = [m.model_dump() for m in history]
    out = compress_messages(store="memory").invoke(history)
    assert [m.model_dump() for m in history] == snapshot
    assert [type(m) for m in out] == [type(m) for m in history]
    assert len(out[3].content) < len(json_text) / 2
    assert out[3].response_metadata["headroom"]["compressed"] is True
    assert out[3].tool_call_id == "c1"
    assert out[5] is history[5]  # untouched messages are the same objects
    again = compress_messages(store="memory").invoke(out)
    assert all(a is b for a, b in zip(again, out, strict=True))


def test_runnable_in_an_lcel_chain_sync_and_async(json_text):
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history")])
    model = ScriptedChatModel(script=[AIMessage("two of them")])
    chain = prompt | compress_messages(store="memory") | model
    assert chain.invoke({"history": _history(json_text)}).content == "two of them"
    asyncio.run(chain.ainvoke({"history": _history(json_text)}))
    for sent in model.received:
        assert len(sent[3].content) < len(json_text) / 2


def test_runnable_condenses_history_over_budget(json_text):
    hr = Headroom(store="memory")
    history = [*_history(json_text), AIMessage("Two."), HumanMessage("Thanks, and #2746?")]
    out = compress_messages(headroom=hr, max_messages=5, keep_recent=2).invoke(history)
    assert len(out) <= 5
    assert isinstance(out[0], SystemMessage)
    assert out[1].response_metadata["headroom"]["summary"] is True
    assert out[-1] is history[-1]


def test_a_history_without_a_user_turn_pins_only_what_the_core_keeps(caplog):
    # No human message: no open exchange to pin, and no warning may speak of one.
    hr = Headroom(store="memory")
    history = [SystemMessage("You watch the build.")]
    for i in range(6):
        history.append(AIMessage(f"Build {i} finished with {i} warnings. " + "ok " * 200))
    with caplog.at_level(logging.WARNING, logger="langchain_headroom"):
        out = compress_messages(headroom=hr, budget_tokens=300, keep_recent=1).invoke(history)
    assert out[-1] is history[-1] and len(out) < len(history)
    assert "latest user turn" not in caplog.text


def test_summarizer_alone_returns_text_with_a_working_handle():
    hr = Headroom(store="memory")
    summarize = headroom_summarizer(headroom=hr)
    messages = [
        HumanMessage("My account id is omar_3817 and I never fly red-eyes."),
        AIMessage("Noted, omar_3817."),
        HumanMessage("Book SFO to JFK on May 3."),
        AIMessage("Booked flight UA 512."),
    ]
    text = summarize(messages)
    assert "omar_3817" in text
    handle = text.rsplit("retrieve: ", 1)[1].split("]", 1)[0]
    originals = json.loads(hr.retrieve(handle))
    assert [m["content"] for m in originals] == [m.content for m in messages]


def test_summarizer_plugs_into_langchain_summarization_middleware(log_text):
    summarize = headroom_summarizer(store="memory")
    model = ScriptedChatModel(script=[AIMessage("ok")])
    mw = SummarizationMiddleware(
        model=model, trigger=("messages", 6), keep=("messages", 2), summarizer=summarize
    )
    history = []
    for i in range(4):
        history += [HumanMessage(f"Check node {i}, user id u_{i}42"), AIMessage(f"Node {i} ok")]
    history.append(HumanMessage("And now?"))
    create_agent(model, tools=[], middleware=[mw]).invoke({"messages": history})
    sent = model.received[0]
    assert len(sent) < len(history)
    summary = sent[0].content
    assert "[headroom summary]" in summary and "u_042" in summary
    assert sent[-1].content == "And now?"


# -- budget_tokens: what is sent, the latest question kept, warnings true (issue 20) -----------

_KEPT = re.compile(r"kept only (\d+) recent messages verbatim \(keep_recent=(\d+)\)")
_PINNED = re.compile(
    r"the latest user turn and its open tool-call exchange "
    r"\((?:(\d+) messages, [\d-]+|message \d+)\) alone costs? (\d+) tokens(, more than the budget)?"
)


def _count(messages: list) -> int:
    return count_tokens(messages, model="gpt-4o")


def test_a_list_whose_compressed_form_fits_the_budget_is_not_condensed(json_text, caplog):
    hr = Headroom(store="memory")
    history = _history(json_text)
    plain = compress_messages(headroom=hr).invoke(history)
    # The raw list is over the budget; what would be sent is under it.
    budget = (_count(plain) + _count(history)) // 2
    assert _count(plain) < budget < _count(history)
    with caplog.at_level(logging.WARNING, logger="langchain_headroom"):
        out = compress_messages(headroom=hr, budget_tokens=budget).invoke(history)
    assert [m.content for m in out] == [m.content for m in plain]
    assert caplog.records == []


@pytest.mark.parametrize("budget", [1_000, 2_000, 8_000])
def test_budget_replay_keeps_the_latest_question_and_warns_only_truly(
    budget, log_text, json_text, caplog
):
    hr = Headroom(store="memory")
    bounded = compress_messages(headroom=hr, budget_tokens=budget)
    plain = compress_messages(headroom=hr)
    history: list = [SystemMessage("You are the on-call SRE assistant.")]
    checked = condensed = 0

    def check(question: str) -> None:
        nonlocal checked, condensed
        checked += 1
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="langchain_headroom"):
            out = bounded.invoke(history)
        warnings = [r.getMessage() for r in caplog.records]
        latest = max(i for i, m in enumerate(history) if isinstance(m, HumanMessage))
        exchange = history[latest:]
        # The latest question and the tool call and result made for it, verbatim, last.
        assert out[-len(exchange)].content == question
        assert [type(m) for m in out[-len(exchange) :]] == [type(m) for m in exchange]
        sent = plain.invoke(history)
        if _count(sent) <= budget:
            assert [m.content for m in out] == [m.content for m in sent]
            assert warnings == []
            return
        condensed += 1
        for warning in warnings:
            kept = _KEPT.search(warning)
            if kept is not None:  # counted over the whole list, open exchange included
                n = int(kept.group(1))
                assert n < int(kept.group(2)) == 4
                assert [m.content for m in out[-n:]] == [m.content for m in sent[-n:]]
                assert out[-n - 1].response_metadata["headroom"]["summary"] is True
        said = [w for w in warnings if w.startswith(f"headroom: budget of {budget} tokens not met")]
        assert bool(said) == (_count(out) > budget), warnings
        if said:
            # It names the open exchange it pinned and says what that alone really costs.
            pinned = _PINNED.search(said[0])
            assert pinned is not None, said[0]
            assert int(pinned.group(1) or 1) == len(exchange)
            alone = _count(out[-len(exchange) :])
            assert int(pinned.group(2)) == alone
            assert (pinned.group(3) is not None) == (alone > budget)

    for t in range(30):
        question = f"Turn {t}: what happened to block blk_{7000 + t}?"
        history.append(HumanMessage(question))
        check(question)
        if t % 2 == 0:
            history.append(call("read_log", {"turn": t}, f"call_{t}"))
            source = log_text if t % 4 == 0 else json_text
            start = (t * 1_700) % max(1, len(source) - 6_000)
            history.append(
                ToolMessage(source[start : start + 2_000 + 150 * t], tool_call_id=f"call_{t}")
            )
            check(question)
        history.append(AIMessage(f"Block blk_{7000 + t} was replicated to 10.0.{t}.7."))
    assert checked == 45 and condensed > 0
