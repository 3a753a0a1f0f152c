"""Stack traces and tracebacks: the lines that continue the log line before them.

A Java stack trace (``\\tat ...`` frames, ``Caused by: ...``, ``... 12 more``, with the
exception line right before the first frame) and a Python traceback (from
``Traceback (most recent call last):`` to the unindented exception line, chained tracebacks
included) belong to the line before them, their *head*. Clustering sees only heads; a trace is
shown whole under its head the first time its masked text appears, and counted after that.

Example:
    >>> lines = ["ERROR boom", "java.lang.IllegalStateException: x", "\\tat a.B.c(B.java:1)", "ok"]
    >>> find_traces("\\n".join(lines), lines)
    [Trace(head=0, start=1, end=3)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Trace", "find_traces"]

# Cheap whole-text tests: most logs have no trace, and then no line is looked at one by one.
# A pattern that starts with a literal lets the regex engine skip from newline to newline.
_JAVA_FRAME_HINT: Final = re.compile(r"\n[ \t]+at \S")
_HINTS: Final = ("Traceback (most recent call last):", "Caused by: ")
# A frame names a function and a place: "at a.B.c(B.java:42)" (JVM), "at f (app.js:1:2)" and
# "at /app/x.js:1:2" (Node). Indented prose that starts with "at" is not a frame.
_JAVA_FRAME: Final = re.compile(
    r"[ \t]+at (?:\S+ ?\(|\S+:\d+)|[ \t]*\.\.\. \d+ (?:more|common frames omitted)"
    r"|[ \t]*(?:Caused by|Suppressed): "
)
_JAVA_EXCEPTION: Final = re.compile(r"(?:[A-Za-z_$][\w$]*\.)+[\w$]*(?:Exception|Error|Throwable)\b")
_PYTHON_TRACEBACK: Final = "Traceback (most recent call last):"
_PYTHON_CHAIN: Final = (
    "During handling of the above exception",
    "The above exception was the direct cause",
)


@dataclass(frozen=True, slots=True)
class Trace:
    """A trace: lines ``start`` to ``end - 1``, continuing line ``head``."""

    head: int
    start: int
    end: int


def find_traces(text: str, lines: list[str]) -> list[Trace]:
    """The traces in a log, in order.

    Args:
        text: the whole log (only searched for a hint that traces exist).
        lines: its lines, each possibly ending with ``"\\r"``.

    Returns:
        One :class:`Trace` per maximal run of continuation lines.
    """
    if not any(hint in text for hint in _HINTS) and _JAVA_FRAME_HINT.search(text) is None:
        return []
    flags = _continuation_flags(lines)
    traces: list[Trace] = []
    number = 0
    while number < len(lines):
        if not flags[number]:
            number += 1
            continue
        start = number
        while number < len(lines) and flags[number]:
            number += 1
        if start > 0:
            traces.append(Trace(start - 1, start, number))
        elif number > 1:
            # A trace at the very top has no line to continue: its first line is the head.
            traces.append(Trace(0, 1, number))
    return traces


def _continuation_flags(lines: list[str]) -> list[bool]:
    flags = [False] * len(lines)
    in_python = False
    for number, raw in enumerate(lines):
        line = raw.removesuffix("\r")
        if in_python:
            flags[number] = True
            # The unindented exception line ends the traceback.
            in_python = not line or line[0].isspace()
        elif line.startswith(_PYTHON_TRACEBACK):
            flags[number] = in_python = True
        elif _JAVA_FRAME.match(line):
            flags[number] = True
            previous = number - 1
            if previous >= 1 and not flags[previous] and _JAVA_EXCEPTION.match(lines[previous]):
                flags[previous] = True
        elif (
            number > 0
            and flags[number - 1]
            and (not line.strip() or line.startswith(_PYTHON_CHAIN))
        ):
            # Blank lines and the sentences between chained exceptions.
            flags[number] = True
    return flags
