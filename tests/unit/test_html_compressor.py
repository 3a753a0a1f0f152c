"""The html kind on real pages (tests/fixtures/html, see its README): detection, extraction
with both backends, query pruning, the CCR round trip, and what must not be taken for HTML."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import headroom
from headroom import CompressConfig, Headroom
from headroom.compressors.html import extract as _html_extract
from headroom.compressors.html.compressor import HtmlCompressor
from headroom.compressors.html.extract import extract
from headroom.handles import find_markers
from headroom.router import detect
from tests.command_outputs import PATHOLOGICAL, context
from tests.conftest import REPO_ROOT

HTML = REPO_ROOT / "tests" / "fixtures" / "html"
PAGES = sorted(p.name for p in HTML.glob("*.html"))
# Files that hold tags but are not HTML pages: XML, SVG, TSX and markdown READMEs with inline
# HTML (tests/fixtures/html/negative), and every real source file and tool output the other
# kinds are tested on.
NOT_HTML = [
    *sorted((HTML / "negative").iterdir()),
    *sorted((REPO_ROOT / "tests" / "fixtures" / "code").iterdir()),
    *sorted((REPO_ROOT / "tests" / "fixtures" / "tools").glob("*.txt")),
]
try:
    import resiliparse  # noqa: F401  (the html extra)

    BACKENDS: tuple[str, ...] = ("resiliparse", "stdlib")
except ImportError:  # without the extra only the fallback is there to test
    BACKENDS = ("stdlib",)
_MARKUP_RE = re.compile(r"</?(?:div|span|td|tr|table|p|li|nav|body)[\s>]")

# (page, heading, link target, table cell, text of a script or style that must go)
STRUCTURE = [
    (
        "python_json.html",
        "## Basic Usage",
        "https://datatracker.ietf.org/doc/html/rfc7159.html",
        "number (real)\t\tfloat",
        "table.full-width-table",
    ),
    (
        "rustc_platform_support.html",
        "## Tier 1 with Host Tools",
        "https://rust-lang.github.io/rustup-components-history/",
        "aarch64-unknown-linux-gnu (platform-support/aarch64-unknown-linux-gnu.html)\t\t"
        "ARM64 Linux (kernel 4.1+, glibc 2.17+)",
        "sidebar-visible",
    ),
    (
        "rust_std_option.html",
        "## Options and pointers (“nullable” pointers)",
        "../../std/boxed/struct.Box.html",
        None,
        "rustdoc-vars",
    ),
    (
        "underscore_index.html",
        "## Collection Functions (Arrays or Objects)",
        "https://github.com/jashkenas/underscore/",
        None,
        "font-family",
    ),
    ("libffi_primitive_types.html", "#### 2.3.1 Primitive Types", None, None, "font-family"),
    ("zlib_how.html", "## zlib Usage Example", None, None, None),
]
# (page, query, a sentence of the answer)
QUESTIONS = [
    (
        "python_json.html",
        "What happens to dictionaries when sort_keys is true?",
        "then the output of dictionaries will be sorted by key",
    ),
    (
        "rustc_platform_support.html",
        "Which target is ARM64 Linux with musl?",
        "aarch64-unknown-linux-musl",
    ),
    (
        "underscore_index.html",
        "How does debounce postpone the execution of a function?",
        "Creates and returns a new debounced version of the passed function",
    ),
    (
        "base_passwd_users_and_groups.html",
        "Which user and group do daemons that need not own any files run as?",
        "Daemons that need not own any files sometimes run as user nobody",
    ),
]


def page(name: str) -> str:
    """A fixture page, byte-exact."""
    return (HTML / name).read_bytes().decode("utf-8")


def memory() -> Headroom:
    return Headroom(CompressConfig(min_tokens=0), store="memory")


# -- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_real_pages_are_detected_without_hints(name: str) -> None:
    text = page(name)
    assert detect(text).kind == "html"
    fragment = text[text.lower().index("<body") :]  # no doctype, no <html>: markup density
    assert detect(fragment).kind == "html"


@pytest.mark.parametrize("path", NOT_HTML, ids=lambda p: p.name)
def test_xml_svg_tsx_markdown_and_other_kinds_are_not_html(path: object) -> None:
    text = path.read_bytes().decode("utf-8")  # type: ignore[attr-defined]
    assert detect(text).kind != "html"


def test_a_path_hint_names_html_that_has_little_markup() -> None:
    snippet = "<p>Short answer: yes.</p>\nPlain words after it, on a second line of text.\n"
    assert detect(snippet).kind != "html"
    assert detect(snippet, headroom.router.Hints(path="answer.html")).kind == "html"


# -- extraction ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "heading", "link", "cell", "script"), STRUCTURE)
def test_headings_links_and_table_cells_survive_scripts_go(
    backend: str, name: str, heading: str, link: str | None, cell: str | None, script: str | None
) -> None:
    text = extract(page(name), backend=backend).text  # type: ignore[arg-type]
    assert re.search(rf"(?m)^{re.escape(heading)}$", text)
    if link is not None:
        assert f"({link})" in text
    if cell is not None:
        assert cell in text.split("\n")
    if script is not None:
        assert script in page(name) and script not in text
    assert _MARKUP_RE.search(text) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_navigation_sidebar_and_footer_are_dropped(backend: str) -> None:
    text = extract(page("python_json.html"), backend=backend).text  # type: ignore[arg-type]
    for chrome in ("Table of Contents", "Previous topic", "Report a Bug", "Python Software"):
        assert chrome in page("python_json.html") and chrome not in text
    underscore = extract(page("underscore_index.html"), backend=backend).text  # type: ignore[arg-type]
    assert "function_filter" not in underscore
    assert underscore.count("_.debounce(function, wait, [immediate])") == 1  # not the sidebar's


@pytest.mark.skipif(len(BACKENDS) < 2, reason="needs the html extra (resiliparse)")
def test_the_two_backends_agree_on_the_text() -> None:
    for name in PAGES:
        fast, fallback = (extract(page(name), backend=b).text.split() for b in BACKENDS)  # type: ignore[arg-type]
        same = sum((Counter(fast) & Counter(fallback)).values())
        assert same >= 0.95 * max(len(fast), len(fallback)), name


def test_without_resiliparse_the_stdlib_parser_extracts(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(page: str) -> str:
        raise ImportError("No module named 'resiliparse'")

    monkeypatch.setattr(_html_extract, "_resiliparse", missing)
    result = extract(page("python_json.html"))
    assert result.backend == "stdlib" and "## Basic Usage" in result.text
    out = memory().compress_text(page("python_json.html"))
    assert out.kind == "html" and out.transforms_applied == ["html.extract"]


def test_unclosed_and_stray_tags_lose_no_text() -> None:
    soup = "<div><nav><a href=/x>home</a></nav><p>one<p>two</li></span><ul><li>three<li>four"
    for backend in BACKENDS:
        text = extract(soup, backend=backend).text  # type: ignore[arg-type]
        assert "home" not in text
        assert [w for w in ("one", "two", "three", "four") if w not in text] == []


# -- the compressor through the public API --------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_compress_text_extracts_stores_and_is_idempotent(name: str) -> None:
    text = page(name)
    hr = memory()
    result = hr.compress_text(text)
    assert result.kind == "html" and result.transforms_applied == ["html.extract"]
    assert result.tokens_after < result.tokens_before
    (marker,) = find_markers(result.text)
    assert result.text.endswith(str(marker)) and marker.unit == "lines of markup"
    assert marker.count == len(text.splitlines()) and result.handles == [marker.handle]
    assert hr.retrieve(marker.handle) == text
    assert hr.compress_text(result.text).text == result.text
    assert hr.compress_text(text).text == result.text  # deterministic
    assert _MARKUP_RE.search(result.text) is None


@pytest.mark.parametrize(("name", "query", "answer"), QUESTIONS)
def test_a_query_keeps_the_matching_paragraph_and_its_headings(
    name: str, query: str, answer: str
) -> None:
    hr = memory()
    plain = hr.compress_text(page(name))
    asked = hr.compress_text(page(name), query=query)
    assert answer in asked.text
    assert asked.tokens_after < 0.6 * plain.tokens_after
    assert "sentences kept for the query" in str(find_markers(asked.text)[0])
    assert hr.retrieve(asked.handles[0]) == page(name)
    kept = asked.text[: asked.text.rindex("[")]
    before_answer = kept[: kept.index(answer)]
    assert re.search(r"(?m)^#{1,6} ", before_answer), "the answer's section heading is kept"


def test_a_query_nothing_matches_keeps_the_lead_not_nothing() -> None:
    asked = memory().compress_text(page("python_json.html"), query="zzyzx quux")
    assert asked.text.startswith("# json — JSON encoder and decoder")
    assert len(asked.text) > 500


def test_a_tool_message_with_the_page_is_compressed_as_html() -> None:
    text = page("python_json.html")
    messages = [
        {"role": "user", "content": "What does sort_keys do in Python's json module?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "fetch",
                        "arguments": '{"url": "https://docs.python.org/3.11/library/json.html"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": text},
    ]
    config = CompressConfig(store="memory")
    result = headroom.compress(
        messages, config=config, query="What happens when sort_keys is true?"
    )
    out = result.messages[2]["content"]
    assert result.transforms_applied == ["html.extract"]
    assert "then the output of dictionaries will be sorted by key" in out
    assert "<script" not in out and result.tokens_after < result.tokens_before / 5
    assert headroom.retrieve(result.handles[0]) == text
    assert messages[2]["content"] == text  # the input is not mutated


def test_lossy_off_leaves_the_page_unchanged() -> None:
    hr = Headroom(CompressConfig(min_tokens=0, lossy=False), store="memory")
    text = page("zlib_how.html")
    assert hr.compress_text(text).text == text


def test_a_page_with_no_visible_text_is_left_alone() -> None:
    scripts = "<!doctype html><html><head><script>" + "var a = 1;\n" * 400 + "</script></head>"
    out = HtmlCompressor().compress(scripts + "<body></body></html>", context("html"))
    assert out is None


@pytest.mark.parametrize("text", PATHOLOGICAL)
def test_pathological_inputs_do_not_raise(text: str) -> None:
    HtmlCompressor().compress(text, context("html"))
    extract(text, backend="stdlib")


# -- properties ------------------------------------------------------------------------------

_TAGS = ["div", "p", "a", "span", "table", "tr", "td", "ul", "li", "h2", "pre", "nav", "script"]


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    """Random HTML-ish text: tags opened, closed or not, attributes, entities, text."""
    parts: list[str] = [draw(st.sampled_from(["", "<!doctype html>", "<html><body>"]))]
    for _ in range(draw(st.integers(0, 40))):
        tag = draw(st.sampled_from(_TAGS))
        choice = draw(st.integers(0, 5))
        if choice == 0:
            parts.append(f"<{tag}>")
        elif choice == 1:
            parts.append(f"</{tag}>")
        elif choice == 2:
            href = draw(st.sampled_from(["#x", "https://e.org/p?a=1&b=2", "", "javascript:0"]))
            parts.append(f'<a href="{href}" class="{draw(st.sampled_from(["x", "sidebar"]))}">')
        elif choice == 3:
            parts.append(
                draw(st.sampled_from(["&amp;", "&lt;div&gt;", "¶", "&#0;", "<!--", "-->"]))
            )
        else:
            parts.append(draw(st.text(max_size=30)))
    return "".join(parts)


def _soups() -> Iterator[str]:
    yield "<p>" * 3000 + "deep"
    yield "<table>" + "<tr><td>x</td>" * 2000 + "</table>"


@given(tag_soup())
def test_tag_soup_never_raises_and_every_handle_is_exact(soup: str) -> None:
    hr = memory()
    for text in (soup, soup * 40):
        result = hr.compress_text(text, kind="html", query="e.org table")
        assert result.tokens_after <= result.tokens_before
        for handle in result.handles:
            assert hr.retrieve(handle) == text
        if result.handles:
            assert hr.compress_text(result.text, kind="html").text == result.text
    for backend in BACKENDS:
        extract(soup, backend=backend)  # type: ignore[arg-type]


@pytest.mark.parametrize("soup", list(_soups()), ids=["deep", "wide"])
def test_deep_and_wide_markup(soup: str) -> None:
    hr = memory()
    result = hr.compress_text(soup, kind="html")
    assert [hr.retrieve(h) for h in result.handles] in ([], [soup])
