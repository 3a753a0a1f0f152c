"""The linear marker scanner finds exactly what the marker regex finds.

``MARKER_RE`` is the grammar's reference; ``find_markers``/``has_marker``/``is_marker`` scan
in linear time and must agree with its ``finditer``/``search``/``fullmatch`` on real markers
(from ``format_marker``), near misses of every part of the grammar, and noise made of the
grammar's own characters.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from headroom.handles import (
    MARKER_RE,
    Marker,
    find_markers,
    format_marker,
    has_marker,
    is_marker,
    strip_markers,
)

HEX = "0123456789abcdef"
handles = st.text(HEX, min_size=12, max_size=12).map(lambda h: "headroom:" + h)
units = st.text(st.sampled_from("rows lines [x-é\n"), min_size=1, max_size=8)
summaries = st.none() | st.text(st.sampled_from("ab :·×=;[]\n "), max_size=12)
real_markers = st.builds(
    lambda count, unit, handle, summary: format_marker(count, unit, handle, summary=summary),
    st.integers(0, 10**6),
    units.filter(lambda u: not set(u) & set("]:·")),
    handles,
    summaries,
)
# Pieces of the grammar, alone or broken: what a scanner could mistake for a marker.
FRAGMENTS = [
    "[",
    "]",
    "[1 ",
    "[12 rows",
    "[٣ ",
    " omitted",
    " omitted: ",
    " omitted:",
    ": ",
    ":",
    "·",
    " · ",
    " · retrieve: ",
    " · retrieve: headroom:",
    "headroom:",
    "0123456789ab",
    "0123456789aB",
    "0123456789a",
    "0123456789abc",
    "] ",
    "\n",
    " ",
    "x",
    "rows",
]


def near_miss(marker: str, index: int, op: int) -> str:
    """``marker`` with one character dropped, doubled or replaced by a grammar character."""
    index %= len(marker)
    if op == 0:
        return marker[:index] + marker[index + 1 :]
    if op == 1:
        return marker[:index] + marker[index] + marker[index:]
    return marker[:index] + "]:·[ 9"[op % 6] + marker[index + 1 :]


near_misses = st.builds(near_miss, real_markers, st.integers(0, 200), st.integers(0, 7))
texts = st.lists(
    st.one_of(real_markers, near_misses, st.sampled_from(FRAGMENTS), st.text(max_size=5)),
    max_size=16,
).map("".join)


def regex_markers(text: str) -> list[tuple[tuple[int, int], Marker]]:
    return [
        (m.span(), Marker(int(m["count"]), m["unit"], m["summary"], m["handle"]))
        for m in MARKER_RE.finditer(text)
    ]


@given(texts)
def test_scanner_agrees_with_the_regex(text: str) -> None:
    assert find_markers(text) == [marker for _, marker in regex_markers(text)]
    assert has_marker(text) == (MARKER_RE.search(text) is not None)
    assert is_marker(text) == (MARKER_RE.fullmatch(text) is not None)
    assert strip_markers(text) == MARKER_RE.sub("", text)


@given(real_markers, st.text(max_size=20), st.text(max_size=20))
def test_a_real_marker_is_found_in_any_surroundings(marker: str, before: str, after: str) -> None:
    text = before + marker + after
    assert is_marker(marker)
    assert has_marker(text)
    assert find_markers(text) == [marker for _, marker in regex_markers(text)]


@given(st.lists(st.tuples(st.integers(0, 10**6), handles), min_size=1, max_size=5))
def test_every_marker_in_a_sequence_is_found(parts: list[tuple[int, str]]) -> None:
    text = "]".join(format_marker(count, "rows", handle) for count, handle in parts)
    assert [(m.count, m.handle) for m in find_markers(text)] == parts


def test_marker_checks_outside_the_pipeline_take_hostile_text() -> None:
    """The JSON string shortener and the summary audit once ran the quadratic regex
    (17 s and 11 s on these inputs); they now finish on ten times as much."""
    from headroom.compressors.json.text import shorten
    from headroom.conversation.audit import untraceable_lines

    hostile = "[1 " * 160_000
    stash = "headroom:" + "0" * 12
    short = shorten(hostile, words=frozenset(), max_chars=200, stash=lambda _: stash)
    assert short is None or stash in short
    assert untraceable_lines("[turn 0 user] " + hostile, [{"role": "user", "content": "x"}])
