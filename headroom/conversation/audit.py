"""Checks a summarized conversation must pass: traceable lines, intact tool pairing.

Used by the tests and by ``python -m headroom.bench.conversation``.

>>> untraceable_lines("[turn 0 user] Hi.", [{"role": "user", "content": "Hi. Bye."}])
[]
>>> untraceable_lines("[turn 0 user] Hello.", [{"role": "user", "content": "Hi."}])
['[turn 0 user] Hello.']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from headroom.conversation._turns import call_ids, result_ids, turn_text, unwrap_event
from headroom.conversation.extractive import CONTINUATION, FRAGMENT_SEP
from headroom.conversation.rolling import SUMMARY_HEADER
from headroom.handles import is_marker, strip_markers

__all__ = ["pairing_problems", "untraceable_lines"]

_LINE_RE = re.compile(r"\[turn (?P<turn>\d+) (?P<who>[^\]]*)\] ?(?P<fragment>.*)", re.S)


def untraceable_lines(summary: str, originals: Sequence[Mapping[str, Any]]) -> list[str]:
    """Summary lines that are not a verbatim fragment of the turn they cite.

    Args:
        summary: a summary text (header, ``[turn N who] fragment`` lines, block markers).
        originals: the whole original conversation, so ``originals[N]`` is turn N.

    Returns:
        The offending lines; empty when every line is traceable.
    """
    bad: list[str] = []
    source: str | None = None  # the turn the last labelled line quoted
    for line in summary.splitlines():
        if line == SUMMARY_HEADER or is_marker(line):
            source = None
            continue
        if line.startswith(CONTINUATION):
            # A further line of the quote above: it must come from the same turn.
            pieces = line[len(CONTINUATION) :].split(FRAGMENT_SEP)
            if source is None or not all(piece.strip() in source for piece in pieces):
                bad.append(line)
            continue
        match = _LINE_RE.fullmatch(line)
        source = None
        if match is None:
            bad.append(line)
            continue
        turn = int(match["turn"])
        if turn >= len(originals):
            bad.append(line)
            continue
        source = turn_text(originals[turn])
        # A user event sent as a JSON envelope is quoted from its decoded ``message``.
        source = f"{source}\n{unwrap_event(source) or ''}"
        pieces = strip_markers(match["fragment"]).strip().split(FRAGMENT_SEP)
        if not all(piece.strip() in source for piece in pieces):
            bad.append(line)
    return bad


def pairing_problems(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """Tool results whose call is not before them, and calls answered nowhere after them.

    A call left unanswered by the final message is allowed (its result may still come).

    >>> pairing_problems([{"role": "tool", "tool_call_id": "x", "content": "1"}])
    ['messages[0] answers x, which no earlier message calls']
    """
    problems: list[str] = []
    open_calls: dict[str, int] = {}
    for i, message in enumerate(messages):
        for cid in result_ids(message):
            if cid not in open_calls:
                problems.append(f"messages[{i}] answers {cid}, which no earlier message calls")
            open_calls.pop(cid, None)
        for cid in call_ids(message):
            open_calls[cid] = i
    last = len(messages) - 1
    problems.extend(
        f"messages[{i}] calls {cid}, answered nowhere" for cid, i in open_calls.items() if i != last
    )
    return problems
