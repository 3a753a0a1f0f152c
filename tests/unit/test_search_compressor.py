"""SearchCompressor on real grep and ripgrep output, and on the shapes it must understand."""

from __future__ import annotations

import re
from collections import Counter

import pytest

import headroom
from headroom import CompressConfig, Headroom
from headroom.compressors.search.compressor import SearchCompressor
from headroom.handles import find_markers
from headroom.store.memory import MemoryStore
from tests.command_outputs import (
    PATHOLOGICAL,
    SEARCH_FIXTURES,
    context,
    marker_summary,
    run,
    tool_output,
)

COMPRESSOR = SearchCompressor()
_OWN_HEADER_RE = re.compile(r"(?P<path>.+?) \((?P<count>\d+) match(?:es)?(?:, \d+ shown)?\)")
_OWN_LINE_RE = re.compile(r"(?P<nums>\d+(?:,\d+)*)(?P<sep>[:-])(?P<text>.*)")


def expected_counts(text: str) -> Counter[str]:
    """Matching lines per file, read the simple way: every fixture searched ``*.py`` files,
    so a path ends in ``.py``; ``rg --heading`` puts the path on its own line."""
    counts: Counter[str] = Counter()
    heading = None
    for line in text.split("\n"):
        inline = re.match(r"(.+?\.py):\d+:", line)
        if inline:
            counts[inline.group(1)] += 1
        elif line.endswith(".py"):
            heading = line
        elif heading and re.match(r"\d+:", line):
            counts[heading] += 1
    return counts


def grouped(output: str) -> dict[str, tuple[int, list[tuple[list[int], str, str]]]]:
    """The compressor's output read back: path -> (count in header, [(numbers, sep, text)])."""
    groups: dict[str, tuple[int, list[tuple[list[int], str, str]]]] = {}
    current: list[tuple[list[int], str, str]] | None = None
    for line in output.split("\n"):
        header = _OWN_HEADER_RE.fullmatch(line)
        numbered = _OWN_LINE_RE.fullmatch(line)
        if header and not numbered:
            current = []
            groups[header["path"]] = (int(header["count"]), current)
        elif numbered and current is not None:
            nums = [int(n) for n in numbered["nums"].split(",") if n.isdigit()]
            current.append((nums, numbered["sep"], numbered["text"]))
    return groups


@pytest.mark.parametrize("name", SEARCH_FIXTURES)
def test_every_file_survives_with_its_count(name: str) -> None:
    text = tool_output(name)
    expected = expected_counts(text)
    assert len(expected) >= 4
    result = run(COMPRESSOR, text, "search")
    groups = grouped(result.text)
    assert {path: count for path, (count, _) in groups.items()} == dict(expected)
    assert not result.lossless and result.handles
    assert "every file is listed with its match count" in marker_summary(result.text)


@pytest.mark.parametrize("name", SEARCH_FIXTURES)
def test_shown_lines_are_verbatim_lines_of_the_input(name: str) -> None:
    text = tool_output(name)
    originals = set(text.split("\n"))
    for path, (_, hits) in grouped(run(COMPRESSOR, text, "search").text).items():
        assert hits, f"{path}: no line shown"
        for numbers, sep, line_text in hits:
            for number in numbers[:2]:
                inline = f"{path}{sep}{number}{sep}{line_text}"
                assert inline in originals or f"{number}{sep}{line_text}" in originals


@pytest.mark.parametrize(
    ("name", "query", "term"),
    [
        ("rg_settings_hypothesis.txt", "suppress_health_check", "suppress_health_check"),
        ("grep_rn_import_hypothesis.txt", "where is numpy imported", "numpy"),
        ("grep_rn_deadline_hypothesis.txt", "deadline as a timedelta", "timedelta"),
    ],
)
def test_with_a_query_the_matching_lines_are_kept(name: str, query: str, term: str) -> None:
    text = tool_output(name)
    by_file: dict[str, list[str]] = {}
    for line in text.split("\n"):
        m = re.match(r"(.+?\.py):\d+:(.*)", line)
        if m:
            by_file.setdefault(m.group(1), []).append(m.group(2))
    groups = grouped(run(COMPRESSOR, text, "search", query=query).text)
    files_with_term = [p for p, lines in by_file.items() if any(term in t for t in lines)]
    assert files_with_term
    for path in files_with_term:
        shown = [t for _, _, t in groups[path][1]]
        assert any(term in t for t in shown), path


def test_without_a_query_larger_files_show_a_few_first_lines() -> None:
    text = tool_output("grep_rn_import_hypothesis.txt")
    for path, (count, hits) in grouped(run(COMPRESSOR, text, "search").text).items():
        if count > 4:
            assert 1 <= len(hits) <= 3, path
        else:
            assert sum(len(n) for n, _, _ in hits) == count, path


def test_exact_repeats_in_a_file_list_their_line_numbers() -> None:
    text = tool_output("grep_rn_context_invalidargument_hypothesis.txt")
    lossless = run(COMPRESSOR, text, "search", lossy=False)
    groups = grouped(lossless.text)
    repeats = [(p, n, t) for p, (_, hits) in groups.items() for n, _, t in hits if len(n) > 1]
    assert repeats
    for path, numbers, line_text in repeats:
        for number in numbers:
            assert f"{path}:{number}:{line_text}" in text or f"{path}-{number}-{line_text}" in text


@pytest.mark.parametrize("name", SEARCH_FIXTURES)
def test_lossless_mode_keeps_every_line(name: str) -> None:
    text = tool_output(name)
    result = run(COMPRESSOR, text, "search", lossy=False)
    assert result.lossless and not result.handles and not find_markers(result.text)
    shown: Counter[tuple[str, int, str, str]] = Counter()
    for path, (_, hits) in grouped(result.text).items():
        for numbers, sep, line_text in hits:
            shown.update((path, n, sep, line_text) for n in numbers)
    original: Counter[tuple[str, int, str, str]] = Counter()
    heading = None
    for line in text.split("\n"):
        m = re.fullmatch(r"(.+?\.py)([:-])(\d+)\2(.*)", line)
        if m:
            original[(m.group(1), int(m.group(3)), m.group(2), m.group(4))] += 1
        elif line.endswith(".py"):
            heading = line
        elif heading and (n := re.fullmatch(r"(\d+)([:-])(.*)", line)):
            original[(heading, int(n.group(1)), n.group(2), n.group(3))] += 1
    assert shown == original


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # grep -rn with a context line and a repeat
            "a/x.py:1:import os\na/x.py-2-ctx\na/x.py:9:import os\n--\nb.py:3:hit\n",
            "a/x.py (2 matches)\n1,9:import os\n2-ctx\nb.py (1 match)\n3:hit\n",
        ),
        (  # rg --heading
            "src/a.rs\n3:fn a()\n4-body\n--\n9:fn b()\n\nsrc/b.rs\n1:fn c()\n",
            "src/a.rs (2 matches)\n3:fn a()\n4-body\n9:fn b()\nsrc/b.rs (1 match)\n1:fn c()\n",
        ),
        (  # an IDE panel: a header, paths ending with ":", indented lines
            "3 results - 2 files\n\nsrc/app.ts:\n  12: const a = 1\n  40: a += 1\n\nlib/u.ts:\n"
            "  7: export const a\n",
            "3 results - 2 files\nsrc/app.ts (2 matches)\n12: const a = 1\n40: a += 1\n"
            "lib/u.ts (1 match)\n7: export const a\n",
        ),
        (  # a path with "-<digits>-" in it, and a tool's own message kept in place
            "pkg-1-2/m.py:5:x\npkg-1-2/m.py-6-y\nBinary file z.bin matches\n",
            "pkg-1-2/m.py (1 match)\n5:x\n6-y\nBinary file z.bin matches\n",
        ),
    ],
)
def test_shapes_are_grouped_losslessly(text: str, expected: str) -> None:
    result = run(COMPRESSOR, text, "search", lossy=False)
    assert (result.text, result.lossless) == (expected, True)
    assert COMPRESSOR.compress(result.text, context("search", lossy=False)) is None


@pytest.mark.parametrize("name", SEARCH_FIXTURES)
def test_original_round_trips_through_the_store(name: str) -> None:
    text = tool_output(name)
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    result = hr.compress_text(text, kind="search")
    assert result.kind == "search" and result.transforms_applied == ["search.grouped"]
    assert result.tokens_after < result.tokens_before
    assert [hr.retrieve(h) for h in result.handles] == [text]
    assert hr.compress_text(result.text).text == result.text


def test_module_level_retrieve_finds_the_original() -> None:
    text = tool_output("rg_settings_hypothesis.txt")
    config = CompressConfig(store="memory", min_tokens=0)
    result = headroom.compress_text(text, config=config, tool_name="ripgrep")
    assert result.kind == "search"
    assert headroom.retrieve(result.handles[0]) == text


@pytest.mark.parametrize("name", SEARCH_FIXTURES)
def test_deterministic_and_idempotent(name: str) -> None:
    text = tool_output(name)
    first = run(COMPRESSOR, text, "search", query="health check")
    second = run(COMPRESSOR, text, "search", query="health check", store=MemoryStore())
    assert first == second
    assert COMPRESSOR.compress(first.text, context("search", query="health check")) is None


def test_crlf_line_endings_are_kept() -> None:
    crlf = tool_output("grep_rn_deadline_hypothesis.txt").replace("\n", "\r\n")
    store = MemoryStore()
    result = run(COMPRESSOR, crlf, "search", store=store)
    assert result.text.endswith("\r\n")
    assert all(line.endswith("\r") for line in result.text.split("\n")[:-1])
    assert store.get(result.handles[0]).text == crlf


def test_a_missing_final_newline_stays_missing() -> None:
    text = tool_output("grep_rn_deadline_hypothesis.txt").removesuffix("\n")
    result = run(COMPRESSOR, text, "search")
    assert result.text.endswith("]") and not result.text.endswith("\n")


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_input_never_crashes(text: str) -> None:
    for lossy in (True, False):
        result = COMPRESSOR.compress(text, context("search", lossy=lossy))
        assert result is None or result.text
    Headroom(CompressConfig(min_tokens=0), store="memory").compress_text(text, kind="search")
