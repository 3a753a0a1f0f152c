"""Shared fixtures: tools returning real data from the benchmark corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool, tool

# ../shared/bench-data next to the repository, as the root Makefile's DATA.
DATA = Path(
    os.environ.get(
        "HEADROOM_BENCH_DATA", Path(__file__).resolve().parents[3] / "../shared/bench-data"
    )
).resolve()


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"benchmark data not found: {path} (set HEADROOM_BENCH_DATA)")
    return path


@pytest.fixture
def log_text() -> str:
    return _require(DATA / "loghub" / "HDFS_2k.log").read_text()[:80_000]


@pytest.fixture
def json_text() -> str:
    return _require(DATA / "json" / "gh_issues_rails_admin.json").read_text()


@pytest.fixture
def data_tools(log_text: str, json_text: str) -> list[BaseTool]:
    @tool
    def read_log(path: str) -> str:
        """Read a log file from the cluster."""
        return log_text

    @tool
    def list_issues(repo: str) -> str:
        """List a GitHub repository's issues as JSON."""
        return json_text

    return [read_log, list_issues]


@pytest.fixture
def squad_article() -> dict:
    """The first SQuAD 2.0 dev article (Normans): paragraphs with questions and answers."""
    import json

    data = json.loads(_require(DATA / "squad" / "dev-v2.0.json").read_text())
    return data["data"][0]
