"""Marker recognition on hostile input: behaviour, not timing (timings are in
``tests/benchmarks/test_bench_adversarial.py``).

``MARKER_RE.search`` took over two minutes on ``"[1 " * 100_000``; every piece of content is
checked for a marker, so that was a hang on a fetched web page.
"""

from __future__ import annotations

import pytest

from headroom.compressors.base import Context
from headroom.compressors.code import CodeCompressor
from headroom.compressors.logs import LogCompressor
from headroom.config import CompressConfig
from headroom.handles import Marker, find_markers, format_marker, has_marker, is_marker
from headroom.store.memory import MemoryStore

HANDLE = "headroom:0123456789ab"
MARKER = format_marker(5, "lines", HANDLE, summary="INFO ×5")
TAIL = " · retrieve: " + HANDLE + "]"

# Each is 300,000 repeats (about 1 MB) of what makes a regex over the grammar backtrack.
HOSTILE = [
    "[1 ",
    "[",
    "[1 a·",
    "[1 x:",
    "[1 x omitted",
    " omitted: ",
    " · retrieve: headroom:",
    " · retrieve: headroom:0123456789ab",
]


@pytest.mark.parametrize("unit", HOSTILE)
def test_hostile_repeats_hold_no_marker(unit: str) -> None:
    text = unit * 300_000
    assert not has_marker(text)
    assert find_markers(text) == []
    assert not is_marker(text)


@pytest.mark.parametrize("unit", HOSTILE)
def test_a_marker_after_hostile_repeats_is_found(unit: str) -> None:
    text = unit * 300_000 + "]" + MARKER
    assert has_marker(text)
    assert find_markers(text) == [Marker(5, "lines", "INFO ×5", HANDLE)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The leftmost "[<count> " after the last "]" starts the marker; units may hold "[".
        ("[1 " * 300_000 + "x omitted" + TAIL, Marker(1, "[1 " * 299_999 + "x", None, HANDLE)),
        # A unit stops at the first ":", so only the "[" after the last one can start it.
        ("[1 a: " * 300_000 + "[2 x omitted" + TAIL, Marker(2, "x", None, HANDLE)),
        # A summary runs from the first " omitted: " to the tail, whatever it holds.
        ("[3 x omitted: " + "[1 a: " * 300_000 + TAIL, Marker(3, "x", "[1 a: " * 300_000, HANDLE)),
    ],
    ids=["units-hold-brackets", "stop-in-unit", "long-summary"],
)
def test_long_markers_parse_as_the_grammar_says(text: str, expected: Marker) -> None:
    assert find_markers(text) == [expected]


def test_a_count_too_long_for_int_is_not_a_marker() -> None:
    text = "[" + "9" * 5000 + " rows omitted" + TAIL
    assert find_markers(text) == [] and not has_marker(text)


@pytest.mark.parametrize(
    ("compressor", "kind", "language"),
    [(LogCompressor(), "log", None), (CodeCompressor(), "code", "python")],
    ids=["log", "code"],
)
def test_compressors_skip_compressed_text_and_survive_hostile_text(
    compressor: LogCompressor | CodeCompressor, kind: str, language: str | None
) -> None:
    ctx = Context(kind, language, None, CompressConfig(), MemoryStore(), len)
    hostile = "[1 " * 300_000 + "\n"
    compressor.compress(hostile, ctx)  # returns, whatever it decides
    compressed = "x = 1\n" * 50 + MARKER + "\n"
    assert compressor.compress(compressed, ctx) is None
