"""Adversarial input shapes for the budget benchmarks (``test_bench_adversarial.py``) and the
regression tests of super-linear cases (``tests/unit/test_adversarial_*.py``).

Each shape is a function of a size in characters that returns a text of about that size.
Together they cover what issue 14 names: one huge line, very many tiny lines, every line a
new template, deep nesting, and, for each module's regexes, the runs of characters that make
a backtracking pattern retry from every position.
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["CODE_PATHS", "SHAPES", "Shape"]

Shape = Callable[[int], str]


def _repeat(unit: str) -> Shape:
    """``unit`` repeated on one line to ``n`` characters."""
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _run(unit: str) -> Shape:
    """``unit`` repeated over three lines of ``n / 3`` characters: line-based detectors and
    compressors (which need a few lines) see it, and each line is one long run."""

    def build(n: int) -> str:
        width = max(1, n // 3 - 1)
        return ((unit * (width // len(unit) + 1))[:width] + "\n") * 3

    return build


def _lines(make: Callable[[int], str]) -> Shape:
    """Lines ``make(0)``, ``make(1)``, ... up to ``n`` characters."""

    def build(n: int) -> str:
        out: list[str] = []
        size = 0
        i = 0
        while size < n:
            line = make(i)
            out.append(line)
            size += len(line) + 1
            i += 1
        return "\n".join(out) + "\n"

    return build


def _long_lines(head: str, unit: str, count: int = 4, tail: str = "") -> Shape:
    """``count`` lines, each ``head`` then ``unit`` repeated then ``tail``: a pathological
    run inside lines of a known format (most compressors need a few lines to start)."""

    def build(n: int) -> str:
        width = max(1, n // count - len(head) - len(tail))
        body = (unit * (width // len(unit) + 1))[:width]
        return "".join(f"{head}{body}{tail}\n" for _ in range(count))

    return build


_WORDS = ("alpha", "beta", "gamma", "delta", "error", "user", "id", "path/to/x.py:3:", "[INFO]")


def _words_one_line(n: int) -> str:
    rnd = random.Random(1)
    out: list[str] = []
    size = 0
    while size < n:
        word = rnd.choice(_WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def _unique_line(i: int) -> str:
    # Every line a new template: a different number of tokens, words that never repeat.
    rnd = random.Random(i)
    return " ".join(f"w{i}x{j}{rnd.randrange(10**6):x}" for j in range(1 + i % 11))


def _unique_log_line(i: int) -> str:
    rnd = random.Random(i)
    words = " ".join(f"k{i}v{j}q{rnd.randrange(10**6):x}" for j in range(1 + i % 7))
    level = "ERROR" if i % 5 == 0 else "INFO"
    return f"2024-01-01 10:{i // 60 % 60:02d}:{i % 60:02d},123 {level} [main] c{i}.Cls: {words}"


def _py_function(i: int) -> str:
    doc = "".join(f"# note {i} line {k}\n" for k in range(4))
    body = "".join(f"    x{k} = a + {k}\n" for k in range(6))
    return f"{doc}def f{i}(a):\n{body}    return a\n\n"


def _js_function(i: int) -> str:
    return f"/**\n * Doc of f{i}.\n * More.\n */\nfunction f{i}(a) {{\n" + "  a += 1;\n" * 6 + "}\n"


def _blocks(make: Callable[[int], str]) -> Shape:
    """Blocks ``make(0)``, ``make(1)``, ... up to ``n`` characters."""

    def build(n: int) -> str:
        out: list[str] = []
        size = 0
        while size < n:
            out.append(make(len(out)))
            size += len(out[-1])
        return "".join(out)

    return build


def _nested_callbacks(n: int) -> str:
    depth = n // 40
    return "f(function () {\n" * depth + "  g();\n" + "});\n" * depth


def _nested_defs(n: int) -> str:
    depth = max(1, int((n / 2) ** 0.5))
    return "".join("\t" * d + f"def f{d}():\n" for d in range(depth)) + "\t" * depth + "pass\n"


def _similar_paragraph(i: int) -> str:
    # Paragraphs of one template: near in SimHash, never near-duplicates.
    return f"Request {i} to the service took {i * 7 % 1000} ms and returned {i % 13} rows.\n"


def _record(i: int) -> str:
    status = "error" if i % 97 == 0 else "active"
    return f'{{"id": {i}, "name": "user{i}", "status": "{status}", "score": {i * 7 % 100}}}'


def _json_array(item: Callable[[int], str]) -> Shape:
    def build(n: int) -> str:
        out: list[str] = []
        size = 2
        while size < n:
            out.append(item(len(out)))
            size += len(out[-1]) + 1
        return "[" + ",".join(out) + "]"

    return build


def _nested_frame(i: int) -> str:
    # Library frames, each indented deeper than the one before, 50 levels at a time.
    return " " * (i % 50) + f'File "/site-packages/m{i}.py", line 1'


CODE_PATHS: dict[str, str] = {"code-js-functions": "x.js", "code-js-callbacks": "x.js"}
"""The file path given with ``kind="code"`` (the language); ``x.py`` for other shapes."""


# The base size n of each shape, in characters, chosen to keep the whole benchmark (every
# shape through every kind, at n and 4n, timed and traced) within about three minutes on two
# cores. Shapes of very many lines get a smaller n: per-line Python work sets their pace.
_N = 1 << 16
_LINES_N = 1 << 14

SHAPES: dict[str, tuple[Shape, int]] = {
    # Size and line structure.
    "one-line-words": (_words_one_line, _N),
    "one-line-a": (_repeat("a"), _N),
    "tiny-lines": (_repeat("a\n"), _LINES_N),
    "blank-lines": (_repeat("\n"), _LINES_N),
    "distinct-lines": (_lines(_unique_line), _LINES_N),
    "distinct-log-lines": (_lines(_unique_log_line), _LINES_N),
    "nested-brackets": (lambda n: "[" * (n // 2) + "]" * (n // 2), _N),
    "nested-objects": (lambda n: '{"a":' * (n // 6) + "1" + "}" * (n // 6), _N),
    # Runs that make backtracking patterns rescan (three long lines).
    "run-open-bracket": (_run("["), _N),
    "run-marker-head": (_run("[1 "), _N),
    "run-omitted-summary": (_run("[1 x omitted: "), _N),
    "run-colon": (_run(":"), _N),
    "run-double-colon": (_run("a::"), _N),
    "run-slash": (_run("/"), _N),
    "run-dot": (_run("."), _N),
    "run-digits": (_run("1"), _N),
    "run-space": (_run(" "), _N),
    "run-quote": (_run('"'), _N),
    "run-backslash": (_run("\\"), _N),
    "run-at-at": (_run("@@ "), _N),
    "run-dashes": (_run("---"), _N),
    "run-equals-space": (_run("= "), _N),
    "run-dash-number": (_run("-1"), _N),
    "run-dollar-word": (_run("A$"), _N),
    "run-open-paren": (_run("("), _N),
    # The same runs across many lines, where a parser looks at its neighbours.
    "lines-py-frames": (_repeat('  File "\n'), _LINES_N),
    "lines-at-frames": (_repeat("\tat \n"), _LINES_N),
    "lines-hunk-headers": (_repeat("@@ -1 +1 @@\n"), _LINES_N),
    "lines-diff-headers": (_repeat("--- a\n+++ b\n"), _LINES_N),
    "lines-no-newline-notes": (_repeat("\\ No newline at end of file\n"), _LINES_N),
    "lines-grep-hits": (_lines(lambda i: f"src/m{i % 7}.py:{i}:x = {i}"), _LINES_N),
    "lines-pytest-passed": (_lines(lambda i: f"tests/t.py::test_{i} PASSED"), _LINES_N),
    # Pathological runs inside lines of a format the kind's parser recognises.
    "log-logcat-spaces": (_long_lines("03-17 16:13:38.811  1702  2395 D ", " ", tail="x"), _N),
    "log-container-prefixes": (_long_lines("", "2024-01-01T00:00:00Z "), _N),
    "log-oslo-file": (_long_lines("", ".log"), _N),
    "log-exception-dollars": (_long_lines("10:00:00 INFO ", "A$", tail=" Error"), _N),
    "log-nested-thread": (_long_lines("2024-01-01 10:00:00,000 INFO [", "[a]", tail=" x"), _N),
    "grep-context-dashes": (_long_lines("a.py", "-1", tail="-x"), _N),
    "test-double-colons": (_long_lines("", "a::", tail=" x"), _N),
    "test-go-frame-parens": (lambda n: ("(" * (n // 4) + "x\n\tsrc/a.go:1\n") * 2, _N),
    "test-nested-frames": (_lines(_nested_frame), _LINES_N),
    # Prose: sentence ends next to code spans and abbreviations, paragraphs of one template.
    "text-code-spans": (_repeat("`a`. B "), _LINES_N),
    "text-abbreviations": (_repeat("e.g. Foo "), _N),
    "text-similar-paragraphs": (_lines(_similar_paragraph), _LINES_N),
    # Markdown: runs of every block opener the parser and detector branch on.
    "md-fences": (_repeat("```\n"), _LINES_N),
    "md-list-items": (_repeat("- a\n"), _LINES_N),
    "md-quotes": (_repeat("> q\n"), _LINES_N),
    "md-table-rows": (_repeat("| a |\n"), _LINES_N),
    "md-empty-headings": (_repeat("#\n"), _LINES_N),
    "md-setext": (_repeat("a\n=\n"), _LINES_N),
    "md-html-blocks": (_repeat("<div>\n"), _LINES_N),
    "md-indented-code": (_repeat("    x\n"), _LINES_N),
    # JSON: what the JSON compressors see (``kind="json"`` on other text is detection).
    "json-records": (_json_array(_record), _N),
    "json-distinct-keys": (_json_array(lambda i: f'{{"k{i}": {i}, "v{i}": "x{i}"}}'), _N),
    "json-deep-arrays": (_json_array(lambda i: "[" * 400 + str(i) + "]" * 400), _N),
    "json-escaped-string": (lambda n: '["' + '\\"' * (n // 2) + '"]', _N),
    # Longer than detection's sample at both sizes, so detection sees the same thing at both.
    "json-lines-bad-tail": (lambda n: _lines(_record)(n) + "goroutine 1 [running]:\n", _N),
    # Source files: many bodies and notes to elide, deep nesting.
    "code-py-functions": (_blocks(_py_function), _LINES_N),
    "code-js-functions": (_blocks(_js_function), _LINES_N),
    "code-js-callbacks": (_nested_callbacks, _LINES_N),
    "code-py-nested-defs": (_nested_defs, _LINES_N),
}
