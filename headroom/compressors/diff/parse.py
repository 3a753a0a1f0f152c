"""Parse unified diffs (``git diff``, ``diff -ru``, bare ``---``/``+++`` patches) into files.

A hunk's body is read by the line counts in its ``@@`` header, not by the first character
of each line alone, so a removed line that reads ``-- x`` is never taken for a file
header. Lines that belong to no file (a commit message, ``Only in ...``, a binary patch)
are kept as they are, in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from headroom.compressors._lines import bare

__all__ = ["FileDiff", "Hunk", "parse_diff"]

# At most 18 digits a number: int() refuses more than 4,300, and no file has that many lines.
HUNK_RE = re.compile(
    r"@@ -(\d{1,18})(?:,(\d{1,18}))? \+(\d{1,18})(?:,(\d{1,18}))? @@(.*)", re.DOTALL
)
_EXTENDED_HEADER_RE = re.compile(
    r"(?:old mode|new mode|deleted file mode|new file mode|similarity index|"
    r"dissimilarity index|rename from|rename to|copy from|copy to|index) "
    r"|Binary files .* differ$"
)


@dataclass(slots=True)
class Hunk:
    """One ``@@`` hunk: where it starts on each side, its heading and its body lines."""

    header: str
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    heading: str
    body: list[str]


@dataclass(slots=True)
class FileDiff:
    """One file's part of a diff: its header lines and hunks."""

    header: list[str]
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The file's path after the change (before it, for a deletion)."""
        texts = [bare(line) for line in self.header]
        plus = next((t[4:] for t in texts if t.startswith("+++ ")), None)
        minus = next((t[4:] for t in texts if t.startswith("--- ")), None)
        for candidate in (plus, minus):
            if candidate and candidate.split("\t")[0] != "/dev/null":
                return _strip_prefix(candidate.split("\t")[0])
        renamed = next((t[10:] for t in texts if t.startswith("rename to ")), None)
        if renamed:
            return renamed
        first = texts[0].split()
        return _strip_prefix(first[-1]) if len(first) > 1 else texts[0]

    def changed_lines(self) -> tuple[int, int]:
        """Lines added and removed."""
        body = [bare(line)[:1] for hunk in self.hunks for line in hunk.body]
        return body.count("+"), body.count("-")


def parse_diff(lines: list[str]) -> list[FileDiff | str]:
    """Split ``lines`` into file diffs and lines outside any file, in order."""
    entries: list[FileDiff | str] = []
    i = 0
    while i < len(lines):
        text = bare(lines[i])
        starts_file = text.startswith("diff ") or (
            text.startswith("--- ") and i + 1 < len(lines) and bare(lines[i + 1])[:4] == "+++ "
        )
        if not starts_file:
            entries.append(lines[i])
            i += 1
            continue
        current = FileDiff([lines[i]])
        i += 1
        while i < len(lines):
            head = bare(lines[i])
            if _EXTENDED_HEADER_RE.match(head) or (
                head[:4] in ("--- ", "+++ ")
                and not any(bare(h)[:4] == head[:4] for h in current.header[1:])
            ):
                current.header.append(lines[i])
                i += 1
                continue
            hunk = HUNK_RE.fullmatch(head)
            if not hunk:
                break
            i = _read_hunk(lines, i, hunk, current)
        entries.append(current)
    return entries


def _read_hunk(lines: list[str], i: int, m: re.Match[str], into: FileDiff) -> int:
    old_len = int(m[2]) if m[2] is not None else 1
    new_len = int(m[4]) if m[4] is not None else 1
    hunk = Hunk(lines[i], int(m[1]), old_len, int(m[3]), new_len, m[5], [])
    into.hunks.append(hunk)
    i += 1
    old, new = old_len, new_len
    while i < len(lines):
        tag = bare(lines[i])[:1]
        if tag == "\\":  # "\ No newline at end of file" belongs to the line before it
            hunk.body.append(lines[i])
            i += 1
            continue
        if old <= 0 and new <= 0:
            break
        if tag in (" ", "") and old > 0 and new > 0:
            old, new = old - 1, new - 1
        elif tag == "-" and old > 0:
            old -= 1
        elif tag == "+" and new > 0:
            new -= 1
        else:
            break  # the header's counts were wrong; what follows is not this hunk's
        hunk.body.append(lines[i])
        i += 1
    return i


def _strip_prefix(path: str) -> str:
    # git's "a/" and "b/" prefixes are not part of the path.
    return path[2:] if path[:2] in ("a/", "b/") else path
