"""Source code: tree-sitter skeletons that still parse (see :mod:`.compressor` for the rules)."""

from __future__ import annotations

from headroom.compressors.code.compressor import CodeCompressor

__all__ = ["CodeCompressor"]
