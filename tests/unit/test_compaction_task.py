"""Issue 23, items 1 and 2: the task statement and the ids the user typed outlive the rest.

On the recorded sessions of the bench data, at a quarter of each session's tokens.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from headroom import RollingSummarizer
from headroom.bench.conversation import content_words, load_transcript, task_index
from headroom.conversation import SUMMARY_HEADER
from headroom.conversation._turns import count_messages, message_cost, turn_text
from headroom.conversation.audit import pairing_problems, untraceable_lines
from headroom.conversation.extractive import task_turn
from headroom.store import MemoryStore
from headroom.tokens import get_counter

COUNT = get_counter("gpt-4o")
_MARKER = "[12 messages omitted: turns 1-12 · retrieve: headroom:0123456789ab]"
# What a summary costs beyond the text it quotes: header, block marker, a turn label.
_OVERHEAD = message_cost(
    {
        "role": "user",
        "content": f"{SUMMARY_HEADER}\n[turn 1 user] \n{_MARKER}",
    },
    COUNT,
)


def _sessions(bench_data: Path) -> list[tuple[str, list[dict]]]:
    root = bench_data / "transcripts"
    paths = sorted(p for p in root.glob("*.json") if not p.name.endswith(".meta.json"))
    if not paths:
        pytest.skip("no transcripts in bench data")
    return [(p.name, load_transcript(p)) for p in paths]


def _summarize(messages: list[dict], ratio: float) -> tuple[int, list[dict], str]:
    budget = int(count_messages(messages, COUNT) * ratio)
    result = RollingSummarizer(budget, keep_recent=4, store=MemoryStore()).summarize(messages)
    assert untraceable_lines(result.summary or "", messages) == []
    assert set(pairing_problems(result.messages)) <= set(pairing_problems(messages))
    assert result.messages[-1] == messages[-1]
    return budget, result.messages, "\n".join(turn_text(m) for m in result.messages)


def test_task_statement_words_survive_a_quarter_budget(bench_data: Path) -> None:
    checked = 0
    for name, messages in _sessions(bench_data):
        task = task_index(messages)
        assert task is not None, name
        budget = int(count_messages(messages, COUNT) * 0.25)
        if count_messages([*messages[: task + 1], messages[-1]], COUNT) + _OVERHEAD > budget:
            continue  # the system prompt, task and latest message alone exceed the budget
        _, _, text = _summarize(messages, 0.25)
        wanted = content_words(turn_text(messages[task]))
        kept = wanted & content_words(text)
        assert len(kept) >= 0.95 * len(wanted), (name, sorted(wanted - kept)[:20])
        checked += 1
    assert checked >= 5  # the tau-bench sessions and most SWE-agent ones


def test_task_is_the_request_after_a_demonstration(bench_data: Path) -> None:
    # SWE-agent sends a demonstration, then the issue; the issue is what the agent works on.
    messages = load_transcript(bench_data / "transcripts" / "sweagent_pydicom-1458_gpt4.traj.json")
    task = task_turn(messages)
    assert task is not None
    assert "Here is a demonstration" in turn_text(messages[task - 1])
    assert "Pixel Representation attribute should be optional" in turn_text(messages[task])
    _, _, text = _summarize(messages, 0.25)
    assert "Pixel Representation attribute should be optional" in text


def test_an_identifier_typed_early_survives_a_quarter_budget(bench_data: Path) -> None:
    path = bench_data / "transcripts" / "taubench_airline_gpt4o_task02_trial1.json"
    messages = load_transcript(path)
    # Typed once, in the user's second turn, and never by the user again.
    assert "omar_davis_3817" in turn_text(messages[3])
    _, out, text = _summarize(messages, 0.25)
    assert "omar_davis_3817" in text
    assert len(out) < len(messages) and "omar_davis_3817" in turn_text(out[1])  # the summary


def test_user_identifiers_outlive_tool_chatter_at_half_budget(bench_data: Path) -> None:
    from headroom.bench.conversation import user_identifiers

    for name, messages in _sessions(bench_data):
        ids = user_identifiers(messages)
        _, _, text = _summarize(messages, 0.5)
        kept = {i for i in ids if i in text}
        assert len(kept) >= 0.85 * len(ids), (name, sorted(ids - kept))
