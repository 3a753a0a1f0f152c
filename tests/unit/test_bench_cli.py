"""``headroom bench``: tokens saved, fidelity checks and speed on real files, as users run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headroom import Headroom
from headroom.bench.measure import _signal_kept, signal_lines
from headroom.cli import main
from headroom.handles import format_marker
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
    must be skipped (a hidden directory, node_modules, a binary file, an empty file)."""
    root = tmp_path / "project"
    (root / "logs").mkdir(parents=True)
    shutil.copyfile(bench_data / "loghub" / "OpenSSH_2k.log", root / "logs" / "ssh.log")
    shutil.copyfile(bench_data / "json" / "gh_issues_rails_admin.json", root / "issues.json")
    shutil.copyfile(Path(json.__file__), root / "json_init.py")  # real source: the stdlib's
    (root / ".git").mkdir()
    (root / ".git" / "config.log").write_text("ERROR should never be measured\n" * 50)
    (root / "node_modules").mkdir()
    (root / "node_modules" / "x.json").write_text("[1, 2, 3]")
    (root / "image.png").write_bytes(PNG_MAGIC + bytes(range(256)) * 4)
    (root / "empty.txt").write_bytes(b"")
    return root


def test_real_files_compress_as_headroom_compress_does(bench_data: Path, tmp_path: Path) -> None:
    files = [
        bench_data / "loghub" / "HDFS_2k.log",
        bench_data / "loghub" / "Apache_2k.log",
        bench_data / "json" / "gh_issues_rails_admin.json",
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
            expected.tokens_after,
        )
        assert entry["bytes"] == path.stat().st_size
        assert entry["failures"] == [] and entry["ok"] is True and entry["signal_lost"] == 0
        assert entry["first_seconds"] > 0 and entry["again_seconds"] > 0
    hdfs = report["files"][0]
    # HDFS has 80 WARN lines: the log compressor keeps one per template, the rest behind a
    # marker; none is lost.
    assert hdfs["signal_lines"] == 80
    assert hdfs["signal_in_output"] + hdfs["signal_via_retrieval"] == 80
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
        "issues.json",
        "json_init.py",
        os.path.join("logs", "ssh.log"),
    ]
    assert {f["path"]: f["kind"] for f in report["files"]}["json_init.py"] == "code"
    assert set(report["by_kind"]) == {"log", "json", "code"}
    assert "skipped 1 files binary or not UTF-8: image.png" in out.stderr


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


def test_an_error_line_dropped_without_a_marker_is_reported() -> None:
    text = "INFO started\nERROR disk full on /dev/sda1\nINFO done\n"
    lines = signal_lines(text)
    assert lines == ["ERROR disk full on /dev/sda1"]
    client = Headroom(store="memory")
    dropped = TextResult("INFO started\nINFO done\n", "log", None, 12, 6, lossless=False)
    assert _signal_kept(client, dropped, lines) == (0, 0, lines)
    # The same line behind a marker whose original holds it is reachable, so kept.
    handle = client.store.put(text, kind="log")
    marked = TextResult(
        "INFO started\n" + format_marker(1, "lines", handle) + "\nINFO done\n",
        "log",
        None,
        12,
        9,
        lossless=False,
    )
    assert _signal_kept(client, marked, lines) == (0, 1, [])
    kept = TextResult(text, "log", None, 12, 12, lossless=True)
    assert _signal_kept(client, kept, lines) == (1, 0, [])
