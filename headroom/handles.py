"""The one handle format and the one marker grammar shared by every compressor.

A handle names an original in the CCR store: ``headroom:`` followed by the first 12 hex
digits of the SHA-256 of the original's UTF-8 bytes. A marker is what a compressor leaves
in place of what it omitted::

    [187 rows omitted: status=active ×187 · retrieve: headroom:3f9a1c2e4b7d]

i.e. ``[<count> <unit> omitted[: <summary>] · retrieve: <handle>]``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = [
    "HANDLE_PREFIX",
    "HANDLE_RE",
    "MARKER_RE",
    "Marker",
    "find_markers",
    "format_marker",
    "handle_for",
    "handle_from_sha256",
    "is_handle",
    "original_bytes",
]

HANDLE_PREFIX = "headroom:"
_HEX_DIGITS = 12
HANDLE_RE = re.compile(r"headroom:[0-9a-f]{12}(?![0-9a-f])")
MARKER_RE = re.compile(
    r"\[(?P<count>\d+) (?P<unit>[^\]:·]+?) omitted(?:: (?P<summary>[^\]]*?))?"
    r" · retrieve: (?P<handle>headroom:[0-9a-f]{12})\]"
)


def original_bytes(original: str | bytes) -> bytes:
    """The bytes an original is hashed and stored as (``str`` as UTF-8, lone surrogates kept)."""
    return original.encode("utf-8", "surrogatepass") if isinstance(original, str) else original


def handle_from_sha256(hexdigest: str) -> str:
    """The handle of an original whose full SHA-256 hex digest is ``hexdigest``."""
    return HANDLE_PREFIX + hexdigest[:_HEX_DIGITS]


def handle_for(original: str | bytes) -> str:
    """Return the handle of an original.

    >>> handle_for("hello")
    'headroom:2cf24dba5fb0'
    """
    return handle_from_sha256(hashlib.sha256(original_bytes(original)).hexdigest())


def is_handle(value: object) -> bool:
    """Whether ``value`` is a string in the handle format."""
    return isinstance(value, str) and HANDLE_RE.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Marker:
    """A parsed omission marker."""

    count: int
    unit: str
    summary: str | None
    handle: str

    def __str__(self) -> str:
        return format_marker(self.count, self.unit, self.handle, summary=self.summary)


def format_marker(count: int, unit: str, handle: str, *, summary: str | None = None) -> str:
    """Build the marker that stands for omitted content.

    >>> format_marker(3, "lines", "headroom:2cf24dba5fb0", summary="INFO ×3")
    '[3 lines omitted: INFO ×3 · retrieve: headroom:2cf24dba5fb0]'
    """
    if not is_handle(handle):
        raise ValueError(f"not a Headroom handle: {handle!r}")
    body = f"{count} {unit} omitted"
    if summary:
        # A "]" or "·" inside the summary would end the marker early for a parser.
        body += ": " + summary.replace("]", ")").replace(" · ", " - ")
    return f"[{body} · retrieve: {handle}]"


def find_markers(text: str) -> list[Marker]:
    """Every marker in ``text``, in order."""
    return [
        Marker(int(m["count"]), m["unit"], m["summary"], m["handle"])
        for m in MARKER_RE.finditer(text)
    ]
