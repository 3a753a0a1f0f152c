"""Shared fixtures: an isolated HEADROOM_HOME, the real benchmark data, hypothesis profiles."""

from __future__ import annotations

import os
import tempfile
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
