"""Headroom node postprocessor for LlamaIndex: keep what answers the query, drop the rest."""

from importlib.metadata import PackageNotFoundError, version

from llama_index.postprocessor.headroom.base import METADATA_KEY, HeadroomNodePostprocessor

try:
    __version__ = version("llama-index-postprocessor-headroom")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = ["METADATA_KEY", "HeadroomNodePostprocessor"]
