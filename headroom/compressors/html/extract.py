"""The main text of an HTML page, with its headings, links, lists, tables and code as text.

Two backends apply the same rules:

- **resiliparse** (``pip install 'headroom-ctx[html]'``): the page is parsed by lexbor (an
  HTML5 parser in C) and rendered by resiliparse's ``extract_plain_text``, about 3x faster.
- **stdlib**: :class:`html.parser.HTMLParser` with the same rules, used when resiliparse is
  not installed (it has no wheels for musl or glibc older than 2.28) or fails on a page.

Rules, measured on real pages (``docs/html.md``):

1. **The main region.** When the page has exactly one ``<main>``, ``role="main"`` or
   ``<article>`` (tried in that order), only that region is kept: documentation generators
   and most sites put the content there and the chrome around it.
2. **Chrome dropped**: ``script``, ``style``, ``template``, ``noscript``, ``svg``, ``nav``,
   ``footer``, forms and their controls; ``aside`` when there is no main region (inside one,
   docutils puts footnotes there); ARIA navigation, banner, contentinfo, search,
   complementary, menu, toolbar and dialog roles; ``aria-hidden`` and ``hidden`` elements;
   ``<header>`` elements without a heading; the class and id names documentation generators
   give their sidebars, breadcrumbs and footers.
3. **Structure as text**: headings as ``#`` lines, links as ``text (url)`` (in-page ``#``
   links as their text, permalink signs such as ``¶`` dropped), list items as ``•`` or
   ``1.`` lines, table rows as lines with cells apart (two tabs), ``<pre>`` as fenced
   blocks, image alt text kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Final, Literal

from headroom._regex import compile_possessive

if TYPE_CHECKING:
    from resiliparse.parse.html import HTMLTree, Node

__all__ = ["Extracted", "extract"]

Backend = Literal["resiliparse", "stdlib"]


def _words(text: str) -> list[str]:
    return text.split()


_ROOTS: Final = ("main", "[role=main]", "article")
_SKIP_TAGS: Final = frozenset(
    _words(
        "script style template noscript svg math canvas iframe object embed nav footer form "
        "button dialog select textarea input head title"
    )
)
_SKIP_ROLES: Final = frozenset(
    _words("navigation banner contentinfo search complementary menu menubar toolbar dialog")
)
# Class and id names of sidebars, breadcrumbs and footers (Sphinx, mdBook, rustdoc, texinfo,
# most site templates). Whole names only: "header" is not here, mdBook's heading links and
# Underscore's function names carry class="header".
_SKIP_CLASSES: Final = frozenset(
    _words(
        "sidebar sphinxsidebar related footer breadcrumb breadcrumbs navbar nav-panel "
        "skip-main-content headerlink"
    )
)
_SKIP_IDS: Final = frozenset(["sidebar", "footer", "header"])
# <aside> outside the main region is a sidebar; inside it, docutils and others put footnotes
# and notes there.
_OUTSIDE_MAIN: Final = "aside"
_SKIP_SELECTORS: Final = (
    *sorted(_SKIP_TAGS - {"head", "title", "input"}),
    *(f"[role={role}]" for role in sorted(_SKIP_ROLES)),
    "[aria-hidden=true]",
    "[hidden]",
    *(f".{name}" for name in sorted(_SKIP_CLASSES)),
    *(f"#{name}" for name in sorted(_SKIP_IDS)),
)
_PERMALINK_SIGNS: Final = frozenset({"", "¶", "§", "#", "🔗", "link"})
_BLANKS_RE = re.compile(r"\n(?:[ \t]*\n)+")
_INDENT_RE = compile_possessive(r"^ ++(?!•|\d+\. )", re.M)  # list items keep their indentation
_TRAILING_RE = re.compile(r"[ \t]+\n")
_SPACES_RE = re.compile(r"(?<=\S) {2,}")
_TABS_RE = re.compile(r" *(\t+) *")


@dataclass(frozen=True, slots=True)
class Extracted:
    """A page's main text and the backend that extracted it."""

    text: str
    backend: Backend


def extract(page: str, *, backend: Backend | None = None) -> Extracted:
    """The main text of ``page``; ``backend`` forces one (default: resiliparse when installed).

    >>> extract('<p>See <a href="https://x.org/a">the docs</a>.</p>', backend="stdlib").text
    'See the docs (https://x.org/a).'
    """
    if backend != "stdlib":
        try:
            return Extracted(_tidy(_resiliparse(page)), "resiliparse")
        except ImportError:
            if backend == "resiliparse":
                raise
        except Exception:  # a page lexbor or the renderer rejects: the stdlib parser tries
            if backend == "resiliparse":
                raise
    return Extracted(_tidy(_stdlib(page)), "stdlib")


def _tidy(text: str) -> str:
    """Runs of spaces inside lines collapsed (outside fenced blocks), blank lines merged."""
    lines = text.replace("\r\n", "\n").replace("\xa0", " ").split("\n")
    fences = [j for j, line in enumerate(lines) if line.startswith("```")]
    out: list[str] = []
    start = 0
    # Lines between an odd fence and the next one are code and stay as they are.
    for opening, closing in zip(fences[::2], [*fences[1::2], len(lines)], strict=False):
        out.append(_prose("\n".join(lines[start:opening])))
        out.append("\n".join(lines[opening : closing + 1]))
        start = closing + 1
    if start < len(lines):
        out.append(_prose("\n".join(lines[start:])))
    text = "\n".join(out) + "\n"
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_RE.sub("\n", text)
    return _BLANKS_RE.sub("\n\n", text).strip()


def _prose(text: str) -> str:
    # Each pattern only where its literal occurs: a substring test is far cheaper than a scan.
    if text.startswith(" ") or "\n " in text:
        text = _INDENT_RE.sub("", text)
    if "  " in text:
        text = _SPACES_RE.sub(" ", text)
    if "\t" in text:
        text = _TABS_RE.sub(r"\1", text)
    return text


# -- resiliparse -----------------------------------------------------------------------------


def _resiliparse(page: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(page)
    body = tree.body
    skip = [*_SKIP_SELECTORS, _OUTSIDE_MAIN]
    if body is None:
        return extract_plain_text(tree, links=True, skip_elements=skip)
    for selector in _ROOTS:
        # .values(): iterating the node list itself costs a lookup per item (quadratic).
        found = body.query_selector_all(selector).values()
        if len(found) == 1:
            body.replace_children(found[0])
            skip.remove(_OUTSIDE_MAIN)
            break
    for header in body.query_selector_all("header").values():
        if header.query_selector("h1, h2, h3, h4, h5, h6") is None:
            header.decompose()
    for link in body.query_selector_all('a[href^="#"]').values():
        if (link.text or "").strip() in _PERMALINK_SIGNS:
            link.decompose()
        else:
            link.replace_with(*link.child_nodes.values())
    for level in range(1, 7):
        for heading in body.query_selector_all(f"h{level}").values():
            heading.prepend(_text_node(tree, "#" * level + " "))
    for pre in body.query_selector_all("pre").values():
        pre.prepend(_text_node(tree, "```\n"))
        pre.append(_text_node(tree, "\n```"))
    # Paragraphs inside table cells would break a row into one line per cell. Asked only when
    # there are cells: the descendant selector walks every div's ancestors (quadratic in the
    # nesting depth of 10,000 unclosed <div>s), and finds nothing without a cell anyway.
    if body.query_selector("td, th") is not None:
        for block in body.query_selector_all("td p, th p, td div, th div").values():
            block.replace_with(_text_node(tree, " "), *block.child_nodes.values())
    return extract_plain_text(tree, preserve_formatting=True, links=True, skip_elements=skip)


def _text_node(tree: HTMLTree, text: str) -> Node:
    node = tree.create_text_node(text)
    if node is None:
        raise ValueError("resiliparse could not create a text node")
    return node


# -- stdlib fallback -------------------------------------------------------------------------

_VOID: Final = frozenset(
    _words("area base br col embed hr img input link meta param source track wbr")
)
_BLOCKS: Final = frozenset(
    _words(
        "address article blockquote body dd details dl div dt fieldset figcaption figure h1 h2 h3 "
        "h4 h5 h6 header hr html li main ol p pre section summary table tr ul"
    )
)
_ROOT_RES: Final = (
    re.compile(r"<main[\s>]", re.I),
    re.compile(r"""<[a-z][^>]*\srole\s*=\s*["']?main["'\s>]""", re.I),
    re.compile(r"<article[\s>]", re.I),
)
_HEADINGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LINES: Final = frozenset({"li", "tr", "dd", "dt", "br"})
_SPACE_RE = re.compile(r"\s+")


def _stdlib(page: str) -> str:
    root = next(
        (index for index, pattern in enumerate(_ROOT_RES) if len(pattern.findall(page)) == 1),
        None,
    )
    parser = _TextParser(root)
    parser.feed(page)
    parser.close()
    if root is not None and not parser.root_seen:
        parser = _TextParser(None)  # the regex saw a root the parser did not (inside a comment)
        parser.feed(page)
        parser.close()
    return parser.text()


class _TextParser(HTMLParser):
    """Renders the rules above from parser events; skipped regions are tracked by depth."""

    def __init__(self, root: int | None) -> None:
        super().__init__(convert_charrefs=True)
        self._root = root
        self.root_seen = False
        self._root_done = False
        self._stack: list[str] = []
        self._inside_root = 0 if root is not None else -1  # stack depth of the root, or -1
        self._skip = 0  # stack depth of the outermost skipped element, or 0
        self._pre = 0
        self._lists: list[int] = []  # per open list: the next item number, or 0 when unordered
        self._fresh_item = False  # a bullet was just written: no line break before its text
        self._links: list[tuple[int, str | None]] = []  # (output length at start, href)
        self._out: list[str] = []
        self._pending = 0  # line breaks owed before the next text
        self._cells = 0
        self._in_cell = 0  # stack depth of the open table cell, or 0

    def text(self) -> str:
        """The rendered text."""
        return "".join(self._out)

    def _muted(self) -> bool:
        return bool(self._skip) or self._inside_root == 0

    def _break(self, lines: int) -> None:
        if self._in_cell:
            if self._out and not self._muted():
                self._out.append(" ")  # a row stays on one line
            return
        if not self._muted() and not self._fresh_item:
            self._pending = max(self._pending, lines)

    def _emit(self, text: str) -> None:
        if self._muted():
            return
        if self._pending:
            if self._out:
                self._out.append("\n" * self._pending)
            self._pending = 0
        self._out.append(text)
        self._fresh_item = False

    def _is_root(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if self._root_done:
            return False
        if self._root == 0:
            return tag == "main"
        if self._root == 1:
            return (attrs.get("role") or "").strip().lower() == "main"
        return tag == "article"

    def _skipped(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if tag in _SKIP_TAGS or "hidden" in attrs:
            return True
        if tag == _OUTSIDE_MAIN and self._inside_root <= 0:
            return True
        if (attrs.get("role") or "").strip().lower() in _SKIP_ROLES:
            return True
        if (attrs.get("aria-hidden") or "").strip().lower() == "true":
            return True
        classes = set((attrs.get("class") or "").split())
        return bool(classes & _SKIP_CLASSES) or (attrs.get("id") or "") in _SKIP_IDS

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag in _VOID:
            self._void(tag, named)
            return
        self._stack.append(tag)
        depth = len(self._stack)
        if self._inside_root == 0 and self._is_root(tag, named):
            self._inside_root = depth
            self.root_seen = True
        if not self._skip and self._skipped(tag, named):
            self._skip = depth
            return
        if tag in _BLOCKS:
            self._break(1 if tag in _LINES else 2)
        if tag in _HEADINGS:
            self._emit("#" * int(tag[1]) + " ")
        elif tag == "pre":
            self._pre += 1
            self._emit("```\n")
        elif tag in ("ul", "ol"):
            self._lists.append(1 if tag == "ol" else 0)
        elif tag == "li":
            number = self._lists[-1] if self._lists else 0
            if number:
                self._lists[-1] += 1
            indent = "  " * len(self._lists)
            self._emit(f"{indent}{number}. " if number else f"{indent}• ")
            self._fresh_item = not self._muted()
        elif tag == "tr":
            self._cells = 0
        elif tag in ("td", "th"):
            if self._cells:
                self._emit("\t\t")
            self._cells += 1
            self._in_cell = self._in_cell or depth
        elif tag == "a":
            self._links.append((len(self._out), named.get("href")))

    def _void(self, tag: str, named: dict[str, str | None]) -> None:
        if self._skipped(tag, named):
            return
        if tag == "br":
            self._emit("\n")
        elif tag == "hr":
            self._break(2)
        elif tag == "img" and (alt := (named.get("alt") or "").strip()):
            self._emit(" " + alt + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._stack:
            return  # a stray end tag
        while self._stack:
            open_tag = self._stack.pop()
            self._close(open_tag)
            if open_tag == tag:
                break

    def _close(self, tag: str) -> None:
        depth = len(self._stack) + 1
        if self._skip == depth:
            self._skip = 0
            return
        if self._inside_root == depth:
            self._inside_root = 0
            self._root_done = True  # one root only: nothing after it is emitted
            return
        if self._in_cell == depth:
            self._in_cell = 0
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
            self._emit("\n```")
        elif tag in ("ul", "ol") and self._lists:
            self._lists.pop()
        elif tag == "a" and self._links:
            start, href = self._links.pop()
            self._close_link(start, (href or "").strip())
        if tag in _BLOCKS:
            self._break(1 if tag in _LINES else 2)

    def _close_link(self, start: int, href: str) -> None:
        if self._muted():
            return
        label = "".join(self._out[start:]).strip()
        if href.startswith("#") and label in _PERMALINK_SIGNS:
            del self._out[start:]
        elif href and not href.startswith(("#", "javascript:")) and label:
            self._emit(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self._pre:
            self._emit(data)
        elif data.strip():
            self._emit(_SPACE_RE.sub(" ", data))
        elif data and self._out and not self._pending and not self._fresh_item:
            self._emit(" ")

    def close(self) -> None:
        super().close()
        while self._stack:
            self._close(self._stack.pop())
