"""The default summarizer: extractive, deterministic, every line a quote of its turn.

Each summarized message yields a few lines ``[turn N ROLE] FRAGMENT`` where FRAGMENT is a
verbatim substring of :func:`turn_text` of message N (N counts from the start of the
original conversation, system prompt included). What is kept, by priority:

0. constraint sentences (must, never, don't, always, only, required ...);
1. the first sentence of each user turn (the goal or instruction), and every user sentence
   carrying a fact (see 5): what the user typed is kept by salience, not age;
2. error sentences;
3. every tool call, as ``called NAME(ARGUMENTS)``;
4. decision sentences (will, let's, decided, confirm ...);
5. sentences carrying a fact (ids, numbers with units, paths, URLs, versions, e-mails);
6. each tool result's first line and a marker with the handle of the full output.

The *task* turn (the first real user request, which states the goal) is different: it is
quoted whole, paragraph by paragraph, at priority :data:`TASK_PRIORITY`, so a shrinking
summary gives up every other line before any of it. A paragraph's later lines start with
:data:`CONTINUATION` instead of repeating the turn label.

Nothing is reworded, so nothing can be invented; a line longer than ``MAX_FRAGMENT``
characters is cut, never rewritten. When a budget is tight a line may be *compacted* to
the facts it carries, joined by :data:`FRAGMENT_SEP` (each piece still a quote), or a tool
result to its marker alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from headroom.conversation._turns import (
    is_command_output,
    is_output,
    label,
    result_ids,
    tool_name_map,
    turn_text,
    unwrap_event,
)
from headroom.conversation.facts import (
    CONSTRAINT_RE,
    DECISION_RE,
    ERROR_RE,
    error_template,
    extract_facts,
    has_fact,
    split_sentences,
)
from headroom.handles import format_marker, handle_for

__all__ = [
    "CONTINUATION",
    "FRAGMENT_SEP",
    "MAX_FRAGMENT",
    "TASK_PRIORITY",
    "Line",
    "extract_lines",
    "extractive_summary",
    "task_turn",
]

MAX_FRAGMENT = 400
# Joins verbatim fragments of one sentence in a compacted line (its facts only); each
# piece between separators is itself a quote.
FRAGMENT_SEP = " … "
_MAX_ERROR_LINES = 3
# Below every other priority: the task statement is the last thing a summary gives up.
TASK_PRIORITY = -1
# Starts a further line of the quote above it (same turn): cheaper than a repeated label.
CONTINUATION = "| "
_PARAGRAPH_RE = re.compile(r"\n[ \t\r]*\n")
_TOOL_FIRST_LINE = 160


@dataclass(frozen=True, slots=True)
class Line:
    """One summary line, with what is needed to rank it and to store what it points to."""

    priority: int  # 0 is kept longest when a summary must shrink
    turn: int
    text: str  # the full line, "[turn N role] fragment ..."
    original: str | None = None  # a tool output the line's marker points to, to store
    compact: str | None = None  # a shorter form (facts only, or marker only) for tight budgets
    facts: tuple[str, ...] = ()  # the facts the line carries


def _cut(fragment: str, limit: int = MAX_FRAGMENT) -> str:
    return fragment if len(fragment) <= limit else fragment[:limit].rstrip()


def _sentence_priority(sentence: str, *, first_user: bool, user: bool) -> int | None:
    if CONSTRAINT_RE.search(sentence):
        return 0
    if first_user:
        return 1
    if user and has_fact(sentence):
        # What the user typed (an id, a file, an amount) outranks what the agent said or
        # a tool printed, however old: the user will not type it again.
        return 1
    if ERROR_RE.search(sentence):
        return 2
    if DECISION_RE.search(sentence):
        return 4
    if has_fact(sentence):
        return 5
    return None


def extract_lines(
    messages: Sequence[Mapping[str, Any]],
    *,
    first_turn: int = 0,
    names: Mapping[str, str] | None = None,
    task: int | None = None,
) -> list[Line]:
    """The summary lines for ``messages``, whose first is turn ``first_turn``.

    Args:
        messages: the turns to condense (any shape the messages layer reads).
        first_turn: the turn number of ``messages[0]`` in the whole conversation.
        names: tool-call id -> tool name, for results whose call is not in ``messages``.
        task: the turn number of the task statement (see :func:`task_turn`), quoted whole.

    >>> lines = extract_lines([{"role": "user", "content": "Book HAT123. Thanks!"}], first_turn=1)
    >>> [line.text for line in lines]
    ['[turn 1 user] Book HAT123.']
    """
    known = dict(names or {})
    known.update(tool_name_map(messages))
    out: list[Line] = []
    # Templates of the errors already quoted: the first report of an error is the one
    # that explains it; a later repeat is kept only if there is room.
    errors: set[str] = set()
    for offset, message in enumerate(messages):
        turn = first_turn + offset
        who = label(message, known)
        prefix = f"[turn {turn} {who}] "
        text = turn_text(message)
        if result_ids(message):
            out.extend(_tool_result_lines(prefix, turn, text, errors))
            continue
        if is_command_output(message, messages[offset - 1] if offset else None):
            out.extend(
                _tool_result_lines(f"[turn {turn} user, command output] ", turn, text, errors)
            )
            continue
        if message.get("role") == "user":
            # A JSON envelope is quoted from the inside: its keys say nothing.
            text = unwrap_event(text) or text
        if turn == task:
            out.extend(_task_lines(prefix, turn, text))
            continue
        seen: set[str] = set()
        user = message.get("role") == "user"
        first_user = user
        # User turns before the task (a demonstration, pasted context) are not what the
        # user typed for this session: their facts get no salience boost.
        user = user and (task is None or turn >= task)
        for sentence in split_sentences(text):
            if sentence.startswith("called ") and sentence.endswith(")") and sentence in text:
                priority: int | None = 3
            else:
                priority = _sentence_priority(sentence, first_user=first_user, user=user)
                first_user = False
            fragment = _cut(sentence)
            if priority is None or fragment in seen:
                continue
            if priority == 2:
                template = error_template(fragment)
                priority = 6 if template in errors else 2
                errors.add(template)
            seen.add(fragment)
            facts = extract_facts(fragment)
            compact = prefix + FRAGMENT_SEP.join(facts) if facts and priority >= 2 else None
            out.append(Line(priority, turn, prefix + fragment, compact=compact, facts=tuple(facts)))
    return out


def task_turn(messages: Sequence[Mapping[str, Any]], first_turn: int = 0) -> int | None:
    """The turn number of the task statement in ``messages``, if any.

    The last real user turn before the first assistant turn: the request the assistant
    first answered. Earlier user turns in that opening run are context (SWE-agent sends a
    demonstration first, then the issue). A user turn that is a tool's output sent back as
    text does not count; nor does an empty one.

    >>> task_turn([{"role": "user", "content": "Demo."}, {"role": "user", "content": "Fix x."},
    ...            {"role": "assistant", "content": "On it."}], first_turn=1)
    2
    """
    found: int | None = None
    for offset, message in enumerate(messages):
        if message.get("role") == "assistant":
            break
        if (
            message.get("role") == "user"
            and not is_output(message, messages[offset - 1] if offset else None)
            and turn_text(message).strip()
        ):
            found = first_turn + offset
    return found


def _task_lines(prefix: str, turn: int, text: str) -> list[Line]:
    # One Line per paragraph so a tight budget can give up the task's tail before its
    # opening; each row within is quoted whole (no MAX_FRAGMENT cut: the task is the one
    # text a summary must not truncate while anything else is left to drop). Only the
    # first paragraph carries the turn label, the rest continue it: the first paragraph is
    # the last to go, so a continuation never loses the label it hangs from.
    out: list[Line] = []
    for paragraph in _PARAGRAPH_RE.split(text):
        rows = [row.strip() for row in paragraph.splitlines() if row.strip()]
        if not rows:
            continue
        lead = prefix if not out else CONTINUATION
        body = ("\n" + CONTINUATION).join(rows)
        facts = tuple(extract_facts(paragraph))
        # Compacted, a paragraph keeps its constraint rows whole and the facts of the rest.
        short = [
            row if CONSTRAINT_RE.search(row) else FRAGMENT_SEP.join(extract_facts(row))
            for row in rows
        ]
        compact = ("\n" + CONTINUATION).join(row for row in short if row)
        out.append(
            Line(
                TASK_PRIORITY,
                turn,
                lead + body,
                compact=lead + compact if compact and compact != body else None,
                facts=facts,
            )
        )
    return out


def _tool_result_lines(prefix: str, turn: int, text: str, errors: set[str]) -> list[Line]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return [Line(6, turn, prefix.rstrip())]
    marker = format_marker(len(text.splitlines()), "lines", handle_for(text))
    first_is_error = bool(ERROR_RE.search(lines[0]))
    if first_is_error and error_template(lines[0]) not in errors:
        # An error's first report ranks as an error line; its marker still points to the
        # whole output.
        errors.add(error_template(lines[0]))
        out = [Line(2, turn, f"{prefix}{_cut(lines[0])} {marker}", original=text)]
    elif first_is_error:
        # A repeat of an error already quoted: the handle alone.
        out = [Line(6, turn, prefix + marker, original=text)]
    else:
        first = _cut(lines[0], _TOOL_FIRST_LINE)
        out = [Line(6, turn, f"{prefix}{first} {marker}", original=text, compact=prefix + marker)]
    # Repeats of an error already quoted are left to the handle; a template past the cap
    # is not marked seen, so its first report in a later output is still quoted.
    for line in lines[1:]:
        if len(out) > _MAX_ERROR_LINES:
            break
        if ERROR_RE.search(line) and error_template(line) not in errors:
            errors.add(error_template(line))
            out.append(Line(2, turn, prefix + _cut(line)))
    return out


def extractive_summary(messages: Sequence[Mapping[str, Any]]) -> str:
    """The default summarizer as a plain ``Callable[[list[message]], str]``.

    Turn numbers count from ``messages[0]``. :class:`RollingSummarizer` uses the line
    machinery directly instead, to number turns across the whole conversation and to
    shrink a summary line by line.

    >>> extractive_summary([{"role": "user", "content": "Never refund. Hi."}])
    '[turn 0 user] Never refund.'
    """
    return "\n".join(line.text for line in extract_lines(messages))
