"""Relevance kernels: segmentation, BM25 (native kernel), near-duplicates, query-less
salience, neural scorers.

Kernels score and cut text; they store nothing and write no marker. The engines built on
them (:class:`~headroom.compressors.text.pruner.TextPruner`, kompress) live with the prose
compressor in :mod:`headroom.compressors.text`. The neural scorers
(:mod:`headroom.relevance.neural`) import torch only when built.
"""

from headroom.relevance.bm25 import bm25_scores, okapi_scores, query_terms, tokenize, tokenize_many

__all__ = ["bm25_scores", "okapi_scores", "query_terms", "tokenize", "tokenize_many"]
