"""LogCompressor: recall on the loghub samples against ground truth, the output format,
stack traces, query lines, and pathological input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from headroom import CompressConfig, Headroom
from headroom.bench.logs import kept_lines, log_lines, score_log
from headroom.compressors.base import Context
from headroom.compressors.logs import LogCompressor
from headroom.compressors.logs.compressor import MAX_QUERY_LINES, MAX_QUIET_TEMPLATES
from headroom.compressors.logs.render import Annotation, annotate, header, split_annotation
from headroom.compressors.logs.traces import Trace, find_traces
from headroom.handles import find_markers, handle_for, original_bytes
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter
from tests.conftest import read_bench

LOGHUB = ["Android", "Apache", "BGL", "HDFS", "Hadoop", "OpenSSH", "OpenStack", "Zookeeper"]


def compress(text: str, query: str | None = None, store: MemoryStore | None = None) -> str | None:
    ctx = Context("log", None, query, CompressConfig(), store or MemoryStore(), get_counter())
    result = LogCompressor().compress(text, ctx)
    return None if result is None else result.text


# --- loghub: the targets -----------------------------------------------------------------


@pytest.mark.parametrize("name", LOGHUB)
def test_loghub_recall(bench_data: Path, name: str) -> None:
    log = bench_data / "loghub" / f"{name}_2k.log"
    score = score_log(log, log.with_name(log.name + "_structured.csv"))
    assert score.error_recall == 1.0, "every error-level event keeps a verbatim line"
    assert score.recall >= 0.9
    assert score.saved >= 0.85


def test_loghub_tokens_saved_across_the_set(bench_data: Path) -> None:
    scores = [
        score_log(p, p.with_name(p.name + "_structured.csv"))
        for p in sorted((bench_data / "loghub").glob("*_2k.log"))
    ]
    assert len(scores) == len(LOGHUB)
    before = sum(s.tokens_before for s in scores)
    after = sum(s.tokens_after for s in scores)
    assert 1 - after / before >= 0.85


@pytest.mark.parametrize("name", LOGHUB)
def test_loghub_output_is_well_formed(bench_data: Path, name: str) -> None:
    text = read_bench(bench_data / "loghub" / f"{name}_2k.log")
    store = MemoryStore()
    out = compress(text, store=store)
    assert out is not None and out.endswith("\n") == text.endswith("\n")
    rows = out.removesuffix("\n").split("\n")
    lines = log_lines(text)
    assert rows[0].startswith(f"[log: {len(lines)} lines, ")
    markers = find_markers(out)
    assert len(markers) == 1 and find_markers(rows[-1]) == markers
    assert markers[0].handle == handle_for(text)
    stored = store.get(markers[0].handle)
    assert stored is not None and stored.data == text.encode()  # stored before returning
    # Every body line is an input line, in input order, and CRLF survives on each.
    body = [split_annotation(row)[0] for row in rows[1:-1]]
    assert all(row.endswith("\r") for row in body) == text.endswith("\r\n") or name == "Apache"
    positions = [lines.index(row.removesuffix("\r")) for row in body]
    assert positions == sorted(positions)
    assert positions[0] == 0 and positions[-1] == len(lines) - 1  # first and last lines
    assert markers[0].count == len(lines) - len(body)
    # Compressing the output again changes nothing.
    assert compress(out) is None


def test_loghub_through_the_public_api(bench_data: Path) -> None:
    hr = Headroom(store="memory")
    text = read_bench(bench_data / "loghub" / "OpenSSH_2k.log")
    result = hr.compress_text(text)
    assert result.kind == "log" and result.transforms_applied == ["log.templates"]
    assert hr.retrieve(result.handles[0]) == text
    assert hr.compress_text(result.text).text == result.text


# --- the output format -------------------------------------------------------------------


def test_header_counts_levels_and_time_span() -> None:
    lines = [f"2024-01-01 10:00:{i:02d} INFO worker {i} done" for i in range(30)]
    lines[7] = "2024-01-01 10:00:07 ERROR worker 7 crashed"
    out = compress("\n".join(lines))
    assert out is not None
    assert out.split("\n")[0] == (
        "[log: 30 lines, 2024-01-01 10:00:00 → 2024-01-01 10:00:29; INFO ×29, ERROR ×1; "
        "2 templates]"
    )


def test_every_template_keeps_its_first_line_with_its_count() -> None:
    lines = [f"2024-01-01 10:00:{i % 60:02d} INFO job {i} ok" for i in range(50)]
    lines += [f"2024-01-01 10:01:{i:02d} WARN disk {i}% full" for i in range(5)]
    lines += ["2024-01-01 10:02:00 INFO done"]
    out = compress("\n".join(lines))
    assert out is not None
    assert "2024-01-01 10:00:00 INFO job 0 ok  [×50]" in out
    assert "2024-01-01 10:01:00 WARN disk 0% full  [×5; values: 0%, 1%, 2%, 3%, 4%]" in out


def test_signal_values_name_the_few_hosts_that_failed() -> None:
    lines = [f"Dec 10 06:55:{i:02d} gw sshd[{100 + i}]: session opened" for i in range(40)]
    hosts = ["db-1", "db-2", "cache-7"]
    lines += [
        f"Dec 10 06:56:{i:02d} gw kernel: connection to {hosts[i % 3]}.internal failed"
        for i in range(9)
    ]
    out = compress("\n".join(lines))
    assert out is not None
    assert (
        "Dec 10 06:56:00 gw kernel: connection to db-1.internal failed  "
        "[×9; values: db-1.internal ×3, db-2.internal ×3, cache-7.internal ×3]"
    ) in out.split("\n")


def test_a_word_is_a_variable_only_when_it_takes_many_values() -> None:
    quiet = [f"Dec 10 06:55:{i:02d} gw sshd[{100 + i}]: session opened" for i in range(40)]
    few = [f"Dec 10 06:56:{i:02d} gw kernel: VM {('Paused', 'Resumed')[i % 2]}" for i in range(8)]
    many = [f"Dec 10 06:57:{i:02d} gw sshd[7]: Invalid user u{'x' * i}" for i in range(9)]
    out = compress("\n".join(quiet + few + many))
    assert out is not None
    kept = kept_lines(out)
    assert few[0] in kept and few[1] in kept  # two events, each shown
    assert many[0] in kept and not any(line in kept for line in many[1:-1])
    (row,) = [row for row in out.split("\n") if row.startswith(many[0])]
    annotation = split_annotation(row)[1]
    assert annotation is not None and annotation.count == 9


def test_annotations_round_trip() -> None:
    cases = [
        ("plain", None, "plain"),
        ("a b\r", Annotation(3), "a b  [×3]\r"),
        ("x", Annotation(1), "x"),
        ("x", Annotation(2, (Counter({"a": 2, "b": 1}), Counter({"p": 1, "q": 1}))), None),
        ("x", Annotation(1, (), 4), "x  [×1; trace ×4]"),
        # A line that already ends like an annotation gets one, so stripping one is right.
        ("GET /  [×2]", None, "GET /  [×2]  [×1]"),
        ("GET /  [×2]\r", None, "GET /  [×2]  [×1]\r"),
    ]
    for line, annotation, want in cases:
        out = annotate(line, annotation)
        if want is not None:
            assert out == want
        stripped, parsed = split_annotation(out)
        assert stripped == line
        if annotation is not None and annotation.needed():
            assert parsed == annotation


def test_header_without_levels() -> None:
    assert header(5, None, None, Counter({None: 5}), 2, 1) == (
        "[log: 5 lines; no levels, 2 with error words; 1 template]"
    )
    assert header(4, "a", "a", Counter({"INFO": 3, None: 1}), 0, 2) == (
        "[log: 4 lines, a; INFO ×3, no level ×1; 2 templates]"
    )


# --- stack traces ------------------------------------------------------------------------

JAVA = [
    "2024-01-01 10:00:00,000 INFO [main] app.Server: started",
    "2024-01-01 10:00:01,000 ERROR [pool-1] app.Handler: request failed",
    "java.lang.IllegalStateException: closed",
    "\tat app.Db.query(Db.java:42)",
    "\tat app.Handler.handle(Handler.java:7)",
    "Caused by: java.io.IOException: reset",
    "\t... 3 more",
    "2024-01-01 10:00:02,000 INFO [main] app.Server: tick",
    "2024-01-01 10:00:03,000 ERROR [pool-2] app.Handler: request failed",
    "java.lang.IllegalStateException: closed",
    "\tat app.Db.query(Db.java:42)",
    "\tat app.Handler.handle(Handler.java:7)",
    "Caused by: java.io.IOException: reset",
    "\t... 3 more",
    "2024-01-01 10:00:04,000 INFO [main] app.Server: tick",
    "2024-01-01 10:00:05,000 INFO [main] app.Server: stopped",
]
PYTHON = [
    "2024-01-01 10:00:00,000 - app - INFO - start",
    "2024-01-01 10:00:01,000 - app - ERROR - job 1 failed",
    "Traceback (most recent call last):",
    '  File "app.py", line 10, in run',
    "    do()",
    "ValueError: bad input 1",
    "",
    "During handling of the above exception, another exception occurred:",
    "",
    "Traceback (most recent call last):",
    '  File "app.py", line 12, in run',
    "    raise RuntimeError('x')",
    "RuntimeError: x",
    "2024-01-01 10:00:02,000 - app - INFO - next",
    "2024-01-01 10:00:03,000 - app - INFO - end",
]


def test_find_traces() -> None:
    assert find_traces("\n".join(JAVA), JAVA) == [Trace(1, 2, 7), Trace(8, 9, 14)]
    assert find_traces("\n".join(PYTHON), PYTHON) == [Trace(1, 2, 13)]
    crlf = [line + "\r" for line in JAVA]
    assert find_traces("\n".join(crlf), crlf) == [Trace(1, 2, 7), Trace(8, 9, 14)]
    # A trace at the very top continues no line: its first line is the head.
    top = JAVA[2:7]
    assert find_traces("\n".join(top), top) == [Trace(0, 1, 5)]
    plain = ["at noon the job at 12 ran", "  at least once"]
    assert find_traces("\n".join(plain), plain) == []
    node = ["Error: boom", "    at f (/app/x.js:1:2)", "    at /app/y.js:3:4", "done"]
    assert find_traces("\n".join(node), node) == [Trace(0, 1, 3)]
    assert find_traces("no traces here\nnone", ["no traces here", "none"]) == []


def test_a_trace_is_kept_whole_once_then_counted() -> None:
    lines = JAVA + [f"2024-01-01 10:01:{i:02d},000 INFO [main] app.Server: tick" for i in range(20)]
    out = compress("\n".join(lines))
    assert out is not None
    rows = out.split("\n")
    head = rows.index(
        "2024-01-01 10:00:01,000 ERROR [pool-1] app.Handler: request failed  [×2; trace ×2]"
    )
    assert rows[head + 1 : head + 6] == JAVA[2:7]  # the exception line travels with its frames
    assert rows.count("\tat app.Db.query(Db.java:42)") == 1
    assert rows[0].startswith("[log: 36 lines, ")


def test_a_python_traceback_is_kept_whole() -> None:
    lines = PYTHON + [f"2024-01-01 10:01:{i:02d},000 - app - INFO - poll" for i in range(20)]
    out = compress("\n".join(lines))
    assert out is not None
    rows = [split_annotation(row)[0] for row in out.split("\n")]
    start = rows.index(PYTHON[1])
    assert rows[start + 1 : start + 12] == PYTHON[2:13]
    assert rows[start + 12] == PYTHON[13] or PYTHON[13] not in rows


# --- query -------------------------------------------------------------------------------


def test_query_keeps_lines_with_its_rarest_terms_first() -> None:
    lines = [
        f"2024-01-01 10:00:{i % 60:02d} INFO request {i} from 10.0.0.{i % 7}" for i in range(300)
    ]
    out = compress("\n".join(lines), query="Why did request 123 from 10.0.0.4 fail?")
    assert out is not None
    kept = kept_lines(out)
    assert lines[123] in kept
    assert sum(line in kept for line in lines) <= MAX_QUERY_LINES + 2
    assert "query matched" in out.split("\n")[-1]


# --- limits and pathological input -------------------------------------------------------


def test_quiet_templates_are_capped_but_signal_never_is() -> None:
    # Templates that cannot merge: each has its own number of words. Template k occurs
    # k % 3 + 1 times, so the most frequent ones are kept.
    quiet = [f"10:00:00 INFO ready {'a ' * k}end" for k in range(700) for _ in range(k % 3 + 1)]
    errors = [f"10:00:01 ERROR crashed {'b ' * k}end" for k in range(40)]
    out = compress("\n".join(quiet + errors))
    assert out is not None
    kept = kept_lines(out)
    assert all(line in kept for line in errors)
    shown_quiet = [line for line in set(quiet) if line in kept]
    assert MAX_QUIET_TEMPLATES <= len(shown_quiet) <= MAX_QUIET_TEMPLATES + 2  # + first/last
    # The 466 templates with two or three lines are all shown, the rest by first appearance.
    assert all(line in kept for line in set(quiet) if (len(line.split()) - 4) % 3 != 0)
    assert "200 rare INFO/DEBUG templates not shown" in out.split("\n")[-1]


def test_too_short_lossless_or_already_compressed_input_is_left_alone() -> None:
    assert compress("a\nb") is None
    ctx = Context("log", None, None, CompressConfig(lossy=False), MemoryStore(), get_counter())
    text = "\n".join(f"10:00:{i:02d} INFO x {i}" for i in range(50))
    assert LogCompressor().compress(text, ctx) is None
    marker = "[3 lines omitted · retrieve: headroom:0123456789ab]"
    assert compress(text + "\n" + marker) is None
    # Nothing to drop: every line is its own template.
    assert compress("alpha one\nbeta two\ngamma three") is None


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        (
            "1MB-line",
            ["10:00:00 INFO " + "x" * 1_100_000] + [f"10:00:{i:02d} INFO ok" for i in range(9)],
        ),
        ("binary", [f"\x00\x01{chr(i % 9)}\r\x0b\ufffd junk {i}" for i in range(40)]),
        ("surrogates", [f"10:00:{i:02d} INFO caf\udce9 {i} \ud800" for i in range(40)]),
        ("empty-lines", ["", "", "10:00:00 INFO a", "", "10:00:01 INFO b 1", "", ""] * 10),
        ("unicode", [f"10:00:{i:02d} WARN ユーザー{i} 😀 ٣ failed" for i in range(40)]),
        ("mixed-endings", [f"10:00:{i:02d} INFO row {i}" + "\r" * (i % 2) for i in range(40)]),
    ],
)
def test_pathological_input(name: str, lines: list[str]) -> None:
    for text in ("\n".join(lines), "\n".join(lines) + "\n"):
        store = MemoryStore()
        out = compress(text, store=store)
        if out is None:
            continue
        assert out.endswith("\n") == text.endswith("\n")
        (marker,) = find_markers(out)
        stored = store.get(marker.handle)
        assert stored is not None and stored.data == original_bytes(text)
        kept = [split_annotation(row)[0] for row in out.removesuffix("\n").split("\n")[1:-1]]
        assert all(row in lines for row in kept), name
        assert compress(out) is None
        assert compress(text) == out  # deterministic


def test_formats_beyond_loghub() -> None:
    access = [
        f'10.0.0.{i % 9} - - [10/Oct/2023:13:55:{i % 60:02d} +0000] "GET /api/items/{i} HTTP/1.1"'
        f' {502 if i % 50 == 7 else 200} {100 + i} "-" "curl/8.4.0"'
        for i in range(200)
    ]
    k8s = [
        f"2024-01-15T10:00:{i % 60:02d}.000000000Z stdout F "
        f'{{"level":"{"error" if i == 33 else "info"}","msg":"reconcile {i}","ms":{i}}}'
        for i in range(200)
    ]
    klog = [
        f"{'E' if i == 41 else 'I'}0115 10:00:{i % 60:02d}.000000       1 sync.go:88] "
        f"synced pod {i}"
        for i in range(200)
    ]
    syslog = [
        f"<{11 if i == 17 else 14}>Oct 11 22:14:{i % 60:02d} host app[{i}]: job {i} done"
        for i in range(200)
    ]
    for lines, signal in (
        (access, " 502 "),
        (k8s, '"error"'),
        (klog, "E0115"),
        (syslog, "<11>"),
    ):
        out = compress("\n".join(lines))
        assert out is not None
        kept = kept_lines(out)
        first_signal = next(line for line in lines if signal in line)
        assert first_signal in kept
        assert len(out) < len("\n".join(lines)) / 4
