"""HTML: :mod:`.extract` finds the text a reader sees, :mod:`.compressor` prunes it like prose."""

from __future__ import annotations

from headroom.compressors.html.compressor import HtmlCompressor

__all__ = ["HtmlCompressor"]
