"""TestOutputCompressor on real runs of pytest, unittest, cargo, go and node (plus two
labelled hand-written samples): failures survive whole, passing tests become counts."""

from __future__ import annotations

import re

import pytest

from headroom import CompressConfig, Headroom
from headroom.compressors.test_output.compressor import TestOutputCompressor
from headroom.store.memory import MemoryStore
from tests.command_outputs import (
    PATHOLOGICAL,
    TEST_OUTPUT_FIXTURES,
    context,
    marker_summary,
    run,
    tool_output,
)

COMPRESSOR = TestOutputCompressor()

# (fixture, strings that must survive, regex of the runner's summary lines)
SIGNALS = [
    (
        "pytest_v_attrs.txt",
        [
            "tests/test_converters.py::TestOptional::test_success_with_type FAILED",
            "tests/test_filters.py::TestSplitWhat::test_splits ERROR",
            "tests/test_funcs.py::TestAssoc::test_unknown FAILED",
            "tests/test_validators.py::TestInstanceOf::test_repr FAILED",
            "ERROR at setup of TestSplitWhat.test_splits",
            "E       fixture 'tmp_pathx' not found",
            "E       AssertionError: assert 42 == 43",
            "E       Failed: DID NOT WARN.",
            "src/attr/_funcs.py:358: AttrsAttributeNotFoundError",
        ],
        r"=+ \d+ failed, \d+ passed.* in [\d.]+s =+|(FAILED|ERROR) tests/\S+.*",
    ),
    (
        "pytest_attrs.txt",
        [
            "tests/test_converters.py F",
            "tests/test_filters.py E",
            "E       AssertionError: assert 42 == 43",
            "FAILED tests/test_validators.py::TestInstanceOf::test_repr",
        ],
        r"=+ \d+ failed, \d+ passed.* in [\d.]+s =+|(FAILED|ERROR) tests/\S+.*",
    ),
    (
        "unittest_v_textwrap.txt",
        [
            "FAIL: test_empty_string (test_textwrap.WrapTestCase.test_empty_string)",
            "ERROR: test_empty_string_with_initial_indent (test_textwrap.WrapTestCase.",
            "AssertionError: Lists differ: [] != ['']",
            "AttributeError: 'NoneType' object has no attribute 'expandtabs'",
        ],
        r"Ran \d+ tests in [\d.]+s|FAILED \(failures=\d+, errors=\d+\)",
    ),
    (
        "cargo_test_heck_failing.txt",
        [
            "test kebab::tests::test1 ... FAILED",
            "test snake::tests::test2 ... FAILED",
            "panicked at src/kebab.rs:61:5:",
            'left: "camel-case"',
            'right: "camel_case"',
            'right: "this_is_humane_case"',
            "warning: unexpected `cfg` condition value: `unicode`",
        ],
        r"test result: .*|error: test failed.*",
    ),
    ("cargo_test_headroom_native.txt", ["Doc-tests headroom_native"], r"test result: .*"),
    (
        "go_test_v_stdlib_copy.txt",
        [
            "--- FAIL: TestList",
            "list_test.go:132: sum over l = 4, want 5",
            "--- FAIL: TestLink1",
            "ring_test.go:46: forward ring sum = 1; expected 2",
        ],
        r"(ok|FAIL)\s+example\.com/\S+\s+.*|FAIL",
    ),
    (
        "node_test_spec_slugify.txt",
        [
            "✖ keeps underscores",
            "✖ parses a pre-release",
            "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:",
            "+ 'snake-case-name'",
            "- 'snake_case_name'\n            ^\n",  # the "^" points at the difference
            "-   patch: 0",
        ],
        r"ℹ \w+ [\d.]+",
    ),
    (
        "synthetic_jest_verbose.txt",
        ["✕ retries on 503", "● ApiClient › retries on 503", "Expected: 3", "Received: 1"],
        r"(Test Suites|Tests|Snapshots|Time):.*",
    ),
    (
        "synthetic_maven_surefire.txt",
        [
            "ParserTest.parsesNegativeNumbers  Time elapsed: 0.01 s  <<< FAILURE!",
            "AssertionFailedError: expected: <-3> but was: <3>",
            'NullPointerException: Cannot invoke "String.length()" because "source" is null',
        ],
        r"\[ERROR\] Tests run: \d+, Failures: \d+, Errors: \d+, Skipped: \d+|\[INFO\] BUILD .*",
    ),
]

# (fixture, passing tests the runner reported, as the marker must count them)
PASSED = [
    ("pytest_v_attrs.txt", 1292),
    ("unittest_v_textwrap.txt", 64),
    ("cargo_test_heck_failing.txt", 109),
    ("node_test_spec_slugify.txt", 9),
    ("synthetic_jest_verbose.txt", 23),
]

# (fixture, a library frame that goes, a project frame that stays)
FRAMES = [
    ("unittest_v_textwrap.txt", "lib/python3.11/textwrap.py", 'test_textwrap.py", line 75'),
    ("cargo_test_heck_failing.txt", "at /rustc/", "at ./src/kebab.rs:56:17"),
    ("node_test_spec_slugify.txt", "node:async_hooks", "slugify.test.mjs:31:12"),
    ("synthetic_jest_verbose.txt", "node_modules", "client.test.ts:42:28"),
    ("synthetic_maven_surefire.txt", "org.junit.jupiter", "ParserTest.java:42)"),
    ("pytest_v_attrs.txt", "This is different from `evolve`", "def assoc(inst, **changes):"),
]
_FAILURE_RE = re.compile(r"FAILED|ERROR|(?<!X)FAIL\b|✖|✕|panicked|<<< |^E  ")


@pytest.mark.parametrize(("name", "needles", "summary"), SIGNALS, ids=[s[0] for s in SIGNALS])
def test_failures_messages_and_summaries_survive(
    name: str, needles: list[str], summary: str
) -> None:
    text = tool_output(name)
    out = run(COMPRESSOR, text, "test-output").text
    kept = set(out.split("\n"))
    for needle in needles:
        assert needle in text, f"fixture changed: {needle!r}"
        assert needle in out, needle
    summaries = [line for line in text.split("\n") if re.fullmatch(summary, line)]
    assert summaries
    assert all(line in kept for line in summaries)
    assert all(line in kept for line in text.split("\n") if _FAILURE_RE.search(line))


@pytest.mark.parametrize(("name", "passed"), PASSED, ids=[p[0] for p in PASSED])
def test_passing_tests_become_the_runners_count(name: str, passed: int) -> None:
    result = run(COMPRESSOR, tool_output(name), "test-output")
    assert re.match(rf"{passed} passed\b", marker_summary(result.text))
    assert not result.lossless and len(result.handles) == 1


def test_position_markers_under_traceback_source_lines_go() -> None:
    text = tool_output("unittest_v_textwrap.txt")
    out = run(COMPRESSOR, text, "test-output").text
    carets = [line for line in text.split("\n") if re.fullmatch(r"\s*\^+", line)]
    assert carets
    assert not any(line in out.split("\n") for line in carets)


def test_go_passes_are_counted_and_run_lines_dropped() -> None:
    text = tool_output("go_test_v_stdlib_copy.txt")
    out = run(COMPRESSOR, text, "test-output").text
    assert f"{text.count('--- PASS:')} passed" in marker_summary(out)
    assert "=== RUN" not in out and "--- PASS" not in out


@pytest.mark.parametrize(("name", "library", "project"), FRAMES, ids=[f[0] for f in FRAMES])
def test_library_frames_go_and_project_frames_stay(name: str, library: str, project: str) -> None:
    text = tool_output(name)
    out = run(COMPRESSOR, text, "test-output").text
    assert library in text and project in text
    assert library not in out
    assert project in out


@pytest.mark.parametrize(
    ("text", "kept", "counts"),
    [
        (  # unittest with a docstring: the name line goes with its "... ok" line
            "test_a (m.T.test_a)\nChecks a. ... ok\ntest_b (m.T.test_b) ... FAIL\n"
            "Ran 2 tests in 0.001s\nFAILED (failures=1)\n",
            "test_b (m.T.test_b) ... FAIL\nRan 2 tests in 0.001s\nFAILED (failures=1)\n",
            "1 passed",
        ),
        (  # an unexpected pass is kept; expected failures and skips are counted
            "t.py::a PASSED [ 33%]\nt.py::b XPASS [ 66%]\nt.py::c XFAIL [ 80%]\n"
            "t.py::d SKIPPED (no db) [100%]\n== 1 passed, 1 xpassed, 1 xfailed, 1 skipped ==\n",
            "t.py::b XPASS [ 66%]\n== 1 passed, 1 xpassed, 1 xfailed, 1 skipped ==\n",
            "1 passed, 1 skipped, 1 xfailed",
        ),
        (  # pytest-xdist
            "[gw0] [ 50%] PASSED t.py::a \n[gw1] [100%] FAILED t.py::b \n== 1 failed ==\n",
            "[gw1] [100%] FAILED t.py::b \n== 1 failed ==\n",
            "1 passed",
        ),
        (  # go test: a skip's reason line stays
            "=== RUN   TestA\n    a_test.go:9: no network\n--- SKIP: TestA (0.00s)\n"
            "=== RUN   TestB\n--- PASS: TestB (0.00s)\nPASS\nok  \tm\t0.01s\n",
            "    a_test.go:9: no network\nok  \tm\t0.01s\n",
            "1 passed, 1 skipped",
        ),
    ],
)
def test_runner_shapes(text: str, kept: str, counts: str) -> None:
    out = run(COMPRESSOR, text, "test-output").text
    assert out.rpartition("[")[0] == kept
    assert marker_summary(out).startswith(counts)


@pytest.mark.parametrize("name", TEST_OUTPUT_FIXTURES)
def test_original_round_trips_through_the_store(name: str) -> None:
    text = tool_output(name)
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    result = hr.compress_text(text)
    assert result.kind == "test-output"
    assert result.transforms_applied == ["test-output.failures"]
    assert result.tokens_after < result.tokens_before
    assert [hr.retrieve(h) for h in result.handles] == [text]
    assert hr.compress_text(result.text).text == result.text


@pytest.mark.parametrize("name", TEST_OUTPUT_FIXTURES)
def test_deterministic_and_idempotent(name: str) -> None:
    text = tool_output(name)
    first = run(COMPRESSOR, text, "test-output")
    assert run(COMPRESSOR, text, "test-output", store=MemoryStore()) == first
    assert COMPRESSOR.compress(first.text, context("test-output")) is None


def test_output_without_passing_lines_or_library_frames_is_left_alone() -> None:
    # "go test" without -v prints only failures and one line per package.
    text = tool_output("go_test_stdlib_copy.txt")
    assert "--- FAIL: TestList" in text
    assert COMPRESSOR.compress(text, context("test-output")) is None


def test_lossless_mode_leaves_test_output_alone() -> None:
    text = tool_output("pytest_v_attrs.txt")
    assert COMPRESSOR.compress(text, context("test-output", lossy=False)) is None
    hr = Headroom(CompressConfig(min_tokens=0, lossy=False), store="memory")
    assert hr.compress_text(text).text == text


def test_crlf_output_keeps_its_line_endings() -> None:
    crlf = tool_output("cargo_test_heck_failing.txt").replace("\n", "\r\n")
    store = MemoryStore()
    result = run(COMPRESSOR, crlf, "test-output", store=store)
    assert all(line.endswith("\r") for line in result.text.split("\n")[:-1])
    assert "test kebab::tests::test1 ... FAILED\r" in result.text.split("\n")
    assert store.get(result.handles[0]).text == crlf


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_input_never_crashes(text: str) -> None:
    result = COMPRESSOR.compress(text, context("test-output"))
    assert result is None or result.text
    Headroom(CompressConfig(min_tokens=0), store="memory").compress_text(text, kind="test-output")
