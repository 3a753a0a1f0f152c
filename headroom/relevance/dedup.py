"""Exact and near-duplicate detection across chunks (SimHash, native kernel).

Retrieval often returns the same passage twice (two indexes, overlapping windows, mirrored
pages). A chunk is a duplicate of an earlier one when their whitespace-normalised texts are
equal, or when their SimHash fingerprints (word 3-shingles, 64 bits) differ in at most
``max_distance`` bits and both are long enough for the fingerprint to mean something. The
first occurrence is kept, so the result depends only on the order of the input.

A chunk is compared with at most ``_MAX_CANDIDATES`` earlier chunks (the earliest that share
a band with it): texts of one template (log lines, generated code, listings) share bands
without being near-duplicates, and comparing each with all the others was quadratic. Past
that many, a near-duplicate may go unnoticed and is kept, never dropped.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from headroom import _core

__all__ = ["duplicate_of", "hamming"]

_MIN_WORDS = 8  # below this a few shared words flip too few bits to be telling
_MAX_CANDIDATES = 64


def hamming(a: int, b: int) -> int:
    """Number of differing bits.

    >>> hamming(0b1011, 0b0001)
    2
    """
    return (a ^ b).bit_count()


def duplicate_of(texts: Sequence[str], *, max_distance: int = 8) -> list[int | None]:
    """For each text, the index of the earlier text it duplicates, or ``None``.

    >>> duplicate_of(["a b", "A  b", "c"])
    [None, 0, None]
    >>> long = "the quick brown fox jumps over the lazy dog by the river bank at dawn"
    >>> duplicate_of([long, long.replace("dawn", "dusk"), "unrelated"], max_distance=20)
    [None, 0, None]
    """
    normalised = [" ".join(t.split()).lower() for t in texts]
    fingerprints = _core.simhashes(list(texts))
    words = [n.count(" ") + 1 if n else 0 for n in normalised]
    # Pigeonhole: two fingerprints within ``max_distance`` bits agree exactly on at least one
    # of ``max_distance + 1`` bands, so only chunks sharing a band need comparing.
    bands = min(max_distance + 1, 64)
    width = 64 // bands
    band_maps: list[dict[int, list[int]]] = [{} for _ in range(bands)]
    first_exact: dict[str, int] = {}
    out: list[int | None] = []
    for i, text in enumerate(normalised):
        original = first_exact.get(text)
        keys = [(fingerprints[i] >> (k * width)) & ((1 << width) - 1) for k in range(bands)]
        if original is None and words[i] >= _MIN_WORDS:
            fingerprint = fingerprints[i]
            # Each bucket lists chunks in input order: merged, the earliest come first.
            buckets = [band_maps[k].get(keys[k], ()) for k in range(bands)]
            seen = -1
            compared = 0
            for j in heapq.merge(*buckets):
                if j == seen:
                    continue
                if compared == _MAX_CANDIDATES:
                    break
                seen = j
                compared += 1
                if (fingerprint ^ fingerprints[j]).bit_count() <= max_distance:
                    original = j
                    break
        if original is None:
            first_exact[text] = i
            if words[i] >= _MIN_WORDS:
                for k in range(bands):
                    band_maps[k].setdefault(keys[k], []).append(i)
        out.append(original)
    return out
