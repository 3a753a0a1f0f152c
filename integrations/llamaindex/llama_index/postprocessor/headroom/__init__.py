"""Headroom node postprocessor for LlamaIndex: keep what answers the query, drop the rest."""

from llama_index.postprocessor.headroom.base import METADATA_KEY, HeadroomNodePostprocessor

__all__ = ["METADATA_KEY", "HeadroomNodePostprocessor"]
