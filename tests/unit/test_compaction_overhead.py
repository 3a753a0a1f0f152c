"""Issue 23, item 3: a summary's fixed cost earns its tokens, and an unmeetable budget says so.

On the recorded tau-bench sessions of the bench data.
"""

from __future__ import annotations

from pathlib import Path

from headroom import RollingSummarizer
from headroom.bench.conversation import load_transcript
from headroom.conversation import SUMMARY_HEADER, is_summary
from headroom.conversation._turns import count_messages
from headroom.conversation.audit import pairing_problems, untraceable_lines
from headroom.handles import find_markers, is_marker
from headroom.store import MemoryStore
from headroom.tokens import get_counter

COUNT = get_counter("gpt-4o")
SESSION = "taubench_airline_gpt4o_task02_trial1.json"
# The system prompt of the tau-bench airline sessions alone costs 1248 tokens.
BELOW_SYSTEM_PROMPT = 1000


def _session(bench_data: Path) -> list[dict]:
    return load_transcript(bench_data / "transcripts" / SESSION)


def test_no_header_when_the_summary_has_nothing_to_say(bench_data: Path) -> None:
    messages = _session(bench_data)
    result = RollingSummarizer(BELOW_SYSTEM_PROMPT, store=MemoryStore()).summarize(messages)
    summary = result.summary or ""
    assert SUMMARY_HEADER not in summary
    assert is_marker(summary)  # only the block marker: its handle still returns the turns
    [marker] = find_markers(summary)
    assert marker.count == result.summarized
    assert result.tokens_after < result.tokens_before
    assert is_summary(result.messages[1])
    assert untraceable_lines(summary, messages) == []
    assert set(pairing_problems(result.messages)) <= set(pairing_problems(messages))


def test_a_marker_only_block_is_kept_byte_for_byte(bench_data: Path) -> None:
    messages = _session(bench_data)
    rs = RollingSummarizer(BELOW_SYSTEM_PROMPT, keep_recent=2, store=MemoryStore())
    first = rs.summarize(messages[:40])
    assert first.summary is not None and is_marker(first.summary)
    grown = [*first.messages, *messages[40:]]
    second = rs.summarize(grown)
    assert second.blocks[0] == first.summary  # recognised as a block, not summarized again
    assert second.messages[1] is first.messages[1]
    assert second.covers > first.covers


def test_budget_below_the_protected_messages_is_reported(bench_data: Path) -> None:
    messages = _session(bench_data)
    result = RollingSummarizer(BELOW_SYSTEM_PROMPT, store=MemoryStore()).summarize(messages)
    assert result.tokens_after > BELOW_SYSTEM_PROMPT
    assert result.tokens_after == count_messages(result.messages, COUNT)
    [warning] = [w for w in result.warnings if "must stay verbatim" in w]
    assert f"more than the budget of {BELOW_SYSTEM_PROMPT}" in warning
    assert result.messages[-1] == messages[-1]


def test_a_nonempty_summary_keeps_its_header(bench_data: Path) -> None:
    messages = _session(bench_data)
    budget = count_messages(messages, COUNT) // 2
    result = RollingSummarizer(budget, store=MemoryStore()).summarize(messages)
    assert (result.summary or "").startswith(SUMMARY_HEADER + "\n[turn ")
    assert result.tokens_after <= budget
