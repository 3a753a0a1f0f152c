"""RollingSummarizer: condense old turns into summary blocks, within a token budget.

Each compaction writes one *block*: a ``user`` message placed where the old turns were
(after the leading system messages and any earlier blocks), so it is valid in both OpenAI
and Anthropic shapes. A block is marked by its content, not by an extra key on the
message dict (Anthropic's API rejects unknown message fields, and a content mark survives
every adapter's serialisation): the first block starts with :data:`SUMMARY_HEADER` when it
has lines to say, and every block ends with a marker
``[N messages omitted: turns A-B · retrieve: headroom:…]`` whose handle returns the JSON
of those original messages; the marker counts also tell how many messages the blocks
cover, so turn numbers continue across blocks.

Blocks are immutable (contract 8): a later compaction appends a new block and never
rewrites an earlier one, so the system prompt and every block already sent stay a
byte-identical prefix of later requests. Compaction is hysteretic: when the budget is
crossed, it compacts down to a low watermark below it (``hysteresis``), so the next
several messages append without compacting again. Only when the blocks themselves no
longer fit are they rebuilt, once, into one block (with a warning saying so).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from headroom.config import DEFAULT_MODEL
from headroom.conversation._turns import (
    count_messages,
    message_cost,
    tool_name_map,
    turn_text,
    valid_cuts,
)
from headroom.conversation.extractive import TASK_PRIORITY, Line, extract_lines, task_turn
from headroom.errors import InvalidArgumentError, StoreError
from headroom.handles import find_markers, format_marker, handle_for, is_marker
from headroom.messages import untrusted_json, validate_messages
from headroom.store import Store, open_store
from headroom.tokens import get_counter, memoized

__all__ = [
    "OPEN_EXCHANGE",
    "SUMMARY_HEADER",
    "ConversationResult",
    "RollingSummarizer",
    "is_summary",
]

OPEN_EXCHANGE = "latest user turn and its open tool-call exchange"
"""A ``pinned_as`` for adapters that pin the turn being answered: the latest user message
and the tool calls and results made for it."""

SUMMARY_HEADER = (
    "[headroom summary] Earlier turns, quoted; the handle ending each block retrieves them."
)
# What summaries written before the header was shortened start with: still recognised, so
# a conversation summarized by an older version is extended, not summarized again.
_LEGACY_HEADERS = (
    "[headroom summary] Earlier turns, condensed; each line quotes the turn it cites, and "
    "the originals are retrievable by the handle that ends each block.",
)
# An allowance no summary meets: _text then returns the shortest it can make.
_SHORTEST = -1
# For slack below the budget a new block sheds only lines of this priority or above (tool
# calls, decisions, facts the agent stated, tool outputs' first lines: all retrievable by
# its handle), never the task, what the user typed, constraints or errors (see
# headroom.conversation.extractive).
_SLACK_SHEDS_FROM = 3

Summarizer = Callable[[list[Any]], str]


@dataclass(frozen=True, slots=True)
class ConversationResult:
    """What :meth:`RollingSummarizer.summarize` returns.

    Attributes:
        messages: the new message list (the input is never mutated; messages kept are
            the same objects, so only a block this call wrote is a new dict).
        tokens_before / tokens_after: whole-list token counts.
        summary: the text of the newest block: the one this call wrote when
            ``summarized > 0``, else the last block already there, or ``None``.
        summarized: how many messages this call aged out into its new block.
        covers: how many original messages the blocks stand for in total.
        blocks: the text of every summary block in ``messages``, in order.
        handles: CCR handles created by this call.
        warnings: why the budget was not met, or what was dropped to meet it.
    """

    messages: list[Any]
    tokens_before: int
    tokens_after: int
    summary: str | None = None
    summarized: int = 0
    covers: int = 0
    handles: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after


def is_summary(message: Mapping[str, Any]) -> bool:
    """Whether ``message`` is a summary block this module wrote.

    Its content starts with the header, or ends with its block marker on a line of its
    own (``[N messages omitted: turns A-B · retrieve: headroom:…]``).

    >>> is_summary({"role": "user", "content": "Hi."})
    False
    """
    content = message.get("content")
    if not isinstance(content, str):
        return False
    if content.startswith((SUMMARY_HEADER, *_LEGACY_HEADERS)):
        return True
    last = content.rsplit("\n", 1)[-1]
    marker = find_markers(last)
    return (
        is_marker(last)
        and marker[0].unit == "messages"
        and (marker[0].summary or "").startswith("turns ")
    )


def _covers(summary: str) -> int:
    return sum(m.count for m in find_markers(summary) if m.unit == "messages")


@dataclass(slots=True)
class _Plan:
    cut: int
    text: str
    lines: list[Line]
    tokens: int
    dropped: int = 0


class RollingSummarizer:
    """Keep a conversation under a token budget by condensing its oldest turns.

    ``Headroom(...).summarizer(...)`` makes one that uses that client's store, model and
    token counter; ``store``, ``model`` and ``token_counter`` here are for use without one.

    Args:
        budget_tokens: summarize when the list costs more than this; the result fits it
            whenever that is possible without summarizing the last message.
        max_messages: summarize when the list has more messages than this.
        keep_recent: at least this many trailing messages stay verbatim (fewer only when
            the budget, or the slack below it, cannot be reached otherwise, with a
            warning).
        summarizer: any ``Callable[[list[message]], str]`` (e.g. an LLM call); default is
            the extractive one of :mod:`headroom.conversation.extractive`. If it returns
            anything but a string (``None`` included), :meth:`summarize` raises
            :class:`~headroom.InvalidArgumentError` naming it rather than silently falling
            back: a summary that is not the one asked for would stay in the history for
            good. What it raises propagates unchanged.
        store: where summarized originals go (``Store``, ``"memory"``, ``"sqlite"`` or a
            path); default is the same SQLite store :class:`headroom.Headroom` uses.
        model: whose tokenizer counts tokens.
        token_counter: a ``Callable[[str], int]`` to count with instead.
        hysteresis: when it must compact to meet ``budget_tokens``, compact to this share
            below it (the low watermark), keeping ``keep_recent`` messages if that
            reaches it, fewer if only that does, so the next messages append without
            compacting again: each compaction ends the prompt cache's prefix at its new
            block. 0 takes the smallest cut that fits.

    Example:
        >>> rs = RollingSummarizer(max_messages=3, keep_recent=1, store="memory")
        >>> out = rs.summarize([
        ...     {"role": "system", "content": "You book flights."},
        ...     {"role": "user", "content": "My id is omar_3817. Never book red-eyes."},
        ...     {"role": "assistant", "content": "Noted."},
        ...     {"role": "user", "content": "Find me a flight."},
        ... ])
        >>> [m["role"] for m in out.messages]
        ['system', 'user', 'user']
        >>> out.summary.splitlines()[1]  # the task statement, kept whole
        '[turn 1 user] My id is omar_3817. Never book red-eyes.'
    """

    def __init__(
        self,
        budget_tokens: int | None = None,
        *,
        max_messages: int | None = None,
        keep_recent: int = 4,
        summarizer: Summarizer | None = None,
        store: Store | str | None = None,
        model: str = DEFAULT_MODEL,
        token_counter: Callable[[str], int] | None = None,
        hysteresis: float = 0.2,
    ) -> None:
        if budget_tokens is None and max_messages is None:
            raise InvalidArgumentError("RollingSummarizer: give budget_tokens or max_messages")
        for name, value in (("budget_tokens", budget_tokens), ("max_messages", max_messages)):
            if value is not None and (not _is_int(value) or value < 1):
                raise InvalidArgumentError(f"{name}: expected a positive int, got {value!r}")
        if not _is_int(keep_recent) or keep_recent < 0:
            raise InvalidArgumentError(f"keep_recent: expected an int >= 0, got {keep_recent!r}")
        if not isinstance(hysteresis, int | float) or not 0 <= hysteresis < 1:
            raise InvalidArgumentError(f"hysteresis: expected 0 <= x < 1, got {hysteresis!r}")
        if summarizer is not None and not callable(summarizer):
            raise InvalidArgumentError(
                f"summarizer: expected a callable taking a list of messages, got {summarizer!r}"
            )
        self.budget_tokens = budget_tokens
        self.max_messages = max_messages
        self.keep_recent = keep_recent
        self.summarizer = summarizer
        self.hysteresis = float(hysteresis)
        self.store: Store = open_store(store, degrade=True)
        self.count = get_counter(model, counter=token_counter)

    def summarize(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        keep_from: int | None = None,
        pinned_as: str | None = None,
    ) -> ConversationResult:
        """Condense the oldest turns of ``messages`` if the budget or count says so.

        Leading system messages are never summarized; a tool call is never separated from
        its result; the last message always stays verbatim. Summary blocks already in
        ``messages`` (see :func:`is_summary`) are kept byte for byte and a new block is
        added after them, unless they alone no longer fit (then they are rebuilt as one
        block, with a warning).

        Args:
            messages: the whole conversation, OpenAI or Anthropic shape.
            keep_from: pin ``messages[keep_from:]`` verbatim (e.g. the latest user turn and
                the tool calls and results made for it, the exchange being answered): they
                are never summarized, they count toward ``budget_tokens``,
                ``max_messages`` and ``keep_recent`` like any kept message, and when they
                alone are over the budget the warning says so with their cost. ``None``
                pins only what is always kept (the last message, open tool calls).
            pinned_as: what warnings call the messages ``keep_from`` pins, in the caller's
                terms (``"latest user turn and its open tool-call exchange"``: the warnings
                put "the" before it); by default ``"messages pinned by keep_from=N"``.

        Raises:
            InvalidMessageError: a message has the wrong shape.
            InvalidArgumentError: ``keep_from`` is not an int from 0 to ``len(messages)``,
                or ``pinned_as`` is not a non-empty string.
        """
        validate_messages(messages)
        msgs = list(messages)
        if keep_from is not None and (not _is_int(keep_from) or not 0 <= keep_from <= len(msgs)):
            raise InvalidArgumentError(
                f"keep_from: expected an int from 0 to {len(msgs)} (the number of messages), "
                f"got {_short(keep_from)}"
            )
        if pinned_as is not None and (not isinstance(pinned_as, str) or not pinned_as.strip()):
            raise InvalidArgumentError(
                f"pinned_as: expected a non-empty str or None, got {_short(pinned_as)}"
            )
        # Each text is counted once per call: the whole list here, each message's cost below.
        count = memoized(self.count)
        before = count_messages(msgs, count)
        head = 0
        while head < len(msgs) and msgs[head].get("role") in ("system", "developer"):
            head += 1
        start = head
        while start < len(msgs) - 1 and is_summary(msgs[start]):
            start += 1
        blocks = [str(m["content"]) for m in msgs[head:start]]
        covers = sum(_covers(b) for b in blocks)

        def unchanged(why: str | None = None) -> ConversationResult:
            warnings = [] if why is None else [self._unmet(before, why)]
            return ConversationResult(
                msgs,
                before,
                before,
                summary=blocks[-1] if blocks else None,
                covers=covers,
                blocks=list(blocks),
                warnings=warnings,
            )

        if self._fits(before, len(msgs)):
            return unchanged()

        body = msgs[start:]
        first_turn = head + covers  # turn numbers count the original conversation
        cuts = valid_cuts(body)
        costs = [message_cost(m, count) for m in msgs]
        # The last message is the live question or tool result: it always stays, and so
        # does everything ``keep_from`` pins.
        last_cut = len(body) - 1 if keep_from is None else min(len(body) - 1, keep_from - start)
        candidates = [j for j in range(1, last_cut + 1) if cuts[j]]
        pinned = None  # what keep_from pins, said for a warning
        name = ""  # what the warnings call it
        if keep_from is not None and keep_from < len(msgs):
            alone = count_messages([], count) + sum(costs[keep_from:])
            name, pinned = self._pinned(pinned_as, keep_from, len(msgs), alone)
        if not candidates:
            if pinned is not None:
                return unchanged(f"no turn before the {name} can be summarized; {pinned}")
            return unchanged("no earlier turn can be summarized")
        # What every plan keeps as it is: the system prompt and the blocks already sent,
        # which are never rewritten (their bytes are the prompt cache's prefix).
        fixed = count_messages([], count) + sum(costs[:start])
        suffix = [0] * (len(body) + 1)
        for j in range(len(body) - 1, -1, -1):
            suffix[j] = suffix[j + 1] + costs[start + j]
        preferred = [j for j in candidates if len(body) - j >= self.keep_recent]
        rest = [j for j in candidates if j not in preferred]
        names = tool_name_map(msgs)
        # The task statement is the first real user request of the whole conversation:
        # once a block exists, the first one holds it (or it was never in the body).
        task = task_turn(body, first_turn) if not blocks else None
        lines: list[Line] = (
            extract_lines(body, first_turn=first_turn, names=names, task=task)
            if self.summarizer is None
            else []
        )

        def _kept_text(j: int) -> str:
            return "\n".join(turn_text(m) for m in [*msgs[:start], *body[j:]])

        def plan(j: int, allowance: int | None, shed_from: int = TASK_PRIORITY) -> _Plan | None:
            chunk = [ln for ln in lines if ln.turn < first_turn + j]
            text, kept, dropped = self._text(
                bool(blocks),
                body[:j],
                chunk,
                first_turn,
                allowance,
                lambda: _kept_text(j),
                shed_from=shed_from,
            )
            if text is None:
                return None
            tokens = fixed + suffix[j] + message_cost({"role": "user", "content": text}, count)
            return _Plan(j, text, kept, tokens, dropped)

        # A whole block per cut, made once: the slack pass and the budget pass try the same
        # cuts (with a custom summarizer, each is a call to it).
        whole: dict[int, _Plan | None] = {}

        def first_within(pool: Sequence[int], limit: int | None) -> _Plan | None:
            for j in pool:
                if limit is not None and fixed + suffix[j] > limit:
                    continue  # even an empty block would not fit; skip the summarizer call
                if j not in whole:
                    whole[j] = plan(j, None)
                candidate = whole[j]
                if (
                    candidate is not None
                    and (limit is None or candidate.tokens <= limit)
                    and self._fits(candidate.tokens, start + 1 + len(body) - j)
                ):
                    return candidate
            return None

        def shrunk_within(limit: int, shed_from: int) -> _Plan | None:
            # Nothing fits whole: shrink the new block of the most we may age out.
            for j in ([max(preferred)] if preferred else []) + rest:
                candidate = plan(j, limit - fixed - suffix[j], shed_from)
                if candidate is not None and self._fits(
                    candidate.tokens, start + 1 + len(body) - j
                ):
                    return candidate
            return None

        rebuilt_once: list[ConversationResult | None] = []

        def rebuild(limit: int | None, room: str) -> ConversationResult | None:
            # Blocks are never rewritten, so a long session ends up with blocks that no
            # longer fit. Rebuild them once, as one block, from the originals they stored:
            # the prompt-cache prefix breaks at the first block, but the session is back
            # under budget, with slack, instead of compacting again at every message.
            if not blocks or not extractive:
                return None
            if not rebuilt_once:  # the slack pass and the budget pass rebuild the same
                originals = self._originals(blocks)
                again = [*msgs[:head], *(originals or ()), *body]
                # What keep_from pins is in ``body``: it moves by what the blocks stand for.
                moved = None if keep_from is None else keep_from - len(msgs) + len(again)
                rebuilt_once.append(
                    None
                    if originals is None
                    else self.summarize(again, keep_from=moved, pinned_as=pinned_as)
                )
            rebuilt = rebuilt_once[0]
            if rebuilt is None:
                return None
            # Only when that meets the limit: a prefix broken for nothing costs cache.
            if not self._fits(rebuilt.tokens_after, len(rebuilt.messages)) or (
                limit is not None and rebuilt.tokens_after > limit
            ):
                return None
            note = (
                f"summary rebuilt from the originals of its {covers} messages: its "
                f"{len(blocks)} blocks left no room {room}"
            )
            return replace(rebuilt, warnings=[note, *rebuilt.warnings])

        chosen: _Plan | None = None
        slack = False  # whether the cut was taken for slack below the budget
        unmet = False  # whether it is the best effort of a budget that cannot be met
        extractive = self.summarizer is None
        low = self._low_watermark()
        if low is not None:
            # Hysteresis: compact in one block down to the low watermark, so the next
            # messages append without compacting again (each compaction ends the prompt
            # cache's prefix at its new block). For that slack the block may shed lines
            # below the signal (tool calls, decisions, the agent's facts, tool outputs'
            # first lines: all retrievable by its handle); the task, what the user typed,
            # constraints and errors give way only to the budget itself.
            chosen = first_within(preferred + rest, low)
            if chosen is None and extractive:
                chosen = shrunk_within(low, _SLACK_SHEDS_FROM)
            slack = chosen is not None
            if chosen is None:
                # The blocks already sent leave no slack: rebuilding them costs the cache
                # once now, where a compaction without slack costs it again next message.
                merged = rebuild(low, "for slack below the budget")
                if merged is not None:
                    return merged
        if chosen is None:
            chosen = first_within(preferred + rest, self.budget_tokens)
        if chosen is None and extractive and self.budget_tokens is not None:
            chosen = shrunk_within(self.budget_tokens, TASK_PRIORITY)
        warnings: list[str] = []
        if chosen is None and self.budget_tokens is not None:
            merged = rebuild(self.budget_tokens, "within the budget")
            if merged is not None:
                return merged
        elif chosen is None and self.max_messages is not None:
            merged = rebuild(None, "within max_messages")
            if merged is not None:
                return merged
        if chosen is None:
            # Best effort: the smallest list any cut gives, the new block cut to its block
            # marker; if even that is no smaller, leave the messages alone.
            # A custom summarizer may be an LLM call: try only the deepest cut with it.
            pool = candidates if self.summarizer is None else [max(candidates)]
            tries = [p for j in pool if (p := plan(j, _SHORTEST)) is not None]
            best = min(tries, key=lambda p: (p.tokens, p.cut), default=None)
            # What no cut can shed: leading system messages, the blocks already sent and
            # the shortest tail any valid cut leaves (the last message, open tool calls).
            protected = fixed + suffix[max(candidates)]
            must = "last message" if pinned is None else name
            why = (
                f"the messages that must stay verbatim (system prompt, {must}, open "
                f"tool calls{', earlier summary blocks' if blocks else ''}) need "
                f"{protected} tokens"
                + (
                    f", more than the budget of {self.budget_tokens}"
                    if self.budget_tokens is not None and protected > self.budget_tokens
                    else ""
                )
                + ("" if pinned is None else f"; {pinned}")
            )
            if best is None or best.tokens >= before:
                return unchanged(why)
            chosen = best
            warnings.append(self._unmet(chosen.tokens, why))
            unmet = True
        # What fewer recent messages or summary lines bought: a warning is true of the result.
        if unmet:
            bought = "come as close to the budget as it could (it is not met)"
        else:
            bought = "leave slack below the budget" if slack else "meet the budget"
        if len(body) - chosen.cut < self.keep_recent:
            warnings.append(
                f"kept only {len(body) - chosen.cut} recent messages verbatim "
                f"(keep_recent={self.keep_recent}) to {bought}"
            )
        if chosen.dropped:
            warnings.append(
                f"summary shortened: {chosen.dropped} lines left out to {bought}; "
                "the originals are retrievable by the block's handle"
            )
        try:
            handles = self._store(body[: chosen.cut], chosen.lines)
        except StoreError as error:  # no summary without its originals behind it
            return unchanged(f"the store cannot keep the summarized turns ({error})")
        block = {"role": "user", "content": chosen.text}
        out = [*msgs[:start], block, *body[chosen.cut :]]
        return ConversationResult(
            out,
            before,
            count_messages(out, count),
            summary=chosen.text,
            summarized=chosen.cut,
            covers=covers + chosen.cut,
            blocks=[*blocks, chosen.text],
            handles=handles,
            warnings=warnings,
        )

    def _originals(self, blocks: Sequence[str]) -> list[Any] | None:
        """The messages ``blocks`` stand for, from the store; None if any is gone."""
        out: list[Any] = []
        for marker in find_markers("\n".join(blocks)):
            if marker.unit != "messages":
                continue
            try:
                chunk = json.loads(self.store.get(marker.handle).text)
            except (StoreError, ValueError):
                return None
            if not isinstance(chunk, list) or len(chunk) != marker.count:
                return None
            out.extend(chunk)
        return out

    def _pinned(
        self, pinned_as: str | None, keep_from: int, total: int, tokens: int
    ) -> tuple[str, str]:
        """What the warnings call the messages ``keep_from`` pins (``pinned_as``, or a name
        of their own), and what those are and cost alone, for a warning."""
        n = total - keep_from
        name = pinned_as or f"message{'' if n == 1 else 's'} pinned by keep_from={keep_from}"
        if n == 1:
            what, cost = f"{name} (message {keep_from})", "costs"
        else:
            what, cost = f"{name} ({n} messages, {keep_from}-{total - 1})", "cost"
        over = []
        if self.budget_tokens is not None and tokens > self.budget_tokens:
            over.append(f"the budget of {self.budget_tokens}")
        if self.max_messages is not None and n > self.max_messages:
            over.append(f"max_messages={self.max_messages}")
        more = f", more than {' and '.join(over)}" if over else ""
        return name, f"the {what} alone {cost} {tokens} tokens{more}"

    def _low_watermark(self) -> int | None:
        if self.budget_tokens is None or not self.hysteresis:
            return None
        return int(self.budget_tokens * (1 - self.hysteresis))

    def _fits(self, tokens: int, n_messages: int) -> bool:
        if self.budget_tokens is not None and tokens > self.budget_tokens:
            return False
        return self.max_messages is None or n_messages <= self.max_messages

    def _unmet(self, tokens: int, why: str) -> str:
        target = []
        if self.budget_tokens is not None:
            target.append(f"{self.budget_tokens} tokens")
        if self.max_messages is not None:
            target.append(f"{self.max_messages} messages")
        return f"budget of {' / '.join(target)} not met ({tokens} tokens): {why}"

    def _text(
        self,
        continued: bool,
        chunk: list[Any],
        lines: list[Line],
        first_turn: int,
        allowance: int | None,
        kept_text: Callable[[], str],
        *,
        shed_from: int = TASK_PRIORITY,
    ) -> tuple[str | None, list[Line], int]:
        """The text of a new block summarizing ``chunk``; None if over ``allowance``.

        Its lines, then its marker. Only the first block of a conversation (not
        ``continued``) starts with the header, and only when it has a line to say: a
        header over nothing would cost ~18 tokens of a budget that is already short.
        To meet ``allowance`` only lines of priority ``shed_from`` or above are compacted
        or dropped.
        """
        last = first_turn + len(chunk) - 1
        marker = format_marker(
            len(chunk),
            "messages",
            handle_for(_chunk_json(chunk)),
            summary=f"turns {first_turn}-{last}",
        )

        def compose(parts: Sequence[str]) -> str:
            said = [p for p in parts if p]
            base = SUMMARY_HEADER if said and not continued else None
            return "\n".join(p for p in (base, *said, marker) if p)

        if self.summarizer is not None:
            body = self.summarizer(list(chunk))
            if not isinstance(body, str):
                raise InvalidArgumentError(
                    f"summarizer: {_name(self.summarizer)} returned {_short(body)} "
                    f"({type(body).__name__}); it must return the summary as a str"
                )
            return compose([body.strip()]), [], 0
        if allowance is None:
            return compose([ln.text for ln in lines]), list(lines), 0
        count = self.count
        base = SUMMARY_HEADER + "\n" if not continued else ""
        fixed = message_cost({"role": "user", "content": base + marker}, count)
        texts = [ln.text for ln in lines]
        sizes = [count(t) + 1 for t in texts]  # +1: the newline; a close upper bound
        # Least important first, the oldest first among equals: the recent past matters
        # more to the next turn. Compact every such line before dropping any. The task
        # statement's paragraphs come last of all, its tail before its opening.
        order = sorted(
            (i for i in range(len(lines)) if lines[i].priority >= max(0, shed_from)),
            key=lambda i: (-lines[i].priority, i),
        )
        task = [i for i in reversed(range(len(lines))) if shed_from <= lines[i].priority < 0]
        # First go the fact lines whose every fact the kept messages still show verbatim.
        elsewhere = kept_text()
        redundant = [
            i
            for i in order
            if lines[i].priority >= 4
            and lines[i].facts
            and all(fact in elsewhere for fact in lines[i].facts)
        ]
        steps = [(i, "drop") for i in redundant]
        steps += [(i, "compact") for i in order if lines[i].compact is not None]
        gone = set(redundant)
        steps += [(i, "drop") for i in order if i not in gone]
        steps += [(i, "compact") for i in task if lines[i].compact is not None]
        steps += [(i, "drop") for i in task]
        dropped: set[int] = set()
        step = 0
        while True:
            if fixed + sum(sizes) <= allowance or step == len(steps):
                text = compose(texts)
                cost = message_cost({"role": "user", "content": text}, count)
                if cost <= allowance or (step == len(steps) and allowance == _SHORTEST):
                    kept = [ln for i, ln in enumerate(lines) if i not in dropped]
                    return text, kept, len(dropped)
            if step == len(steps):
                return None, [], 0
            i, action = steps[step]
            step += 1
            if i in dropped:
                continue
            if action == "compact":
                texts[i] = lines[i].compact or texts[i]
            else:
                texts[i] = ""
                dropped.add(i)
            sizes[i] = count(texts[i]) + 1 if texts[i] else 0

    def _store(self, chunk: list[Any], lines: list[Line]) -> list[str]:
        handles = [self.store.put(_chunk_json(chunk), kind="messages")]
        for line in lines:
            if line.original is not None:
                handle = self.store.put(line.original, kind="text")
                if handle not in handles:
                    handles.append(handle)
        return handles


def _chunk_json(chunk: Sequence[Any]) -> str:
    # Key order kept and non-ASCII unescaped: the stored JSON reads like the messages sent.
    # untrusted_json is json.dumps for what JSON can hold, and never raises (or hangs) on
    # what it cannot: Decimal, bytes, sets, cycles, deep nesting in tool-call arguments.
    return untrusted_json(list(chunk), sort_keys=False, ensure_ascii=False)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _name(function: object) -> str:
    return getattr(function, "__qualname__", None) or type(function).__qualname__


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__: the type says enough
        text = f"<{type(value).__qualname__}>"
    return text if len(text) <= 80 else text[:77] + "..."
