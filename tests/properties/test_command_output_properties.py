"""Hypothesis properties of the search, test-output and diff compressors.

Inputs are generated in the shapes the real tools print: ``grep -rn`` lines, pytest ``-v``
lines, and unified diffs made by :func:`difflib.unified_diff` from generated files.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter

from hypothesis import event, given
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom
from headroom.compressors.diff.compressor import DiffCompressor
from headroom.compressors.search.compressor import SearchCompressor
from headroom.compressors.test_output.compressor import TestOutputCompressor
from headroom.handles import find_markers
from headroom.store.memory import MemoryStore
from tests.command_outputs import context

HR = Headroom(CompressConfig(min_tokens=0), store="memory")
SEARCH = SearchCompressor()
TESTS = TestOutputCompressor()
DIFF = DiffCompressor()

paths = st.sampled_from(
    ["src/app.py", "src/db/models.py", "lib/util-2-x.js", "README.md", "a b/c.rs", "x.go"]
)
words = st.sampled_from(["import", "os", "deadline", "=", "None", "def", "f(x):", "#", "ok"])
line_texts = st.lists(words, min_size=0, max_size=6).map(" ".join)
grep_lines = st.lists(
    st.tuples(paths, st.integers(1, 400), line_texts), min_size=1, max_size=120
).map(lambda hits: sorted(hits, key=lambda h: h[0]))  # grep prints a file's matches together


def grep_output(hits: list[tuple[str, int, str]]) -> str:
    return "".join(f"{path}:{number}:{text}\n" for path, number, text in hits)


@given(grep_lines, st.none() | st.sampled_from(["deadline", "import os", "zzz"]))
def test_search_keeps_every_path_and_count(hits: list[tuple[str, int, str]], query: str) -> None:
    text = grep_output(hits)
    result = SEARCH.compress(text, context("search", query=query))
    event("lossless" if result and result.lossless else "lossy" if result else "unchanged")
    if result is None:
        return
    expected = Counter(path for path, _, _ in hits)
    for path, count in expected.items():
        header = f"{path} ({count} match{'' if count == 1 else 'es'}"
        assert any(line.startswith(header) for line in result.text.split("\n")), header
    assert SEARCH.compress(result.text, context("search", query=query)) is None


@given(grep_lines)
def test_search_is_lossless_unless_it_says_otherwise(hits: list[tuple[str, int, str]]) -> None:
    text = grep_output(hits)
    result = HR.compress_text(text, kind="search")
    if result.lossless:
        assert not find_markers(result.text)
        shown: Counter[tuple[str, int, str]] = Counter()
        path = None
        for line in result.text.split("\n"):
            header = re.fullmatch(r"(.+) \(\d+ match(?:es)?\)", line)
            numbered = re.fullmatch(r"(\d+(?:,\d+)*):(.*)", line)
            if numbered and path is not None:
                shown.update((path, int(n), numbered[2]) for n in numbered[1].split(","))
            elif header:
                path = header[1]
        if result.text != text:
            assert shown == Counter(hits)
    else:
        assert [HR.retrieve(m.handle) for m in find_markers(result.text)] == [text]


statuses = st.sampled_from(["PASSED", "PASSED", "PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL"])


@given(st.lists(st.tuples(st.integers(0, 999), statuses), min_size=1, max_size=150))
def test_test_output_keeps_failures_and_counts_passes(tests: list[tuple[int, str]]) -> None:
    lines = [f"tests/test_m.py::test_{n} {status} [ 50%]" for n, status in tests]
    summary = f"===== {len(tests)} ran in 0.12s ====="
    text = "\n".join([*lines, "", summary]) + "\n"
    store = MemoryStore()
    result = TESTS.compress(text, context("test-output", store=store))
    passed = sum(status == "PASSED" for _, status in tests)
    if not any(status in ("PASSED", "SKIPPED", "XFAIL") for _, status in tests):
        assert result is None
        return
    assert result is not None
    kept = result.text.split("\n")
    assert summary in kept
    for line, (_, status) in zip(lines, tests, strict=True):
        assert (line in kept) == (status in ("FAILED", "ERROR"))
    marker = find_markers(result.text)[0]
    assert (f"{passed} passed" in (marker.summary or "")) == bool(passed)
    assert store.get(marker.handle).text == text


file_lines = st.lists(
    st.sampled_from(["a", "b", "c", "def f():", "    return 1", "", "}", "x = 2"]),
    min_size=0,
    max_size=150,
)


def apply_unified(old: list[str], diff: str) -> list[str]:
    """Apply a unified diff the strict way: every context and removed line must match."""
    new: list[str] = []
    position = 0
    lines = diff.split("\n")
    for i, line in enumerate(lines):
        m = re.fullmatch(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@.*", line)
        if not m:
            continue
        start = int(m[1]) - (1 if m[2] != "0" else 0)
        new += old[position:start]
        position = start
        for body in lines[i + 1 :]:
            if body.startswith("@@") or body.startswith("[") or not body:
                break
            if body[0] in " -":
                assert old[position] == body[1:], (position, body)
                position += 1
            if body[0] in " +":
                new.append(body[1:])
    return new + old[position:]


@given(file_lines, file_lines)
def test_trimmed_diff_applies_and_keeps_every_change(old: list[str], new: list[str]) -> None:
    text = "\n".join(difflib.unified_diff(old, new, "a/f.py", "b/f.py", lineterm="", n=3))
    if not text:
        return
    text += "\n"
    result = DIFF.compress(text, context("diff"))
    event("context trimmed" if result is not None else "left as it was")
    out = result.text if result is not None else text
    assert apply_unified(old, out) == new

    def changed(diff: str) -> list[str]:
        return [line for line in diff.split("\n")[2:] if line[:1] in "+-"]

    assert changed(out) == changed(text)
    if result is not None:
        assert DIFF.compress(result.text, context("diff")) is None


@given(st.text(max_size=3000), st.sampled_from(["search", "test-output", "diff"]))
def test_any_text_is_safe(text: str, kind: str) -> None:
    a = HR.compress_text(text, kind=kind)
    b = HR.compress_text(text, kind=kind)
    assert a.text == b.text and a.tokens_after <= a.tokens_before
    for marker in find_markers(a.text):
        assert HR.retrieve(marker.handle) == text
    assert HR.compress_text(a.text, kind=kind).text == a.text
