"""Relevance: segmentation, BM25 (native kernel), near-duplicates, neural scorers, TextPruner.

The neural scorers (:mod:`headroom.relevance.neural`) import torch only when built.
"""

from headroom.relevance.bm25 import bm25_scores, okapi_scores, query_terms, tokenize, tokenize_many

__all__ = ["bm25_scores", "okapi_scores", "query_terms", "tokenize", "tokenize_many"]
