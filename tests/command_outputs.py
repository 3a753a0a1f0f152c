"""Shared by the tests of the search, test-output and diff compressors: the real tool outputs
in ``tests/fixtures/tools`` (see its README) and a way to call a compressor directly."""

from __future__ import annotations

from headroom.compressors.base import Compressed, Compressor, Context
from headroom.config import CompressConfig
from headroom.handles import find_markers
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter
from tests.conftest import REPO_ROOT

TOOLS = REPO_ROOT / "tests" / "fixtures" / "tools"

SEARCH_FIXTURES = (
    "grep_rn_deadline_hypothesis.txt",
    "grep_rn_import_hypothesis.txt",
    "grep_rn_context_invalidargument_hypothesis.txt",
    "rg_settings_hypothesis.txt",
    "rg_heading_encode_tiktoken.txt",
)
TEST_OUTPUT_FIXTURES = (
    "pytest_v_attrs.txt",
    "pytest_attrs.txt",
    "unittest_v_textwrap.txt",
    "cargo_test_headroom_native.txt",
    "cargo_test_heck_failing.txt",
    "go_test_v_stdlib_copy.txt",
    "node_test_spec_slugify.txt",
    "synthetic_jest_verbose.txt",
    "synthetic_maven_surefire.txt",
)
DIFF_FIXTURES = (
    "diff_ru_six_1.15.0_1.16.0.txt",
    "diff_ru_packaging_21.3_22.0.txt",
    "git_diff_pluggy_0.13.1_1.0.0.txt",
    "git_diff_headroom_native_kernel.txt",
    "git_diff_six_moves.txt",
)

# Inputs no compressor may crash on.
PATHOLOGICAL = (
    "",
    "\n",
    "x" * 1_000_000,
    "a.py:1:" + "y" * 1_000_000 + "\n",
    "\x00\x01\xff\ufffd" * 500,
    "\ud800 lone surrogate\nb.py:2:\udfff\n",
    "@@ -1,3 +1,3 @@\n",
    "diff --git a/x b/x\n@@ -9999999999,1 +1 @@\n-a\n+b\n",
    "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-only one line, counts say two\n",
    "=== FAILURES ===\n_ _ _\n>\nE\n",
)


def tool_output(name: str) -> str:
    """A fixture file as text, byte-exact (no newline translation)."""
    return (TOOLS / name).read_bytes().decode("utf-8")


def context(
    kind: str, *, query: str | None = None, lossy: bool = True, store: MemoryStore | None = None
) -> Context:
    """A compressor context with a fresh in-memory store."""
    return Context(
        kind,
        None,
        query,
        CompressConfig(lossy=lossy),
        store if store is not None else MemoryStore(),
        get_counter(),
    )


def run(compressor: Compressor, text: str, kind: str, **options: object) -> Compressed:
    """Compress ``text`` directly; fail the test if the compressor declines."""
    result = compressor.compress(text, context(kind, **options))  # type: ignore[arg-type]
    assert result is not None, "the compressor left a real tool output unchanged"
    return result


def marker_summary(text: str) -> str:
    """The summary of the one marker ``text`` must end with."""
    markers = find_markers(text)
    assert len(markers) == 1, markers
    assert text.rstrip("\r\n").endswith(str(markers[0]))
    return markers[0].summary or ""
