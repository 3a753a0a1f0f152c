"""Hypothesis properties of LogCompressor: deterministic, stable, retrievable, verbatim,
signal kept, and the marker's count adds up."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from headroom.compressors.base import Context
from headroom.compressors.logs import LogCompressor
from headroom.compressors.logs.clustering import analyse
from headroom.compressors.logs.render import split_annotation
from headroom.compressors.logs.traces import find_traces
from headroom.config import CompressConfig
from headroom.handles import find_markers
from headroom.store.memory import MemoryStore

PREFIXES = [
    "2024-01-01 10:00:{s:02d},123 {level} [main] app.Worker: ",
    "Dec 10 06:55:{s:02d} host sshd[{s}]: ",
    "{s:06d} 203615 148 {level} dfs.DataNode: ",
    "03-17 16:13:{s:02d}.811  1702  2395 {letter} Tag: ",
    "",
]
LEVELS = ["INFO", "INFO", "DEBUG", "WARN", "ERROR"]
WORDS = ["alice", "bob", "carol", "dave", "erin", "frank", "failed", "ok", "disk", "42", "é", "😀"]

lines = st.builds(
    lambda prefix, s, level, words: (
        prefix.format(s=s, level=level, letter=level[0]) + " ".join(words)
    ),
    st.sampled_from(PREFIXES),
    st.integers(0, 59),
    st.sampled_from(LEVELS),
    st.lists(st.sampled_from(WORDS), min_size=0, max_size=6),
)
trace = st.just(["java.lang.IllegalStateException: x", "\tat a.B.c(B.java:1)", "\t... 2 more"])
blocks = st.lists(st.one_of(lines.map(lambda line: [line]), trace), min_size=3, max_size=60)
logs = st.builds(
    lambda blocks, crlf, final: (
        ("\r\n" if crlf else "\n").join(line for block in blocks for line in block)
        + ("\n" if final else "")
    ),
    blocks,
    st.booleans(),
    st.booleans(),
)


def compress(text: str, store: MemoryStore) -> str | None:
    ctx = Context("log", None, None, CompressConfig(), store, len)
    result = LogCompressor().compress(text, ctx)
    return None if result is None else result.text


@given(logs)
def test_compressed_logs_keep_their_promises(text: str) -> None:
    store = MemoryStore()
    out = compress(text, store)
    if out is None:
        return
    assert compress(text, MemoryStore()) == out  # deterministic
    assert compress(out, MemoryStore()) is None  # stable
    (marker,) = find_markers(out)
    stored = store.get(marker.handle)
    assert stored is not None and stored.data == text.encode()

    lines = (text[:-1] if text.endswith("\n") else text).split("\n")
    rows = (out[:-1] if out.endswith("\n") else out).split("\n")
    body = [split_annotation(row)[0] for row in rows[1:-1]]
    # Verbatim and in order (a subsequence of the input); the first and the last line kept.
    positions: list[int] = []
    for row in body:
        start = positions[-1] + 1 if positions else 0
        positions.append(lines.index(row, start))
    assert body[0] == lines[0] and body[-1] == lines[-1]
    assert marker.count == len(lines) - len(body)

    # The first line of every signal cluster survives.
    traces = find_traces(text, lines)
    continuation = {n for t in traces for n in range(t.start, t.end)}
    heads = [n for n in range(len(lines)) if n not in continuation]
    analysis = analyse([lines[n] for n in heads])
    kept = set(body)
    for cluster in analysis.clusters:
        if cluster.signal:
            assert lines[heads[cluster.first]] in kept
