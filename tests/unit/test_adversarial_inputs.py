"""Hostile inputs that took quadratic time (or crashed) in the router and the compressors.

Each rewritten pattern is checked against the regex it replaced (kept here as the
reference) on generated text, and each fix is run on an input that took seconds to minutes
before. Nothing here is timed (``tests/benchmarks/test_bench_adversarial.py`` measures);
the old code would simply not finish these tests in any reasonable time.
"""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom import _core
from headroom._regex import compile_possessive
from headroom.compressors.base import Context
from headroom.compressors.code import CodeCompressor
from headroom.compressors.code.skeleton import _Spans
from headroom.compressors.diff.compressor import DiffCompressor
from headroom.compressors.logs import LogCompressor
from headroom.compressors.logs import prefix as log_prefix
from headroom.compressors.search.compressor import SearchCompressor
from headroom.compressors.search.parse import FileGroup, parse_search
from headroom.compressors.test_output import compressor as test_output
from headroom.compressors.test_output import frames as _test_frames
from headroom.compressors.test_output.compressor import TestOutputCompressor
from headroom.config import CompressConfig
from headroom.handles import find_markers
from headroom.relevance import dedup
from headroom.relevance.segment import segment
from headroom.router import _RG_PATH_RE, _SEARCH_CONTEXT_RE, _SEARCH_RE, _TEST_PATTERNS, detect
from headroom.store.memory import MemoryStore

BIG = 300_000  # characters of a hostile run: minutes for the old patterns


def ctx(kind: str, language: str | None = None, query: str | None = None) -> Context:
    return Context(kind, language, query, CompressConfig(), MemoryStore(), len)


def texts(alphabet: list[str], max_size: int = 12) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), max_size=max_size).map("".join)


# --- router ------------------------------------------------------------------------------

ROUTER_REFERENCE = {
    "pytest line": (
        re.compile(r"::\S+ (PASSED|FAILED|ERROR|SKIPPED|XFAIL)"),
        _TEST_PATTERNS[3],
        "search",
    ),
    "grep line": (
        re.compile(r"^(?:\./)?[^\s:]*[./][^\s:]*:\d+[:-](?!\d{2}[\s.,])"),
        _SEARCH_RE,
        "match",
    ),
    "grep context": (
        re.compile(r"^(?:\./)?[^\s:]*[./][^\s:]*-\d+-|^--$"),
        _SEARCH_CONTEXT_RE,
        "match",
    ),
    "rg path": (
        re.compile(r"^[^\s:]*[./][^\s:]*(?: \(\d+ match(?:es)?(?:, \d+ shown)?\))?$"),
        _RG_PATH_RE,
        "match",
    ),
}
ROUTER_ALPHABET = [
    *["::", ":", "/", ".", "./", "-", "1", "12", " ", "\t", "a", "x.py", "--", " (", ")"],
    *[" PASSED", "PASSED", "-3-", ":4:", ":10:30 ", "2 match", "es", ", 1 shown", "é"],
]


@pytest.mark.parametrize("name", list(ROUTER_REFERENCE))
@given(text=texts(ROUTER_ALPHABET))
def test_router_patterns_agree_with_the_regexes_they_replace(name: str, text: str) -> None:
    reference, pattern, method = ROUTER_REFERENCE[name]
    assert (getattr(reference, method)(text) is None) == (getattr(pattern, method)(text) is None)


@pytest.mark.parametrize("unit", [":", "a::", "/", ".", "./", "/-", "-1"])
def test_detect_on_long_runs(unit: str) -> None:
    # Several lines: the search patterns only run on text of two lines or more.
    line = unit * (BIG // 3 // len(unit))
    assert detect("\n".join([line] * 3)).kind == "text"


# --- test output -------------------------------------------------------------------------

PYTEST_REFERENCE = re.compile(
    r"\S+::\S.*? (?P<status>PASSED|SKIPPED|XFAIL)(?: \(.*\))?(?:\s+\[\s*\d+%\])?"
)
PYTEST_ALPHABET = [
    *["::", ":", "a", " ", "  ", "PASSED", " PASSED", " SKIPPED", " XFAIL", "(", ")", " ("],
    *["[", "]", "%]", "12", " [ 5%]", "[100%]", "\t", "x::y", "\u2003", "٣"],
]


@given(texts(PYTEST_ALPHABET))
def test_pytest_status_agrees_with_the_regex_it_replaces(text: str) -> None:
    m = PYTEST_REFERENCE.fullmatch(text)
    assert test_output._pytest_status(text) == (m["status"] if m else None)


GO_FRAME_REFERENCE = re.compile(r"[\w./*()\-\[\]]+\(.*\)")


@given(texts(["(", ")", "a", ".", "*", " ", "[", "]", "-", "x(", ")y", "é", "/", ":"]))
def test_go_frame_pattern_agrees_with_the_regex_it_replaces(text: str) -> None:
    assert (GO_FRAME_REFERENCE.fullmatch(text) is None) == (
        _test_frames._GO_FRAME_RE.fullmatch(text) is None
    )


def python_frames_reference(lines: list[str]) -> tuple[set[int], int]:
    """The frame finder before it skipped blocks it had already dropped."""
    drop: set[int] = set()
    frames = 0
    for i, line in enumerate(lines):
        m = _test_frames._PY_FRAME_RE.fullmatch(line)
        if not m or not _test_frames._FOREIGN_PATH_RE.search(m["path"]):
            continue
        frames += 1
        drop.add(i)
        j = i + 1
        while (
            j < len(lines)
            and _test_frames._indent(lines[j]) > len(m["indent"])
            and lines[j].strip()
        ):
            drop.add(j)
            j += 1
    return drop, frames


FRAME_LINES = [
    'File "/site-packages/a.py", line 1',
    'File "/app/a.py", line 2, in f',
    "x = 1",
    "",
    "^^^",
]


@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(FRAME_LINES)), max_size=14))
def test_python_frames_agree_with_the_rescanning_finder(rows: list[tuple[int, str]]) -> None:
    lines = [" " * indent + line for indent, line in rows]
    assert _test_frames._python_frames(lines) == python_frames_reference(lines)


@pytest.mark.parametrize(
    "text",
    [
        "a::" * (BIG // 3) + " x\n" * 3,  # "\S+::\S" from every "::"
        "a::b" + " PASSED (" * (BIG // 9) + "\n" * 3,  # " \(.*\)" from every status word
        ("(" * (BIG // 10) + "x\n\tsrc/a.go:1\n") * 5,  # a Go frame's "(" run
        "".join(" " * (i % 500) + f'File "/site-packages/m{i}.py", line 1\n' for i in range(2000)),
    ],
    ids=["colons", "statuses", "go-parens", "nested-frames"],
)
def test_test_output_compressor_finishes_on_hostile_lines(text: str) -> None:
    TestOutputCompressor().compress(text, ctx("test-output"))


def test_nested_library_frames_are_all_counted() -> None:
    lines = [" " * (i % 500) + f'File "/site-packages/m{i}.py", line 1' for i in range(2000)]
    assert _test_frames._python_frames(lines) == (set(range(2000)), 2000)


# --- numbers too long for int() ---------------------------------------------------------------

HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("compressor", "kind", "text"),
    [
        (DiffCompressor(), "diff", f"--- a\n+++ b\n@@ -{HUGE} +1 @@\n-x\n+y\n" * 30),
        (SearchCompressor(), "search", f"a.py:{HUGE}:x\n" * 30 + "a.py:1:x\n" * 30),
        (
            TestOutputCompressor(),
            "test-output",
            f"[INFO] Tests run: {HUGE}, Failures: 0, Errors: 0, Skipped: 0, "
            "Time elapsed: 1 s - in a.B\n" * 30,
        ),
    ],
    ids=["diff-hunk", "search-line", "surefire-count"],
)
def test_numbers_longer_than_int_allows_are_not_numbers(
    compressor: DiffCompressor | SearchCompressor | TestOutputCompressor, kind: str, text: str
) -> None:
    compressor.compress(text, ctx(kind))  # raised ValueError (int max str digits)


# --- search ------------------------------------------------------------------------------------


def test_context_lines_next_to_a_long_dashed_line() -> None:
    lines = ["a.py:1:x", "a.py-2-y", "b" + "-1" * (BIG // 2), "a.py" + "-1" * (BIG // 2) + "-z"]
    entries, understood = parse_search(lines)
    group = entries[0]
    assert isinstance(group, FileGroup) and group.path == "a.py"
    assert [(h.numbers, h.match) for h in group.hits] == [([1], True), ([2], False), ([1], False)]
    assert entries[1] == lines[2] and understood == 3


# --- logs --------------------------------------------------------------------------------------

EXCEPTION_REFERENCE = re.compile(
    r"\b[A-Z][\w$]*(?:Exception|Error)\b|Traceback \(most recent call last\)|\bpanic:"
)
LOGCAT_COMPONENT = (
    re.compile(r" (?P<comp>[^:\n]*?)\s*: "),
    compile_possessive(r" (?P<comp>(?:\s*+[^:\s])*+)\s*: "),
)
OSLO_FILE = (re.compile(r"(?:\S+\.log\S* )?X"), compile_possessive(r"(?:(?=\S+?\.log)\S++ )?X"))


@given(texts(["A", "a", "$", "Error", "Exception", "Foo", "_", "1", " ", ".", "é", "É", "$A"]))
def test_exception_pattern_agrees_with_the_regex_it_replaces(text: str) -> None:
    assert (EXCEPTION_REFERENCE.search(text) is None) == (
        log_prefix.EXCEPTION_RE.search(text) is None
    )


@given(texts([" ", "  ", ":", ": ", "a", "b c", "\t", "\r", "é", "\u2003", "x:y"]))
def test_logcat_component_agrees_with_the_pattern_it_replaces(text: str) -> None:
    # The same sub-pattern as in the logcat format, which must give the same component.
    assert LOGCAT_COMPONENT[1].pattern in log_prefix._FORMATS_BY_NAME["logcat"][0].pattern
    old, new = (p.match(" " + text) for p in LOGCAT_COMPONENT)
    assert (old and (old["comp"], old.end())) == (new and (new["comp"], new.end()))


@given(texts([".log", ".lo", "a", " ", "X", "\t", ".", "g"]))
def test_oslo_file_prefix_agrees_with_the_pattern_it_replaces(text: str) -> None:
    assert OSLO_FILE[1].pattern.removesuffix("X") in log_prefix._FORMATS_BY_NAME["oslo"][0].pattern
    old, new = (p.match(text) for p in OSLO_FILE)
    assert (old and old.end()) == (new and new.end())


def test_a_line_of_many_container_prefixes_parses() -> None:
    # Each prefix used to be peeled by a recursive call on a copy of the rest of the line.
    prefix = log_prefix.parse_prefix("2024-01-01T00:00:00Z " * 5000 + "INFO x")
    assert prefix.timestamp == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "line",
    [
        "03-17 16:13:38.811  1702  2395 D " + " " * BIG + "x",
        ".log" * (BIG // 4),
        "10:00:00 INFO " + "A$" * (BIG // 2) + " Error",
    ],
    ids=["logcat-spaces", "oslo-file", "exception-dollars"],
)
def test_log_compressor_finishes_on_hostile_lines(line: str) -> None:
    LogCompressor().compress("\n".join([line] * 4), ctx("log"))


# --- code --------------------------------------------------------------------------------------


@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=10),
    st.integers(0, 70),
    st.integers(0, 10),
)
def test_spans_overlap_as_a_scan_says(spans: list[tuple[int, int]], start: int, width: int) -> None:
    ranges = [(a, a + w) for a, w in spans]
    expected = any(a < start + width and start < b for a, b in ranges)
    assert _Spans(ranges).overlaps(start, start + width) == expected


def test_deeply_nested_callbacks() -> None:
    # Each anonymous function asked tree-sitter for its parent, found from the root down.
    depth = 3000
    source = "f(function () {\n" * depth + "  g();\n" + "});\n" * depth
    CodeCompressor().compress(source, ctx("code", "javascript"))


def test_every_documented_function_of_a_long_file_is_elided() -> None:
    # Each function's comment was found through prev_sibling, which walks the siblings; each
    # note was checked against every body.
    count = 3000
    source = "".join(
        f"/**\n * Doc of f{i}.\n * More.\n */\nfunction f{i}(a) {{\n" + "  a += 1;\n" * 6 + "}\n"
        for i in range(count)
    )
    result = CodeCompressor().compress(source, ctx("code", "javascript"))
    assert result is not None
    assert len(find_markers(result.text)) == count
    assert result.text.count("/** Doc of f") == count  # each comment cut to its first line


# --- relevance ---------------------------------------------------------------------------------


def test_sentences_after_many_code_spans_and_abbreviations() -> None:
    assert len(segment("`a`. B " * 20_000)) == 20_001  # every end checked every code span
    assert len(segment("e.g. " * 50_000 + "Done. Next")) == 2  # the head re-sliced from its start
    assert len(segment("." * BIG + " x")) == 1  # the end pattern retried inside the run


def duplicate_of_reference(
    fingerprints: list[int], words: list[int], max_distance: int
) -> list[int | None]:
    """Every earlier chunk compared: the earliest within ``max_distance`` bits."""
    out: list[int | None] = []
    for i, fingerprint in enumerate(fingerprints):
        found = None
        if words[i] >= 8:
            found = next(
                (
                    j
                    for j in range(i)
                    if out[j] is None
                    and words[j] >= 8
                    and (fingerprint ^ fingerprints[j]).bit_count() <= max_distance
                ),
                None,
            )
        out.append(found)
    return out


WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota"]


@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=8, max_size=14), max_size=40))
def test_near_duplicates_as_comparing_all_pairs_finds_them(chunks: list[list[str]]) -> None:
    texts = [" ".join(words) for words in chunks]
    fingerprints = _core.simhashes(texts)
    exact: dict[str, int] = {}
    found = dedup.duplicate_of(texts)
    reference = duplicate_of_reference(fingerprints, [len(w) for w in chunks], 8)
    for i, text in enumerate(texts):
        if text in exact:  # exact repeats are found by text first
            assert found[i] == exact[text]
            continue
        assert found[i] == reference[i]
        if found[i] is None:
            exact[text] = i


def test_many_lines_of_one_template_are_deduplicated_in_linear_time() -> None:
    # Lines of one template share SimHash bands without being near-duplicates: each was
    # compared with every earlier one.
    lines = [
        f"line {i} of the generated file says value {i * 7} and more {i % 13}"
        for i in range(20_000)
    ]
    found = dedup.duplicate_of(lines + lines[:100])
    assert found[20_000:] == [k if found[k] is None else found[k] for k in range(100)]


def test_compile_possessive_keeps_ascii_meaning_on_every_python() -> None:
    # regex.V1 has re.ASCII's value: the flag is translated where the regex package is used.
    pattern = compile_possessive(r"\w++", re.ASCII)
    assert pattern.match("é") is None and pattern.match("ab") is not None
    assert compile_possessive(r"\w++").match("é") is not None


def test_compile_possessive_uses_re_on_python_3_10_unless_the_pattern_needs_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import regex

    monkeypatch.setattr(sys, "version_info", (3, 10, 14, "final", 0))
    for plain in (r"\d+ (?:ERROR|WARN)", rb"[a-z]*:", r"x{2,3}?"):
        assert isinstance(compile_possessive(plain), re.Pattern)
    for possessive in (r"\S++ PASSED", rb"a*+b", r"x?+", r"\d{2}+", r"(?>ab|a)c"):
        compiled = compile_possessive(possessive)
        assert isinstance(compiled, regex.Pattern)
    assert compile_possessive(r"(?>a|ab)c").match("abc") is None  # atomic: no backtracking
