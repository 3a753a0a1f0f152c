"""Cut markdown into blocks, byte for byte.

A :class:`Block` is a run of whole lines of one kind: ``heading`` (ATX ``#`` or setext
underlined), ``fence`` (```` ``` ```` or ``~~~`` with its info string; an unclosed fence runs
to the end, as CommonMark says), ``indented`` code, ``list``, ``table``, ``quote``,
``front-matter`` (``---``/``+++`` at the very start), ``html``, ``link-def`` (``[x]: url``),
``rule`` (``***``), ``paragraph`` and ``blank``. ``"".join(b.text for b in blocks)`` is the
input, whatever the input is: the compressor only ever chooses among these exact slices.

The reading is CommonMark's block structure, simplified where the simplification only moves
a boundary between two kinds the compressor treats alike (a lazy continuation line of a list
item, nested containers). Every line is looked at a bounded number of times: one pass, with
each block's end found by walking forward from its start, so the cost is linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["Block", "BlockKind", "fence_spans", "parse"]

BlockKind = Literal[
    "heading",
    "fence",
    "indented",
    "list",
    "table",
    "quote",
    "front-matter",
    "html",
    "link-def",
    "rule",
    "paragraph",
    "blank",
]


@dataclass(frozen=True, slots=True)
class Block:
    """Whole lines of one kind.

    Attributes:
        kind: what the lines are.
        text: the lines exactly as in the input, line ends included.
        level: a heading's level (1-6), else 0.
        info: a fence's info string (``python``, ``js title="x"``), else ``""``.
    """

    kind: BlockKind
    text: str
    level: int = 0
    info: str = ""


_ATX_RE: Final = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")
_FENCE_RE: Final = re.compile(r" {0,3}(`{3,}|~{3,})(.*)$")
_SETEXT_RE: Final = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_RULE_RE: Final = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_RE: Final = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_QUOTE_RE: Final = re.compile(r" {0,3}>")
_LINK_DEF_RE: Final = re.compile(r" {0,3}\[[^\]\n]{1,999}\]:[ \t]*\S")
_TABLE_DELIM_RE: Final = re.compile(
    r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$"
)
_HTML_RE: Final = re.compile(
    r" {0,3}<(?:[A-Za-z][A-Za-z0-9-]*(?:[ \t>/]|$)|/[A-Za-z]|!--|\?|![A-Z])"
)
_HTML_RAW_RE: Final = re.compile(r" {0,3}<(script|pre|style|textarea)(?:[ \t>]|$)", re.I)
_INDENT: Final = 4


def _lines(text: str) -> list[str]:
    """Lines with their ``\\n`` (the last one without, if the text does not end in one)."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _bare(line: str) -> str:
    return line.rstrip("\n").rstrip("\r")


def _blank(line: str) -> bool:
    return not line.strip()


def _indent(line: str) -> int:
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += _INDENT - width % _INDENT
        else:
            break
    return width


def _interrupts(line: str) -> bool:
    """Whether ``line`` starts a block that ends a paragraph (CommonMark: these may)."""
    bare = _bare(line)
    return (
        _ATX_RE.match(bare) is not None
        or _fence_open(bare) is not None
        or _QUOTE_RE.match(bare) is not None
        or _RULE_RE.match(bare) is not None
        or (_LIST_RE.match(bare) is not None and bool(bare.strip(" -*+.)0123456789\t")))
        or _HTML_RE.match(bare) is not None
    )


def _fence_open(bare: str) -> tuple[str, str] | None:
    """(fence, info) when ``bare`` opens a fenced block."""
    m = _FENCE_RE.match(bare)
    if m is None:
        return None
    fence, info = m.group(1), m.group(2)
    if fence[0] == "`" and "`" in info:
        return None  # an inline code span at the start of a line, not a fence
    return fence, info.strip()


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """Index after the closing fence line (or the end when it is never closed)."""
    closer = re.compile(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    for i in range(start + 1, len(lines)):
        if closer.match(_bare(lines[i])):
            return i + 1
    return len(lines)


def fence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the fenced blocks inside ``text`` at any indentation (a list
    item's), each from its opening line to the end of its closing line (or of ``text``).

    >>> fence_spans("- item\\n\\n  ```sh\\n  ls\\n  ```\\n- next\\n")
    [(8, 27)]
    """
    lines = _lines(text)
    stripped = [line.lstrip(" \t") for line in lines]
    spans: list[tuple[int, int]] = []
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    i = 0
    while i < len(lines):
        opened = _fence_open(_bare(stripped[i]))
        if opened is None:
            i += 1
            continue
        end = _fence_end(stripped, i, opened[0])
        spans.append((offsets[i], offsets[end]))
        i = end
    return spans


def _front_matter_end(lines: list[str]) -> int:
    """Index after a front matter block at the top, or 0 when there is none."""
    first = _bare(lines[0]).rstrip() if lines else ""
    if first not in ("---", "+++"):
        return 0
    closers = ("---", "...") if first == "---" else ("+++",)
    for i in range(1, len(lines)):
        line = _bare(lines[i]).rstrip()
        if line in closers:
            return i + 1 if i > 1 else 0
        if _blank(lines[i]) and i == 1:
            return 0  # "---" then a blank line is a rule, not YAML
    return 0


def _html_end(lines: list[str], start: int) -> int:
    bare = _bare(lines[start])
    raw = _HTML_RAW_RE.match(bare)
    if raw is not None or bare.lstrip().startswith("<!--"):
        closer = f"</{raw.group(1).lower()}>" if raw is not None else "-->"
        for i in range(start, len(lines)):
            if closer in lines[i].lower():
                return i + 1
        return len(lines)
    i = start + 1
    while i < len(lines) and not _blank(lines[i]):
        i += 1
    return i


def _is_delimiter_row(line: str) -> bool:
    """A GFM table's second line (``|---|:--:|``); a bare ``---`` is a rule or an underline."""
    return "|" in line and _TABLE_DELIM_RE.match(_bare(line)) is not None


def _run_end(lines: list[str], start: int, keep: re.Pattern[str]) -> int:
    i = start + 1
    while i < len(lines) and not _blank(lines[i]) and keep.match(_bare(lines[i])):
        i += 1
    return i


def _list_end(lines: list[str], start: int) -> int:
    """A list runs over its items, their indented and lazy lines, and single blank lines
    between items (a loose list); it ends at a line that starts another block."""
    i = start + 1
    while i < len(lines):
        line = lines[i]
        bare = _bare(line)
        if _blank(line):
            j = i
            while j < len(lines) and _blank(lines[j]):
                j += 1
            if j < len(lines) and (
                _LIST_RE.match(_bare(lines[j])) is not None or _indent(lines[j]) >= 2
            ):
                i = j
                continue
            return i
        if _LIST_RE.match(bare) is not None or _indent(line) >= 2:
            opened = _fence_open(bare.lstrip())
            if opened is not None:  # a fence inside an item: skip it whole
                i = _fence_end(lines, i, opened[0])
                continue
            i += 1
            continue
        if _interrupts(line):
            return i
        i += 1  # a lazy continuation of the item's paragraph
    return i


def _paragraph_end(lines: list[str], start: int) -> tuple[int, int]:
    """(end, setext level): a paragraph ends at a blank line or a block that may interrupt
    it; an underline of ``=`` or ``-`` under it makes it a heading."""
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if _blank(line):
            return i, 0
        setext = _SETEXT_RE.match(_bare(line))
        if setext is not None:
            return i + 1, 1 if setext.group(1)[0] == "=" else 2
        if _interrupts(line) or (
            "|" in line and i + 1 < len(lines) and _is_delimiter_row(lines[i + 1])
        ):
            return i, 0
        i += 1
    return i, 0


def parse(text: str) -> list[Block]:
    """The blocks of ``text``; their texts joined are ``text``.

    >>> doc = "# Title\\n\\nSome text.\\n```py\\nx = 1\\n```\\n"
    >>> [(b.kind, b.level or b.info) for b in parse(doc)]
    [('heading', 1), ('blank', ''), ('paragraph', ''), ('fence', 'py')]
    """
    lines = _lines(text)
    blocks: list[Block] = []

    def add(kind: BlockKind, start: int, end: int, level: int = 0, info: str = "") -> None:
        blocks.append(Block(kind, "".join(lines[start:end]), level, info))

    i = _front_matter_end(lines)
    if i:
        add("front-matter", 0, i)
    while i < len(lines):
        line = lines[i]
        bare = _bare(line)
        if _blank(line):
            end = i + 1
            while end < len(lines) and _blank(lines[end]):
                end += 1
            add("blank", i, end)
            i = end
            continue
        if _indent(line) >= _INDENT:
            # Indented code only where a paragraph cannot continue (the previous block ended).
            end = i + 1
            while end < len(lines) and (_blank(lines[end]) or _indent(lines[end]) >= _INDENT):
                end += 1
            while end > i + 1 and _blank(lines[end - 1]):
                end -= 1
            add("indented", i, end)
            i = end
            continue
        opened = _fence_open(bare)
        if opened is not None:
            end = _fence_end(lines, i, opened[0])
            add("fence", i, end, info=opened[1])
            i = end
            continue
        atx = _ATX_RE.match(bare)
        if atx is not None:
            add("heading", i, i + 1, level=len(atx.group(1)))
            i += 1
            continue
        if _RULE_RE.match(bare) is not None:
            add("rule", i, i + 1)
            i += 1
            continue
        if _QUOTE_RE.match(bare) is not None:
            end = i + 1
            while end < len(lines) and not _blank(lines[end]):
                end += 1  # quoted lines and their lazy continuations
            add("quote", i, end)
            i = end
            continue
        if _LIST_RE.match(bare) is not None:
            end = _list_end(lines, i)
            add("list", i, end)
            i = end
            continue
        if _HTML_RE.match(bare) is not None:
            end = _html_end(lines, i)
            add("html", i, end)
            i = end
            continue
        if _LINK_DEF_RE.match(bare) is not None:
            end = _run_end(lines, i, _LINK_DEF_RE)
            add("link-def", i, end)
            i = end
            continue
        if "|" in bare and i + 1 < len(lines) and _is_delimiter_row(lines[i + 1]):
            end = i + 2
            while end < len(lines) and not _blank(lines[end]) and "|" in lines[end]:
                end += 1
            add("table", i, end)
            i = end
            continue
        end, level = _paragraph_end(lines, i)
        add("heading" if level else "paragraph", i, end, level=level)
        i = end
    return blocks
