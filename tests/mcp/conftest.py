"""Fixtures: the ``headroom mcp`` server as a real process, over stdio and streamable HTTP.

Each server gets its own SQLite store and a directory it may read (``--allow-read``), which
holds a real log and a real JSON response from the benchmark data, plus a symlink that
points outside it.
"""

from __future__ import annotations

import contextlib
import json.decoder
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

# stdio_client's default errlog is sys.stderr as it was when the SDK was imported: import it
# now, before a test's capsys swaps in a stream without a file descriptor.
with contextlib.suppress(ImportError):
    import mcp.client.stdio  # noqa: F401

T = TypeVar("T")

# Above the 5 MB content the tests send, below the 7 MB one that must be refused.
MAX_CONTENT_BYTES = 6_000_000
LOG = "loghub/HDFS_2k.log"
JSON = "json/gh_issues_rails_admin.json"


@dataclass(frozen=True)
class Served:
    """One running server: how a client reaches it, and what it was started with."""

    target: Any  # StdioServerParameters (a new process per session) or an http:// URL
    store: Path
    root: Path  # the --allow-read directory
    outside: Path  # a file outside it
    env: dict[str, str]


def server_args(store: Path | str, root: Path | None) -> list[str]:
    args = ["-m", "headroom", "mcp", "--store", str(store)]
    args += ["--max-content-bytes", str(MAX_CONTENT_BYTES)]
    return args + (["--allow-read", str(root)] if root is not None else [])


def session(target: Any, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(client)`` in one MCP client session (the SDK's own ``Client``)."""
    import anyio
    from mcp.client import Client

    async def main() -> T:
        async with Client(target, read_timeout_seconds=120) as client:
            return await work(client)

    return anyio.run(main)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, bench_data: Path) -> Path:
    top = tmp_path_factory.mktemp("mcp")
    root = top / "allowed"
    (root / "sub").mkdir(parents=True)
    shutil.copyfile(bench_data / LOG, root / "sub" / "hdfs.log")
    shutil.copyfile(bench_data / JSON, root / "issues.json")
    shutil.copyfile(json.decoder.__file__, root / "decoder.py")  # real source: the stdlib's
    (top / "secret.txt").write_text("outside the allowed root\n")
    (root / "escape.txt").symlink_to(top / "secret.txt")
    (root / "inside-link.log").symlink_to(root / "sub" / "hdfs.log")
    (top / "home").mkdir()
    return top


def _env(top: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HEADROOM_STORE"}
    return {**env, "HEADROOM_HOME": str(top / "home")}


@pytest.fixture(scope="module")
def stdio_server(workdir: Path) -> Served:
    from mcp.client.stdio import StdioServerParameters

    store = workdir / "stdio.sqlite3"
    env = _env(workdir)
    params = StdioServerParameters(
        command=sys.executable,
        args=server_args(store, workdir / "allowed"),
        env=env,
        cwd=str(workdir),
    )
    return Served(params, store, workdir / "allowed", workdir / "secret.txt", env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def http_server(workdir: Path) -> Iterator[Served]:
    """``headroom mcp --transport streamable-http`` on a free loopback port, stopped after."""
    store = workdir / "http.sqlite3"
    port = free_port()
    env = _env(workdir)
    args = server_args(store, workdir / "allowed")
    log = workdir / f"http-{port}.log"  # a file, not a pipe nobody reads (it could fill)
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, *args, "--transport", "streamable-http", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=10)
            pytest.fail(f"headroom mcp did not start on port {port}: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    try:
        yield Served(
            f"http://127.0.0.1:{port}/mcp",
            store,
            workdir / "allowed",
            workdir / "secret.txt",
            env,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(params=["stdio", "streamable-http"])
def served(request: pytest.FixtureRequest) -> Served:
    name = "stdio_server" if request.param == "stdio" else "http_server"
    server: Served = request.getfixturevalue(name)
    return server
