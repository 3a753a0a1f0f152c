"""RollingSummarizer and CacheAligner on real transcripts and on hand-made edge cases."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from headroom import CacheAligner, InvalidArgumentError, RollingSummarizer
from headroom.bench.conversation import load_transcript, score_transcript
from headroom.conversation import SUMMARY_HEADER, extractive_summary, is_summary
from headroom.conversation._turns import count_messages, valid_cuts
from headroom.conversation.audit import pairing_problems, untraceable_lines
from headroom.handles import find_markers
from headroom.store import MemoryStore
from headroom.tokens import get_counter
from tests.conftest import read_bench

COUNT = get_counter("gpt-4o")


def transcripts(bench_data: Path) -> list[Path]:
    root = bench_data / "transcripts"
    paths = sorted(p for p in root.glob("*.json") if not p.name.endswith(".meta.json"))
    if not paths:
        pytest.skip("no transcripts in bench data")
    return paths


def chat(n_rounds: int, *, system: bool = True) -> list[dict[str, Any]]:
    """An OpenAI-shape conversation: each round a user turn, a tool call and its result."""
    msgs: list[dict[str, Any]] = (
        [{"role": "system", "content": "You are an airline agent. Never refund cash."}]
        if system
        else []
    )
    for i in range(n_rounds):
        msgs.append(
            {
                "role": "user",
                "content": f"Check reservation R{i:04d}X. I must fly by 2024-06-{i + 1:02d}.",
            }
        )
        msgs.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{i}",
                        "type": "function",
                        "function": {
                            "name": "get_reservation",
                            "arguments": json.dumps({"reservation_id": f"R{i:04d}X"}),
                        },
                    }
                ],
            }
        )
        msgs.append(
            {
                "role": "tool",
                "tool_call_id": f"call_{i}",
                "content": json.dumps({"id": f"R{i:04d}X", "price": 100 + i, "seats": [1, 2, 3]}),
            }
        )
        msgs.append({"role": "assistant", "content": f"Reservation R{i:04d}X costs ${100 + i}."})
    return msgs


def anthropic_chat(n_rounds: int) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = []
    for i in range(n_rounds):
        msgs.append(
            {"role": "user", "content": f"Look up order ORD{i:05d}, ship to /srv/out/{i}.txt."}
        )
        msgs.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": f"I will fetch ORD{i:05d}."},
                    {"type": "tool_use", "id": f"tu_{i}", "name": "fetch", "input": {"order": i}},
                ],
            }
        )
        msgs.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": f"tu_{i}",
                        "content": [
                            {"type": "text", "text": f"order {i}: status shipped\nweight 3 kg"}
                        ],
                    }
                ],
            }
        )
        msgs.append({"role": "assistant", "content": [{"type": "text", "text": "Done."}]})
    msgs.append({"role": "user", "content": "Thanks, what is next?"})
    return msgs


# --- RollingSummarizer on the real transcripts ---------------------------------------


def test_real_transcripts_fit_half_budget_traceably(bench_data: Path) -> None:
    for path in transcripts(bench_data):
        messages = load_transcript(path)
        before = count_messages(messages, COUNT)
        store = MemoryStore()
        result = RollingSummarizer(before // 2, keep_recent=4, store=store).summarize(messages)
        assert result.tokens_after <= before // 2, path.name
        assert result.tokens_after == count_messages(result.messages, COUNT)
        assert untraceable_lines(result.summary or "", messages) == [], path.name
        assert set(pairing_problems(result.messages)) <= set(pairing_problems(messages))
        head = 0
        while messages[head]["role"] == "system":
            assert result.messages[head] == messages[head]  # system prompt kept verbatim
            head += 1
        assert is_summary(result.messages[head])
        # The summarized originals come back byte for byte from the store.
        original = json.loads(store.get(result.handles[0]).text)
        assert original == messages[head : head + result.summarized]
        assert result.messages[head + 1 :] == messages[head + result.summarized :]


def test_loader_keeps_every_message_as_sent(bench_data: Path) -> None:
    for path in transcripts(bench_data):
        raw = json.loads(read_bench(path))
        listed = raw if isinstance(raw, list) else raw.get("history") or raw["traj"]
        loaded = load_transcript(path)
        assert [m["role"] for m in loaded] == [m["role"] for m in listed]
        assert [m.get("content") for m in loaded] == [m.get("content") for m in listed]


def test_bench_scores_meet_hard_targets(bench_data: Path) -> None:
    for path in transcripts(bench_data):
        score = score_transcript(path.name, load_transcript(path), 0.5)
        assert score.fits and score.fabricated == 0 and score.pairing_ok, score


def test_conversation_facts_kept_at_half_budget(bench_data: Path) -> None:
    for path in transcripts(bench_data):
        score = score_transcript(path.name, load_transcript(path), 0.5)
        assert score.facts_kept >= 0.95 * score.facts_total, score


def test_command_output_sent_as_user_text_is_summarized_as_output(bench_data: Path) -> None:
    # mini-swe-agent returns each command's output as the next user turn.
    messages = json.loads(
        read_bench(bench_data / "transcripts" / "minisweagent_github_issue.traj.json")
    )
    store = MemoryStore()
    # No slack asked for: with it, a tool output's line is among what a block sheds first.
    rs = RollingSummarizer(1600, keep_recent=4, hysteresis=0, store=store)
    result = rs.summarize(messages)
    output_lines = [
        line for line in result.summary.splitlines() if "command output]" in line and "·" in line
    ]
    assert output_lines
    turn = int(output_lines[0].split()[1])
    assert messages[turn]["content"].startswith("<returncode>")
    (marker,) = find_markers(output_lines[0])
    assert store.get(marker.handle).text == messages[turn]["content"]


def test_reused_tool_call_ids_still_pair(bench_data: Path) -> None:
    # tau-bench task02 reuses call ids; a naive id map would forbid nearly every cut.
    messages = load_transcript(
        bench_data / "transcripts" / "taubench_airline_gpt4o_task02_trial1.json"
    )
    assert sum(valid_cuts(messages)) > len(messages) // 3


# --- RollingSummarizer rules --------------------------------------------------------


def test_under_budget_is_unchanged() -> None:
    messages = chat(2)
    result = RollingSummarizer(100_000, store="memory").summarize(messages)
    assert result.messages == messages and result.summary is None and result.handles == []
    assert result.tokens_before == result.tokens_after


def test_summary_marked_placed_after_system_and_input_untouched() -> None:
    messages = chat(6)
    snapshot = copy.deepcopy(messages)
    result = RollingSummarizer(max_messages=8, keep_recent=4, store="memory").summarize(messages)
    assert messages == snapshot
    assert result.messages[0] == messages[0]
    summary = result.messages[1]
    assert summary["role"] == "user" and is_summary(summary)
    assert summary["content"].startswith(SUMMARY_HEADER)
    assert len(result.messages) <= 8
    assert "[turn 0 " not in summary["content"]  # the system prompt is never summarized
    assert "[turn 1 user] Check reservation R0000X." in summary["content"]
    assert "[turn 2 assistant] called get_reservation(" in summary["content"]
    markers = find_markers(summary["content"])
    assert markers[-1].unit == "messages" and markers[-1].count == result.summarized


def test_rolling_extension_appends_a_block_and_keeps_the_first_byte_for_byte() -> None:
    full = chat(10)
    store = MemoryStore()
    rs = RollingSummarizer(max_messages=10, keep_recent=4, store=store)
    first = rs.summarize(full[:21])
    assert first.summary is not None and first.blocks == [first.summary]
    # The conversation goes on: the caller sends the summarized list plus new turns.
    grown = first.messages + full[21:]
    second = rs.summarize(grown)
    assert second.summarized > 0 and not second.warnings
    # The earlier block is the same message, same bytes, same place; a new one follows.
    assert second.messages[:2] == first.messages[:2]  # the system prompt, the first block
    assert second.messages[1] is first.messages[1]
    assert second.blocks == [first.summary, second.summary]
    assert is_summary(second.messages[2]) and second.messages[2]["content"] == second.summary
    assert not second.summary.startswith(SUMMARY_HEADER)  # the header is said once
    assert second.covers == first.covers + second.summarized
    assert untraceable_lines("\n".join(second.blocks), full) == []  # turn numbers continue
    again = rs.summarize(grown)
    assert again.messages == second.messages  # deterministic


def test_ccr_round_trip_via_headroom_retrieve() -> None:
    from headroom import Headroom

    hr = Headroom(store="memory")
    messages = chat(5)
    result = RollingSummarizer(max_messages=6, keep_recent=2, store=hr.store).summarize(messages)
    handle = find_markers(result.summary or "")[-1].handle
    assert json.loads(hr.retrieve(handle)) == messages[1 : 1 + result.summarized]
    tool_markers = [m for m in find_markers(result.summary or "") if m.unit == "lines"]
    assert tool_markers and hr.retrieve(tool_markers[0].handle) == messages[3]["content"]


def test_llm_summarizer_callable_is_used() -> None:
    seen: list[list[Any]] = []

    def llm(chunk: list[Any]) -> str:
        seen.append(chunk)
        return f"The user asked about {len(chunk)} messages."

    messages = chat(4)
    result = RollingSummarizer(
        max_messages=6, keep_recent=2, summarizer=llm, store="memory"
    ).summarize(messages)
    assert seen and seen[-1] == messages[1 : 1 + result.summarized]
    assert f"The user asked about {result.summarized} messages." in (result.summary or "")
    assert is_summary(result.messages[1])


def test_anthropic_shape() -> None:
    messages = anthropic_chat(5)
    result = RollingSummarizer(max_messages=6, keep_recent=3, store="memory").summarize(messages)
    assert len(result.messages) <= 6 and result.warnings == []
    budget = count_messages(messages, COUNT) // 2
    tight = RollingSummarizer(budget, keep_recent=3, store="memory").summarize(messages)
    assert tight.tokens_after <= budget and pairing_problems(tight.messages) == []
    assert is_summary(result.messages[0]) and result.messages[0]["role"] == "user"
    assert pairing_problems(result.messages) == []
    assert untraceable_lines(result.summary or "", messages) == []
    assert "[turn 1 assistant] called fetch(" in (result.summary or "")
    assert "[turn 2 tool fetch] order 0: status shipped" in (result.summary or "")


def test_giant_recent_message_gives_best_effort_and_warning() -> None:
    giant = "word " * 5000
    messages = [*chat(2), {"role": "user", "content": giant}]
    result = RollingSummarizer(500, store="memory").summarize(messages)
    assert result.tokens_after > 500
    assert any("not met" in w for w in result.warnings)
    assert result.messages[-1]["content"] == giant
    assert result.tokens_after < result.tokens_before  # still did what it could


@pytest.mark.parametrize(
    ("budget", "hysteresis", "bought"),
    [
        (600, 0.0, "come as close to the budget as it could (it is not met)"),
        (600, 0.2, "come as close to the budget as it could (it is not met)"),
        (1_200, 0.0, "meet the budget"),
        (1_200, 0.2, "meet the budget"),
        (1_800, 0.2, "leave slack below the budget"),
    ],
)
def test_warnings_say_what_fewer_recent_messages_bought(
    budget: int, hysteresis: float, bought: str
) -> None:
    # The last two messages alone cost ~1,535 tokens; only the last (~770) fits 1,200.
    big = "The replica on datanode 10.0.0.7 reported checksum errors again. " * 40
    messages = [
        *chat(8),
        {"role": "assistant", "content": big},
        {"role": "user", "content": "Why? " + big},
    ]
    result = RollingSummarizer(
        budget, keep_recent=4, hysteresis=hysteresis, store="memory"
    ).summarize(messages)
    kept = [w for w in result.warnings if w.startswith("kept only")]
    assert kept == [f"kept only 1 recent messages verbatim (keep_recent=4) to {bought}"]
    shortened = [w for w in result.warnings if w.startswith("summary shortened")]
    assert all(f"left out to {bought};" in w for w in shortened)
    # Each is true of the result.
    assert (result.tokens_after > budget) == ("not met" in bought)
    if hysteresis:
        low = int(budget * (1 - hysteresis))
        assert (result.tokens_after <= low) == ("slack" in bought)


def test_single_message_over_budget_warns() -> None:
    result = RollingSummarizer(5, store="memory").summarize(
        [{"role": "user", "content": "x " * 50}]
    )
    assert result.warnings and "not met" in result.warnings[0]


def test_tight_budget_shrinks_summary_with_warning() -> None:
    messages = chat(12)
    before = count_messages(messages, COUNT)
    result = RollingSummarizer(before // 5, keep_recent=4, store="memory").summarize(messages)
    assert result.tokens_after <= before // 5
    assert untraceable_lines(result.summary or "", messages) == []
    assert any("summary shortened" in w or "recent" in w for w in result.warnings)


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "system", "content": "sys"}],
        [{"role": "tool", "tool_call_id": f"c{i}", "content": "out " * 40} for i in range(6)],
        [{"role": "assistant", "content": None, "tool_calls": []} for _ in range(4)],
    ],
    ids=["empty", "system-only", "only-tool", "empty-assistant"],
)
def test_degenerate_inputs_do_not_crash(messages: list[dict[str, Any]]) -> None:
    result = RollingSummarizer(20, max_messages=2, store="memory").summarize(messages)
    assert result.tokens_after <= result.tokens_before
    assert untraceable_lines(result.summary or "", messages) == []


def test_open_tool_call_is_never_split() -> None:
    messages = chat(3)
    messages.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "late", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        }
    )
    messages.append({"role": "user", "content": "still waiting"})
    result = RollingSummarizer(max_messages=3, keep_recent=1, store="memory").summarize(messages)
    assert messages[-2] in result.messages  # the open call stays with what follows it
    assert len(pairing_problems(result.messages)) == len(pairing_problems(messages)) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"budget_tokens": 0}, {"budget_tokens": 10, "keep_recent": -1}, {"max_messages": "3"}],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        RollingSummarizer(store="memory", **kwargs)


def test_extractive_summary_is_a_plain_callable() -> None:
    text = extractive_summary([{"role": "user", "content": "Always use v1.2.3. Thanks."}])
    assert text == "[turn 0 user] Always use v1.2.3."


# --- CacheAligner ---------------------------------------------------------------------


def system_with(stamp: str, request: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": f"You help. Now: {stamp}. Request id {request}. Be brief."},
        {"role": "user", "content": "What is the status of HAT123?"},
    ]


def test_aligner_prefix_identical_across_volatile_values() -> None:
    aligner = CacheAligner()
    one = aligner.align(system_with("2025-01-02T10:11:12Z", "6f1c2e8a-1b2c-4d5e-8f90-1234567890ab"))
    two = aligner.align(system_with("2025-01-03T08:00:01Z", "0a9b8c7d-6e5f-4a3b-9c2d-abcdefabcdef"))
    assert one.messages[0] == two.messages[0]
    assert one.fingerprint == two.fingerprint
    assert one.messages[0]["content"] == "You help. Now: [[v1]]. Request id [[v2]]. Be brief."
    # The values still reach the model, bound to their placeholders, at the end.
    last = one.messages[-1]["content"]
    assert (
        "[[v1]] = 2025-01-02T10:11:12Z" in last and "6f1c2e8a-1b2c-4d5e-8f90-1234567890ab" in last
    )
    assert last.startswith("What is the status of HAT123?")
    assert [v.kind for v in one.volatile] == ["datetime", "uuid"]


def test_aligner_detect_only_changes_nothing() -> None:
    messages = system_with("2025-01-02 10:11", "req_9f8e7d6c5b4a")
    result = CacheAligner(move_volatile=False).align(messages)
    assert result.messages == messages and result.note is None
    assert {v.kind for v in result.volatile} == {"datetime", "request_id"}
    other = CacheAligner(move_volatile=False).align(
        system_with("2025-01-02 10:12", "req_9f8e7d6c5b4a")
    )
    assert other.fingerprint != result.fingerprint


def test_aligner_tools_and_anthropic_blocks() -> None:
    tools = [{"name": "now", "description": "Clock as of 12:30:00 UTC.", "input_schema": {}}]
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Session started Jan 5, 2025."}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Hello."}]},
        {"role": "user", "content": [{"type": "text", "text": "Go."}]},
    ]
    result = CacheAligner(prefix_turns=1).align(messages, tools=tools)
    assert result.tools is not None and result.tools[0]["description"] == "Clock as of [[v2]]."
    assert result.messages[0]["content"][0]["text"] == "Session started [[v1]]."
    note = result.messages[-1]["content"][-1]
    assert note["type"] == "text" and "[[v1]] = Jan 5, 2025" in note["text"]
    assert tools[0]["description"] == "Clock as of 12:30:00 UTC."  # input untouched


def test_aligner_without_user_message_appends_one() -> None:
    result = CacheAligner().align(
        [{"role": "system", "content": "Build 1700000000123 of run #42."}]
    )
    assert result.messages[0]["content"] == "Build [[v1]] of [[v2]]."
    assert (
        result.messages[-1]["role"] == "user"
        and "[[v2]] = run #42" in result.messages[-1]["content"]
    )


def test_aligner_on_taubench_policy(bench_data: Path) -> None:
    path = bench_data / "transcripts" / "taubench_airline_gpt4o_task02_trial1.json"
    messages = load_transcript(path)
    later = copy.deepcopy(messages)
    later[0]["content"] = later[0]["content"].replace("2024-05-15 15:00:00", "2024-05-16 09:30:00")
    one, two = CacheAligner().align(messages), CacheAligner().align(later)
    assert one.fingerprint == two.fingerprint and one.messages[0] == two.messages[0]
    assert one.messages[1:] != two.messages[1:]  # the times differ, in the note
    assert "2024-05-15 15:00:00 EST" in json.dumps(one.messages)


def test_llm_summarizer_over_budget_warns_without_many_calls() -> None:
    calls: list[int] = []

    def wordy(chunk: list[Any]) -> str:
        calls.append(len(chunk))
        return "blah " * 2000

    messages = chat(6)
    result = RollingSummarizer(300, summarizer=wordy, store="memory").summarize(messages)
    assert any("not met" in w for w in result.warnings)
    assert result.tokens_after <= result.tokens_before
    assert len(calls) <= len(messages)


def test_an_unusable_store_leaves_the_conversation_unchanged(tmp_path: Path) -> None:
    """No summary without its originals: a store that cannot be opened or written costs the
    savings, never the request."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")
    summarizer = RollingSummarizer(budget_tokens=200, store=blocker / "ccr.sqlite3")
    messages = [{"role": "user", "content": f"question {i} " + "word " * 80} for i in range(8)]
    result = summarizer.summarize(messages)
    assert result.messages == messages
    assert any("cannot keep the summarized turns" in w for w in result.warnings)
