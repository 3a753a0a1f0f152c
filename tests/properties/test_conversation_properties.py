"""Invariants of RollingSummarizer and CacheAligner over generated conversations."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.bench.conversation import load_transcript
from headroom.conversation import CacheAligner, RollingSummarizer
from headroom.conversation._turns import count_messages, message_cost, valid_cuts
from headroom.conversation.audit import pairing_problems, untraceable_lines
from headroom.handles import format_marker, handle_for
from headroom.store import MemoryStore
from headroom.tokens import get_counter
from tests.conftest import BENCH_DATA

COUNT = get_counter("gpt-4o")

_WORDS = st.sampled_from(
    [
        "please",
        "book",
        "flight",
        "HAT123",
        "never",
        "must",
        "refund",
        "error:",
        "/tmp/a.py",
        "https://x.io/q",
        "v1.2.3",
        "$120",
        "5 bags",
        "2024-05-15",
        "ok",
        "the",
        "user_77",
        "Failed",
        "only",
        "always",
        "we",
        "will",
        "proceed",
        "\n",
        ".",
        "é",
        "🙂",
    ]
)
_TEXT = st.lists(_WORDS, min_size=1, max_size=40).map(" ".join)


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Valid OpenAI-shape chats: optional system prompt, turns, calls answered in order."""
    msgs: list[dict[str, Any]] = []
    if draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(_TEXT)})
    for i in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["user", "assistant", "tools"]))
        if kind != "tools":
            msgs.append({"role": kind, "content": draw(_TEXT)})
            continue
        ids = [f"c{i}_{k}" for k in range(draw(st.integers(1, 3)))]
        msgs.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": cid,
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"q": draw(_TEXT)})},
                    }
                    for cid in ids
                ],
            }
        )
        msgs.extend({"role": "tool", "tool_call_id": cid, "content": draw(_TEXT)} for cid in ids)
    return msgs


def _least_achievable(
    messages: list[dict[str, Any]], keep_recent: int, keep_from: int | None = None
) -> int | None:
    """Tokens of the smallest result any cut allows: a summary that is its marker alone.

    With ``keep_from``, only cuts that leave ``messages[keep_from:]`` whole are allowed.
    """
    head = 0
    while head < len(messages) and messages[head]["role"] == "system":
        head += 1
    body = messages[head:]
    cuts = valid_cuts(body)
    best = None
    last = len(body) if keep_from is None else min(len(body), keep_from - head + 1)
    for j in range(1, last):
        if not cuts[j]:
            continue
        chunk = json.dumps(body[:j], ensure_ascii=False)
        marker = format_marker(
            j, "messages", handle_for(chunk), summary=f"turns {head}-{head + j - 1}"
        )
        summary = {"role": "user", "content": marker}
        tokens = count_messages([*messages[:head], summary, *body[j:]], COUNT)
        best = tokens if best is None else min(best, tokens)
    return best


@given(conversations(), st.integers(20, 2000), st.integers(0, 6))
def test_budget_met_whenever_achievable(
    messages: list[dict[str, Any]], budget: int, keep_recent: int
) -> None:
    snapshot = copy.deepcopy(messages)
    result = RollingSummarizer(budget, keep_recent=keep_recent, store=MemoryStore()).summarize(
        messages
    )
    assert messages == snapshot  # never mutated
    assert result.tokens_after == count_messages(result.messages, COUNT)
    assert result.tokens_after <= result.tokens_before  # never worse
    least = _least_achievable(messages, keep_recent)
    if result.tokens_before <= budget or (least is not None and least <= budget):
        assert result.tokens_after <= budget
    else:
        assert any("not met" in w for w in result.warnings)


@given(conversations(), st.integers(20, 2000), st.integers(0, 6), st.data())
def test_keep_from_pins_the_tail_and_warns_exactly_when_unmet(
    messages: list[dict[str, Any]], budget: int, keep_recent: int, data: st.DataObject
) -> None:
    keep_from = data.draw(st.integers(0, len(messages)), label="keep_from")
    snapshot = copy.deepcopy(messages)
    result = RollingSummarizer(budget, keep_recent=keep_recent, store=MemoryStore()).summarize(
        messages, keep_from=keep_from
    )
    assert messages == snapshot  # never mutated
    pinned = messages[keep_from:]
    # The pinned tail is the result's tail: the same objects, in order.
    tail = result.messages[len(result.messages) - len(pinned) :]
    assert len(tail) == len(pinned) and all(a is b for a, b in zip(tail, pinned, strict=True))
    assert pairing_problems(result.messages) == []
    assert untraceable_lines(result.summary or "", messages) == []
    assert result.tokens_after == count_messages(result.messages, COUNT) <= result.tokens_before
    met = result.tokens_after <= budget
    least = _least_achievable(messages, keep_recent, keep_from)
    if result.tokens_before <= budget or (least is not None and least <= budget):
        assert met  # honoured whenever an allowed cut makes it possible
    unmet = [w for w in result.warnings if w.startswith(f"budget of {budget} tokens not met")]
    assert len(unmet) == (0 if met else 1), result.warnings
    alone = count_messages(pinned, COUNT)
    if pinned and alone > budget:
        # Said, with what the pinned messages are and what they cost.
        assert f"pinned by keep_from={keep_from} (" in unmet[0]
        assert (
            f" alone cost{'s' if len(pinned) == 1 else ''} {alone} tokens, more than " in (unmet[0])
        )


@given(conversations(), st.integers(20, 2000), st.integers(0, 6))
def test_pairing_and_traceability(
    messages: list[dict[str, Any]], budget: int, keep_recent: int
) -> None:
    result = RollingSummarizer(budget, keep_recent=keep_recent, store=MemoryStore()).summarize(
        messages
    )
    assert pairing_problems(result.messages) == []
    assert untraceable_lines(result.summary or "", messages) == []
    if result.summarized:
        assert message_cost(result.messages[-1], COUNT) == message_cost(messages[-1], COUNT)


@given(conversations(), st.integers(20, 2000))
def test_deterministic(messages: list[dict[str, Any]], budget: int) -> None:
    one = RollingSummarizer(budget, store=MemoryStore()).summarize(messages)
    two = RollingSummarizer(budget, store=MemoryStore()).summarize(copy.deepcopy(messages))
    assert one.messages == two.messages and one.warnings == two.warnings
    if not one.warnings:  # idempotent: a list that already fits is left alone
        assert RollingSummarizer(budget, store=MemoryStore()).summarize(one.messages).messages == (
            one.messages
        )


@given(conversations(), st.integers(4, 12))
def test_rolling_keeps_prefix(messages: list[dict[str, Any]], max_messages: int) -> None:
    rs = RollingSummarizer(max_messages=max_messages, keep_recent=2, store=MemoryStore())
    first = rs.summarize(messages)
    extra = {"role": "user", "content": "and one more thing: never fly before 09:00"}
    second = rs.summarize([*first.messages, extra, {"role": "assistant", "content": "ok"}])
    rebuilt = any(w.startswith("summary rebuilt") for w in second.warnings)
    if first.summary is not None and not rebuilt:
        # Every block already sent comes back as the same bytes, in the same place.
        assert second.blocks[: len(first.blocks)] == first.blocks
        head = next(i for i, m in enumerate(first.messages) if m["content"] == first.blocks[0])
        end = head + len(first.blocks)  # system prompt (if any), then the blocks
        assert second.messages[:end] == first.messages[:end]


@given(_TEXT, st.sampled_from(["2024-05-15 15:00:00 EST", "2030-01-01T00:00:00Z"]), _TEXT)
def test_aligner_prefix_independent_of_timestamp(before: str, stamp: str, after: str) -> None:
    base = [
        {"role": "system", "content": f"{before} time {{}} {after}"},
        {"role": "user", "content": "q"},
    ]

    def with_stamp(value: str) -> list[dict[str, Any]]:
        out = copy.deepcopy(base)
        out[0]["content"] = out[0]["content"].format(value)
        return out

    one = CacheAligner().align(with_stamp(stamp))
    two = CacheAligner().align(with_stamp("1999-12-31 23:59:59 UTC"))
    assert one.fingerprint == two.fingerprint
    assert stamp in json.dumps(one.messages, ensure_ascii=False)


# --- Contract 8 on real sessions, grown one message at a time ------------------------

_TRANSCRIPTS = sorted(
    p for p in (BENCH_DATA / "transcripts").glob("*.json") if not p.name.endswith(".meta.json")
)


@pytest.mark.skipif(not _TRANSCRIPTS, reason=f"no transcripts under {BENCH_DATA}")
@settings(max_examples=12, deadline=None)
@given(
    index=st.integers(0, max(0, len(_TRANSCRIPTS) - 1)),
    ratio=st.sampled_from([0.15, 0.25, 0.4, 0.5, 0.7]),
    hysteresis=st.sampled_from([0.0, 0.1, 0.2, 0.35]),
    keep_recent=st.integers(0, 4),
)
def test_blocks_stay_byte_identical_while_a_real_session_grows(
    index: int, ratio: float, hysteresis: float, keep_recent: int
) -> None:
    messages = load_transcript(_TRANSCRIPTS[index])
    budget = max(1, int(count_messages(messages, COUNT) * ratio))
    rs = RollingSummarizer(
        budget, keep_recent=keep_recent, hysteresis=hysteresis, store=MemoryStore()
    )
    sent: list[Any] = []
    blocks: list[str] = []
    head = 0
    for i, message in enumerate(messages):
        request = [*sent, message]
        result = rs.summarize(request)
        out = result.messages
        if any(w.startswith("summary rebuilt") for w in result.warnings):
            blocks = []  # the one sanctioned rewrite, and it says so
        # Every block already sent is sent again, same bytes, same place.
        assert result.blocks[: len(blocks)] == blocks
        assert [m["content"] for m in out[head : head + len(blocks)]] == blocks
        assert out[:head] == messages[:head]  # the system prompt
        assert result.tokens_after <= budget or result.warnings
        assert result.tokens_after <= count_messages(request, COUNT)
        assert out[-1] is message
        assert set(pairing_problems(out)) <= set(pairing_problems(messages[: i + 1]))
        assert untraceable_lines("\n".join(result.blocks), messages[: i + 1]) == []
        if message.get("role") in ("system", "developer") and not sent[head:]:
            head += 1
        sent, blocks = out, result.blocks
