"""Issue 23, item 5: wrapped user events are quoted from inside; each error's first report stays.

On the recorded sessions of the bench data.
"""

from __future__ import annotations

import json
from pathlib import Path

from headroom import RollingSummarizer
from headroom.bench.conversation import load_transcript
from headroom.conversation._turns import count_messages, is_output, turn_text
from headroom.conversation.audit import pairing_problems, untraceable_lines
from headroom.conversation.facts import ERROR_RE, error_template
from headroom.store import MemoryStore
from headroom.tokens import get_counter

COUNT = get_counter("gpt-4o")


def _load(bench_data: Path, name: str) -> list[dict]:
    return load_transcript(bench_data / "transcripts" / name)


def _wrapped(messages: list[dict]) -> list[dict]:
    """The session as a framework that sends each user event as a JSON envelope would."""
    out = []
    for i, message in enumerate(messages):
        if message.get("role") == "user" and not is_output(message, messages[i - 1] if i else None):
            envelope = {"type": "user_message", "seq": i, "message": message["content"]}
            message = {**message, "content": json.dumps(envelope)}
        out.append(message)
    return out


def test_a_wrapped_user_event_is_summarised_from_its_message(bench_data: Path) -> None:
    messages = _wrapped(_load(bench_data, "taubench_airline_gpt4o_task02_trial1.json"))
    assert messages[3]["content"].startswith('{"type": "user_message"')
    budget = count_messages(messages, COUNT) // 4
    result = RollingSummarizer(budget, keep_recent=4, store=MemoryStore()).summarize(messages)
    summary = result.summary or ""
    user_lines = [line for line in summary.splitlines() if " user] " in line]
    assert user_lines
    assert not any(line.split("] ", 1)[1].startswith("{") for line in user_lines)
    # The task statement and the id the user typed come through, from inside the envelope.
    assert "[turn 1 user] Hi, I'm having a bit of a situation with my flights" in summary
    assert "omar_davis_3817" in summary
    assert untraceable_lines(summary, messages) == []
    assert set(pairing_problems(result.messages)) <= set(pairing_problems(messages))
    assert result.tokens_after <= budget


def test_the_first_report_of_an_error_is_kept_before_its_repeats(bench_data: Path) -> None:
    # SWE-agent reports the same failed-edit error at turns 14, 16 and 18 of this session.
    messages = _load(bench_data, "sweagent_pydicom-1458_gpt4.traj.json")
    first = "Your proposed edit has introduced new syntax error(s)."
    reports = [i for i, m in enumerate(messages) if turn_text(m).startswith(first)]
    assert reports[:3] == [14, 16, 18]
    budget = count_messages(messages, COUNT) // 4
    result = RollingSummarizer(budget, keep_recent=4, store=MemoryStore()).summarize(messages)
    assert result.summarized > 18
    summary = result.summary or ""
    cited = [line for line in summary.splitlines() if first in line]
    assert cited and cited[0].startswith("[turn 14 ")
    assert not any(line.startswith(("[turn 16 ", "[turn 18 ")) for line in cited)
    assert untraceable_lines(summary, messages) == []


def test_every_error_template_is_quoted_once_at_most_per_summary(bench_data: Path) -> None:
    for name in ("sweagent_pydicom-1458_gpt4.traj.json", "minisweagent_github_issue.traj.json"):
        messages = _load(bench_data, name)
        budget = count_messages(messages, COUNT) // 2
        summary = RollingSummarizer(budget, store=MemoryStore()).summarize(messages).summary
        seen: set[str] = set()
        for line in (summary or "").splitlines():
            if not line.startswith("[turn ") or " user]" in line or "assistant]" in line:
                continue  # tool and command-output lines: one quote per error template
            fragment = line.split("] ", 1)[1]
            if ERROR_RE.search(fragment):
                template = error_template(fragment.split(" [", 1)[0])
                assert template not in seen, (name, line)
                seen.add(template)
