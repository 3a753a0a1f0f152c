"""Whether a text is markdown: prose with markdown structure, not code with ``#`` comments.

Markdown is recognised by structure that other kinds do not have together: headings, fenced
blocks, links, tables, setext underlines, front matter (strong signs) and lists, inline code
and emphasis (weak signs, common in plain text too). Lines outside fenced blocks must read
mostly as prose: a Python or shell file has ``# heading``-shaped comments but its other lines
are code, a log's lines start with timestamps, a diff has hunk headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = ["Evidence", "evidence", "looks_like_markdown"]

_MAX_LINES: Final = 400
_FENCE_RE: Final = re.compile(r" {0,3}(`{3,}|~{3,})")
_ATX_RE: Final = re.compile(r" {0,3}#{1,6}[ \t]+\S")
_SETEXT_RE: Final = re.compile(r" {0,3}(?:={3,}|-{3,})[ \t]*$")
_LINK_RE: Final = re.compile(
    r"!?\[[^\]\n]{1,300}\]\((?:https?://|\.{0,2}/|#|[\w.-]+\.\w)[^)\s]{0,500}\)"
)
_REF_LINK_RE: Final = re.compile(r" {0,3}\[[^\]\n]{1,300}\]:[ \t]*(?:https?://|\.{0,2}/|#)")
_TABLE_RE: Final = re.compile(r" {0,3}\|?[ \t]*:?-{3,}:?[ \t]*\|")
_LIST_RE: Final = re.compile(r" {0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+\S")
_INLINE_RE: Final = re.compile(r"`[^`\n]{1,200}`|\*\*[^*\n]{1,200}\*\*|__[^_\n]{1,200}__")
_WORD_RE: Final = re.compile(r"[A-Za-z][a-z'’]+")
# A word of prose as a whole token: letters, maybe capitalised, with punctuation around.
_PROSE_TOKEN_RE: Final = re.compile(r"[\"'(*_\[“]*[A-Za-z][a-z'’-]*[.,;:!?)\"'*_\]”]*")
# Lines that are code, a log, a diff or a shell script rather than prose.
_CODE_RE: Final = re.compile(
    r"[;{}]\s*$|^\s*(?:def|class|import|from \S+ import|return|if .*:\s*$|elif|else:|for .*:\s*$|"
    r"while|try:|except|with .*:\s*$|fi|done|esac|then|echo|export|local|function|var|let|"
    r"const|public|private|static|package|#include|#define|#!)\b|^\s*[\w.\[\]'\"]+\s*[-+*/]?=\s*\S"
    r"|^\s*@\w|^\s*[\w.]+\(.*\)[,;]?\s*$|[(\[]\s*$|^\s*[)\]]"
)
# Statements at the margin that markdown outside a fence never has: a source file or script.
_STATEMENT_RE: Final = re.compile(
    r"(?:import [\w.]+|from [\w.]+ import |def \w+\(|class \w+[(:]|if __name__|"
    r"package \w+$|func \w+|export (?:default|const|function|class) |function \w+\(|"
    r"#include\b|#define\b|#!/|fi$|done$|esac$|[}\]]\)?;?$|\w+\(\) \{)"
)
_LOG_RE: Final = re.compile(r"^\s*\[?\d{2,4}[-/:.]\d{1,2}[-/:.]\d{1,4}")
_DIFF_RE: Final = re.compile(
    r"^(?:diff --git |@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@|\+\+\+ \S|--- \S)"
)
# reStructuredText: directives, targets and `text <url>`_ links (prose, but not markdown).
_RST_RE: Final = re.compile(
    r"\.\. (?:[\w-]+::|_[^:\n]+:|\|[^|\n]+\|)|.*`[^`\n]+ <[^>\n]+>`__?|.*\w::[ \t]*$"
)
# A superset of the strong signs evidence() looks for (an ATX heading, a fence, a setext
# underline or front-matter delimiter, a table rule, a link or link definition), searched in
# one pass: text with none of them (most logs, code, prose) is ruled out without the
# per-line walk, which costs ~12 ms on 64 KiB of log.
_ANY_STRONG_RE: Final = re.compile(
    r"^ {0,3}(?:#{1,6}[ \t]+\S|`{3,}|~{3,}|(?:={3,}|-{3,}|\+{3})[ \t\r]*$"
    r"|\|?[ \t]*:?-{3,}:?[ \t]*\||\[[^\]\n]{1,300}\]:)|\]\(",
    re.M,
)
_JSON_START_RE: Final = re.compile(r"\s*(?:\{|\[\s*[{\[\"\d\]-])")
_TAG_RE: Final = re.compile(r"^\s*</?[A-Za-z][\w-]*[\s>/]|^\s*[\w:-]+=\"[^\"]*\"[\s/>]*$")


@dataclass(slots=True)
class Evidence:
    """What :func:`looks_like_markdown` counted in a sample (lines outside fenced blocks)."""

    strong: set[str] = field(default_factory=set)
    weak: set[str] = field(default_factory=set)
    outside: int = 0
    prose: int = 0
    code: int = 0
    tags: int = 0
    headings: int = 0
    statements: int = 0
    rst: int = 0
    diff: bool = False


def looks_like_markdown(sample: str) -> bool:
    """Whether ``sample`` (the head of a text) is a markdown document.

    >>> looks_like_markdown("# Install\\n\\nRun this once:\\n\\n```sh\\npip install x\\n```\\n")
    True
    >>> looks_like_markdown("# compute the total\\ntotal = sum(values)\\nprint(total)\\n")
    False
    """
    if _JSON_START_RE.match(sample):
        return False  # JSON whose strings hold markdown (issue bodies) is JSON
    if _ANY_STRONG_RE.search(sample) is None:
        return False  # no strong sign can be found: the answer below would be no
    e = evidence(sample)
    if (
        e.diff  # a diff of markdown files is a diff
        or e.outside == 0
        or e.statements >= 2
        or (e.rst >= 2 and not e.strong & {"fence", "link"})  # markdown may borrow "::"
        or e.code > 0.25 * e.outside
        # HTML with a few markdown-looking lines is HTML; a README may hold as much HTML
        # (badges, <details>) as markdown, with fenced examples between.
        or e.tags > (0.8 if "fence" in e.strong else 0.5) * e.outside
    ):
        return False
    # Prose to read, or a document so structured it needs little (a short README).
    readable = e.prose >= 2 or len(e.strong) >= 2 or e.code == 0
    return readable and bool(e.strong) and len(e.strong) + len(e.weak) >= 2


def evidence(sample: str) -> Evidence:
    """Count the signs of markdown and of other kinds in ``sample``'s first lines."""
    lines = sample.split("\n", _MAX_LINES)[:_MAX_LINES]
    e = Evidence()
    fence: str | None = None
    previous = before_previous = ""
    if lines and lines[0].rstrip() in ("---", "+++") and lines[0].rstrip() in lines[1:40]:
        e.strong.add("front matter")
    comment = False
    for n, line in enumerate(lines):
        if fence is not None:
            if line.lstrip(" ").startswith(fence):
                fence = None
                e.strong.add("fence")
            continue
        if comment or line.lstrip().startswith("<!--"):
            # An HTML comment (a linter directive, a note to editors, a doc test's setup
            # code) is not read: what it holds says nothing of the document's kind.
            comment = "-->" not in (line if comment else line.lstrip()[4:])
            continue
        if not line.strip():
            before_previous = previous = ""
            continue
        opened = _FENCE_RE.match(line)
        if opened is not None:
            fence = opened.group(1)
            continue
        if _DIFF_RE.match(line):
            e.diff = True
            break
        e.outside += 1
        _structure(e, line, previous, before_previous, lines[n + 1] if n + 1 < len(lines) else "")
        _shape(e, line)
        before_previous, previous = previous, line
    if e.headings:
        # Two headings are a document's outline; one may be a comment or a title.
        (e.strong if e.headings >= 2 else e.weak).add("heading")
    return e


def _structure(e: Evidence, line: str, previous: str, before_previous: str, following: str) -> None:
    if _ATX_RE.match(line):
        # A heading stands apart; a comment sits on top of its code or next to others.
        e.headings += not previous and not following.strip()
    elif previous and not before_previous and _SETEXT_RE.match(line) and _WORD_RE.search(previous):
        # An underlined title standing apart (a separator under a log line is not one).
        e.strong.add("setext")
    elif _TABLE_RE.match(line):
        e.strong.add("table")
    elif _LIST_RE.match(line):
        e.weak.add("list")
    if _LINK_RE.search(line) or _REF_LINK_RE.match(line):
        e.strong.add("link")
    if _INLINE_RE.search(line):
        e.weak.add("inline")


def _shape(e: Evidence, line: str) -> None:
    if _TAG_RE.match(line) is not None:
        e.tags += 1  # markup is counted apart: its attributes look like assignments
        return
    e.rst += _RST_RE.match(line) is not None
    e.statements += _STATEMENT_RE.match(line) is not None
    tokens = line.split()
    words = sum(1 for t in tokens if _PROSE_TOKEN_RE.fullmatch(t))
    if words >= 4 and words * 2 >= len(tokens):
        e.prose += 1  # wrapped prose may end in ";" or "(" and still be prose
    elif _LOG_RE.match(line) or (_CODE_RE.search(line) and not _ATX_RE.match(line)):
        e.code += 1
