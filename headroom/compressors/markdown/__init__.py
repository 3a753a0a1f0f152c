"""Markdown (READMEs, docs pages, issue bodies): headings and code kept, prose pruned.

:mod:`.parse` cuts a document into blocks byte for byte, :mod:`.detect` tells markdown from
code with ``#`` comments, :mod:`.compressor` has the rules.
"""

from __future__ import annotations

from headroom.compressors.markdown.compressor import MarkdownCompressor
from headroom.compressors.markdown.detect import looks_like_markdown

__all__ = ["MarkdownCompressor", "looks_like_markdown"]
