"""Find function bodies in a syntax tree and render the file with some of them elided.

Function and method bodies are elided; everything outside them (imports, header comments,
type declarations with their fields, signatures with decorators, top-level constants) is
copied byte for byte, except documentation: a comment block of three or more lines right
above an elided function is cut to its first line of text, as Python's docstrings are, and
long documentation outside function bodies (:class:`Note`: Python class docstrings, comment
blocks at module, class or type level) is cut to its first line and a marker. The file's
first comment block and its module docstring stay whole. Bodies never nest here because
the walk does not descend into one: a nested function goes (or stays) with the body around it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from headroom.compressors.code.languages import LanguageSpec
from headroom.handles import format_marker

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

__all__ = ["Body", "Doc", "Edit", "Note", "Outline", "apply", "outline", "plan", "render"]

# C/C++ declarator chains end in one of these; its text is the function's name.
_NAME_LEAVES = frozenset(
    {
        "identifier",
        "field_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "template_function",
        "template_method",
    }
)
# An anonymous function takes the name it is bound to: `const f = () => {}`, `{f: () => {}}`.
_NAMING_PARENTS = {
    "variable_declarator": "name",
    "pair": "key",
    "assignment_expression": "left",
    "public_field_definition": "name",
    "field_definition": "property",
    "let_declaration": "pattern",
}
_MAX_NAME = 80
# What may stand between a function and the comment above it.
_WRAPPERS = frozenset({"export_statement", "template_declaration", "decorated_definition"})
_ATTRIBUTES = frozenset({"attribute_item", "decorator"})
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_SHORT_COMMENT_LINES = 2
_DIRECTIVES = (b"//go:", b"// +build", b"//nolint", b"eslint", b"@ts-", b"NOLINT", b"clang-format")
# Python comments that tools read: left whole.
_PY_DIRECTIVES = (b"type:", b"noqa", b"pragma", b"fmt:", b"pylint", b"mypy", b"-*-", b"isort")
# Documentation outside bodies is cut from this many lines (a marker costs about 2 lines).
_NOTE_LINES = 4
# A comment run followed by one of these (no blank line) is a function's: see `Body.doc`.
_FUNCTION_ANCHORS = _WRAPPERS | _ATTRIBUTES
_COMMENT_OPENER_RE = re.compile(rb"/\*\*?|//[/!]?")
# Comment syntax at the start of a line: `//`, `///`, `/**`, ` * `, and a closing `*/`.
_COMMENT_TEXT_RE = re.compile(rb"^\s*(?:/\*+!?|//+!?|\*+(?!/))|\*+/\s*$")


@dataclass(frozen=True, slots=True)
class Doc:
    """A comment block above a function, and the one line that replaces it.

    Attributes:
        start: first byte of the first comment.
        end: byte after the last comment.
        first_line: its first line, 1-based.
        last_line: its last line, 1-based.
        line: the replacement: the first line of text, as a comment of the same style.
    """

    start: int
    end: int
    first_line: int
    last_line: int
    line: bytes


@dataclass(frozen=True, slots=True)
class Body:
    """One function body that may be elided.

    Attributes:
        name: the function's name, or ``"anonymous function"``.
        start: first byte replaced (Python: the colon; else the opening brace).
        end: byte after the body.
        first_line: first elided line, 1-based.
        last_line: last elided line, 1-based.
        indent: Python only: the body's indentation.
        docstring: Python only: the line kept in place of the docstring, or empty.
        doc: C family: the comment above the function, cut to its first line when the body
            goes.
    """

    name: str
    start: int
    end: int
    first_line: int
    last_line: int
    indent: bytes = b""
    docstring: bytes = b""
    doc: Doc | None = None

    @property
    def lines(self) -> int:
        """How many source lines the body spans."""
        return self.last_line - self.first_line + 1


@dataclass(frozen=True, slots=True)
class Note:
    """Long documentation outside function bodies that may be cut to its first line.

    Rendered as ``head + marker + tail`` in place of ``source[start:end]``.

    Attributes:
        start: first byte replaced.
        end: byte after the last byte replaced.
        first_line: first line the marker names, 1-based.
        last_line: last line the marker names, 1-based.
        head: what comes before the marker (the kept first line, the comment syntax).
        tail: what comes after it (`` */``, a newline a grammar counted in the comment).
        text: the whole comment or docstring, for matching the query.
        owner: the class whose docstring it is, or empty.
    """

    start: int
    end: int
    first_line: int
    last_line: int
    head: bytes
    tail: bytes
    text: str
    owner: str = ""

    @property
    def lines(self) -> int:
        """How many source lines the marker names."""
        return self.last_line - self.first_line + 1


@dataclass(frozen=True, slots=True)
class Outline:
    """What the walk found: every outermost body, the symbol names outside bodies, and the
    long documentation outside bodies."""

    bodies: tuple[Body, ...]
    symbols: tuple[str, ...]
    notes: tuple[Note, ...] = ()


class _Place(NamedTuple):
    """A node with where the walk found it: its parent's children (it is ``siblings[at]``)
    and its parent's place. tree-sitter's ``parent`` and ``prev_sibling`` search from the
    root and through the siblings on every call, which made the walk quadratic in nesting
    depth and in the number of top-level functions."""

    node: Node
    siblings: list[Node]
    at: int
    up: _Place | None


def outline(tree: Tree, source: bytes, spec: LanguageSpec) -> Outline:
    """Walk ``tree`` (parsed from ``source``) without entering function bodies."""
    bodies: list[Body] = []
    symbols: list[str] = []
    notes: list[Note] = []
    header = _header_end(tree.root_node, spec)
    stack: list[_Place] = [_Place(tree.root_node, [tree.root_node], 0, None)]
    # An explicit stack: generated code nests deeper than Python's recursion limit.
    while stack:
        place = stack.pop()
        node = place.node
        kind = node.type
        if kind in spec.functions:
            body = node.child_by_field_name("body")
            name = _function_name(place, source)
            # Anonymous functions (IIFEs, callbacks at module level) are walked like a module:
            # eliding one would hide every named function inside it.
            if body is not None and body.type in spec.bodies and name:
                symbols.append(name)
                if spec.python:
                    found = _python_body(node, body, source, name)
                else:
                    found = Body(
                        name,
                        body.start_byte,
                        body.end_byte,
                        body.start_point.row + 1,
                        body.end_point.row + 1,
                        doc=_leading_comment(place, source),
                    )
                if found is not None:
                    bodies.append(found)
                continue
        elif kind in spec.declarations:
            name_node = node.child_by_field_name("name")
            if name_node is not None:
                symbols.append(_text(name_node, source))
                if spec.python:
                    docstring = _class_docstring(node, source, _text(name_node, source))
                    if docstring is not None:
                        notes.append(docstring)
        children = node.children
        notes.extend(_comment_notes(children, source, spec, header))
        stack.extend(_Place(children[i], children, i, place) for i in range(len(children))[::-1])
    bodies.sort(key=lambda b: b.start)
    notes.sort(key=lambda n: n.start)
    return Outline(tuple(bodies), tuple(dict.fromkeys(symbols)), tuple(notes))


Edit = tuple[int, int, bytes]
"""``source[start:end]`` is replaced by the bytes."""


def plan(
    source: bytes,
    elide: Iterable[Body],
    spec: LanguageSpec,
    handle: str,
    notes: Iterable[Note] = (),
) -> list[Edit]:
    """The edits, sorted, that replace each body in ``elide`` (sorted, non-overlapping) by a
    marker and cut its leading comment to one line, and cut each of ``notes`` to its first
    line and a marker (a note overlapping anything else is left whole)."""
    edits: list[Edit] = []
    for body in elide:
        if body.doc is not None:
            edits.append((body.doc.start, body.doc.end, body.doc.line))
        edits.append((body.start, body.end, _placeholder(body, spec, handle)))
    taken = _Spans([(start, end) for start, end, _ in edits])
    for note in notes:
        if taken.overlaps(note.start, note.end):
            continue  # never seen: the walk finds notes outside bodies and their comments
        summary = f"lines {note.first_line}–{note.last_line}"
        marker = format_marker(note.lines, "lines", handle, summary=summary).encode()
        edits.append((note.start, note.end, note.head + marker + note.tail))
    edits.sort(key=lambda edit: edit[0])
    return edits


def apply(source: bytes, edits: Iterable[Edit]) -> bytes:
    """``source`` with ``edits`` (sorted, from :func:`plan`) made."""
    out: list[bytes] = []
    position = 0
    for start, end, replacement in edits:
        out.append(source[position:start])
        out.append(replacement)
        position = end
    out.append(source[position:])
    return b"".join(out)


def render(
    source: bytes,
    elide: Iterable[Body],
    spec: LanguageSpec,
    handle: str,
    notes: Iterable[Note] = (),
) -> bytes:
    """``source`` with the edits :func:`plan` makes."""
    return apply(source, plan(source, elide, spec, handle, notes))


class _Spans:
    """Byte ranges, asked whether a range overlaps any of them in O(log n): a scan per note
    made rendering quadratic in files with thousands of bodies and comment blocks."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self._starts = [start for start, _ in spans]
        # The largest end among the spans sorted up to each one.
        self._reach = list(accumulate((end for _, end in spans), max))

    def overlaps(self, start: int, end: int) -> bool:
        """Whether some span ``(s, e)`` has ``s < end`` and ``start < e``."""
        before = bisect_left(self._starts, end)  # the spans with s < end
        return before > 0 and self._reach[before - 1] > start


def _placeholder(body: Body, spec: LanguageSpec, handle: str) -> bytes:
    # The name is on the signature right above; the marker only says where the body was.
    summary = f"lines {body.first_line}–{body.last_line}"
    if body.doc is not None:
        summary += f", comment lines {body.doc.first_line}–{body.doc.last_line}"
    marker = format_marker(body.lines, "lines", handle, summary=summary).encode()
    if spec.python:
        indent = body.indent
        doc = indent + body.docstring + b"\n" if body.docstring else b""
        return b":\n" + doc + indent + b"# " + marker + b"\n" + indent + b"..."
    return b"{ /* " + marker + b" */ }"


def _text(node: Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _clean_name(name: str) -> str:
    # The name lands inside a comment and a marker: nothing may end either early.
    name = " ".join(name.split())
    for bad in ("*/", "/*", "]", "·"):
        name = name.replace(bad, " ")
    return name[:_MAX_NAME]


def _function_name(place: _Place, source: bytes) -> str:
    node = place.node
    name = node.child_by_field_name("name")
    if name is None:
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type not in _NAME_LEAVES:
            declarator = declarator.child_by_field_name("declarator")
        name = declarator
    if name is None and place.up is not None:
        parent = place.up.node
        field = _NAMING_PARENTS.get(parent.type)
        name = parent.child_by_field_name(field) if field else None
    return _clean_name(_text(name, source)) if name is not None else ""


def _python_body(function: Node, block: Node, source: bytes, name: str) -> Body | None:
    colon = None
    for child in function.children:
        if child.start_byte >= block.start_byte:
            break
        if child.type == ":":
            colon = child
    statements = [c for c in block.named_children if c.type != "comment"]
    if colon is None or not statements:
        return None
    line_start = source.rfind(b"\n", 0, block.start_byte) + 1
    indent = source[line_start : block.start_byte]
    if line_start <= colon.end_byte or indent.strip(b" \t"):
        return None  # body on the signature's line: a one-liner, nothing to gain
    first = statements[0]
    docstring = b""
    if first.type == "expression_statement" and first.named_child_count == 1:
        string = first.named_children[0]
        if string.type == "string":
            docstring = _docstring_line(string, source)
    return Body(
        name or "anonymous function",
        colon.start_byte,
        block.end_byte,
        colon.start_point.row + 2,  # comments before the first statement go too
        block.end_point.row + 1,
        indent,
        docstring,
    )


def _docstring_line(string: Node, source: bytes) -> bytes:
    raw = source[string.start_byte : string.end_byte]
    if b"\n" not in raw:
        return raw
    opener = string.children[0] if string.children else None
    start = source[opener.start_byte : opener.end_byte] if opener is not None else b""
    prefix = start.rstrip(b"'\"")
    quote = start[len(prefix) :]
    line = next((ln.strip() for ln in raw[len(start) :].split(b"\n") if ln.strip()), b"")
    line = line.removesuffix(quote).strip()
    if not line:
        return b""
    closes = quote[:1] and (line.endswith(quote[:1]) or quote in line)
    if len(quote) == 3 and b"f" not in prefix.lower() and not closes and not line.endswith(b"\\"):
        return start + line + quote
    # Any doubt about re-quoting it: keep the line as a comment, which always parses.
    return b"# " + line


def _leading_comment(function: _Place, source: bytes) -> Doc | None:
    anchor = function
    while anchor.up is not None and anchor.up.node.type in _WRAPPERS:
        anchor = anchor.up
    siblings, index = anchor.siblings, anchor.at

    def before(i: int) -> Node | None:
        return siblings[i - 1] if i > 0 else None

    sibling = before(index)
    row = anchor.node.start_point.row
    while sibling is not None and sibling.type in _ATTRIBUTES:
        row = sibling.start_point.row
        index -= 1
        sibling = before(index)
    comments: list[Node] = []
    # Only comments touching the function (no blank line between) are its documentation.
    while sibling is not None and sibling.type in _COMMENTS and sibling.end_point.row + 1 >= row:
        comments.append(sibling)
        row = sibling.start_point.row
        index -= 1
        sibling = before(index)
    # A comment sharing its first row with code before it belongs to that code.
    while (
        comments and sibling is not None and sibling.end_point.row == comments[-1].start_point.row
    ):
        sibling = comments.pop()
    if not comments:
        return None
    first, last = comments[-1], comments[0]
    if last.end_point.row - first.start_point.row + 1 <= _SHORT_COMMENT_LINES:
        return None
    text = source[first.start_byte : last.end_byte]
    first_text = _first_text(text)
    if first_text is None:
        return None
    style, line = first_text
    replacement = (
        (style + b" " + line + b" */") if style.startswith(b"/*") else (style + b" " + line)
    )
    # Some grammars (Rust) end a line comment after its newline; the newline must stay, or
    # the next line (`#[inline]`) would become part of the comment.
    newline = source[last.end_byte - 1 : last.end_byte] == b"\n"
    return Doc(
        first.start_byte,
        last.end_byte,
        first.start_point.row + 1,
        last.end_point.row + (0 if newline else 1),
        replacement + b"\n" if newline else replacement,
    )


def _first_text(text: bytes) -> tuple[bytes, bytes] | None:
    """A C-family comment block's opener (``//``, ``/**`` …) and first line of text, or
    ``None`` when it has no text or holds a directive (`//go:noinline`, lint pragmas)."""
    if any(directive in text for directive in _DIRECTIVES):
        return None
    opener = _COMMENT_OPENER_RE.match(text)
    lines = (_COMMENT_TEXT_RE.sub(b"", ln).strip() for ln in text.split(b"\n"))
    line = next((ln for ln in lines if ln), b"").rstrip(b"\\").replace(b"*/", b"* /").strip()
    if opener is None or not line:
        return None
    return opener.group(), line


def _last_row(node: Node) -> int:
    # Some grammars (Rust) end a line comment after its newline, at column 0 of the next row.
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _line_start(source: bytes, at: int) -> int:
    return source.rfind(b"\n", 0, at) + 1


def _alone_on_its_lines(source: bytes, start: int, end: int) -> bool:
    # Nothing but blanks before `start` and after `end` on their lines.
    if source[_line_start(source, start) : start].strip(b" \t"):
        return False
    if source[end - 1 : end] == b"\n":
        return True
    stop = source.find(b"\n", end)
    return not source[end : len(source) if stop < 0 else stop].strip(b" \t\r")


def _header_end(root: Node, spec: LanguageSpec) -> int:
    """Where the file's header ends: comments before the first code (and, in Python, before
    the first code after the module docstring) are the licence/header and stay whole."""
    docstring_seen = False
    for child in root.named_children:
        if child.type in _COMMENTS:
            continue
        if (
            spec.python
            and not docstring_seen
            and child.type == "expression_statement"
            and child.named_child_count == 1
            and child.named_children[0].type == "string"
        ):
            docstring_seen = True
            continue
        return child.start_byte
    return root.end_byte


def _class_docstring(cls: Node, source: bytes, name: str) -> Note | None:
    """A Python class docstring of ``_NOTE_LINES`` lines or more, as a note keeping its first
    line (re-quoted, or as a comment) and then a marker comment."""
    block = cls.child_by_field_name("body")
    if block is None:
        return None
    statements = [c for c in block.named_children if c.type != "comment"]
    if len(statements) < 2:  # the docstring must not be the class's only statement
        return None
    first = statements[0]
    if first.type != "expression_statement" or first.named_child_count != 1:
        return None
    string = first.named_children[0]
    if string.type != "string" or string.end_point.row - string.start_point.row + 1 < _NOTE_LINES:
        return None
    if not _alone_on_its_lines(source, string.start_byte, string.end_byte):
        return None
    line = _docstring_line(string, source)
    if not line:
        return None
    indent = source[_line_start(source, string.start_byte) : string.start_byte]
    return Note(
        string.start_byte,
        string.end_byte,
        string.start_point.row + 1,
        string.end_point.row + 1,
        line + b"\n" + indent + b"# ",
        b"",
        _text(string, source),
        name,
    )


def _comment_notes(
    children: list[Node], source: bytes, spec: LanguageSpec, header: int
) -> list[Note]:
    """Runs of comments among a node's ``children`` (no blank line between them) long enough
    to cut, outside the file's header and not the documentation of a function."""
    notes: list[Note] = []
    run: list[Node] = []
    for child in [*children, None]:
        if (
            child is not None
            and child.type in _COMMENTS
            and (not run or child.start_point.row == _last_row(run[-1]) + 1)
        ):
            run.append(child)
            continue
        if run:
            note = _comment_note(run, child, source, spec, header)
            if note is not None:
                notes.append(note)
        run = [child] if child is not None and child.type in _COMMENTS else []
    return notes


def _leads_function(node: Node | None, spec: LanguageSpec) -> bool:
    if node is None:
        return False
    if node.type in spec.functions or node.type in _ATTRIBUTES:
        return True
    return node.type in _WRAPPERS and any(c.type in spec.functions for c in node.named_children)


def _comment_note(
    run: list[Node], after: Node | None, source: bytes, spec: LanguageSpec, header: int
) -> Note | None:
    first, last = run[0], run[-1]
    if first.start_byte < header or _last_row(last) - first.start_point.row + 1 < _NOTE_LINES:
        return None
    if not _alone_on_its_lines(source, first.start_byte, last.end_byte):
        return None
    touching = after is not None and after.start_point.row <= _last_row(last) + 1
    if touching and not spec.python and _leads_function(after, spec):
        return None  # a function's documentation: `Body.doc` trims it with the body
    text = source[first.start_byte : last.end_byte]
    if spec.python:
        if any(directive in text for directive in _PY_DIRECTIVES):
            return None
        # Keep lines up to the first with words in it (rules like `# ----` carry none).
        kept = next((i for i, c in enumerate(run) if re.search(rb"\w", _node_bytes(c, source))), 0)
        head = run[kept]
        if _last_row(last) - head.start_point.row < _NOTE_LINES - 1:
            return None
        indent = source[_line_start(source, head.start_byte) : head.start_byte]
        return Note(
            head.end_byte,
            last.end_byte,
            head.start_point.row + 2,
            _last_row(last) + 1,
            b"\n" + indent + b"# ",
            b"",
            text.decode("utf-8", "replace"),
        )
    first_text = _first_text(text)
    if first_text is None:
        return None
    style, line = first_text
    newline = text.endswith(b"\n")
    return Note(
        first.start_byte,
        last.end_byte,
        first.start_point.row + 1,
        _last_row(last) + 1,
        style + b" " + line + b" ",
        (b" */" if style.startswith(b"/*") else b"") + (b"\n" if newline else b""),
        text.decode("utf-8", "replace"),
    )


def _node_bytes(node: Node, source: bytes) -> bytes:
    return source[node.start_byte : node.end_byte]
