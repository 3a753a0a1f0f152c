"""Search results: :mod:`.parse` reads grep/ripgrep hits, :mod:`.compressor` groups them."""

from __future__ import annotations

from headroom.compressors.search.compressor import SearchCompressor

__all__ = ["SearchCompressor"]
