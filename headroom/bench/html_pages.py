"""``python -m headroom.bench.html_pages``: the ``html`` kind on real pages; extractors compared.

Inputs: the pages in ``tests/fixtures/html`` (documentation pages shipped in Debian packages
and the Rust toolchain: Sphinx, mdBook, rustdoc, texinfo, DocBook, a hand-written page and a
single-page site; see its README). Each page carries a hand annotation below: the element
holding its main content, and the elements that are boilerplate (navigation, sidebars,
footers); ``script``, ``style``, ``noscript``, ``template`` and ``head`` are boilerplate on
every page. From it, with the standard library's parser (no extractor's own):

- ``words``: share of the main content's words (bag of words, ``\\w+``, case-folded) that the
  text keeps; ``heads``: share of its headings (h1–h6) found in the text; ``links``: share of
  its link targets (``href``, in-page ``#`` links left out) found in the text; ``cells``:
  share of its table cells found in the text; ``boiler``: share of the words found only in
  boilerplate that the text still holds (lower is better);
- ``tokens``: tokens of the text over tokens of the pages (o200k_base);
- ``MB/s``: page bytes over the extractor's time, best of three passes over all pages.

The first table is Headroom's extractor with each backend. ``--compare`` adds every candidate
library that is installed (trafilatura, resiliparse's own main-content mode, inscriptis,
readability-lxml + markdownify, jusText, html-text, html2text, markdownify, html-to-markdown;
``pip install`` them into a separate venv). The second table is ``compress_text`` on each
page: tokens before and after with no query, and with a question whose answer is one
sentence of the page (``answer``: that sentence survives).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from headroom.compressors.html.extract import _VOID, extract
from headroom.tokens import get_counter

__all__ = ["PAGES", "Gold", "Page", "Quality", "gold", "main", "score"]

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "html"

Matcher = tuple[str, str | None, str | None]  # (tag, attribute, value); class matches a token


@dataclass(frozen=True, slots=True)
class Page:
    """A fixture page: where its main content is, what is boilerplate, a question on it."""

    main: Matcher
    boilerplate: tuple[Matcher, ...]
    query: str
    answer: str


PAGES: dict[str, Page] = {
    "python_json.html": Page(
        ("div", "role", "main"),
        (
            ("div", "class", "mobile-nav"),
            ("div", "class", "related"),
            ("div", "class", "sphinxsidebar"),
            ("div", "class", "footer"),
        ),
        "What happens to dictionaries when sort_keys is true?",
        "then the output of dictionaries will be sorted by key",
    ),
    "black_the_basics.html": Page(
        ("div", "role", "main"),
        (("div", "class", "sphinxsidebar"), ("div", "class", "footer")),
        "Which exit code does Black return when some files would be reformatted?",
        "code 1 if some files would be reformatted",
    ),
    "rustc_platform_support.html": Page(
        ("main", None, None),
        (
            ("div", "id", "mdbook-help-container"),
            ("nav", "id", "mdbook-sidebar"),
            ("div", "id", "mdbook-menu-bar"),
            ("nav", "class", "nav-wrapper"),
            ("nav", "class", "nav-wide-wrapper"),
        ),
        "Which target is ARM64 Linux with musl?",
        "aarch64-unknown-linux-musl",
    ),
    "rust_std_option.html": Page(
        ("section", "id", "main-content"),
        (
            ("nav", "class", "sidebar"),
            ("rustdoc-topbar", None, None),
            ("a", "class", "skip-main-content"),
            ("rustdoc-toolbar", None, None),
        ),
        "What does the inspect method do with the contained value?",
        "method takes ownership of the Option",
    ),
    "libffi_primitive_types.html": Page(
        ("div", "class", "subsection"),
        (("div", "class", "header"),),
        "Is the long double type defined on every platform?",
        "On platforms that have a C long double type, this is defined",
    ),
    "underscore_index.html": Page(
        ("div", "class", "container"),
        (("div", "id", "sidebar"),),
        "How does debounce postpone the execution of a function?",
        "Creates and returns a new debounced version of the passed function",
    ),
    "base_passwd_users_and_groups.html": Page(
        ("body", None, None),
        (),
        "Which user and group do daemons that need not own any files run as?",
        "Daemons that need not own any files sometimes run as user nobody",
    ),
    "zlib_how.html": Page(
        ("body", None, None),
        (),
        "Why does inflate not need to check for Z_BUF_ERROR?",
        "Z_BUF_ERROR does not need to be checked for here",
    ),
}
_ALWAYS: tuple[Matcher, ...] = (
    ("script", None, None),
    ("style", None, None),
    ("noscript", None, None),
    ("template", None, None),
    ("head", None, None),
)
_WORD_RE = re.compile(r"\w+")
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")  # markdown escapes some outputs add


@dataclass(slots=True)
class Gold:
    """What the annotation says a page's main content holds."""

    words: Counter[str] = field(default_factory=Counter)
    boilerplate: set[str] = field(default_factory=set)
    headings: list[str] = field(default_factory=list)
    links: set[str] = field(default_factory=set)
    cells: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Quality:
    """Scores of one text against its page's :class:`Gold` (``None``: the page has none)."""

    words: float
    boilerplate: float
    headings: float | None
    links: float | None
    cells: float | None


def normalise(text: str) -> str:
    """Case-folded, whitespace-collapsed, markdown escapes and permalink signs removed."""
    return " ".join(_ESCAPE_RE.sub(r"\1", text).replace("¶", " ").replace("§", " ").split()).lower()


class _GoldParser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self._page = page
        self._stack: list[tuple[str, str]] = []  # (tag, role: main/boilerplate/heading/cell/"")
        self.main_text: list[str] = []
        self.boiler_text: list[str] = []
        self.gold = Gold()
        self._capture: list[list[str]] = []

    @staticmethod
    def _matches(tag: str, attrs: dict[str, str | None], matcher: Matcher) -> bool:
        want_tag, attr, value = matcher
        if tag != want_tag:
            return False
        if attr is None:
            return True
        got = attrs.get(attr) or ""
        return value in got.split() if attr == "class" else got == value

    def _roles(self) -> set[str]:
        return {role for _, role in self._stack}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        roles = self._roles()
        role = ""
        if "boiler" not in roles and any(
            self._matches(tag, named, m) for m in (*self._page.boilerplate, *_ALWAYS)
        ):
            role = "boiler"
        elif "main" not in roles and self._matches(tag, named, self._page.main):
            role = "main"
        elif "main" in roles and "boiler" not in roles:
            href = (named.get("href") or "").strip()
            if tag == "a" and href and not href.startswith(("#", "javascript:")):
                self.gold.links.add(href)
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "td", "th"):
                role = "heading" if tag.startswith("h") else "cell"
                self._capture.append([])
        if tag not in _VOID:
            self._stack.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _ in self._stack):
            return
        while self._stack:
            open_tag, role = self._stack.pop()
            if role in ("heading", "cell") and self._capture:
                text = normalise("".join(self._capture.pop()))
                if text:
                    (self.gold.headings if role == "heading" else self.gold.cells).append(text)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        roles = self._roles()
        if "boiler" in roles:
            self.boiler_text.append(data)
        elif "main" in roles:
            self.main_text.append(data)
            for parts in self._capture:
                parts.append(data)


def gold(html: str, page: Page) -> Gold:
    """The annotation of ``page`` applied to its HTML."""
    parser = _GoldParser(page)
    parser.feed(html)
    parser.close()
    result = parser.gold
    result.words = Counter(w.lower() for w in _WORD_RE.findall(" ".join(parser.main_text)))
    boiler = {w.lower() for w in _WORD_RE.findall(" ".join(parser.boiler_text))}
    result.boilerplate = boiler - set(result.words)
    return result


def score(reference: Gold, text: str) -> Quality:
    """How much of ``reference`` the extracted ``text`` keeps."""
    flat = normalise(text)
    found = Counter(_WORD_RE.findall(flat))
    total = sum(reference.words.values()) or 1
    words = sum(min(n, found[w]) for w, n in reference.words.items()) / total
    boiler = sum(1 for w in reference.boilerplate if w in found) / max(
        1, len(reference.boilerplate)
    )

    def share(items: list[str] | set[str], haystack: str) -> float | None:
        return sum(1 for item in items if item in haystack) / len(items) if items else None

    return Quality(
        words,
        boiler,
        share(reference.headings, flat),
        share(reference.links, text),
        share(reference.cells, flat),
    )


# -- extractors ------------------------------------------------------------------------------

Extractor = Callable[[str], str]


def _headroom(backend: str) -> Extractor:
    def run(html: str) -> str:
        return extract(html, backend=backend).text  # type: ignore[arg-type]

    return run


def _candidates() -> dict[str, Extractor]:  # pragma: no cover - optional libraries
    """Every candidate library that is installed, each with its most faithful settings."""
    found: dict[str, Extractor] = {}
    try:
        import trafilatura

        found["trafilatura (markdown, links, tables)"] = lambda h: (
            trafilatura.extract(
                h,
                output_format="markdown",
                include_links=True,
                include_tables=True,
                include_formatting=True,
                favor_recall=True,
            )
            or ""
        )
    except ImportError:
        pass
    try:
        from resiliparse.extract.html2text import extract_plain_text

        found["resiliparse main_content=True"] = lambda h: extract_plain_text(
            h, preserve_formatting=True, main_content=True, links=True
        )
        found["resiliparse whole page"] = lambda h: extract_plain_text(
            h, preserve_formatting=True, links=True
        )
    except ImportError:
        pass
    try:
        from inscriptis import get_text
        from inscriptis.model.config import ParserConfig

        found["inscriptis (links)"] = lambda h: get_text(h, ParserConfig(display_links=True))
    except ImportError:
        pass
    try:
        from markdownify import markdownify
        from readability import Document

        found["readability-lxml + markdownify"] = lambda h: markdownify(
            Document(h).summary(html_partial=True)
        )
        found["markdownify"] = lambda h: markdownify(h, strip=["script", "style"])
    except ImportError:
        pass
    try:
        import justext

        def _justext(h: str) -> str:
            paragraphs = justext.justext(
                h.encode(), justext.get_stoplist("English"), encoding="utf-8"
            )
            return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)

        found["jusText"] = _justext
    except ImportError:
        pass
    try:
        import html_text

        found["html-text"] = lambda h: html_text.extract_text(h, guess_layout=True)
    except ImportError:
        pass
    try:
        import html2text

        def _html2text(h: str) -> str:
            converter = html2text.HTML2Text()
            converter.body_width = 0
            return str(converter.handle(h))

        found["html2text"] = _html2text
    except ImportError:
        pass
    try:
        import html_to_markdown

        def _htm(h: str) -> str:
            out = html_to_markdown.convert(h)
            return out if isinstance(out, str) else str(getattr(out, "content", out))

        found["html-to-markdown"] = _htm
    except ImportError:
        pass
    return found


def _extractors(compare: bool) -> dict[str, Extractor]:
    found: dict[str, Extractor] = {}
    try:
        extract("<p>x</p>", backend="resiliparse")
        found["headroom (resiliparse)"] = _headroom("resiliparse")
    except ImportError:
        print("resiliparse is not installed: pip install 'headroom-ctx[html]'", file=sys.stderr)
    found["headroom (stdlib fallback)"] = _headroom("stdlib")
    if compare:
        found.update(_candidates())
    return found


def _mean(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{sum(known) / len(known):.2f}" if known else "-"


def _quality_table(pages: dict[str, str], compare: bool) -> None:
    count = get_counter()
    golds = {name: gold(html, PAGES[name]) for name, html in pages.items()}
    size = sum(len(html.encode()) for html in pages.values())
    tokens_in = sum(count(html) for html in pages.values())
    print(
        f"{'extractor':40} {'words':>6} {'heads':>6} {'links':>6} {'cells':>6} "
        f"{'boiler':>7} {'tokens':>7} {'MB/s':>6}"
    )
    for name, run in _extractors(compare).items():
        for html in list(pages.values())[:1]:
            run(html)  # imports and caches outside the timing
        best = float("inf")
        outputs: dict[str, str] = {}
        for _ in range(3):
            start = time.perf_counter()
            for page, html in pages.items():
                outputs[page] = run(html)
            best = min(best, time.perf_counter() - start)
        scores = [score(golds[p], outputs[p]) for p in pages]
        tokens_out = sum(count(text) for text in outputs.values())
        print(
            f"{name:40} {_mean([s.words for s in scores]):>6} "
            f"{_mean([s.headings for s in scores]):>6} {_mean([s.links for s in scores]):>6} "
            f"{_mean([s.cells for s in scores]):>6} {_mean([s.boilerplate for s in scores]):>7} "
            f"{tokens_out / tokens_in:>7.3f} {size / 1e6 / best:>6.1f}"
        )


def _compressor_table(pages: dict[str, str]) -> None:
    from headroom import compress_text
    from headroom.config import CompressConfig

    config = CompressConfig(store="memory")
    print(
        f"\n{'page':34} {'tokens':>7} {'no query':>9} {'saved':>6} {'query':>7} {'saved':>6} "
        f"{'answer':>6}"
    )
    before_all = after_all = query_all = answered = 0
    for name, html in pages.items():
        plain = compress_text(html, config=config)
        asked = compress_text(html, config=config, query=PAGES[name].query)
        kept = PAGES[name].answer in asked.text
        answered += kept
        before_all += plain.tokens_before
        after_all += plain.tokens_after
        query_all += asked.tokens_after
        print(
            f"{name:34} {plain.tokens_before:>7} {plain.tokens_after:>9} "
            f"{1 - plain.tokens_after / plain.tokens_before:>6.0%} {asked.tokens_after:>7} "
            f"{1 - asked.tokens_after / asked.tokens_before:>6.0%} {'yes' if kept else 'NO':>6}"
        )
    print(
        f"{'all':34} {before_all:>7} {after_all:>9} {1 - after_all / before_all:>6.0%} "
        f"{query_all:>7} {1 - query_all / before_all:>6.0%} {answered:>4}/{len(pages)}"
    )


def main(argv: list[str] | None = None) -> int:
    """Print the extractor and compressor tables for the fixture pages."""
    parser = argparse.ArgumentParser(
        prog="python -m headroom.bench.html_pages", description=__doc__
    )
    parser.add_argument("--compare", action="store_true", help="add every installed candidate")
    args = parser.parse_args(argv)
    pages = {name: (FIXTURES / name).read_text(encoding="utf-8") for name in PAGES}
    _quality_table(pages, args.compare)
    _compressor_table(pages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
