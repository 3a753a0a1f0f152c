"""The markdown kind on real READMEs and docs (tests/fixtures/markdown, see its README; this
repository's docs): block parsing byte for byte, detection against code, logs, diffs and HTML,
headings and code kept, prose pruned for the question, the CCR round trip."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest

import headroom
from headroom import CompressConfig, Headroom
from headroom.compressors import default_registry
from headroom.compressors.markdown import MarkdownCompressor, looks_like_markdown
from headroom.compressors.markdown.code import fence_language
from headroom.compressors.markdown.parse import Block, parse
from headroom.handles import find_markers, handle_for
from headroom.relevance.segment import segment
from headroom.router import detect
from tests.command_outputs import PATHOLOGICAL, context
from tests.conftest import BENCH_DATA, REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures"
READMES = sorted((FIXTURES / "markdown").glob("*_README.md"))
# Every markdown document in the repository and its fixtures: the parser and detector see
# tables, HTML, badges and nested lists as people write them.
DOCUMENTS = [
    *READMES,
    REPO_ROOT / "README.md",
    *sorted((REPO_ROOT / "docs").glob("*.md")),
    *sorted((FIXTURES / "html" / "negative").glob("*.md")),
    *sorted(FIXTURES.glob("*/README.md")),
    *sorted(BENCH_DATA.glob("**/*README*.md")),
]
# Source files, tool outputs, HTML pages, logs and JSON: none is markdown, though Python and
# shell have "# heading" comments, unittest output has "=====" rules and JSON issue bodies hold
# whole READMEs.
NOT_MARKDOWN = [
    *sorted(p for p in (FIXTURES / "code").glob("*.*") if p.suffix != ".md"),
    *sorted((FIXTURES / "tools").glob("*.txt")),
    *sorted((FIXTURES / "tools").glob("*.sh")),
    *sorted((FIXTURES / "tools").glob("*.py")),
    *sorted((FIXTURES / "html").glob("*.html")),
    *sorted((FIXTURES / "html" / "negative").glob("*.[!m]*")),
    *sorted(BENCH_DATA.glob("loghub/*.log")),
    *sorted(BENCH_DATA.glob("json/*.json")),
]
# Pillow's README is more than half HTML (badge tables) with no fenced block: read as prose,
# as before; every other document here must be recognised.
DETECTED = [p for p in DOCUMENTS if p.name != "pillow_README.md"]
STDLIB = [textwrap, inspect, ast, re]  # real Python with "#" comments, docstrings and prose


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_blocks_join_to_the_exact_document(path: Path) -> None:
    text = _read(path)
    assert "".join(b.text for b in parse(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        "no newline at the end",
        "# Title\r\n\r\nCRLF paragraph.\r\n",
        "```python\nnever closed\n\n# not a heading\n",
        "---\ntitle: x\n---\n# After front matter\n",
        "---\n\nA rule, not front matter.\n",
        "<!-- a comment\nover lines -->\n<div>\n\nhtml\n</div>\n",
        "| a | b |\n|---|:-:|\n| 1 | 2 |\nafter\n",
        "   \n\t\n",
        *PATHOLOGICAL,
    ],
)
def test_blocks_join_to_any_text(text: str) -> None:
    assert "".join(b.text for b in parse(text)) == text


KINDS_OF = [
    ("# One\n## Two ##\n#NoSpace\n", [("heading", 1), ("heading", 2), ("paragraph", 0)]),
    ("Title\n=====\n\nSub\n---\n", [("heading", 1), ("blank", 0), ("heading", 2)]),
    ("~~~ js title=x\n```\nstill code\n~~~\ntext\n", [("fence", 0), ("paragraph", 0)]),
    ("````md\n```py\nx\n```\n````\n", [("fence", 0)]),
    ("- a\n- b\n\n  b\n- c\nlazy\n\nafter\n", [("list", 0), ("blank", 0), ("paragraph", 0)]),
    ("1. one\n2. two\n", [("list", 0)]),
    ("> quoted\nlazy\n\n", [("quote", 0), ("blank", 0)]),
    ("Para\n    still para\n\n    code\n", [("paragraph", 0), ("blank", 0), ("indented", 0)]),
    ("[x]: https://e.org\n[y]: /y\n", [("link-def", 0)]),
    ("***\n", [("rule", 0)]),
    ("+++\na = 1\n+++\nText.\n", [("front-matter", 0), ("paragraph", 0)]),
    ("a | b\n--|--\n1 | 2\n", [("table", 0)]),
    ("<details>\n<summary>x</summary>\n\nBody.\n", [("html", 0), ("blank", 0), ("paragraph", 0)]),
    ("Text\n# Heading interrupts\n", [("paragraph", 0), ("heading", 1)]),
    ("Text | with a pipe\n---\n", [("heading", 2)]),  # no pipe in the underline: setext
]


@pytest.mark.parametrize(("text", "expected"), KINDS_OF)
def test_block_kinds(text: str, expected: list[tuple[str, int]]) -> None:
    assert [(b.kind, b.level) for b in parse(text)] == expected


def test_fence_info_and_languages() -> None:
    (block,) = parse("```py title='a.py'\nx = 1\n```\n")
    assert block.info == "py title='a.py'"
    assert [fence_language(i) for i in ("py", "{.rust}", "TypeScript", "c++", "sh", "")] == [
        "python",
        "rust",
        "typescript",
        "cpp",
        None,
        None,
    ]


# -- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", DETECTED, ids=lambda p: p.name)
def test_readmes_and_docs_are_markdown(path: Path) -> None:
    assert looks_like_markdown(_read(path)[:65_536])


@pytest.mark.parametrize("path", NOT_MARKDOWN, ids=lambda p: p.name)
def test_code_tool_output_logs_html_and_json_are_not_markdown(path: Path) -> None:
    assert not looks_like_markdown(path.read_text(encoding="utf-8", errors="replace")[:65_536])


@pytest.mark.parametrize("module", STDLIB, ids=lambda m: m.__name__)
def test_python_with_comments_and_docstrings_is_not_markdown(module: object) -> None:
    assert not looks_like_markdown(inspect.getsource(module)[:65_536])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "#!/bin/sh\n# Build the docs\n\nset -e\n\n# Clean first\nrm -rf build\n"
        'for f in docs/*.md; do\n  pandoc "$f" -o "build/${f%.md}.html"\ndone\n',
        "We shipped the fix in #4521 yesterday. The release notes will follow soon enough.\n"
        "# of users affected is unknown, but support has seen fewer tickets since then.\n",
        "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n"
        "@@ -1,3 +1,3 @@\n-# Old title\n+# New title\n \n Some text about [it](https://e.org).\n",
        "<html><body><h1>Title</h1>\n<p>A paragraph of text here.</p>\n"
        "<p>Another paragraph with a <a href='x'>link</a>.</p>\n</body></html>\n",
    ],
    ids=["shell", "prose-with-hash", "diff", "html"],
)
def test_small_lookalikes_are_not_markdown(text: str) -> None:
    assert not looks_like_markdown(text)


@pytest.mark.parametrize("path", [*READMES, REPO_ROOT / "README.md"], ids=lambda p: p.name)
def test_router_detects_markdown(path: Path) -> None:
    text = _read(path)
    assert detect(text).kind == "markdown"
    note = "Remember to rotate the staging keys before Friday.\n"  # no markdown in sight
    assert detect(note, headroom.router.Hints(path="NOTES.md")).kind == "markdown"


# -- compression ----------------------------------------------------------------------------------

# (fixture, a task on it, a sentence that answers it, identifiers the task names)
TASKS = [
    (
        "httpx_README.md",
        "What is `socksio` used for, and which extra installs it?",
        "`socksio` - SOCKS proxy support.",
        ["socksio"],
    ),
    (
        "rich_README.md",
        "What does the Console `log()` method render besides the message?",
        "also renders a column for the current time and the file and line which made the call",
        ["log()"],
    ),
    (
        "typer_README.md",
        "When does auto-completion work with `--install-completion`?",
        "auto-completion works when you create a Python package and run it with "
        "`--install-completion`",
        ["--install-completion"],
    ),
]


def _headings(text: str) -> list[str]:
    return [b.text.rstrip("\n") for b in parse(text) if b.kind == "heading"]


def _fences(text: str) -> list[Block]:
    return [b for b in parse(text) if b.kind == "fence"]


@pytest.mark.parametrize(("name", "query", "answer", "identifiers"), TASKS)
def test_a_task_on_a_readme(name: str, query: str, answer: str, identifiers: list[str]) -> None:
    text = _read(FIXTURES / "markdown" / name)
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    result = hr.compress_text(text, kind="markdown", query=query)
    out = result.text
    assert result.kind == "markdown" and result.transforms_applied == ["markdown.sections"]
    assert 1 - result.tokens_after / result.tokens_before >= 0.30
    assert answer in out
    assert all(identifier in out for identifier in identifiers)
    assert _headings(out) == _headings(text)  # every heading, verbatim and in order
    for fence in _fences(text):
        assert fence.text in out
    assert result.handles == [handle_for(text)]
    assert {m.handle for m in find_markers(out)} == {handle_for(text)}
    assert hr.retrieve(result.handles[0]) == text


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_any_document_keeps_headings_code_and_a_way_back(path: Path) -> None:
    text = _read(path)
    ctx = context("markdown", query="How do I configure the timeout and the --verbose flag?")
    out = MarkdownCompressor().compress(text, ctx)
    if out is None:
        return  # too short to prune and nothing repeated
    assert out.text.strip()
    assert _headings(out.text) == _headings(text)
    for fence in _fences(text):
        assert fence.text in out.text
    assert ctx.store.get(out.handles[0]).data == text.encode("utf-8")


def test_no_query_removes_repeated_paragraphs_only() -> None:
    text = _read(FIXTURES / "markdown" / "typer_README.md")
    assert MarkdownCompressor().compress(text, context("markdown")) is None
    repeated = text.replace("## License", "## Again\n\n" + _paragraph(text) + "\n\n## License")
    out = MarkdownCompressor().compress(repeated, context("markdown"))
    assert out is not None
    assert out.text.count(_paragraph(text)) == 1
    assert find_markers(out.text)[-1].handle == handle_for(repeated)


@pytest.mark.parametrize("name", [p.name for p in READMES])
def test_no_query_with_a_ratio_shrinks_by_salience(name: str) -> None:
    """As for the text kind: a ratio without a query is a request to shrink."""
    text = _read(FIXTURES / "markdown" / name)
    hr = Headroom(CompressConfig(min_tokens=0, target_ratio=0.3), store="memory")
    result = hr.compress_text(text, kind="markdown")
    assert result.tokens_after < 0.75 * result.tokens_before
    first = next(b for b in parse(text) if b.kind in ("paragraph", "list"))
    assert segment(first.text)[0].text in result.text  # the lead stays, as for prose
    assert _headings(result.text) == _headings(text)
    for fence in _fences(text):
        assert fence.text in result.text
    assert hr.retrieve(result.handles[0]) == text


def test_the_document_as_its_own_query_is_no_query() -> None:
    """The engine takes the latest user turn as the query; a pasted README is that turn."""
    text = _read(FIXTURES / "markdown" / "typer_README.md")
    ctx = context("markdown", query=text)
    assert MarkdownCompressor().compress(text, ctx) is None


def _paragraph(text: str) -> str:
    return next(b.text.strip() for b in parse(text) if b.kind == "paragraph" and len(b.text) > 200)


def test_large_fenced_code_becomes_a_skeleton_with_document_lines() -> None:
    """A README quoting a whole module: the module's skeleton, still Python, its markers
    naming the document and the document's own line numbers."""
    source = inspect.getsource(textwrap)
    readme = _read(FIXTURES / "markdown" / "httpx_README.md")
    text = f"{readme}\n## The module\n\n```python\n{source}```\n\nThe end.\n"
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    result = hr.compress_text(text, kind="markdown")
    (fence,) = [b for b in _fences(result.text) if b.info == "python"]
    body = fence.text.split("\n", 1)[1].rsplit("```", 1)[0]
    ast.parse(body)  # the skeleton parses
    assert len(body) < len(source) / 2
    assert "def dedent(text):" in body
    first_body_line = text[: text.index(source)].count("\n") + 1
    lines = text.split("\n")
    markers = find_markers(body)
    assert markers and all(m.handle == handle_for(text) for m in markers)
    for marker in markers:
        a, b = (int(n) for n in re.findall(r"\d+", marker.summary or "")[:2])
        assert first_body_line <= a <= b < first_body_line + source.count("\n")
        assert lines[a - 1] in source  # a line of the module, counted in the document
    assert hr.retrieve(handle_for(text)) == text
    assert _headings(result.text) == _headings(text)


def test_fenced_code_inside_a_list_item_is_kept() -> None:
    readme = _read(FIXTURES / "markdown" / "httpx_README.md")
    nested = "1. Install the client:\n\n   ```shell\n   $ pip install httpx\n   ```\n"
    text = readme.replace("## Documentation", nested + "\n## Documentation")
    out = MarkdownCompressor().compress(text, context("markdown", query="SOCKS proxy support"))
    assert out is not None
    assert "   ```shell\n   $ pip install httpx\n   ```" in out.text


def test_deterministic_and_idempotent() -> None:
    text = _read(FIXTURES / "markdown" / "rich_README.md")
    query = "How do I print a table?"
    first = headroom.compress_text(text, kind="markdown", query=query)
    again = headroom.compress_text(text, kind="markdown", query=query)
    assert first.text == again.text
    assert headroom.compress_text(first.text, kind="markdown", query=query).text == first.text


def test_query_matching_nothing_keeps_headings_and_a_lead() -> None:
    text = _read(FIXTURES / "markdown" / "typer_README.md")
    out = MarkdownCompressor().compress(text, context("markdown", query="zebra quokka"))
    assert out is not None
    assert _headings(out.text) == _headings(text)
    prose = [b for b in parse(out.text) if b.kind in ("paragraph", "list")]
    assert any(not find_markers(b.text) for b in prose)  # some prose, not only markers


def test_registered_for_the_markdown_kind() -> None:
    chain = default_registry().chain("markdown")
    assert [c.name for c in chain] == ["markdown.sections"]
    assert "markdown" in headroom.KINDS


def test_never_raises_on_pathological_text() -> None:
    for text in PATHOLOGICAL:
        for query in (None, "error timeout"):
            out = MarkdownCompressor().compress(text, context("markdown", query=query))
            assert out is None or out.text.strip()


def test_html_comments_are_not_read_as_content() -> None:
    # A doc page whose comments hold a doc test's setup code (or linter directives) is
    # still markdown: the lines inside <!-- ... --> say nothing of the document's kind.
    from headroom.compressors.markdown.detect import looks_like_markdown

    page = (
        "# Usage\n\nCompress a list of messages before the call.\n\n"
        "<!-- setup:\nimport json\nmessages = json.loads(open('m.json').read())\n"
        "client = make_client()\n-->\n"
        "```python\nresult = compress(messages)\n```\n\n"
        "<!-- markdownlint-disable MD013 -->\n"
        "See [the docs](docs/usage.md) for the options.\n"
    )
    assert looks_like_markdown(page)
    without = page.replace("<!-- setup:", "").replace("\n-->\n", "\n")
    assert not looks_like_markdown(without)  # the same code outside a comment counts
