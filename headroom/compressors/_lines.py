"""Line handling shared by the compressors of command outputs (search, test output, diffs).

Lines are split on ``\\n`` only, so a ``\\r`` stays part of its line and CRLF text comes
back byte-exact wherever a line is kept. Parsers match on :func:`bare` (the line without its
``\\r``); the lines a compressor adds take the line ending most of the input uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from headroom.handles import MARKER_RE

__all__ = ["Lines", "bare", "ends_with_marker"]


def bare(line: str) -> str:
    """``line`` without a trailing carriage return."""
    return line[:-1] if line.endswith("\r") else line


def ends_with_marker(text: str) -> bool:
    """Whether ``text`` ends with a marker line, as every lossy result of these compressors
    does: compressing it again must change nothing. (A marker quoted mid-text, say in a
    diff of Headroom's own sources, does not count.)"""
    last = text.rstrip("\r\n").rpartition("\n")[2]
    return MARKER_RE.fullmatch(bare(last).strip()) is not None


@dataclass(frozen=True, slots=True)
class Lines:
    """A text as lines, remembering its final newline and its line ending.

    Attributes:
        items: the lines, each without its ``\\n`` (a CRLF line keeps its ``\\r``).
        final_newline: whether the text ended with ``\\n``.
        cr: ``"\\r"`` when most lines end with CRLF, else ``""``; appended to added lines.
    """

    items: list[str]
    final_newline: bool
    cr: str

    @classmethod
    def split(cls, text: str) -> Lines:
        """Split ``text``; ``Lines.split(t).join(Lines.split(t).items) == t``.

        >>> Lines.split("a\\r\\nb\\r\\n").items
        ['a\\r', 'b\\r']
        """
        final_newline = text.endswith("\n")
        items = (text[:-1] if final_newline else text).split("\n")
        crlf = sum(1 for line in items if line.endswith("\r"))
        return cls(items, final_newline, "\r" if crlf * 2 > len(items) else "")

    def join(self, lines: list[str]) -> str:
        """``lines`` as text with the original's final newline."""
        return "\n".join(lines) + ("\n" if self.final_newline else "")

    def added(self, line: str) -> str:
        """A line the compressor writes, with the input's line ending."""
        return line + self.cr
