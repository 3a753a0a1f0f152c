"""The one handle format and the one marker grammar shared by every compressor.

A handle names an original in the CCR store: ``headroom:`` followed by the first 12 hex
digits of the SHA-256 of the original's UTF-8 bytes. A marker is what a compressor leaves
in place of what it omitted::

    [187 rows omitted: status=active ×187 · retrieve: headroom:3f9a1c2e4b7d]

i.e. ``[<count> <unit> omitted[: <summary>] · retrieve: <handle>]``.

Markers are found in linear time (:func:`find_markers`, :func:`has_marker`,
:func:`is_marker`): every piece of content is checked for one, and a regex search for this
grammar backtracks over every ``[`` (``"[1 " * 100_000`` took minutes).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from headroom._rawbytes import to_bytes

__all__ = [
    "HANDLE_PREFIX",
    "HANDLE_RE",
    "MARKER_RE",
    "Marker",
    "find_markers",
    "format_marker",
    "handle_for",
    "handle_from_sha256",
    "has_marker",
    "is_handle",
    "is_marker",
    "original_bytes",
    "strip_markers",
]

HANDLE_PREFIX = "headroom:"
_HEX_DIGITS = 12
HANDLE_RE = re.compile(r"headroom:[0-9a-f]{12}(?![0-9a-f])")
# The grammar as a regex, the reference the linear scanner is tested against. Only
# ``fullmatch`` on it is linear; ``search``/``finditer``/``sub`` on untrusted text are
# quadratic (they retry the lazy groups from every ``[``): use the functions below.
MARKER_RE = re.compile(
    r"\[(?P<count>\d+) (?P<unit>[^\]:·]+?) omitted(?:: (?P<summary>[^\]]*?))?"
    r" · retrieve: (?P<handle>headroom:[0-9a-f]{12})\]"
)


def original_bytes(original: str | bytes) -> bytes:
    """The bytes an original is hashed and stored as: ``str`` as UTF-8, with bytes that
    were not UTF-8 (decoded with ``surrogateescape``) given back as they were."""
    return to_bytes(original) if isinstance(original, str) else original


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
    """Every marker in ``text``, in order; what ``MARKER_RE.finditer`` finds, in linear time.

    >>> find_markers("a [3 lines omitted: INFO ×3 · retrieve: headroom:2cf24dba5fb0] b")
    [Marker(count=3, unit='lines', summary='INFO ×3', handle='headroom:2cf24dba5fb0')]
    """
    return [marker for _, _, marker in _scan(text)]


def has_marker(text: str) -> bool:
    """Whether ``text`` holds a marker anywhere (``MARKER_RE.search``, in linear time).

    >>> has_marker("x [2 rows omitted · retrieve: headroom:2cf24dba5fb0] y")
    True
    >>> has_marker("[1 " * 100_000)
    False
    """
    return next(_scan(text), None) is not None


def strip_markers(text: str) -> str:
    """``text`` without its markers (``MARKER_RE.sub("", text)``, in linear time).

    >>> strip_markers("a [2 rows omitted · retrieve: headroom:2cf24dba5fb0] b")
    'a  b'
    """
    pieces, last = [], 0
    for start, end, _ in _scan(text):
        pieces.append(text[last:start])
        last = end
    return "".join(pieces) + text[last:] if pieces else text


def is_marker(text: str) -> bool:
    """Whether ``text`` is one marker and nothing else (``MARKER_RE.fullmatch``).

    >>> is_marker("[2 rows omitted · retrieve: headroom:2cf24dba5fb0]")
    True
    """
    found = next(_scan(text), None)
    return found is not None and found[0] == 0 and found[1] == len(text)


# A literal prefix, then fixed widths: the regex engine finds it without backtracking.
_TAIL_RE = re.compile(r" · retrieve: (?P<handle>headroom:[0-9a-f]{12})\]")
_OMITTED = " omitted"
_OMITTED_SUMMARY = " omitted: "
# "[<count> ", \d as in MARKER_RE (any Unicode decimal digit). The cap keeps int() working
# (CPython refuses longer digit strings); no compressor writes such a count.
_COUNT_RE = re.compile(r"\[(\d{1,3999}) ")


def _scan(text: str) -> Iterator[tuple[int, int, Marker]]:
    """Yield ``(start, end, marker)`` for what ``MARKER_RE.finditer(text)`` would match.

    Neither the unit nor the summary may hold ``]``, so a marker ends at the first ``]``
    after its ``[``, and that ``]`` closes a tail `` · retrieve: headroom:<12 hex>``. The
    scan anchors on such tails and, for each, looks for the leftmost head
    ``[<count> <unit> omitted`` between the previous ``]`` and the tail (:func:`_head`).
    Every stretch of text is looked at a bounded number of times, so the scan is linear.
    """
    floor = 0  # no marker starts before a "]" (or the end of the previous marker)
    for found in _TAIL_RE.finditer(text):
        tail, end = found.span()
        floor = text.rfind("]", floor, tail) + 1 or floor
        head = _head(text, floor, tail)
        floor = end
        if head is not None:
            start, count, unit, summary = head
            yield start, end, Marker(count, unit, summary, found["handle"])


def _head(text: str, lo: int, tail: int) -> tuple[int, int, str, str | None] | None:
    """The leftmost head ``[<count> <unit> omitted[: <summary>]`` in ``text[lo:tail]`` that
    runs up to ``tail``, as ``(start, count, unit, summary)``.

    The unit holds no ``:`` or ``·`` (a *stop*), so a unit ends right before the first
    `` omitted: `` whose colon is the first stop after the unit's start, or, with no summary,
    right before a `` omitted`` that ends at the tail with no stop in between. For each such
    place only the leftmost ``[<count> `` after the stop before it can start a head: one with
    a stop in its unit would end elsewhere.
    """
    after_stop = lo
    at = text.find(_OMITTED_SUMMARY, lo, tail)
    while at >= 0:
        after_stop = max(after_stop, _last_stop(text, after_stop, at) + 1)
        head = _COUNT_RE.search(text, after_stop, at - 1)  # at - 1: the unit is not empty
        if head is not None:
            summary = text[at + len(_OMITTED_SUMMARY) : tail]
            return head.start(), int(head[1]), text[head.end() : at], summary
        after_stop = at + len(_OMITTED) + 1
        at = text.find(_OMITTED_SUMMARY, after_stop, tail)
    at = tail - len(_OMITTED)
    if at - 1 <= after_stop or not text.startswith(_OMITTED, at):
        return None
    after_stop = max(after_stop, _last_stop(text, after_stop, at) + 1)
    head = _COUNT_RE.search(text, after_stop, at - 1)
    if head is None:
        return None
    return head.start(), int(head[1]), text[head.end() : at], None


def _last_stop(text: str, lo: int, hi: int) -> int:
    """The last ``:`` or ``·`` in ``text[lo:hi]``, or -1."""
    return max(text.rfind(":", lo, hi), text.rfind("\u00b7", lo, hi))
