"""What both store backends share: hashing an original, argument checks, expiry, errors."""

from __future__ import annotations

import hashlib

from headroom.errors import InvalidArgumentError, StoreError
from headroom.handles import handle_from_sha256, original_bytes

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "TOMBSTONE_LIMIT",
    "TOMBSTONE_SECONDS",
    "check_bounds",
    "check_usage",
    "collision",
    "encode_original",
    "is_evictable",
    "is_expired",
    "is_intact",
]

# Long enough for any one compression call to finish: an original put this recently may be
# about to be returned to a caller, so eviction must not take it (see the stores' docs).
DEFAULT_GRACE_SECONDS = 600.0

# How long the SQLite and Redis stores keep an original after its last put, unless told
# otherwise: a week outlives nearly every conversation that could hold its handle.
DEFAULT_TTL_SECONDS = 7 * 24 * 3600.0

# An original that expired or was evicted leaves a tombstone (its handle, when and why it
# went), so a late retrieve says "expired" rather than "never stored". Tombstones are tiny
# but must not grow without bound: the memory and SQLite stores keep the latest this many,
# Redis keeps each this long after its original went.
TOMBSTONE_LIMIT = 100_000
TOMBSTONE_SECONDS = 30 * 24 * 3600.0


def encode_original(original: str | bytes) -> tuple[bytes, str, str]:
    """Return ``(data, full sha256 hex, handle)``, hashing the bytes only once."""
    if not isinstance(original, str | bytes):
        raise InvalidArgumentError(
            f"original: expected str or bytes, got {type(original).__name__}"
        )
    data = original_bytes(original)
    digest = hashlib.sha256(data).hexdigest()
    return data, digest, handle_from_sha256(digest)


def check_bounds(ttl_seconds: float | None, max_bytes: int | None, grace_seconds: float) -> None:
    if ttl_seconds is not None and not ttl_seconds > 0:
        raise InvalidArgumentError(f"ttl_seconds: expected > 0 or None, got {ttl_seconds!r}")
    if max_bytes is not None and max_bytes < 0:
        raise InvalidArgumentError(f"max_bytes: expected >= 0 or None, got {max_bytes!r}")
    # `not >= 0` also refuses NaN, which would make every comparison with it false.
    if not isinstance(grace_seconds, int | float) or not grace_seconds >= 0:
        raise InvalidArgumentError(f"grace_seconds: expected >= 0, got {grace_seconds!r}")


def check_usage(kind: str, tokens_before: int, tokens_after: int) -> None:
    if not isinstance(kind, str):
        raise InvalidArgumentError(f"kind: expected str, got {type(kind).__name__}")
    for name, value in (("tokens_before", tokens_before), ("tokens_after", tokens_after)):
        if not isinstance(value, int) or value < 0:
            raise InvalidArgumentError(f"{name}: expected an int >= 0, got {value!r}")


def is_expired(created_at: float, now: float, ttl_seconds: float | None) -> bool:
    # The same comparison as SQLiteStore's SQL, so both backends round the boundary alike.
    return ttl_seconds is not None and created_at < now - ttl_seconds


def is_evictable(created_at: float, now: float, grace_seconds: float) -> bool:
    # Put longer ago than the grace period: no call still in flight can be holding its handle.
    return created_at < now - grace_seconds


def is_intact(handle: str, sha256: object, data: object) -> bool:
    """Whether a stored row is what it claims: its bytes hash to its sha256, which names it."""
    return (
        isinstance(sha256, str)
        and isinstance(data, bytes)
        and hashlib.sha256(data).hexdigest() == sha256
        and handle_from_sha256(sha256) == handle
    )


def collision(handle: str, stored_sha: str, new_sha: str, where: str) -> StoreError:
    return StoreError(
        f"{where}: handle {handle} already names an original with sha256 {stored_sha}; "
        f"refusing to reuse it for a different original with sha256 {new_sha} "
        "(truncated-hash collision)"
    )
