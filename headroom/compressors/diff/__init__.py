"""Unified diffs: :mod:`.parse` reads files and hunks, :mod:`.compressor` trims the context."""

from __future__ import annotations

from headroom.compressors.diff.compressor import DiffCompressor

__all__ = ["DiffCompressor"]
