"""CodeCompressor on real source files in eight languages, and on input it must leave alone."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from headroom import CompressConfig, Headroom
from headroom.compressors import default_registry
from headroom.compressors.base import Context
from headroom.compressors.code import CodeCompressor, validate
from headroom.compressors.code.errors import error_spans
from headroom.compressors.code.languages import new_parser, spec_for
from headroom.compressors.code.skeleton import apply, outline
from headroom.handles import find_markers, handle_for
from headroom.router import EXTENSION_LANGUAGES
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "code"
STDLIB = Path(json.__file__).resolve().parents[1]
COMPRESSOR = CodeCompressor()
COUNT = get_counter()
SOURCES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in EXTENSION_LANGUAGES)
# tree-sitter cannot expand these files' macros: their input has a few parse errors.
WITH_ERRORS = {"greenlet_PyGreenlet.cpp", "wrapt_wrappers.c"}
PARSEABLE = SOURCES
STDLIB_MODULES = ["argparse.py", "dataclasses.py", "json/decoder.py", "shutil.py", "typing.py"]


def context(language: str | None, query: str | None = None) -> Context:
    return Context("code", language, query, CompressConfig(min_tokens=0), MemoryStore(), COUNT)


def load(name: str) -> tuple[str, str]:
    path = FIXTURES / name
    return path.read_bytes().decode("utf-8"), EXTENSION_LANGUAGES[path.suffix]


def parses(text: str, language: str, original: str = "") -> bool:
    """``text`` parses, or has no parse error whose text ``original``'s errors lack."""
    if language == "python":
        try:
            ast.parse(text)
        except SyntaxError:
            return False
        return True
    return not (error_texts(text, language) - error_texts(original, language))


def error_texts(text: str, language: str) -> Counter[str]:
    """The source text of each ERROR node and the type of each MISSING node."""
    parser = new_parser(language)
    assert parser is not None
    found: Counter[str] = Counter()
    stack = [parser.parse(text.encode()).root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            found[f"MISSING {node.type}"] += 1
        elif node.is_error:
            found[node.text.decode() if node.text else ""] += 1
        else:
            stack.extend(c for c in node.children if c.has_error)
    return found


def symbols_and_bodies(text: str, language: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """Symbol names outside function bodies, and each named body's text."""
    spec = spec_for(language)
    parser = new_parser(language)
    assert spec is not None and parser is not None
    source = text.encode()
    found = outline(parser.parse(source), source, spec)
    bodies = {b.name: source[b.start : b.end].decode() for b in found.bodies if b.lines > 8}
    return found.symbols, bodies


def python_names(text: str) -> set[str]:
    """Top-level and class-level names, read with CPython's own parser (independent of ours)."""
    names: set[str] = set()
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in ast.parse(text).body:
        if isinstance(node, defs):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(child.name for child in node.body if isinstance(child, defs))
    return names


@pytest.mark.parametrize("name", PARSEABLE)
def test_fixture_skeleton_parses_keeps_symbols_and_saves(name: str) -> None:
    text, language = load(name)
    out = COMPRESSOR.compress(text, context(language))
    assert out is not None
    assert parses(out.text, language, text)
    symbols, _ = symbols_and_bodies(text, language)
    assert symbols
    assert [s for s in symbols if s not in out.text] == []
    assert COUNT(out.text) < 0.7 * COUNT(text)


@pytest.mark.parametrize("module", STDLIB_MODULES)
def test_stdlib_skeleton_parses_and_keeps_every_top_and_class_level_name(module: str) -> None:
    text = (STDLIB / module).read_text(encoding="utf-8")
    out = COMPRESSOR.compress(text, context("python"))
    assert out is not None
    tree = ast.parse(out.text)
    assert python_names(text) <= python_names(out.text)
    assert isinstance(tree, ast.Module)


@pytest.mark.parametrize("name", PARSEABLE + [f"stdlib:{m}" for m in STDLIB_MODULES])
def test_body_of_function_named_in_query_is_kept_verbatim(name: str) -> None:
    if name.startswith("stdlib:"):
        text, language = (STDLIB / name[7:]).read_text(encoding="utf-8"), "python"
    else:
        text, language = load(name)
    _, bodies = symbols_and_bodies(text, language)
    function, body = max(bodies.items(), key=lambda item: (len(item[1]), item[0]))
    plain = COMPRESSOR.compress(text, context(language))
    asked = COMPRESSOR.compress(text, context(language, f"where does {function} fail?"))
    assert plain is not None and body not in plain.text
    assert asked is not None and body in asked.text
    assert parses(asked.text, language, text)


@pytest.mark.parametrize("name", ["tiktoken_lib.rs", "go_strings.go", "TypeManager.java"])
def test_marker_handle_retrieves_the_byte_exact_original(name: str) -> None:
    text, language = load(name)
    ctx = context(language)
    out = COMPRESSOR.compress(text, ctx)
    assert out is not None
    markers = find_markers(out.text)
    assert markers and {m.handle for m in markers} == set(out.handles) == {handle_for(text)}
    assert all(m.unit == "lines" and m.summary and m.summary.startswith("lines ") for m in markers)
    assert ctx.store.get(out.handles[0]).data == (FIXTURES / name).read_bytes()


def test_marker_line_ranges_point_at_the_original_lines() -> None:
    text = (STDLIB / "shutil.py").read_text(encoding="utf-8")
    out = COMPRESSOR.compress(text, context("python"))
    assert out is not None
    lines = text.split("\n")
    for marker in find_markers(out.text):
        assert marker.summary is not None
        first, last = (int(n) for n in marker.summary.split()[1].split("–"))
        assert last - first + 1 == marker.count
        # A body's lines are indented; a cut comment block may sit at module level.
        assert lines[first - 1].strip()
        assert lines[first - 1].startswith((" ", "#"))


def test_python_placeholder_shape() -> None:
    body = "".join(f"    total += {n}\n" for n in range(300))
    text = f'def add_all(total):\n    """Add them.\n\n    More."""\n{body}    return total\n'
    out = COMPRESSOR.compress(text, context("python"))
    assert out is not None
    head, doc, comment, dots, end = out.text.split("\n")
    assert (head, doc, dots, end) == ("def add_all(total):", '    """Add them."""', "    ...", "")
    assert comment.startswith("    # [304 lines omitted: lines 2–305 · retrieve: headroom:")


def test_c_family_placeholder_and_first_comment_line() -> None:
    body = "".join(f"    total += {n};\n" for n in range(300))
    header = "/*\n * Adds them.\n * All of them.\n */\n"
    text = f"{header}int add_all(int total) {{\n{body}    return total;\n}}\n"
    out = COMPRESSOR.compress(text, context("c"))
    assert out is not None
    assert out.text.startswith("/* Adds them. */\nint add_all(int total) { /* [303 lines omitted: ")
    assert out.text.endswith(" */ }\n")
    assert parses(out.text, "c")


@pytest.mark.parametrize(
    ("docstring", "kept"),
    [
        ('"""One line."""', '"""One line."""'),
        ('"""First line.\n    Second."""', '"""First line."""'),
        ("r'''Raw \\d line.\n    '''", "r'''Raw \\d line.'''"),
        ('"""\n    Starts on line two.\n    """', '"""Starts on line two."""'),
        ('"""Ends in a "quote"\n    more."""', '# Ends in a "quote"'),
        ('f"""{x} formatted\n    more."""', "# {x} formatted"),
    ],
)
def test_python_docstring_first_line(docstring: str, kept: str) -> None:
    body = "".join(f"    y = {n}\n" for n in range(600))
    text = f"def f(x):\n    {docstring}\n{body}"
    out = COMPRESSOR.compress(text, context("python"))
    assert out is not None
    assert out.text.split("\n")[1] == "    " + kept
    ast.parse(out.text)


def big_python() -> str:
    return "".join(
        f"def f{i}(x):\n" + "".join(f"    x += {n}\n" for n in range(12)) + "    return x\n\n"
        for i in range(60)
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        pytest.param(big_python()[:3000], "python", id="under-threshold"),
        pytest.param(big_python().replace("def f7(x):", "def f7(x)"), "python", id="syntax-error"),
        pytest.param(
            big_python().replace("x += 3", "x += '\udcff'"), "python", id="lone-surrogate"
        ),
        pytest.param(big_python(), None, id="no-language"),
        pytest.param(big_python(), "ruby", id="no-grammar"),
        pytest.param(
            "function a(b){" + "var c=b+1;" * 3000 + "return c}\n", "javascript", id="minified-js"
        ),
        pytest.param(
            "<html><body><script>\n"
            + "function f(x) {\n"
            + "  x += 1;\n" * 500
            + "  return x;\n}\n"
            + "</script></body></html>\n",
            "javascript",
            id="html-with-script",
        ),
        pytest.param("x = 1\n" * 2000, "python", id="no-functions"),
    ],
)
def test_passes_through_when_unsure(text: str, language: str | None) -> None:
    assert COMPRESSOR.compress(text, context(language)) is None


def test_non_utf8_bytes_pass_through_the_public_api() -> None:
    raw = big_python().encode().replace(b"x += 3", b"x += '\xff\xfe'")
    text = raw.decode("utf-8", "surrogateescape")
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    assert hr.compress_text(text, kind="code", path="gen.py").text == text


@pytest.mark.slow
def test_five_megabyte_generated_file_does_not_crash() -> None:
    text = "".join(big_python().replace("def f", f"def g{k}_") for k in range(520))
    assert len(text) > 5_000_000
    out = COMPRESSOR.compress(text, context("python"))
    assert out is not None and parses(out.text, "python")


def test_deep_nesting_does_not_crash() -> None:
    text = "x = " + "[" * 5000 + "]" * 5000 + "\n" + big_python()
    out = COMPRESSOR.compress(text, context("python"))
    assert out is None or parses(out.text, "python")


@pytest.mark.parametrize("name", ["panel_tabulator.ts", "tree_sitter_node.c", "enum.py"])
def test_deterministic_and_idempotent(name: str) -> None:
    if name == "enum.py":
        text, language = (STDLIB / name).read_text(encoding="utf-8"), "python"
    else:
        text, language = load(name)
    first = COMPRESSOR.compress(text, context(language))
    second = COMPRESSOR.compress(text, context(language))
    assert first is not None and second is not None and first.text == second.text
    assert COMPRESSOR.compress(first.text, context(language)) is None
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    once = hr.compress_text(text, kind="code", path=f"x/{name}").text
    assert once == first.text
    assert hr.compress_text(once, kind="code", path=f"x/{name}").text == once


def test_public_api_routes_by_extension_and_retrieves() -> None:
    text, _ = load("tiktoken_lib.rs")
    hr = Headroom(store="memory")
    result = hr.compress_text(text, path="src/lib.rs", query="how is byte_pair_encode used")
    assert "code.skeleton" in result.transforms_applied
    assert result.tokens_after < result.tokens_before
    assert hr.retrieve(result.handles[0]) == text


def test_registered_in_the_default_registry() -> None:
    assert [c.name for c in default_registry().chain("code")] == ["code.skeleton"]


def test_anonymous_wrapper_functions_are_walked_into() -> None:
    inner = "".join(f"    total += {n};\n" for n in range(400))
    text = f"(function () {{\n  function helper(total) {{\n{inner}    return total;\n  }}\n}})();\n"
    out = COMPRESSOR.compress(text, context("javascript"))
    assert out is not None
    assert "function helper(total) { /* [" in out.text
    assert out.text.startswith("(function () {\n")


def test_comment_separated_by_a_blank_line_is_not_trimmed() -> None:
    body = "".join(f"    total += {n};\n" for n in range(300))
    section = "// Section one.\n// Helpers below.\n// More.\n\n"
    doc = "/// Adds them.\n/// All of them.\n/// Really.\n#[inline]\n"
    text = f"{section}{doc}fn add_all(mut total: i32) -> i32 {{\n{body}    total\n}}\n"
    out = COMPRESSOR.compress(text, context("rust"))
    assert out is not None
    assert out.text.startswith(section + "/// Adds them.\n#[inline]\nfn add_all(")
    assert "comment lines 5–7" in out.text
    assert parses(out.text, "rust")


def elided_lines(output: str) -> set[int]:
    """Original line numbers the markers say were replaced, wholly or in part."""
    lines: set[int] = set()
    for marker in find_markers(output):
        assert marker.summary is not None
        for first, last in re.findall(r"lines (\d+)–(\d+)", marker.summary):
            lines.update(range(int(first), int(last) + 1))
    return lines


@pytest.mark.parametrize("name", PARSEABLE + [f"stdlib:{m}" for m in STDLIB_MODULES])
def test_every_line_outside_the_marked_ranges_is_kept_in_order(name: str) -> None:
    if name.startswith("stdlib:"):
        text, language = (STDLIB / name[7:]).read_text(encoding="utf-8"), "python"
    else:
        text, language = load(name)
    out = COMPRESSOR.compress(text, context(language))
    assert out is not None
    gone = elided_lines(out.text)
    # A replaced range starts mid-line (`int f() {`): its neighbours may differ, not others.
    near = gone | {n - 1 for n in gone} | {n + 1 for n in gone}
    kept = [line for n, line in enumerate(text.split("\n"), 1) if n not in near]
    remaining = iter(out.text.split("\n"))
    missing = [line for line in kept if not any(line == other for other in remaining)]
    assert missing == []


def padded(language: str) -> str:
    """Enough long functions to pass the size threshold, in ``language``."""
    body = "".join(f"    total += {n}\n" for n in range(60))
    if language == "python":
        return "".join(f"\ndef pad{i}(total):\n{body}    return total\n" for i in range(4))
    semi = body.replace("\n", ";\n")
    if language == "go":
        return "".join(
            f"\nfunc pad{i}(total int) int {{\n{semi}    return total;\n}}\n" for i in range(4)
        )
    return "".join(
        f"\n    int pad{i}(int total) {{\n{semi}    return total;\n    }}\n" for i in range(4)
    )


# (language, source with {pad} for the padding, the block's first line, the block, a query
# word that occurs only in the block)
DOCUMENTATION = [
    pytest.param(
        "python",
        '"""Module docstring."""\n\n\nclass Cache:\n'
        '    """Keeps recent results.\n\n    Entries expire after a while;\n'
        '    eviction is least recently used.\n    """\n\n    size = 3\n{pad}',
        '    """Keeps recent results."""',
        '    """Keeps recent results.\n\n    Entries expire after a while;\n'
        '    eviction is least recently used.\n    """\n',
        "eviction",
        id="python-class-docstring",
    ),
    pytest.param(
        "python",
        "# Licence header.\n# Stays whole.\n# Always.\n# Really.\nimport os\n\n\n"
        "class Paths:\n    size = 3\n\n    # Interesting findings about paths:\n"
        "    # - one\n    # - two\n    # - three\n    # - eviction\n\n    name = 'x'\n{pad}",
        "    # Interesting findings about paths:",
        "    # Interesting findings about paths:\n    # - one\n    # - two\n    # - three\n"
        "    # - eviction\n",
        "eviction",
        id="python-comment-block-in-class",
    ),
    pytest.param(
        "go",
        "// Package cache keeps things.\n// Header: stays whole.\n// Always.\n// Really.\n"
        "package cache\n\n"
        "// Entry is one cached value.\n// It expires after a while;\n"
        "// eviction is least recently used.\n// See Cache.\ntype Entry struct {\n"
        "\tkey string\n}\n{pad}",
        "// Entry is one cached value.",
        "// Entry is one cached value.\n// It expires after a while;\n"
        "// eviction is least recently used.\n// See Cache.\n",
        "eviction",
        id="go-type-doc-comment",
    ),
    pytest.param(
        "java",
        "/* Licence header, stays whole.\n * Always.\n * Really.\n */\npackage cache;\n\n"
        "class Cache {\n    /**\n     * How many entries are kept.\n"
        "     * Older ones are dropped;\n     * eviction is least recently used.\n     */\n"
        "    int size = 3;\n{pad}}\n",
        "/** How many entries are kept.",
        "    /**\n     * How many entries are kept.\n     * Older ones are dropped;\n"
        "     * eviction is least recently used.\n     */\n",
        "eviction",
        id="java-field-doc-comment",
    ),
]


@pytest.mark.parametrize(("language", "template", "first", "block", "word"), DOCUMENTATION)
def test_long_documentation_outside_bodies_is_cut_to_its_first_line(
    language: str, template: str, first: str, block: str, word: str
) -> None:
    text = template.replace("{pad}", padded(language))
    assert block in text
    ctx = context(language)
    out = COMPRESSOR.compress(text, ctx)
    assert out is not None and parses(out.text, language)
    assert block not in out.text and first in out.text
    assert text.split("\n", 4)[:4] == out.text.split("\n", 4)[:4]  # the header stays whole
    # The marker right after the first line names the cut lines, and its handle gives them back.
    line = out.text.split(first, 1)[1].split("\n", 2)[:2]
    marker = find_markers(line[0] or line[1])[0]
    assert marker.summary is not None
    a, b = (int(n) for n in re.findall(r"\d+", marker.summary))
    original = ctx.store.get(marker.handle).text
    assert original == text
    cut = "\n".join(original.split("\n")[a - 1 : b])
    assert cut.strip() and cut in block and b - a + 1 == marker.count
    assert COMPRESSOR.compress(out.text, ctx) is None  # idempotent
    asked = COMPRESSOR.compress(text, context(language, f"what about {word}?"))
    assert asked is not None and block in asked.text and parses(asked.text, language)


def test_python_class_docstring_kept_whole_when_the_query_names_the_class() -> None:
    text = (
        'class Cache:\n    """Keeps recent results.\n\n    More.\n    Even more.\n    """\n'
        "    size = 3\n" + padded("python")
    )
    docstring = '"""Keeps recent results.\n\n    More.\n    Even more.\n    """'
    plain = COMPRESSOR.compress(text, context("python"))
    asked = COMPRESSOR.compress(text, context("python", "how is Cache used"))
    assert plain is not None and docstring not in plain.text
    assert asked is not None and docstring in asked.text


def test_comments_tools_read_are_left_whole() -> None:
    go = "// +build linux\n// a\n// b\n// c\n"
    python = "    # type: ignore\n    # a\n    # b\n    # c\n"
    for language, block, template in [
        ("go", go, "package p\n\nvar x = 1\n\n{block}type T struct{{}}\n{pad}"),
        ("python", python, "import os\n\n\nclass T:\n    x = 1\n{block}    y = 2\n{pad}"),
    ]:
        text = template.format(block=block, pad=padded(language))
        out = COMPRESSOR.compress(text, context(language))
        assert out is not None and block in out.text


def test_c_extension_module_with_macro_parse_errors_is_compressed() -> None:
    # wrapt's C extension: tree-sitter-c cannot expand `PyObject_HEAD` and a few macros, so
    # this file used to pass through unchanged (0% saved).
    text, language = load("wrapt_wrappers.c")
    assert error_texts(text, language)
    out = COMPRESSOR.compress(text, context(language))
    assert out is not None
    assert COUNT(out.text) < 0.5 * COUNT(text)
    assert parses(out.text, language, text)
    symbols, _ = symbols_and_bodies(text, language)
    assert [s for s in symbols if s not in out.text] == []


@pytest.mark.parametrize("name", sorted(WITH_ERRORS))
def test_bodies_around_parse_errors_are_kept_verbatim(name: str) -> None:
    text, language = load(name)
    spec, parser = spec_for(language), new_parser(language)
    assert spec is not None and parser is not None
    source = text.encode()
    tree = parser.parse(source)
    errors = error_spans(tree)
    assert errors
    touched = [
        source[b.start : b.end].decode()
        for b in outline(tree, source, spec).bodies
        if any(start < b.end and b.start < end for start, end in errors)
    ]
    out = COMPRESSOR.compress(text, context(language))
    assert out is not None
    assert all(body in out.text for body in touched)
    # Every erroneous bit of input is still there, as written.
    assert all(source[start:end].decode() in out.text for start, end in errors)


def test_new_parse_errors_in_kept_text_are_refused() -> None:
    text, language = load("wrapt_wrappers.c")
    spec, parser = spec_for(language), new_parser(language)
    assert spec is not None and parser is not None
    source = text.encode()
    tree = parser.parse(source)
    errors = error_spans(tree)
    clean = [b for b in outline(tree, source, spec).bodies if b.lines > 20]
    clean = [b for b in clean if not any(s < b.end and b.start < e for s, e in errors)]
    body = clean[len(clean) // 2]
    marker = (body.start, body.end, b"{ /* [elided] */ }")
    assert validate.parses(
        apply(source, [marker]), parser, python=False, errors=errors, edits=[marker]
    )
    broken = (body.start, body.end, b"{ ) }")
    assert not validate.parses(
        apply(source, [broken]), parser, python=False, errors=errors, edits=[broken]
    )
    # A body kept as written but made invalid by an edit elsewhere: an error in kept text.
    after = next(b for b in clean if b.start > body.end)
    cut = (after.start, after.start + 1, b"")  # its opening brace dropped
    assert not validate.parses(
        apply(source, [cut]), parser, python=False, errors=errors, edits=[cut]
    )


def test_input_with_errors_all_over_passes_through() -> None:
    # Java read as C: errors everywhere, not a few macros.
    text, _ = load("TypeManager.java")
    assert COMPRESSOR.compress(text, context("c")) is None
