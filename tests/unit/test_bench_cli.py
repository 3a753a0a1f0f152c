"""``headroom bench``: tokens saved, fidelity checks and speed on real files, as users run it."""

from __future__ import annotations

import colorsys
import dataclasses
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headroom import Headroom, count_tokens, engine
from headroom.bench.measure import SignalCount, _signal_kept, signal_lines
from headroom.cli import main
from headroom.handles import format_marker, has_marker
from headroom.pipeline import Piece, compress_piece
from headroom.results import TextResult
from headroom.store.base import StoredOriginal
from headroom.store.memory import MemoryStore
from tests.conftest import read_bench

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def bench(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEADROOM_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "headroom", "bench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


@pytest.fixture
def project(tmp_path: Path, bench_data: Path) -> Path:
    """A small tree as users have them: a log, a JSON response, a source file, and what
    must be skipped (a hidden directory and file, node_modules, a binary file, an empty
    file, a symbolic link to a directory)."""
    root = tmp_path / "project"
    (root / "logs").mkdir(parents=True)
    shutil.copyfile(bench_data / "loghub" / "OpenSSH_2k.log", root / "logs" / "ssh.log")
    shutil.copyfile(
        bench_data / "transcripts" / "taubench_airline_gpt4o_task33_trial0.json", root / "run.json"
    )
    # Real source, the stdlib's (one whose error lines the code compressor keeps: see
    # test_real_code_can_fail_the_signal_check for one where it does not).
    shutil.copyfile(Path(colorsys.__file__), root / "colors.py")
    (root / ".git").mkdir()
    (root / ".git" / "config.log").write_text("ERROR should never be measured\n" * 50)
    (root / "node_modules").mkdir()
    (root / "node_modules" / "x.json").write_text("[1, 2, 3]")
    (root / "image.png").write_bytes(PNG_MAGIC + bytes(range(256)) * 4)
    (root / "empty.txt").write_bytes(b"")
    (root / ".env").write_text("ERROR hidden files are not measured\n")
    (root / "logs-link").symlink_to(root / "logs", target_is_directory=True)
    return root


def test_real_files_compress_as_headroom_compress_does(bench_data: Path, tmp_path: Path) -> None:
    files = [
        bench_data / "loghub" / "HDFS_2k.log",
        bench_data / "loghub" / "Apache_2k.log",
        bench_data / "transcripts" / "taubench_airline_gpt4o_task33_trial0.json",
    ]
    out = bench(*map(str, files), "--json", cwd=tmp_path, home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True
    assert [f["path"] for f in report["files"]] == [str(f) for f in files]
    for entry, path in zip(report["files"], files, strict=True):
        # The same figures the public API gives for the same file.
        expected = Headroom(store="memory").compress_text(read_bench(path), path=str(path))
        assert (entry["kind"], entry["tokens_before"], entry["tokens_after"]) == (
            expected.kind,
            expected.tokens_before,
            count_tokens(expected.text),  # counted again from the output, not taken as said
        )
        assert entry["bytes"] == path.stat().st_size
        assert entry["failures"] == [] and entry["ok"] is True and entry["signal_lost"] == 0
        assert entry["first_seconds"] > 0 and entry["again_seconds"] > 0
    hdfs = report["files"][0]
    # HDFS has 80 WARN lines of one template: the log compressor shows the first with its
    # count ("...  [×80]"), which stands for the other 79; none is only behind the marker.
    assert hdfs["signal_lines"] == 80
    assert (hdfs["signal_in_output"], hdfs["signal_as_template"]) == (1, 79)
    assert hdfs["signal_behind_marker"] == 0
    assert set(report["by_kind"]) == {"log", "json"}
    logs = report["by_kind"]["log"]
    assert logs["files"] == 2
    assert logs["tokens_before"] == sum(f["tokens_before"] for f in report["files"][:2])
    assert logs["saved_share"] > 0.8
    assert logs["first_mb_s"] > 0 and logs["again_mb_s"] > logs["first_mb_s"]
    total = report["total"]
    assert total["files"] == 3
    assert total["tokens_saved"] == total["tokens_before"] - total["tokens_after"] > 0


def test_a_directory_is_walked_skipping_hidden_binary_and_empty(
    project: Path, tmp_path: Path
) -> None:
    out = bench("--json", cwd=project, home=tmp_path / "home")  # default PATH: .
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert sorted(f["path"] for f in report["files"]) == [
        "colors.py",
        os.path.join("logs", "ssh.log"),
        "run.json",
    ]
    assert {f["path"]: f["kind"] for f in report["files"]}["colors.py"] == "code"
    assert set(report["by_kind"]) == {"log", "json", "code"}
    # Every skip is named, with how many and the first few paths.
    skipped = {line for line in out.stderr.splitlines() if " skipped " in line}
    assert skipped == {
        "headroom bench: skipped 1 files binary or not UTF-8: image.png",
        "headroom bench: skipped 1 empty files: empty.txt",
        "headroom bench: skipped 2 hidden files and directories (names starting with '.'): "
        ".git, .env",
        "headroom bench: skipped 1 dependency and cache directories (node_modules and such): "
        "node_modules",
        "headroom bench: skipped 1 symbolic links to directories (not followed): logs-link",
    }


def test_the_table_names_each_kind_and_the_checks(project: Path, tmp_path: Path) -> None:
    out = bench(str(project), cwd=tmp_path, home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == [
        "kind", "files", "MB", "tokens", "before", "tokens", "after", "saved", "MB/s", "again",
        "MB/s",
    ]  # fmt: skip
    kinds = [line.split()[0] for line in lines[2:5]]
    assert sorted(kinds) == ["code", "json", "log"]
    assert lines[6].startswith("total ") and lines[6].split()[1] == "3"
    assert any(line.startswith("checks: 3 of 3 files pass") for line in lines)
    assert "FAILED" not in out.stdout


def test_limits_are_said_on_stderr(project: Path, tmp_path: Path) -> None:
    out = bench(str(project), "--max-files", "1", "--json", cwd=tmp_path, home=tmp_path / "h")
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["files"]) == 1
    assert "measuring the first 1 files found (raise --max-files for more)" in out.stderr
    out = bench(str(project), "--max-mb", "0.1", "--json", cwd=tmp_path, home=tmp_path / "h")
    assert out.returncode == 0, out.stderr
    # The 0.2 MB log is left out and named; the smaller files are measured.
    assert "larger than 0.1 MB (--max-mb)" in out.stderr and "ssh.log" in out.stderr
    assert "ssh.log" not in out.stdout


def test_plot_writes_a_png(project: Path, tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    out = bench(str(project), "--plot", str(chart), cwd=tmp_path, home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    data = chart.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000
    assert f"chart written to {chart}" in out.stderr


def test_a_missing_path_is_one_error_line(tmp_path: Path) -> None:
    out = bench(str(tmp_path / "nope"), cwd=tmp_path, home=tmp_path / "home")
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f"headroom: error: {tmp_path / 'nope'}: No such file or directory (check the path)"
    ]
    assert out.stdout == ""


def test_nothing_to_measure_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2" * 100)
    out = bench(cwd=tmp_path, home=tmp_path / "home")
    assert out.returncode == 1
    error = [line for line in out.stderr.splitlines() if line.startswith("headroom: error:")]
    assert error == [
        "headroom: error: no text files to measure under . (hidden directories, binary, "
        "empty and oversized files are skipped)"
    ]
    assert "Traceback" not in out.stderr


def test_missing_matplotlib_names_the_extra(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    status = main(["bench", str(project), "--plot", str(tmp_path / "c.png")])
    assert status == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        'headroom: error: the chart needs matplotlib: pip install "headroom-ctx[plot]"'
    ]
    assert not (tmp_path / "c.png").exists()


def test_a_store_giving_back_other_bytes_fails_the_round_trip(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    real_get = MemoryStore.get

    def corrupted(self: MemoryStore, handle: str) -> StoredOriginal:
        stored = real_get(self, handle)
        data = stored.data.replace(b"sshd", b"SSHD", 1)
        return StoredOriginal(stored.handle, data, stored.kind, stored.created_at, len(data))

    monkeypatch.setattr(MemoryStore, "get", corrupted)
    status = main(["bench", str(project / "logs" / "ssh.log")])
    captured = capsys.readouterr()
    assert status == 1
    failed = [line for line in captured.out.splitlines() if line.startswith("FAILED")]
    assert failed and all(
        line.startswith(f"FAILED {project / 'logs' / 'ssh.log'}: ") for line in failed
    )
    assert any("round trip" in line and "differ from the input" in line for line in failed)
    assert "checks: 0 of 1 files pass" in captured.out
    assert "round trip: 0 of 1 lossy files come back byte-identical" in captured.out
    assert captured.err.strip().endswith("1 of 1 files failed a fidelity check")


def test_where_each_error_line_is_counted() -> None:
    text = "INFO started\nERROR disk full on /dev/sda1\nINFO done\n"
    lines = signal_lines(text)
    assert lines == ["ERROR disk full on /dev/sda1"]
    client = Headroom(store="memory")
    dropped = TextResult("INFO started\nINFO done\n", "log", None, 12, 6, lossless=False)
    assert _signal_kept(client, dropped, lines) == SignalCount(lost=lines)
    # Behind a marker whose original holds it, the line is reachable but not visible: a
    # count of its own, which fails the check too (contract 6).
    handle = client.store.put(text, kind="log")
    marker = format_marker(1, "lines", handle)
    marked = TextResult(f"INFO started\n{marker}\nINFO done\n", "log", None, 12, 9, lossless=False)
    assert _signal_kept(client, marked, lines) == SignalCount(behind_marker=lines)
    kept = TextResult(text, "log", None, 12, 12, lossless=True)
    assert _signal_kept(client, kept, lines) == SignalCount(verbatim=1)


def test_a_template_line_with_its_count_shows_the_lines_it_stands_for() -> None:
    lines = [
        f"2024-01-01 10:00:0{i} WARN [worker-{i}] pool: disk {i} at 9{i}% on node-{i}"
        for i in range(4)
    ]
    client = Headroom(store="memory")
    handle = client.store.put("\n".join(lines), kind="log")
    grouped = f"{lines[0]}  [×4]\n{format_marker(3, 'lines', handle)}"
    result = TextResult(grouped, "log", None, 100, 20, lossless=False)
    assert _signal_kept(client, result, lines) == SignalCount(verbatim=1, as_template=3)
    # A count stands for that many lines, no more: [×2] shows one line besides its own.
    short = TextResult(grouped.replace("[×4]", "[×2]"), "log", None, 100, 20, lossless=False)
    assert _signal_kept(client, short, lines) == SignalCount(
        verbatim=1, as_template=1, behind_marker=lines[2:]
    )
    # Another level is another template, even with the same message.
    info = TextResult(grouped.replace(" WARN ", " INFO "), "log", None, 100, 20, lossless=False)
    assert _signal_kept(client, info, lines) == SignalCount(behind_marker=lines)


def _rewrite_outputs(monkeypatch: pytest.MonkeyPatch, change: Callable[[str], str]) -> None:
    """Every output the pipeline computes is passed through ``change`` (below the result
    cache, so a repeat from the cache gives the changed bytes back unchanged)."""

    def changed(text: str, **options: Any) -> Piece:
        piece = compress_piece(text, **options)
        return dataclasses.replace(piece, text=change(piece.text))

    monkeypatch.setattr(engine, "compress_piece", changed)


def _failures(path: Path, capsys: Any) -> list[str]:
    status = main(["bench", "--json", str(path)])
    report = json.loads(capsys.readouterr().out)
    assert status == (1 if report["files"][0]["failures"] else 0)
    return list(report["files"][0]["failures"])


@pytest.fixture
def hdfs(bench_data: Path, tmp_path: Path) -> Path:
    path = tmp_path / "hdfs.log"
    shutil.copyfile(bench_data / "loghub" / "HDFS_2k.log", path)
    return path


def test_the_real_log_passes_every_check(hdfs: Path, capsys: Any) -> None:
    assert _failures(hdfs, capsys) == []


def test_an_output_without_its_error_lines_fails(
    hdfs: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _rewrite_outputs(
        monkeypatch, lambda text: "\n".join(x for x in text.split("\n") if " WARN " not in x)
    )
    failures = _failures(hdfs, capsys)
    # The 80 WARN lines are still in the original behind the marker: not enough.
    assert [f for f in failures if f.startswith("signal kept:")] == [
        "signal kept: 80 error/warning lines only behind a marker, not visible in the output "
        "(contract 6), e.g. '081109 214043 2561 WARN dfs.DataNode$DataXceiver: "
        "10.251.30.85:50010:Got exception while serving blk_-291811881824967398...'"
    ]


def test_an_output_of_markers_only_fails(
    hdfs: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _rewrite_outputs(
        monkeypatch, lambda text: "\n".join(x for x in text.split("\n") if has_marker(x))
    )
    failures = _failures(hdfs, capsys)
    assert any(
        f.startswith("signal kept: 80 error/warning lines only behind a marker") for f in failures
    )


def test_different_bytes_from_a_fresh_client_fail(
    hdfs: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    calls = itertools.count()
    _rewrite_outputs(monkeypatch, lambda text: text.replace("\n", "\n" + " " * next(calls), 1))
    failures = _failures(hdfs, capsys)
    # The cached repeat of the first client gives its bytes back: only the fresh client
    # shows the output is not deterministic.
    assert len(failures) == 1
    assert failures[0].startswith("repeatable: a fresh client gave different bytes (first at")


def test_an_output_larger_than_its_input_fails(
    hdfs: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # The pipeline's own token figure stays as it was: the output is counted again.
    _rewrite_outputs(monkeypatch, lambda text: text + "\npadding" * 60_000)
    failures = _failures(hdfs, capsys)
    assert len(failures) == 1 and failures[0].startswith("never larger: output has ")
    assert failures[0].endswith(f"tokens, input {count_tokens(read_bench(hdfs)):,}")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--max-mb", "inf", "expected a finite number of MB above 0 (e.g. 4 or 0.5), got 'inf'"),
        ("--max-mb", "nan", "expected a finite number of MB above 0 (e.g. 4 or 0.5), got 'nan'"),
        ("--max-mb", "0", "expected a finite number of MB above 0 (e.g. 4 or 0.5), got '0'"),
        ("--max-mb", "lots", "expected a finite number of MB above 0 (e.g. 4 or 0.5), got 'lots'"),
        ("--max-files", "abc", "expected a whole number of files, at least 1, got 'abc'"),
        ("--max-files", "0", "expected a whole number of files, at least 1, got '0'"),
        ("--max-files", "2.5", "expected a whole number of files, at least 1, got '2.5'"),
    ],
)
def test_a_bad_limit_is_one_line_naming_the_option(
    option: str, value: str, expected: str, tmp_path: Path, capsys: Any
) -> None:
    status = main(["bench", str(tmp_path), option, value])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err.splitlines() == [
        f"headroom: error: bench: argument {option}: {expected} (see 'headroom bench --help')"
    ]


def test_an_unreadable_file_is_skipped_and_named(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # Root reads a chmod 000 file anyway, so the refusal is the OS error itself.
    real_open, real_read = Path.open, Path.read_bytes
    sniffed, read = project / "run.json", project / "colors.py"

    def refusing_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == sniffed:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    def refusing_read(self: Path) -> bytes:
        if self == read:  # readable when the walk looked, not any more when measured
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "open", refusing_open)
    monkeypatch.setattr(Path, "read_bytes", refusing_read)
    status = main(["bench", "--json", str(project)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    measured = [f["path"] for f in json.loads(captured.out)["files"]]
    assert measured == [str(project / "logs" / "ssh.log")]
    errors = captured.err.splitlines()
    assert (
        "headroom bench: skipped 1 files that could not be read (or are no regular files): "
        f"{sniffed}" in errors
    )
    assert f"headroom bench: skipped 1 files that could not be read: {read}" in errors


def test_a_plot_into_a_missing_directory_fails_before_measuring(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    measured: list[Path] = []

    def read_bytes(self: Path) -> bytes:
        measured.append(self)
        return b""

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    chart = tmp_path / "no" / "such" / "chart.png"
    status = main(["bench", str(project), "--plot", str(chart)])
    captured = capsys.readouterr()
    assert status == 1 and measured == [] and captured.out == ""
    assert captured.err.splitlines() == [
        f"headroom: error: --plot {chart}: the directory {chart.parent} does not exist "
        "(create it first)"
    ]
