"""Hypothesis properties of the markdown kind.

Documents are generated from the pieces people write (headings of both styles, fences of
both characters with and without info strings, lists, tables, quotes, HTML, front matter,
prose sentences naming identifiers), and raw text from an alphabet of markdown's own
characters. Blocks must join back to the input, headings must all survive compression, the
original must come back from its handle, and nothing may raise.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom
from headroom.compressors.markdown import MarkdownCompressor, looks_like_markdown
from headroom.compressors.markdown.parse import parse
from headroom.handles import find_markers
from tests.command_outputs import context

HR = Headroom(CompressConfig(min_tokens=0), store="memory")
COMPRESSOR = MarkdownCompressor()

_WORDS = (
    "the cache timeout request client retry proxy `max_retries` --verbose HEADROOM_HOME "
    "config.toml Client.get() is set to when fails returns 42 and of a"
)
words = st.sampled_from(_WORDS.split())
sentences = st.lists(words, min_size=3, max_size=12).map(lambda ws: " ".join(ws).capitalize() + ".")
paragraphs = st.lists(sentences, min_size=1, max_size=5).map(" ".join)
titles = st.lists(words, min_size=1, max_size=4).map(" ".join)
code_lines = st.sampled_from(["x = 1", "def f(a):", "    return a", "$ pip install x", "", "#"])


@st.composite
def blocks(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return "#" * draw(st.integers(1, 6)) + " " + draw(titles)
    if kind == 1:
        return draw(titles) + "\n" + draw(st.sampled_from(["===", "---", "="]))
    if kind == 2:
        fence = draw(st.sampled_from(["```", "~~~", "````"]))
        info = draw(st.sampled_from(["", "python", "sh", "js title=x", "{.rust}"]))
        body = "\n".join(draw(st.lists(code_lines, max_size=6)))
        closed = draw(st.booleans())
        return f"{fence}{info}\n{body}\n" + (fence if closed else "")
    if kind == 3:
        marker = draw(st.sampled_from(["-", "*", "+", "1.", "2)"]))
        items = draw(st.lists(sentences, min_size=1, max_size=4))
        return "\n".join(f"{marker} {item}" for item in items)
    if kind == 4:
        rows = draw(st.lists(st.tuples(words, words), min_size=1, max_size=4))
        return "| a | b |\n|---|:-:|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    if kind == 5:
        return "> " + draw(paragraphs)
    if kind == 6:
        return draw(st.sampled_from(["<div>\nhtml\n</div>", "<!-- note -->", "<details>"]))
    if kind == 7:
        return "    " + draw(code_lines)
    return draw(paragraphs)


@st.composite
def documents(draw: st.DrawFn) -> str:
    front = draw(st.sampled_from(["", "---\ntitle: x\n---\n"]))
    parts = draw(st.lists(blocks(), min_size=1, max_size=30))
    seps = draw(st.lists(st.sampled_from(["\n", "\n\n", "\n\n\n", "\r\n"]), min_size=len(parts)))
    return front + "".join(p + s for p, s in zip(parts, seps, strict=False))


markdownish = st.text(alphabet=st.sampled_from("#`~-=*+>|:.[]()<>!_ \t\n\r1aZ\\é"), max_size=400)


@given(st.one_of(documents(), markdownish, st.text(max_size=300)))
def test_blocks_join_back_to_the_input(text: str) -> None:
    assert "".join(b.text for b in parse(text)) == text


@given(documents(), st.sampled_from([None, "What is the cache timeout?", "--verbose"]))
@example(  # a fence never closed runs to the end: the marker goes before it, not into it
    text="# the cache\nThe the the the the the the the.\n- The the the.\n"
    "- The the the the the the the the the the.\n```\n\n\n",
    query=None,
)
def test_compression_keeps_every_heading_and_the_original(text: str, query: str | None) -> None:
    ctx = context("markdown", query=query)
    out = COMPRESSOR.compress(text, ctx)
    if out is None:
        return
    headings = [b.text.rstrip("\r\n") for b in parse(text) if b.kind == "heading"]
    # Each heading as written in the input, in order (searched, not re-parsed: a kept line
    # just above a setext underline may now read as part of the title).
    position = 0
    for heading in headings:
        position = out.text.find(heading, position)
        assert position >= 0, heading
        position += len(heading)
    assert out.text.strip()
    # Re-parsed, the output has the same headings and fences (the generated ones are too
    # small to skeletonise): half a fence left behind would turn what follows into code.
    assert [b.text for b in parse(out.text) if b.kind in ("heading", "fence")] == [
        b.text for b in parse(text) if b.kind in ("heading", "fence")
    ]
    for marker in find_markers(out.text):
        assert ctx.store.get(marker.handle).data == text.encode("utf-8")


@given(st.one_of(documents(), markdownish, st.text(max_size=300)), st.sampled_from([None, "x"]))
def test_never_raises(text: str, query: str | None) -> None:
    looks_like_markdown(text)
    result = HR.compress_text(text, kind="markdown", query=query)
    assert result.tokens_after <= result.tokens_before
    for handle in result.handles:
        assert HR.retrieve(handle) == text


_MARKDOWN_BITS = st.sampled_from(
    [
        "# ",
        "## T",
        "```",
        "~~~",
        "===",
        "---",
        "+++",
        "|---|",
        "| :-: |",
        "[a](b.c)",
        "](",
        "[x]: http://a",
        "\n",
        "\r\n",
        " ",
        "   ",
        "text ",
        "- item",
        "1. one",
        "`code`",
        "**b**",
    ]
)


@given(st.lists(_MARKDOWN_BITS, max_size=40).map("".join) | st.text(max_size=200))
def test_the_quick_rule_out_never_changes_the_answer(text: str) -> None:
    # looks_like_markdown skips the line walk when no strong sign can be found; that must
    # be exactly when the walk would find none.
    from headroom.compressors.markdown.detect import _ANY_STRONG_RE, evidence

    if _ANY_STRONG_RE.search(text) is None:
        assert not evidence(text).strong
