"""Parsers for file listings: ``ls -l`` (and ``-la``, ``-laR``), ``tree``, ``du`` and plain
path lists (``find``, ``git ls-files``, ``fd``, ``rg --files``).

Each parser takes the lines of a text (split on ``\\n``, see :class:`~headroom.compressors.
_lines.Lines`) and returns what it understood, or ``None`` when the text is not that kind of
listing. Lines that are not entries are kept as strings, in place: the listing compressor
never drops one, and error lines (``ls: cannot open directory ...``, ``find: ...``) are how
a reader learns that a directory was not listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DATE_RE",
    "ERROR_RE",
    "SIZE_RE",
    "TREE_STYLES",
    "LongEntry",
    "Record",
    "TreeListing",
    "TreeStyle",
    "parse_du",
    "parse_long",
    "parse_paths",
    "parse_tree",
    "path_like",
]

# The timestamps GNU ls prints: the default "%b %e %H:%M" / "%b %e  %Y" (C and English
# locales) and --time-style=long-iso / full-iso (--full-time). Other locales' month names
# do not parse: those lines stay as they are.
DATE_RE: Final = re.compile(
    r"[A-Z][a-z]{2} [ \d]\d (?:\d\d:\d\d| \d{4})"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d\.\d+ [+-]\d{4})?"
)
# A byte count, a human-readable size (-h, --si) or a device's "major, minor".
SIZE_RE: Final = re.compile(r"\d+, +\d+|\d+(?:[.,]\d+)?[kKMGTPEZY]?")
_LONG_RE: Final = re.compile(
    r"(?P<perms>[-bcdlpsDCMnP?][-rwxsStTlL]{9}[.+@]?) +(?P<links>\d+)"
    r" (?P<owner>\S+) +(?P<group>\S+) +(?P<size>" + SIZE_RE.pattern + r")"
    r" (?P<date>" + DATE_RE.pattern + r") (?P<name>.+)"
)
_TOTAL_RE: Final = re.compile(r"total \d+(?:[.,]\d+)?[kKMGTPEZY]?")
# What listing tools (and git, and the shell around them) print on stderr.
ERROR_RE: Final = re.compile(r"(?:ls|find|du|tree|git|fd|rg|fatal|error|warning|bash|sh): ")
_DU_RE: Final = re.compile(r"(?P<size>\d+(?:[.,]\d+)?[kKMGTPEZY]?)\t(?P<path>.+)")
_TREE_REPORT_RE: Final = re.compile(r"\d+ director(?:y|ies)(?:, \d+ files?)?")
_EXTENSION_RE: Final = re.compile(r"\.[A-Za-z][A-Za-z0-9_~-]{0,15}$")
_MIN_SHARE: Final = 0.8  # of the non-blank lines that must be understood


@dataclass(frozen=True, slots=True)
class LongEntry:
    """One ``ls -l`` line, its columns as printed (``size`` of a device is ``"major, minor"``
    with one space)."""

    perms: str
    links: str
    owner: str
    group: str
    size: str
    date: str
    name: str

    @property
    def type(self) -> str:
        """The file type letter: ``-`` file, ``d`` directory, ``l`` symlink, ..."""
        return self.perms[0]


@dataclass(frozen=True, slots=True)
class Record:
    """One path of a path list, and its size for ``du``."""

    path: str
    size: str | None = None


@dataclass(frozen=True, slots=True)
class TreeStyle:
    """The four 4-character prefixes ``tree`` draws with."""

    name: str
    tee: str
    corner: str
    vertical: str
    blank: str = "    "


TREE_STYLES: Final = (
    # UTF-8 locales: tree 2.x pads the vertical bar with two no-break spaces.
    TreeStyle("tree", "├── ", "└── ", "│\u00a0\u00a0 "),
    TreeStyle("tree plain", "├── ", "└── ", "│   "),
    TreeStyle("tree ascii", "|-- ", "`-- ", "|   "),
)


@dataclass(frozen=True, slots=True)
class TreeListing:
    """``tree`` output: ``(depth, name)`` per line (roots at depth 0) and the report."""

    style: TreeStyle
    records: list[tuple[int, str]]
    report: str | None


def parse_long(lines: list[str]) -> list[LongEntry | str] | None:
    """``ls -l`` output as entries and other lines (totals, ``dir:`` headers, errors)."""
    out: list[LongEntry | str] = []
    entries = understood = nonblank = 0
    for i, line in enumerate(lines):
        match = _LONG_RE.fullmatch(line)
        if match is None:
            out.append(line)
            if line:
                nonblank += 1
                header = line.endswith(":") and (i == 0 or not lines[i - 1])
                if header or _TOTAL_RE.fullmatch(line) or ERROR_RE.match(line):
                    understood += 1
            continue
        size = match["size"]
        if "," in size and " " in size:  # a device: "  8,   1" -> "8, 1"
            major, _, minor = size.partition(",")
            size = f"{major.strip()}, {minor.strip()}"
        out.append(
            LongEntry(
                match["perms"],
                match["links"],
                match["owner"],
                match["group"],
                size,
                match["date"],
                match["name"],
            )
        )
        entries += 1
        nonblank += 1
    if not entries or entries + understood < _MIN_SHARE * nonblank:
        return None
    return out


def parse_tree(lines: list[str]) -> TreeListing | None:
    """``tree`` output (any of :data:`TREE_STYLES`) as depths and names."""
    body = lines
    report = None
    if len(body) >= 2 and not body[-2] and _TREE_REPORT_RE.fullmatch(body[-1]):
        body, report = body[:-2], body[-1]
    style = next(
        (s for s in TREE_STYLES for line in body[1:3] if line.startswith((s.tee, s.corner))),
        None,
    )
    if style is None or not body:
        return None
    if style.name == "tree" and any(TREE_STYLES[1].vertical in line for line in body):
        style = TREE_STYLES[1]  # tree 1.x in a UTF-8 locale pads the bar with plain spaces
    records: list[tuple[int, str]] = []
    drawn = 0
    for line in body:
        depth, at = 0, 0
        while line.startswith((style.vertical, style.blank), at):
            depth, at = depth + 1, at + 4
        if line.startswith((style.tee, style.corner), at):
            depth, at = depth + 1, at + 4
            drawn += 1
        elif depth:
            return None
        name = line[at:]
        if not name or (records and depth > records[-1][0] + 1) or (not records and depth):
            return None
        records.append((depth, name))
    if drawn < _MIN_SHARE * (len(records) - 1):
        return None
    return TreeListing(style, records, report)


def parse_du(lines: list[str]) -> list[Record | str] | None:
    """``du`` / ``du -a`` output: every line a ``size<TAB>path`` or an error line."""
    out: list[Record | str] = []
    for line in lines:
        match = _DU_RE.fullmatch(line)
        if match is not None:
            out.append(Record(match["path"], match["size"]))
        elif ERROR_RE.match(line):
            out.append(line)
        else:
            return None
    return out if any(isinstance(item, Record) for item in out) else None


def parse_paths(lines: list[str]) -> list[Record | str] | None:
    """A path per line (``find``, ``git ls-files``): every line a path or an error line,
    most of them looking like paths."""
    out: list[Record | str] = []
    looks = 0
    for line in lines:
        if not line:
            return None  # blank lines belong to other formats (ls -R, tree's report)
        if ERROR_RE.match(line):
            out.append(line)
            looks += 1
            continue
        out.append(Record(line))
        looks += path_like(line)
    records = sum(1 for item in out if isinstance(item, Record))
    if not records or looks < _MIN_SHARE * len(lines):
        return None
    return out


def path_like(line: str) -> bool:
    """Whether ``line`` reads as a path or a file name (not prose, a URL or a grep hit)."""
    if not line or len(line) > 1024 or line != line.strip() or "\t" in line or "://" in line:
        return False
    if line.startswith(("./", "/", "../")):
        return True  # spaces allowed: "./My Documents/notes.txt"
    if " " in line or re.search(r":\d", line):
        return False
    return "/" in line or line in (".", "..") or _EXTENSION_RE.search(line) is not None
