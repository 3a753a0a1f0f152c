"""File listings: :mod:`.parse` reads ``ls``/``find``/``tree`` lines, :mod:`.compressor` folds
their columns (losslessly when :func:`decode_listing` can undo it)."""

from __future__ import annotations

from headroom.compressors.listing.compressor import (
    HEADER_PREFIX,
    ListingCompressor,
    decode_listing,
    encode_listing,
)

__all__ = ["HEADER_PREFIX", "ListingCompressor", "decode_listing", "encode_listing"]
