"""``python -m headroom.bench.conversation``: RollingSummarizer on real agent transcripts.

``--data`` is a directory of transcripts (SWE-agent ``.traj`` files with ``history``,
mini-swe-agent message lists, tau-bench files with ``traj``), or a directory holding
``transcripts/``. For each transcript, the summarizer runs with a budget of ``--ratio``
(default 50%) of the transcript's tokens and ``keep_recent=4``; it prints:

- **msgs**, **before**, **budget**, **after**: message count and whole-list tokens (o200k_base).
- **fits**: the result is within the budget.
- **facts**: retention of regex-extractable facts (:func:`headroom.conversation.facts.
  extract_facts`) and constraint sentences (:data:`~headroom.conversation.facts.
  CONSTRAINT_RE`) of the summarized user/assistant turns (text and tool-call arguments):
  the share still present verbatim somewhere in the output messages.
- **tool facts**: the same over the summarized tool outputs, which the summary keeps as
  one line plus a handle (their facts stay retrievable, not inline).
- **fabricated**: summary lines not traceable verbatim to the turn they cite (must be 0).
- **pairing**: no tool call separated from its result.

Messages are read as sent: only ``role``, ``content``, ``name``, ``tool_calls`` and
``tool_call_id`` are kept (SWE-agent's ``tool_call_ids`` list gives ``tool_call_id``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headroom.conversation import RollingSummarizer
from headroom.conversation._turns import (
    count_messages,
    is_output,
    message_cost,
    turn_text,
    valid_cuts,
)
from headroom.conversation.audit import pairing_problems, untraceable_lines
from headroom.conversation.extractive import task_turn
from headroom.conversation.facts import (
    CONSTRAINT_RE,
    ERROR_RE,
    error_template,
    extract_facts,
    split_sentences,
)
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter

__all__ = ["ConversationScore", "load_transcript", "main", "score_transcript"]

_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")


def load_transcript(path: Path) -> list[dict[str, Any]]:
    """The message list of a transcript file, reduced to the fields a provider is sent."""
    data = json.loads(path.read_bytes().decode("utf-8"))
    raw = data if isinstance(data, list) else data.get("history") or data.get("traj") or []
    messages: list[dict[str, Any]] = []
    for item in raw:
        message = {k: item[k] for k in _KEYS if k in item}
        ids = item.get("tool_call_ids")
        if message.get("role") == "tool" and "tool_call_id" not in message and ids:
            message["tool_call_id"] = ids[0]
        messages.append(message)
    return messages


@dataclass(frozen=True, slots=True)
class ConversationScore:
    """How the summarizer did on one transcript."""

    name: str
    messages: int
    tokens_before: int
    budget: int
    tokens_after: int
    facts_total: int
    facts_kept: int
    tool_facts_total: int
    tool_facts_kept: int
    fabricated: int
    pairing_ok: bool
    warnings: int

    @property
    def fits(self) -> bool:
        return self.tokens_after <= self.budget


def _retention(
    originals: Sequence[Mapping[str, Any]], output_text: str, *, tools: bool
) -> tuple[int, int]:
    facts: set[str] = set()
    for index, message in enumerate(originals):
        if is_output(message, originals[index - 1] if index else None) != tools:
            continue
        text = turn_text(message)
        facts.update(extract_facts(text))
        facts.update(s for s in split_sentences(text) if CONSTRAINT_RE.search(s))
    return len(facts), sum(fact in output_text for fact in facts)


def score_transcript(name: str, messages: list[dict[str, Any]], ratio: float) -> ConversationScore:
    """Summarize ``messages`` at ``ratio`` of their tokens and score the result."""
    count = get_counter("gpt-4o")
    before = count_messages(messages, count)
    budget = max(1, int(before * ratio))
    result = RollingSummarizer(budget, keep_recent=4, store=MemoryStore()).summarize(messages)
    head = next(
        (i for i, m in enumerate(messages) if m.get("role") not in ("system", "developer")),
        len(messages),
    )
    summarized = messages[head : head + result.summarized]
    output_text = "\n".join(turn_text(m) for m in result.messages)
    facts_total, facts_kept = _retention(summarized, output_text, tools=False)
    tool_total, tool_kept = _retention(summarized, output_text, tools=True)
    fabricated = len(untraceable_lines("\n".join(result.blocks), messages))
    pairing_ok = set(pairing_problems(result.messages)) <= set(pairing_problems(messages))
    return ConversationScore(
        name,
        len(messages),
        before,
        budget,
        result.tokens_after,
        facts_total,
        facts_kept,
        tool_total,
        tool_kept,
        fabricated,
        pairing_ok,
        len(result.warnings),
    )


def _pct(kept: int, total: int) -> str:
    return f"{100 * kept / total:.1f}%" if total else "n/a"


# ---- Compaction targets (issue 23): the task, the ids, the errors, against two baselines.

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9_'-]{2,}")
_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "with",
        "that",
        "this",
        "have",
        "has",
        "had",
        "are",
        "was",
        "were",
        "can",
        "could",
        "would",
        "should",
        "will",
        "not",
        "but",
        "from",
        "into",
        "about",
        "what",
        "when",
        "where",
        "which",
        "who",
        "how",
        "its",
        "it's",
        "i'm",
        "i'd",
        "i'll",
        "there",
        "their",
        "them",
        "they",
        "then",
        "than",
        "also",
        "just",
        "like",
        "need",
        "want",
        "please",
        "some",
        "any",
        "all",
        "our",
        "out",
        "get",
        "got",
        "use",
        "using",
        "one",
        "yes",
        "hi",
        "hello",
        "thanks",
        "thank",
    ]
)


def task_index(messages: Sequence[Mapping[str, Any]]) -> int | None:
    """Index of the task statement: the last real user turn before the first assistant turn."""
    return task_turn(messages)


def content_words(text: str) -> set[str]:
    """Lower-cased words of 3+ characters, minus function words: what a request says."""
    return {w.lower() for w in _WORD_RE.findall(text)} - _STOPWORDS


def user_identifiers(messages: Sequence[Mapping[str, Any]]) -> set[str]:
    """Facts (ids, paths, amounts ...) the user typed: non-output user turns from the task
    on (a demonstration or pasted context before the task is not what the user typed)."""
    found: set[str] = set()
    start = task_index(messages) or 0
    for i, message in enumerate(messages):
        if (
            i >= start
            and message.get("role") == "user"
            and not is_output(message, messages[i - 1] if i else None)
        ):
            found.update(extract_facts(turn_text(message)))
    return found


def first_error_lines(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """In tool outputs, the first line of each distinct error template (see
    :func:`~headroom.conversation.facts.error_template`): the report that explains it."""
    seen: dict[str, str] = {}
    for i, message in enumerate(messages):
        if not is_output(message, messages[i - 1] if i else None):
            continue
        for line in turn_text(message).splitlines():
            line = line.strip()
            if line and ERROR_RE.search(line) and len(line) <= 400:
                seen.setdefault(error_template(line), line)
    return list(seen.values())


def _suffix_that_fits(
    messages: list[dict[str, Any]], keep: list[dict[str, Any]], start: int, budget: int, count: Any
) -> list[dict[str, Any]]:
    # The local equivalent of langchain_core's trim_messages(strategy="last",
    # include_system=True): the longest tail that fits and does not orphan a tool result.
    cuts = valid_cuts(messages)
    for j in range(start, len(messages)):
        if cuts[j] and count_messages([*keep, *messages[j:]], count) <= budget:
            return [*keep, *messages[j:]]
    return keep


def keep_recent(messages: list[dict[str, Any]], budget: int, count: Any) -> list[dict[str, Any]]:
    """Baseline: leading system messages plus the most recent messages that fit."""
    head = next((i for i, m in enumerate(messages) if m.get("role") != "system"), len(messages))
    return _suffix_that_fits(messages, messages[:head], head, budget, count)


def first_plus_recent(
    messages: list[dict[str, Any]], budget: int, count: Any
) -> list[dict[str, Any]]:
    """Baseline: system messages, the first user request, then the most recent that fit."""
    task = task_index(messages)
    if task is None:
        return keep_recent(messages, budget, count)
    return _suffix_that_fits(messages, messages[: task + 1], task + 1, budget, count)


@dataclass(slots=True)
class CompactionScore:
    """Sums over transcripts for one method at one budget ratio."""

    tokens_before: int = 0
    tokens_after: int = 0
    task_total: int = 0
    task_kept: int = 0
    # The same, over sessions whose system prompt, task and latest message fit the budget:
    # elsewhere keeping the task whole is impossible within the budget.
    feasible_total: int = 0
    feasible_kept: int = 0
    ids_total: int = 0
    ids_kept: int = 0
    errors_total: int = 0
    errors_kept: int = 0
    latest_kept: int = 0
    never_larger: int = 0
    pairing_ok: int = 0
    runs: int = 0
    protected_warned: int = 0

    def add(
        self,
        messages: list[dict[str, Any]],
        out: list[Any],
        count: Any,
        budget: int,
        warned: bool = False,
    ) -> None:
        text = "\n".join(turn_text(m) for m in out)
        words = {w.lower() for w in _WORD_RE.findall(text)}
        task = task_index(messages)
        wanted = content_words(turn_text(messages[task])) if task is not None else set()
        ids = user_identifiers(messages)
        errors = first_error_lines(messages)
        before = count_messages(messages, count)
        after = count_messages(out, count)
        self.runs += 1
        self.tokens_before += before
        self.tokens_after += after
        self.task_total += len(wanted)
        self.task_kept += len(wanted & words)
        if task is not None:
            protected = [*messages[: task + 1], messages[-1]] if task < len(messages) - 1 else []
            if protected and count_messages(protected, count) <= budget:
                self.feasible_total += len(wanted)
                self.feasible_kept += len(wanted & words)
        self.ids_total += len(ids)
        self.ids_kept += sum(i in text for i in ids)
        self.errors_total += len(errors)
        self.errors_kept += sum(e in text for e in errors)
        self.latest_kept += bool(out) and out[-1] == messages[-1]
        self.never_larger += after <= before
        self.pairing_ok += set(pairing_problems(out)) <= set(pairing_problems(messages))
        self.protected_warned += warned


def compaction_scores(
    transcripts: Sequence[list[dict[str, Any]]], ratio: float
) -> dict[str, CompactionScore]:
    """Headroom and the two baselines on every transcript at ``ratio`` of its tokens."""
    count = get_counter("gpt-4o")
    scores = {name: CompactionScore() for name in ("headroom", "keep-recent", "first+recent")}
    for messages in transcripts:
        budget = max(1, int(count_messages(messages, count) * ratio))
        result = RollingSummarizer(budget, keep_recent=4, store=MemoryStore()).summarize(messages)
        warned = any("must stay verbatim" in w for w in result.warnings)
        scores["headroom"].add(messages, result.messages, count, budget, warned)
        scores["keep-recent"].add(messages, keep_recent(messages, budget, count), count, budget)
        scores["first+recent"].add(
            messages, first_plus_recent(messages, budget, count), count, budget
        )
    return scores


def print_compaction(transcripts: Sequence[list[dict[str, Any]]]) -> None:
    """The issue-23 table: one row per method and budget, sums over all transcripts."""
    print()
    print(
        f"{'method':<14} {'budget':>6} {'tokens':>7} {'task words':>10} {'(if fits)':>9} "
        f"{'user ids':>8} "
        f"{'1st errors':>10} {'latest':>6} {'<=before':>8} {'pairing':>7} {'warned':>6}"
    )
    for ratio in (0.25, 0.5):
        for name, s in compaction_scores(transcripts, ratio).items():
            print(
                f"{name:<14} {ratio:>6.0%} {s.tokens_after:>7} "
                f"{_pct(s.task_kept, s.task_total):>10} "
                f"{_pct(s.feasible_kept, s.feasible_total):>9} {_pct(s.ids_kept, s.ids_total):>8} "
                f"{_pct(s.errors_kept, s.errors_total):>10} {s.latest_kept:>3}/{s.runs:<2} "
                f"{s.never_larger:>5}/{s.runs:<2} {s.pairing_ok:>4}/{s.runs:<2} "
                f"{s.protected_warned:>6}"
            )


# ---- Growing sessions (issue 23, item 4): is the previous request a prefix of the next?


# What a prompt-cache hit costs against an uncached input token: Anthropic bills cache
# reads at 0.1x the input price (OpenAI's automatic cache at 0.5x); cache writes ignored.
CACHED_PRICE = 0.1


@dataclass(slots=True)
class GrowthScore:
    """Sums over the steps of every session grown one message at a time."""

    steps: int = 0
    prefix_kept: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    # What sending the whole uncompacted history at every step would have cost.
    uncompacted_tokens: int = 0
    uncompacted_cost: float = 0.0

    @property
    def cost(self) -> float:
        """Input billed in uncached-token units, cached tokens at :data:`CACHED_PRICE`."""
        return self.input_tokens - self.cached_tokens * (1 - CACHED_PRICE)


def _grow(
    messages: list[dict[str, Any]],
    budget: int,
    count: Any,
    step: Any,
) -> GrowthScore:
    score = GrowthScore()
    sent: list[Any] = []
    old = 0  # the uncompacted history before this message, counted the step before
    for i, message in enumerate(messages):
        # The app keeps what it sent last time and appends the new message.
        request = step([*sent, message])
        whole = count_messages(messages[: i + 1], count)
        if sent and message.get("role") != "system":
            score.uncompacted_tokens += whole
            score.uncompacted_cost += whole - old * (1 - CACHED_PRICE)
            score.steps += 1
            same = request[: len(sent)] == sent
            score.prefix_kept += same
            score.input_tokens += count_messages(request, count)
            common = 0
            while common < min(len(sent), len(request)) and sent[common] == request[common]:
                common += 1
            score.cached_tokens += count_messages(request[:common], count) if common else 0
        sent = request
        old = whole
    return score


def growth_scores(
    transcripts: Sequence[list[dict[str, Any]]], ratio: float
) -> dict[str, GrowthScore]:
    """Each method compacting a session as it grows, at ``ratio`` of its final tokens."""
    count = get_counter("gpt-4o")
    totals = {name: GrowthScore() for name in ("headroom", "keep-recent", "first+recent")}
    for messages in transcripts:
        budget = max(1, int(count_messages(messages, count) * ratio))
        rs = RollingSummarizer(budget, keep_recent=4, store=MemoryStore())
        methods = {
            "headroom": lambda h, rs=rs: rs.summarize(h).messages,
            "keep-recent": lambda h, b=budget: keep_recent(h, b, count),
            "first+recent": lambda h, b=budget: first_plus_recent(h, b, count),
        }
        for name, step in methods.items():
            one = _grow(messages, budget, count, step)
            total = totals[name]
            total.steps += one.steps
            total.prefix_kept += one.prefix_kept
            total.input_tokens += one.input_tokens
            total.cached_tokens += one.cached_tokens
            total.uncompacted_tokens += one.uncompacted_tokens
            total.uncompacted_cost += one.uncompacted_cost
    return totals


def prefix_ceiling(transcripts: Sequence[list[dict[str, Any]]], ratio: float) -> float:
    """The most steps any method can keep as a prefix within the budget while keeping the
    latest message: an oracle whose compaction drops everything but the system prompt
    and the latest message, at no cost. A share above this needs requests over budget."""
    count = get_counter("gpt-4o")
    steps = kept = 0
    for messages in transcripts:
        budget = max(1, int(count_messages(messages, count) * ratio))
        head = next((i for i, m in enumerate(messages) if m.get("role") != "system"), len(messages))
        base = count_messages(messages[:head], count)
        size = base
        for i, message in enumerate(messages[head:]):
            cost = message_cost(message, count)
            if i == 0 and not head:
                size += cost
                continue
            steps += 1
            if size + cost <= budget:
                kept += 1
                size += cost
            else:
                size = base + cost
    return kept / steps if steps else 0.0


def print_growth(transcripts: Sequence[list[dict[str, Any]]]) -> None:
    """Prefix stability while sessions grow: the share of steps whose previous request is
    an exact prefix, and the share of input tokens a prompt cache could serve."""
    print()
    print(
        f"{'growing':<14} {'budget':>6} {'steps':>6} {'prefix kept':>11} {'input':>9} "
        f"{'saved':>6} {'cached':>7} {'billed':>9} {'saved':>6}"
    )
    for ratio in (0.25, 0.5):
        for name, g in growth_scores(transcripts, ratio).items():
            saved = 1 - g.input_tokens / g.uncompacted_tokens if g.uncompacted_tokens else 0.0
            billed = 1 - g.cost / g.uncompacted_cost if g.uncompacted_cost else 0.0
            print(
                f"{name:<14} {ratio:>6.0%} {g.steps:>6} {_pct(g.prefix_kept, g.steps):>11} "
                f"{g.input_tokens:>9} {saved:>6.1%} {_pct(g.cached_tokens, g.input_tokens):>7} "
                f"{g.cost:>9.0f} {billed:>6.1%}"
            )
        print(
            f"{'(ceiling)':<14} {ratio:>6.0%} {'':>6} {prefix_ceiling(transcripts, ratio):>11.1%}"
        )


def main(argv: list[str] | None = None) -> int:
    """Print one row per transcript and the totals; exit 1 if a hard target fails."""
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.conversation")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--ratio", type=float, default=0.5)
    args = parser.parse_args(argv)
    root: Path = args.data
    if (root / "transcripts").is_dir():
        root = root / "transcripts"
    paths = sorted(p for p in root.glob("*.json") if not p.name.endswith(".meta.json"))
    if not paths:
        print(f"no transcripts under {root}", file=sys.stderr)
        return 2
    header = (
        f"{'transcript':<46} {'msgs':>4} {'before':>7} {'budget':>7} {'after':>7} {'fits':>4} "
        f"{'facts':>7} {'tool facts':>10} {'fabricated':>10} {'pairing':>7}"
    )
    print(header)
    transcripts = [load_transcript(p) for p in paths]
    scores = [
        score_transcript(p.name, t, args.ratio) for p, t in zip(paths, transcripts, strict=True)
    ]
    for s in scores:
        print(
            f"{s.name:<46} {s.messages:>4} {s.tokens_before:>7} {s.budget:>7} "
            f"{s.tokens_after:>7} {'yes' if s.fits else 'NO':>4} "
            f"{_pct(s.facts_kept, s.facts_total):>7} "
            f"{_pct(s.tool_facts_kept, s.tool_facts_total):>10} {s.fabricated:>10} "
            f"{'ok' if s.pairing_ok else 'BROKEN':>7}"
        )
    kept = sum(s.facts_kept for s in scores)
    total = sum(s.facts_total for s in scores)
    tool_kept = sum(s.tool_facts_kept for s in scores)
    tool_total = sum(s.tool_facts_total for s in scores)
    print(
        f"{'total':<46} {sum(s.messages for s in scores):>4} "
        f"{sum(s.tokens_before for s in scores):>7} {sum(s.budget for s in scores):>7} "
        f"{sum(s.tokens_after for s in scores):>7} "
        f"{sum(s.fits for s in scores):>2}/{len(scores):<1} {_pct(kept, total):>7} "
        f"{_pct(tool_kept, tool_total):>10} {sum(s.fabricated for s in scores):>10} "
        f"{sum(s.pairing_ok for s in scores):>4}/{len(scores)}"
    )
    print_compaction(transcripts)
    print_growth(transcripts)
    failed = any(s.fabricated or not s.pairing_ok for s in scores)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
