"""Test runner output: :mod:`.frames` finds library traceback frames, :mod:`.compressor`
keeps failures whole and counts what passed."""

from __future__ import annotations

from headroom.compressors.test_output.compressor import TestOutputCompressor

__all__ = ["TestOutputCompressor"]
