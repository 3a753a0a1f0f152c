"""The wheel tests run only when asked: ``make test-dist`` or ``pytest tests/packaging``.

They build a fresh virtual environment and install every wheel of ``dist/`` into it, which
takes minutes; the core suite (``pytest headroom tests``) skips them unless
``HEADROOM_DIST_DIR`` names the directory of wheels to test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PACKAGING_DIR = Path(__file__).resolve().parent


def _asked_for(config: pytest.Config) -> bool:
    """Whether the command line names this folder or a file in it."""
    for arg in config.args:
        path = Path(arg.split("::", 1)[0]).resolve()
        if path == PACKAGING_DIR or PACKAGING_DIR in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("HEADROOM_DIST_DIR") or _asked_for(config):
        return
    skip = pytest.mark.skip(
        reason="installs the built wheels into a new venv (minutes): make test-dist, "
        "or HEADROOM_DIST_DIR=dist pytest tests/packaging"
    )
    for item in items:
        if PACKAGING_DIR in Path(str(item.path)).parents:
            item.add_marker(skip)
