"""Shared fixtures: an isolated HEADROOM_HOME, the real benchmark data, hypothesis profiles."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DATA = Path(os.environ.get("HEADROOM_BENCH_DATA", REPO_ROOT.parent / "shared" / "bench-data"))

# HEADROOM_HYPOTHESIS_PROFILE=thorough for more examples locally; CI uses the default.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HEADROOM_HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    # The default SQLite store must never be the user's real one during tests.
    os.environ["HEADROOM_HOME"] = tempfile.mkdtemp(prefix="headroom-test-home-")


@pytest.fixture(scope="session")
def bench_data() -> Path:
    if not BENCH_DATA.is_dir():
        pytest.skip(f"benchmark data not found at {BENCH_DATA}")
    return BENCH_DATA


def read_bench(path: Path) -> str:
    """A bench-data file as text, byte-exact (no newline translation)."""
    return path.read_bytes().decode("utf-8")


class RedisServer:
    """A real ``redis-server`` on a loopback port, in memory only, that a test can stop and
    start again on the same port (to see what the store does while it is down)."""

    def __init__(self, server: str) -> None:
        self._server = server
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = tempfile.mkdtemp(prefix="headroom-redis-")
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                self._server,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self._workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self._process.poll() is not None:
                self._process.kill()
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server, as a crash or an OOM kill would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)


def _redis_server_binary() -> str:
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("HEADROOM_REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is not installed (make test installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real ``redis-server`` on a free loopback port for the session, stopped after.

    The Makefile installs the Debian package; without it the Redis tests skip, unless
    ``HEADROOM_REQUIRE_REDIS=1`` (set by ``make test``) makes that a failure.
    """
    server = RedisServer(_redis_server_binary())
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own, which it may kill and start again."""
    server = RedisServer(_redis_server_binary())
    try:
        yield server
    finally:
        server.close()
