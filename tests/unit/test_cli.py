"""The headroom command, run as users run it: in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from headroom.jsontables import decode


def run(*args: str, stdin: bytes | None = None, home: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "HEADROOM_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "headroom", *args], input=stdin, capture_output=True, env=env
    )


def test_compress_file_then_retrieve_then_stats(bench_data: Path, tmp_path: Path) -> None:
    log = bench_data / "loghub" / "HDFS_2k.log"
    out = run("compress", str(log), home=tmp_path)
    assert out.returncode == 0, out.stderr
    stderr = out.stderr.decode()
    assert stderr.startswith("headroom: log: ") and "saved" in stderr
    handle = stderr.rsplit("originals: ", 1)[1].strip()
    assert handle.encode() in out.stdout
    back = run("retrieve", handle, home=tmp_path)
    assert back.returncode == 0
    assert back.stdout == log.read_bytes()  # byte-exact: nothing added
    queried = run("retrieve", handle, "--query", "exception", home=tmp_path)
    assert b"exception" in queried.stdout and len(queried.stdout) < 20_000
    stats = run("stats", home=tmp_path).stdout.decode()
    assert "originals: 1" in stats and "log" in stats and "saved" in stats


def test_compress_stdin_json_output(bench_data: Path, tmp_path: Path) -> None:
    data = (bench_data / "json" / "gh_top100_repos.json").read_bytes()
    out = run("compress", "-", "--json", "--lossless", stdin=data, home=tmp_path)
    assert out.returncode == 0
    payload = json.loads(out.stdout)
    assert payload["kind"] == "json" and payload["lossless"] is True
    assert decode(payload["text"]) == json.loads(data)
    assert payload["tokens_after"] < payload["tokens_before"]


def test_decode_turns_a_table_document_back_into_json(bench_data: Path, tmp_path: Path) -> None:
    data = (bench_data / "json" / "gh_issues_rails_admin.json").read_bytes()
    compressed = run("compress", "-", "--lossless", stdin=data, home=tmp_path)
    assert compressed.stdout.startswith(b"[headroom-json/1")
    decoded = run("decode", "-", stdin=compressed.stdout, home=tmp_path)
    assert decoded.returncode == 0 and json.loads(decoded.stdout) == json.loads(data)
    broken = run("decode", "-", stdin=b"[headroom-json/1 x]\n@7", home=tmp_path)
    assert broken.returncode == 1 and b"missing table @7" in broken.stderr


def test_lossless_flag(bench_data: Path, tmp_path: Path) -> None:
    log = bench_data / "loghub" / "Apache_2k.log"
    out = run("compress", str(log), "--lossless", home=tmp_path)
    assert out.returncode == 0 and out.stdout == log.read_bytes()


def test_kind_and_query_options(tmp_path: Path) -> None:
    text = "\n".join(f"2024-01-01 00:00:{i % 60:02d} INFO job {i} done" for i in range(300))
    text += "\n2024-01-01 00:01:00 ERROR job 301 failed: disk full\n"
    out = run(
        "compress", "-", "--kind", "log", "--query", "disk", stdin=text.encode(), home=tmp_path
    )
    assert out.returncode == 0
    assert b"ERROR job 301 failed: disk full" in out.stdout


def test_undecodable_bytes_round_trip(tmp_path: Path) -> None:
    data = b"".join(
        b"2024-01-01 00:00:%02d INFO \xff\xfe job %d\n" % (i % 60, i) for i in range(400)
    )
    out = run("compress", "-", stdin=data, home=tmp_path)
    assert out.returncode == 0
    handle = out.stderr.decode().rsplit("originals: ", 1)[1].strip()
    assert run("retrieve", handle, home=tmp_path).stdout == data


@pytest.mark.parametrize("verb", [[], ["compress"], ["retrieve"], ["stats"]])
def test_help_on_every_verb(verb: list[str], tmp_path: Path) -> None:
    out = run(*verb, "--help", home=tmp_path)
    assert out.returncode == 0 and b"usage: headroom" in out.stdout


def test_errors_exit_nonzero_with_a_message(tmp_path: Path) -> None:
    missing = run("retrieve", "headroom:000000000000", home=tmp_path)
    assert missing.returncode == 1 and b"no original stored" in missing.stderr
    bad = run("retrieve", "nonsense", home=tmp_path)
    assert bad.returncode == 1 and b"12 hex digits" in bad.stderr
    assert run("compress", "--kind", "yaml", home=tmp_path).returncode == 2
    nofile = run("compress", str(tmp_path / "nope.txt"), home=tmp_path)
    assert nofile.returncode == 1 and b"nope.txt" in nofile.stderr
