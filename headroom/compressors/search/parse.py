"""Parse search-tool output into per-file groups of numbered lines.

Understood shapes, mixed freely:

* ``grep -rn`` / ``rg --no-heading``: ``path:12:text`` for a match, ``path-12-text`` for a
  context line (``-A/-B/-C``) and ``--`` between context groups;
* ``rg --heading`` and IDE panels: a path line (an IDE may end it with ``:``), then
  ``12:text`` / ``12-text`` lines (optionally indented), blank lines between files;
* this package's own grouped form: ``path (3 matches)`` then ``12,40:text``, so that
  compressing a compressed result again finds nothing new to do.

Separators (``--``, blank lines) carry nothing a line number does not, so they are not
kept. Lines of no known shape (``Binary file x matches``, a tool's warnings, an IDE's query
header) are kept verbatim in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from headroom.compressors._lines import bare

__all__ = ["FileGroup", "Hit", "parse_search"]

# Line numbers have at most 18 digits: int() refuses more than 4,300, and no file has that
# many lines; a longer run of digits is not a line number.
_INLINE_MATCH_RE = re.compile(r"(?P<path>[^\s].*?):(?P<num>\d{1,18}):(?P<text>.*)", re.DOTALL)
_CONTEXT_NUM_RE = re.compile(r"-(\d{1,18})-")
_NUMBERED_RE = re.compile(
    r" {0,4}(?P<nums>\d{1,18}(?:,\d{1,18})*)(?P<sep>[:-])(?P<text>.*)", re.DOTALL
)
_OWN_HEADER_RE = re.compile(r"(?P<path>.+?) \(\d+ match(?:es)?(?:, \d+ shown)?\)")


@dataclass(slots=True)
class Hit:
    """One output line of a search: its line number(s), text, and whether it matched.

    Attributes:
        numbers: the line numbers it stands for (several once exact repeats are merged).
        text: the line's text as printed, ``\\r`` included.
        match: ``True`` for a matching line, ``False`` for a context line.
    """

    numbers: list[int]
    text: str
    match: bool


@dataclass(slots=True)
class FileGroup:
    """Every hit of one file, in output order."""

    path: str
    hits: list[Hit] = field(default_factory=list)

    @property
    def match_count(self) -> int:
        """How many matching lines the search found in this file."""
        return sum(len(hit.numbers) for hit in self.hits if hit.match)


Entry = FileGroup | str


def parse_search(lines: list[str]) -> tuple[list[Entry], int]:
    """Group ``lines`` by file.

    Returns:
        The entries in output order (a group where its file first appears, other lines
        verbatim) and how many lines were understood as hits, paths or separators.
    """
    known = {m["path"] for line in lines if (m := _INLINE_MATCH_RE.fullmatch(bare(line)))}
    known_lengths = frozenset(map(len, known))
    groups: dict[str, FileGroup] = {}
    entries: list[Entry] = []
    understood = 0
    heading: FileGroup | None = None

    def group(path: str) -> FileGroup:
        if path not in groups:
            groups[path] = FileGroup(path)
            entries.append(groups[path])
        return groups[path]

    for index, line in enumerate(lines):
        text = bare(line)
        cr = line[len(text) :]
        if not text.strip() or text == "--":
            understood += 1
            if not text.strip():
                heading = None  # rg --heading: a blank line ends a file's block
            continue
        numbered = _NUMBERED_RE.fullmatch(text)
        if heading is not None and numbered:
            nums = [int(n) for n in numbered["nums"].split(",")]
            heading.hits.append(Hit(nums, numbered["text"] + cr, numbered["sep"] == ":"))
            understood += 1
            continue
        inline = _INLINE_MATCH_RE.fullmatch(text)
        if inline and not numbered:
            group(inline["path"]).hits.append(Hit([int(inline["num"])], inline["text"] + cr, True))
            heading = None
            understood += 1
            continue
        context = _context_line(text, known, known_lengths)
        if context is not None:
            path, number, rest = context
            group(path).hits.append(Hit([number], rest + cr, False))
            understood += 1
            continue
        if _next_is_numbered(lines, index, known):
            own = _OWN_HEADER_RE.fullmatch(text)
            path = own["path"] if own else text.rstrip(":") if text.endswith(":") else text
            heading = group(path)
            understood += 1
            continue
        heading = None
        entries.append(line)
    return entries, understood


def _context_line(
    text: str, known: set[str], known_lengths: frozenset[int]
) -> tuple[str, int, str] | None:
    # "path-12-text" is ambiguous when the path itself holds "-<digits>-"; only a prefix
    # that is the path of some match line is trusted. Prefixes are cut only at lengths
    # some known path has: cutting at every "-<digits>-" was quadratic in a long line.
    if not known:
        return None
    longest = max(known_lengths)
    for m in _CONTEXT_NUM_RE.finditer(text):
        at = m.start()
        if at > longest:
            break
        if at in known_lengths and text[:at] in known:
            return text[:at], int(m.group(1)), text[m.end() :]
    return None


def _next_is_numbered(lines: list[str], index: int, known: set[str]) -> bool:
    if index + 1 >= len(lines):
        return False
    following = bare(lines[index + 1])
    if _NUMBERED_RE.fullmatch(following) is None:
        return False
    # "12:x = a:3:b" under a heading also looks like an inline match of a file "12:x = a";
    # it is one only if that file is among the inline matches' paths.
    inline = _INLINE_MATCH_RE.fullmatch(following)
    return inline is None or inline["path"] not in known
