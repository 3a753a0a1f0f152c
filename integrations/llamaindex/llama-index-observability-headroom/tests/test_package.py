"""The package's public surface: pinned names and version."""

from __future__ import annotations

from importlib.metadata import version

import llama_index.observability.headroom as observability_pkg
from llama_index.utils.headroom import HeadroomCompressionEvent


def test_public_names_are_pinned() -> None:
    assert observability_pkg.__all__ == [
        "HeadroomCompressionEvent",
        "HeadroomEventHandler",
        "QueryUsage",
        "Usage",
        "instrument",
    ]
    # The event every component emits is the shared package's, re-exported here.
    assert observability_pkg.HeadroomCompressionEvent is HeadroomCompressionEvent
    assert observability_pkg.__version__ == version("llama-index-observability-headroom")
