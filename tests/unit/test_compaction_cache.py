"""Issue 23, item 4: compacting with slack below the budget keeps the cache prefix longer.

A recorded session is grown one message at a time, each request built from the previous
one plus the new message, as an app holding what it sent would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headroom import InvalidArgumentError, RollingSummarizer
from headroom.bench.conversation import load_transcript, user_identifiers
from headroom.conversation._turns import count_messages, turn_text
from headroom.conversation.audit import pairing_problems, untraceable_lines
from headroom.store import MemoryStore
from headroom.tokens import get_counter

COUNT = get_counter("gpt-4o")
SESSION = "taubench_airline_gpt4o_task02_trial1.json"


def _grow(messages: list[dict[str, Any]], rs: RollingSummarizer) -> tuple[int, int, int]:
    """(steps, steps whose previous request is an exact prefix, compactions)."""
    sent: list[Any] = []
    steps = kept = compactions = 0
    for message in messages:
        result = rs.summarize([*sent, message])
        if sent:
            steps += 1
            kept += result.messages[: len(sent)] == sent
        compactions += result.summarized > 0
        assert result.tokens_after <= rs.budget_tokens or result.warnings
        sent = result.messages
    return steps, kept, compactions


def test_hysteresis_compacts_less_often_and_keeps_more_prefixes(bench_data: Path) -> None:
    messages = load_transcript(bench_data / "transcripts" / SESSION)
    budget = count_messages(messages, COUNT) // 2
    tight = _grow(messages, RollingSummarizer(budget, hysteresis=0, store=MemoryStore()))
    slack = _grow(messages, RollingSummarizer(budget, store=MemoryStore()))
    assert slack[0] == tight[0]
    assert slack[2] < tight[2]  # fewer compactions
    assert slack[1] > tight[1]  # more requests extend the previous one byte for byte


def test_a_compaction_with_slack_leaves_room_for_the_next_message(bench_data: Path) -> None:
    messages = load_transcript(bench_data / "transcripts" / SESSION)
    budget = count_messages(messages, COUNT) // 2
    rs = RollingSummarizer(budget, store=MemoryStore())
    slack = int(budget * (1 - rs.hysteresis))
    sent: list[Any] = []
    roomy = 0
    for i, message in enumerate(messages):
        result = rs.summarize([*sent, message])
        sent = result.messages
        if result.summarized and result.tokens_after <= slack and i + 1 < len(messages):
            roomy += 1
            nxt = rs.summarize([*sent, messages[i + 1]])
            assert nxt.summarized == 0 and nxt.messages[: len(sent)] == sent
    assert roomy >= 1


@pytest.mark.parametrize("bad", [-0.1, 1, 1.5, "0.2", None])
def test_hysteresis_must_be_a_share_below_one(bad: object) -> None:
    with pytest.raises(InvalidArgumentError):
        RollingSummarizer(1000, hysteresis=bad, store=MemoryStore())  # type: ignore[arg-type]


def test_a_summary_that_outgrew_the_budget_is_rebuilt_from_its_originals(
    bench_data: Path,
) -> None:
    # At a quarter of this session's tokens, appending a block per compaction (the summary
    # text stays a prefix) would leave the session over budget at every later message.
    messages = load_transcript(bench_data / "transcripts" / SESSION)
    budget = count_messages(messages, COUNT) // 4
    rs = RollingSummarizer(budget, store=MemoryStore())
    sent: list[Any] = []
    rebuilt = 0
    for i, message in enumerate(messages):
        result = rs.summarize([*sent, message])
        if any(w.startswith("summary rebuilt") for w in result.warnings):
            rebuilt += 1
            assert result.tokens_after <= budget
            # Turn numbers refer to the whole conversation so far, as always.
            assert untraceable_lines(result.summary or "", messages[: i + 1]) == []
            assert set(pairing_problems(result.messages)) <= set(pairing_problems(messages))
            # The system prompt, the turns the summary stands for, the turns kept verbatim.
            assert 1 + result.covers + len(result.messages) - 2 == i + 1
        sent = result.messages
    assert rebuilt >= 1


TAU = sorted(
    f"taubench_airline_gpt4o_task{name}.json"
    for name in ("02_trial1", "03_trial1", "04_trial2", "07_trial2", "33_trial0")
)


def test_grown_sessions_keep_the_previous_request_as_prefix_on_most_steps(
    bench_data: Path,
) -> None:
    # Issue 23's target at half of each session's tokens (its ceiling here is ~96%: a
    # compaction, whatever it does, ends the prefix at its block).
    steps = kept = 0
    for name in TAU:
        messages = load_transcript(bench_data / "transcripts" / name)
        budget = count_messages(messages, COUNT) // 2
        one = _grow(messages, RollingSummarizer(budget, store=MemoryStore()))
        steps, kept = steps + one[0], kept + one[1]
    assert kept >= 0.85 * steps


def test_a_new_block_leaves_earlier_blocks_and_the_system_prompt_in_place(
    bench_data: Path,
) -> None:
    messages = load_transcript(bench_data / "transcripts" / SESSION)
    budget = count_messages(messages, COUNT) // 2
    rs = RollingSummarizer(budget, store=MemoryStore())
    sent: list[Any] = []
    appended = 0
    for message in messages:
        result = rs.summarize([*sent, message])
        if result.summarized and len(result.blocks) > 1:
            appended += 1
            # One new dict: the block written now, right after the blocks already sent.
            new = [m for m in result.messages if m is not message and all(m is not s for s in sent)]
            assert len(new) == 1 and new[0]["content"] == result.summary
            assert result.messages[: len(result.blocks)] == sent[: len(result.blocks)]
            assert result.messages[len(result.blocks)]["content"] == result.summary
            assert result.tokens_after <= int(budget * (1 - rs.hysteresis)) or result.warnings
        sent = result.messages
    assert appended >= 1


def test_slack_never_costs_what_the_user_typed(bench_data: Path) -> None:
    # The low watermark is reached by shedding the agent's lines, never the user's.
    for path in sorted((bench_data / "transcripts").glob("*.json")):
        if path.name.endswith(".meta.json"):
            continue
        messages = load_transcript(path)
        budget = count_messages(messages, COUNT) // 2
        result = RollingSummarizer(budget, hysteresis=0.35, store=MemoryStore()).summarize(messages)
        text = "\n".join(turn_text(m) for m in result.messages)
        missing = [i for i in user_identifiers(messages) if i not in text]
        assert missing == [], path.name
