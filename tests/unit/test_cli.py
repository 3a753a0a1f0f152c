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


# --- Which store each door opens: --store, else HEADROOM_STORE, else the default SQLite file.


def _env_run(
    *args: str, env: dict[str, str], stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "headroom", *args], input=stdin, capture_output=True, env=env
    )


def _store_env(home: Path, store: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HEADROOM_STORE"}
    env["HEADROOM_HOME"] = str(home)
    if store is not None:
        env["HEADROOM_STORE"] = store
    return env


def _log_text(marker: str) -> bytes:
    lines = [f"2024-01-01 00:00:{i % 60:02d} INFO {marker} job {i} done" for i in range(400)]
    return ("\n".join(lines) + "\n2024-01-01 00:01:00 ERROR disk full\n").encode()


def test_cli_verbs_honour_headroom_store(redis_url: str, tmp_path: Path) -> None:
    from headroom import Headroom

    env = _store_env(tmp_path, redis_url)
    data = _log_text("redis-door")
    out = _env_run("compress", "-", env=env, stdin=data)
    assert out.returncode == 0, out.stderr
    handle = out.stderr.decode().rsplit("originals: ", 1)[1].strip()
    # The original went to Redis, not to the default SQLite file.
    assert Headroom(store=redis_url).retrieve(handle) == data.decode()
    assert not (tmp_path / "ccr.sqlite3").exists()
    back = _env_run("retrieve", handle, env=env)
    assert back.returncode == 0 and back.stdout == data
    stats = _env_run("stats", env=env).stdout.decode()
    assert stats.startswith("store: redis") and "log" in stats
    assert not (tmp_path / "ccr.sqlite3").exists()


def test_cli_store_flag_beats_headroom_store(redis_url: str, tmp_path: Path) -> None:
    env = _store_env(tmp_path, redis_url)
    data = _log_text("flag-door")
    db = tmp_path / "flag.sqlite3"
    out = _env_run("--store", str(db), "compress", "-", env=env, stdin=data)
    assert out.returncode == 0, out.stderr
    handle = out.stderr.decode().rsplit("originals: ", 1)[1].strip()
    assert _env_run("--store", str(db), "retrieve", handle, env=env).stdout == data
    # HEADROOM_STORE (Redis) never saw it.
    missing = _env_run("retrieve", handle, env=env)
    assert missing.returncode == 1 and b"no original stored" in missing.stderr
    stats = _env_run("--store", str(db), "stats", env=env).stdout.decode()
    assert stats.startswith(f"store: sqlite {db}")


def test_cli_without_flag_or_variable_uses_the_default_file(tmp_path: Path) -> None:
    env = _store_env(tmp_path, None)
    out = _env_run("compress", "-", env=env, stdin=_log_text("default-door"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "ccr.sqlite3").exists()
    stats = _env_run("stats", env=env).stdout.decode()
    assert stats.startswith(f"store: sqlite {tmp_path / 'ccr.sqlite3'}")


def test_library_and_proxy_app_honour_headroom_store(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("starlette")
    from headroom import Headroom
    from headroom.proxy import ProxySettings, create_app

    monkeypatch.setenv("HEADROOM_HOME", str(tmp_path))
    monkeypatch.setenv("HEADROOM_STORE", redis_url)
    assert Headroom().store.stats().backend == "redis"
    settings = ProxySettings.from_env()
    assert settings.store == redis_url
    app = create_app(settings)
    assert app.state.headroom.client.store.stats().backend == "redis"
    app.state.headroom.client.close()
    # The proxy's --store is passed to its workers in the same variable.
    flagged = ProxySettings(store=str(tmp_path / "p.sqlite3"))
    assert ProxySettings.from_env(flagged.to_env()).store == flagged.store
    monkeypatch.delenv("HEADROOM_STORE")
    app = create_app(ProxySettings.from_env())
    assert app.state.headroom.client.store.stats().location == str(tmp_path / "ccr.sqlite3")
    app.state.headroom.client.close()


def test_mcp_server_honours_headroom_store(redis_url: str, tmp_path: Path) -> None:
    pytest.importorskip("mcp")
    import anyio
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "headroom", "mcp"], env=_store_env(tmp_path, redis_url)
    )

    async def main() -> str:
        async with Client(params, read_timeout_seconds=120) as client:
            result = await client.call_tool("headroom_stats", {})
            return str(result.structured_content["store"])

    assert anyio.run(main) == "redis"
    assert not (tmp_path / "ccr.sqlite3").exists()


# --- Several files, globs, --out, --format json, stats, --version, one-line errors.


def test_version_is_the_package_version(tmp_path: Path) -> None:
    import headroom

    out = run("--version", home=tmp_path)
    assert out.returncode == 0 and out.stdout.decode().strip() == f"headroom {headroom.__version__}"


def _table_rows(stderr: str) -> dict[str, list[str]]:
    """The per-file table: file name -> its other cells (split on runs of 2+ spaces)."""
    import re

    rows = {}
    for line in stderr.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 4 and not set(cells[0]) <= {"-"} and cells[0] not in ("file", "kind"):
            rows[cells[0]] = cells[1:]
    return rows


def test_compress_globs_and_files_into_out_dir(bench_data: Path, tmp_path: Path) -> None:
    logs = bench_data / "loghub"
    repos = bench_data / "json" / "gh_top100_repos.json"
    out_dir = tmp_path / "small"
    out = str(out_dir)
    # A quoted glob, expanded by headroom itself, plus a plain file; the shell cwd is bench_data
    # so that relative paths are kept under --out.
    proc = subprocess.run(
        [sys.executable, "-m", "headroom", "compress", "loghub/H*_2k.log", str(repos), "-o", out],
        capture_output=True,
        cwd=bench_data,
        env={**os.environ, "HEADROOM_HOME": str(tmp_path / "home")},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""  # everything went to --out
    rows = _table_rows(proc.stderr.decode())
    assert set(rows) >= {"loghub/HDFS_2k.log", "loghub/Hadoop_2k.log", str(repos)}
    assert rows["loghub/HDFS_2k.log"][0] == "log" and rows[str(repos)][0] == "json"
    total = next(cells for name, cells in rows.items() if name.startswith("total (3 files)"))
    before = sum(
        int(rows[name][1].replace(",", "")) for name in rows if not name.startswith("total")
    )
    assert int(total[0].replace(",", "")) == before
    hdfs = (out_dir / "loghub" / "HDFS_2k.log").read_text()
    assert "retrieve: headroom:" in hdfs and len(hdfs) < len((logs / "HDFS_2k.log").read_text())
    assert decode((out_dir / repos.name).read_text()) == json.loads(repos.read_bytes())


def test_compress_several_files_to_stdout_with_headers(bench_data: Path, tmp_path: Path) -> None:
    a, b = bench_data / "loghub" / "Apache_2k.log", bench_data / "loghub" / "OpenSSH_2k.log"
    out = run("compress", str(a), str(b), str(a), home=tmp_path)  # a repeat is compressed once
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert text.count("==> ") == 2 and text.index(f"==> {a} <==") < text.index(f"==> {b} <==")
    assert "total (2 files)" in out.stderr.decode()


def test_compress_format_json_is_one_object_per_file(bench_data: Path, tmp_path: Path) -> None:
    files = [
        bench_data / "loghub" / "HDFS_2k.log",
        bench_data / "json" / "gh_issues_rails_admin.json",
    ]
    out = run("compress", *map(str, files), "--format", "json", home=tmp_path)
    assert out.returncode == 0, out.stderr
    objects = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [o["file"] for o in objects] == [str(f) for f in files]
    assert [o["kind"] for o in objects] == ["log", "json"]
    assert all(o["tokens_after"] < o["tokens_before"] for o in objects)
    # stats counts exactly what was compressed, by kind, and says so in JSON.
    stats = json.loads(run("stats", "--json", home=tmp_path).stdout)
    assert stats["by_kind"]["log"]["tokens_before"] == objects[0]["tokens_before"]
    assert stats["total"]["tokens_saved"] == sum(o["tokens_saved"] for o in objects)
    assert stats["store"]["backend"] == "sqlite" and stats["store"]["items"] >= 1
    table = run("stats", home=tmp_path).stdout.decode()
    rows = _table_rows(table)
    assert rows["log"][0] == "1" and rows["json"][0] == "1"
    assert rows["total"][3].endswith("%)")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compress", "nope.txt"], "nope.txt: no such file (check the path)"),
        (["compress", "nowhere/*.log"], "nowhere/*.log matched no files"),
        (["compress", "."], ". is a directory (give files, or a glob such as './**/*')"),
        (["retrieve", "headroom:000000000000"], "no original stored"),
    ],
)
def test_errors_are_one_line_and_debug_shows_the_traceback(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "headroom", *argv],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "HEADROOM_HOME": str(tmp_path)},
    )
    lines = out.stderr.decode().splitlines()
    assert out.returncode == 1 and len(lines) == 1, lines
    assert lines[0].startswith("headroom: error: ") and message in lines[0]
    debug = subprocess.run(
        [sys.executable, "-m", "headroom", "--debug", *argv],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "HEADROOM_HOME": str(tmp_path)},
    )
    assert debug.returncode == 1 and b"Traceback (most recent call last)" in debug.stderr


def test_out_refuses_two_inputs_with_one_destination(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.log").write_text("x\n")
    out = run(
        "compress",
        str(tmp_path / "a" / "same.log"),
        str(tmp_path / "b" / "same.log"),
        "--out",
        str(tmp_path / "out"),
        home=tmp_path,
    )
    assert out.returncode == 1 and b"would both be written to" in out.stderr
    assert not (tmp_path / "out").exists()  # checked before anything was written


def test_progress_bar_on_a_terminal_only(bench_data: Path, tmp_path: Path) -> None:
    import pty
    import select

    files = [str(bench_data / "loghub" / name) for name in ("Apache_2k.log", "HDFS_2k.log")]
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "headroom", "compress", *files, "--out", str(tmp_path / "o")],
        stderr=follower,
        stdout=subprocess.PIPE,
        env={**os.environ, "HEADROOM_HOME": str(tmp_path)},
    )
    os.close(follower)
    seen = b""
    while True:  # read the terminal until the process closes it
        ready, _, _ = select.select([leader], [], [], 120)
        try:
            chunk = os.read(leader, 65536) if ready else b""
        except OSError:  # EIO: the child closed its end
            chunk = b""
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    text = seen.decode()
    assert "] 1/2 " in text and "] 2/2 " in text and "HDFS_2k.log" in text
    assert "total (2 files)" in text
    # In a pipe (every other test here), no bar: stderr is the summary alone.
    piped = run("compress", *files, "--out", str(tmp_path / "p"), home=tmp_path)
    assert b"\r" not in piped.stderr and b"] 1/2 " not in piped.stderr
