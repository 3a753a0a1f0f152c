"""Prose: :mod:`.pruner` (:class:`TextPruner`, sentences kept by query or salience),
:mod:`.kompress` (word-level, a token-classification model) and :mod:`.compressor`
(:class:`TextCompressor`, the ``text`` kind). The kernels they score with live in
:mod:`headroom.relevance`."""

from __future__ import annotations

from headroom.compressors.text.compressor import TextCompressor
from headroom.compressors.text.pruner import TextPruner

__all__ = ["TextCompressor", "TextPruner"]
