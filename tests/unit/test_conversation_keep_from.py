"""RollingSummarizer.summarize(keep_from=...): a tail pinned verbatim, counted, explained."""

from __future__ import annotations

import re
from typing import Any

import pytest

from headroom import InvalidArgumentError, RollingSummarizer
from headroom.conversation._turns import count_messages
from headroom.conversation.audit import pairing_problems
from headroom.store import MemoryStore
from headroom.tokens import get_counter
from tests.unit.test_conversation import chat

COUNT = get_counter("gpt-4o")


def _exchange(question: str, rounds: int, size: int) -> list[dict[str, Any]]:
    """A user question, then ``rounds`` tool calls with results of ``size`` words each."""
    out: list[dict[str, Any]] = [{"role": "user", "content": question}]
    for i in range(rounds):
        out.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"open_{i}",
                        "type": "function",
                        "function": {"name": "read_log", "arguments": f'{{"part": {i}}}'},
                    }
                ],
            }
        )
        out.append(
            {
                "role": "tool",
                "tool_call_id": f"open_{i}",
                "content": f"part {i}: datanode 10.0.0.{i} ok " * size,
            }
        )
    return out


def _session(rounds: int = 2, size: int = 8) -> tuple[list[dict[str, Any]], int]:
    history = chat(10)
    return [*history, *_exchange("Which datanode failed last night?", rounds, size)], len(history)


def test_none_and_len_pin_nothing_more_than_the_default() -> None:
    messages, _ = _session()
    budget = count_messages(messages, COUNT) // 3
    default = RollingSummarizer(budget, store=MemoryStore()).summarize(messages)
    at_end = RollingSummarizer(budget, store=MemoryStore()).summarize(
        messages, keep_from=len(messages)
    )
    assert default.summarized > 0
    assert at_end.messages == default.messages and at_end.warnings == default.warnings


def test_the_pinned_exchange_stays_verbatim_and_the_budget_counts_it() -> None:
    messages, pin = _session()
    budget = count_messages(messages, COUNT) // 2
    result = RollingSummarizer(budget, keep_recent=2, store=MemoryStore()).summarize(
        messages, keep_from=pin
    )
    tail = messages[pin:]
    # The same objects, in order, at the end: the question is never summarized.
    assert all(a is b for a, b in zip(result.messages[-len(tail) :], tail, strict=True))
    assert result.summarized > 0
    assert result.tokens_after == count_messages(result.messages, COUNT) <= budget
    # Met, and keep_recent=2 by the pinned tail itself (the summary may be shortened).
    assert [w for w in result.warnings if not w.startswith("summary shortened")] == []
    assert pairing_problems(result.messages) == []


def test_keep_recent_counts_the_pinned_messages() -> None:
    messages, pin = _session(rounds=1)  # 3 pinned messages
    budget = count_messages(messages, COUNT) // 2
    result = RollingSummarizer(budget, keep_recent=6, store=MemoryStore()).summarize(
        messages, keep_from=pin
    )
    assert result.tokens_after <= budget
    kept_recent = len(result.messages) - 2  # system prompt and the block
    said = [w for w in result.warnings if w.startswith("kept only")]
    if kept_recent < 6:
        assert said == [
            f"kept only {kept_recent} recent messages verbatim (keep_recent=6) to leave slack "
            "below the budget"
        ] or said == [
            f"kept only {kept_recent} recent messages verbatim (keep_recent=6) to meet the budget"
        ]
    else:
        assert said == []


def test_max_messages_counts_the_pinned_messages() -> None:
    messages, pin = _session(rounds=2)  # 5 pinned messages
    result = RollingSummarizer(max_messages=8, keep_recent=1, store=MemoryStore()).summarize(
        messages, keep_from=pin
    )
    assert len(result.messages) <= 8
    assert result.messages[-5:] == messages[pin:]
    assert result.warnings == []


def test_a_pinned_tail_over_the_budget_is_named_with_its_cost() -> None:
    messages, pin = _session(rounds=2, size=300)
    tail = messages[pin:]
    alone = count_messages(tail, COUNT)
    budget = alone // 2
    result = RollingSummarizer(budget, store=MemoryStore()).summarize(messages, keep_from=pin)
    assert result.messages[-len(tail) :] == tail
    assert result.tokens_after > budget
    assert result.tokens_after < result.tokens_before  # the older turns still summarized
    first = result.warnings[0]
    assert first.startswith(f"budget of {budget} tokens not met ({result.tokens_after} tokens)")
    assert (
        f"the messages pinned by keep_from={pin} ({len(tail)} messages, {pin}-"
        f"{len(messages) - 1}) alone cost {alone} tokens, more than the budget of {budget}"
    ) in first


def test_a_pinned_tail_under_the_budget_is_not_said_to_be_over_it() -> None:
    # The system prompt and the tail fit; the summary of 10 rounds, cut to its marker, not.
    messages, pin = _session(rounds=1, size=100)
    alone = count_messages(messages[pin:], COUNT)
    budget = alone + 10
    result = RollingSummarizer(budget, store=MemoryStore()).summarize(messages, keep_from=pin)
    not_met = [w for w in result.warnings if w.startswith(f"budget of {budget} tokens not met")]
    assert result.tokens_after > budget and len(not_met) == 1
    for warning in not_met:
        assert f"alone cost {alone} tokens" in warning
        assert f"alone cost {alone} tokens, more than" not in warning


def test_nothing_before_the_pin_leaves_the_list_alone_and_says_why() -> None:
    messages = _exchange("What broke?", 2, 200)
    result = RollingSummarizer(100, store=MemoryStore()).summarize(messages, keep_from=0)
    assert result.messages == messages and result.summarized == 0
    alone = count_messages(messages, COUNT)
    assert result.warnings == [
        f"budget of 100 tokens not met ({alone} tokens): no turn before the messages pinned "
        f"by keep_from=0 can be summarized; the messages pinned by keep_from=0 "
        f"(5 messages, 0-4) alone cost {alone} tokens, more than the budget of 100"
    ]


def test_one_pinned_message_is_said_in_the_singular() -> None:
    messages = [*chat(4), {"role": "user", "content": "word " * 400}]
    result = RollingSummarizer(200, store=MemoryStore()).summarize(
        messages, keep_from=len(messages) - 1
    )
    assert re.search(
        rf"the message pinned by keep_from={len(messages) - 1} \(message {len(messages) - 1}\) "
        r"alone costs \d+ tokens, more than the budget of 200",
        result.warnings[0],
    )


def test_a_rebuild_keeps_the_pin_on_the_same_messages() -> None:
    # Two compactions leave blocks; a third, with a small budget, rebuilds them from the
    # store. The pinned exchange must still be the list's tail, verbatim.
    store = MemoryStore()
    messages = chat(12)
    first = RollingSummarizer(max_messages=20, keep_recent=2, store=store).summarize(messages)
    grown = [*first.messages, *chat(6, system=False)]
    second = RollingSummarizer(max_messages=20, keep_recent=2, store=store).summarize(grown)
    assert len(second.blocks) == 2
    exchange = _exchange("And which one is still down?", 1, 30)
    session = [*second.messages, *chat(2, system=False), *exchange]
    pin = len(session) - len(exchange)
    result = RollingSummarizer(
        count_messages([session[0], *exchange], COUNT) + 250, keep_recent=1, store=store
    ).summarize(session, keep_from=pin)
    assert result.messages[-len(exchange) :] == exchange
    assert pairing_problems(result.messages) == []
    assert result.warnings[0].startswith("summary rebuilt from the originals of its")
    assert len(result.blocks) == 1 and result.tokens_after <= result.tokens_before


def test_pinning_the_blocks_already_sent_summarizes_nothing() -> None:
    store = MemoryStore()
    first = RollingSummarizer(max_messages=6, keep_recent=2, store=store).summarize(chat(6))
    assert first.blocks
    result = RollingSummarizer(max_messages=3, store=store).summarize(first.messages, keep_from=1)
    assert result.messages == first.messages
    assert (
        result.warnings
        and "no turn before the messages pinned by keep_from=1" in (result.warnings[0])
    )
    assert "more than max_messages=3" in result.warnings[0]


@pytest.mark.parametrize("keep_from", [-1, 99, "3", 2.0, True, None])
def test_keep_from_must_be_an_index_into_the_list(keep_from: Any) -> None:
    messages, _ = _session()
    rs = RollingSummarizer(100, store=MemoryStore())
    if keep_from is None:
        rs.summarize(messages, keep_from=keep_from)
        return
    with pytest.raises(InvalidArgumentError, match=r"^keep_from: expected an int from 0 to 46"):
        rs.summarize(messages, keep_from=keep_from)


def test_the_pinned_messages_are_named_in_the_callers_terms() -> None:
    messages, pin = _session(rounds=1, size=100)
    alone = count_messages(messages[pin:], COUNT)
    result = RollingSummarizer(alone - 5, store=MemoryStore()).summarize(
        messages, keep_from=pin, pinned_as="question being answered"
    )
    assert f"the question being answered ({len(messages) - pin} messages, " in result.warnings[0]
    assert "keep_from" not in " ".join(result.warnings)


@pytest.mark.parametrize("pinned_as", ["", "  ", 3])
def test_pinned_as_must_name_something(pinned_as: object) -> None:
    messages, pin = _session(rounds=1, size=100)
    with pytest.raises(InvalidArgumentError, match="pinned_as: expected a non-empty str"):
        RollingSummarizer(100, store=MemoryStore()).summarize(
            messages,
            keep_from=pin,
            pinned_as=pinned_as,  # type: ignore[arg-type]
        )
