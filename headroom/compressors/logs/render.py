"""The text of a compressed log: header, annotated verbatim lines, one marker.

::

    [log: 2000 lines, 081109 203615 → 081111 110402; INFO ×1920, WARN ×80; 16 templates]
    081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 ...  [×311]
    081109 204106 329 WARN dfs.DataNode$DataXceiver: ... exception while serving ...  [×80]
    ...
    [1982 lines omitted: ... · retrieve: headroom:3f9a1c2e4b7d]

Kept lines are verbatim. A line that stands for its template carries an *annotation* at its
end: two spaces, then ``[×count]``, optionally with ``; values: ...`` (the few values of the
template's variables, positions separated by `` | ``) and ``; trace ×n`` (how often the trace
shown under it occurs). :func:`split_annotation` takes it off again, so every kept line can
be compared with the original byte for byte; a line that already ends like an annotation
gets one (``[×1]``) so that taking one off is always right.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Final

__all__ = ["Annotation", "annotate", "header", "split_annotation"]

_ANNOTATION: Final = re.compile(
    r"  \[×(?P<count>\d+)(?:; values: (?P<values>[^\]]*?))?(?:; trace ×(?P<trace>\d+))?\]"
    r"(?P<cr>\r?)\Z"
)


@dataclass(frozen=True, slots=True)
class Annotation:
    """What is appended to a kept line.

    Attributes:
        count: lines with the same template.
        values: for each variable with few values, how many lines have each.
        trace: how often the trace shown under the line occurs (0: no trace shown).
    """

    count: int
    values: tuple[Counter[str], ...] = ()
    trace: int = 0

    def __str__(self) -> str:
        text = f"  [×{self.count}"
        if self.values:
            text += "; values: " + " | ".join(_format_values(v) for v in self.values)
        if self.trace:
            text += f"; trace ×{self.trace}"
        return text + "]"

    def needed(self) -> bool:
        """Whether the annotation says anything beyond "this line occurs once"."""
        return self.count > 1 or bool(self.values) or self.trace > 1


def _format_values(counter: Counter[str]) -> str:
    # Most frequent first; ties in order of first appearance (Counter keeps insertion order).
    return ", ".join(
        value if n == 1 else f"{value} ×{n}"
        for value, n in sorted(counter.items(), key=lambda item: -item[1])
    )


def annotate(line: str, annotation: Annotation | None) -> str:
    """Append an annotation to a line, before its ``"\\r"`` if it has one.

    A line that already ends like an annotation always gets one, so that
    :func:`split_annotation` removes exactly what was added.

    >>> annotate("GET /  [×2]", None)
    'GET /  [×2]  [×1]'
    >>> annotate("a b\\r", Annotation(3))
    'a b  [×3]\\r'
    """
    if annotation is None or not annotation.needed():
        if _ANNOTATION.search(line) is None:
            return line
        annotation = annotation or Annotation(1)
    if line.endswith("\r"):
        return f"{line[:-1]}{annotation}\r"
    return f"{line}{annotation}"


def split_annotation(line: str) -> tuple[str, Annotation | None]:
    """Take the annotation off a line of compressed output.

    >>> split_annotation("x failed  [×3; values: a ×2, b]")
    ('x failed', Annotation(count=3, values=(Counter({'a': 2, 'b': 1}),), trace=0))
    >>> split_annotation("plain")
    ('plain', None)
    """
    match = _ANNOTATION.search(line)
    if match is None:
        return line, None
    values: list[Counter[str]] = []
    if match["values"]:
        for position in match["values"].split(" | "):
            counter: Counter[str] = Counter()
            for item in position.split(", "):
                value, times, count = item.rpartition(" ×")
                if times and count.isdigit():
                    counter[value] = int(count)
                else:
                    counter[item] = 1
            values.append(counter)
    annotation = Annotation(int(match["count"]), tuple(values), int(match["trace"] or 0))
    return line[: match.start()] + match["cr"], annotation


def header(
    lines: int,
    first_time: str | None,
    last_time: str | None,
    levels: Counter[str | None],
    signal_unleveled: int,
    templates: int,
) -> str:
    """The first line of a compressed log.

    >>> header(3, "10:00", "10:05", Counter({"INFO": 2, "ERROR": 1}), 0, 2)
    '[log: 3 lines, 10:00 → 10:05; INFO ×2, ERROR ×1; 2 templates]'
    >>> header(5, None, None, Counter({None: 5}), 2, 4)
    '[log: 5 lines; no levels, 2 with error words; 4 templates]'
    """
    parts = [f"log: {lines} lines"]
    if first_time and last_time:
        parts[0] += (
            f", {first_time} → {last_time}" if first_time != last_time else f", {first_time}"
        )
    named = sorted(
        ((level, n) for level, n in levels.items() if level is not None),
        key=lambda item: (-item[1], item[0]),
    )
    level_text = ", ".join(f"{level} ×{n}" for level, n in named)
    unleveled = levels.get(None, 0)
    if unleveled:
        words = f", {signal_unleveled} with error words" if signal_unleveled else ""
        level_text += f"{', ' if named else ''}{'no level' if named else 'no levels'}"
        level_text += f" ×{unleveled}" if named else ""
        level_text += words
    parts.append(level_text)
    parts.append(f"{templates} template{'s' * (templates != 1)}")
    return "[" + "; ".join(part for part in parts if part) + "]"
