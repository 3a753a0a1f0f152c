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


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real ``redis-server`` on a free loopback port for the session, stopped after.

    The Makefile installs the Debian package; without it the Redis tests skip, unless
    ``HEADROOM_REQUIRE_REDIS=1`` (set by ``make test``) makes that a failure.
    """
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("HEADROOM_REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is not installed (make test installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="headroom-redis-")
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"redis-server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
