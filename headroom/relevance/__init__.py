"""Relevance scoring (BM25 now; neural scorers arrive with the TextPruner)."""

from headroom.relevance.bm25 import bm25_scores, tokenize

__all__ = ["bm25_scores", "tokenize"]
