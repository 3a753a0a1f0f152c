"""What ``headroom bench`` measures on one file, and which files it measures.

Each file is compressed twice by one :class:`~headroom.Headroom` client, as ``headroom
compress`` does (:meth:`~headroom.Headroom.compress_text` with the file's path as a hint):
the first call is the real work, the second a result-cache hit, as in a conversation's next
turn. Then the contracts users rely on are checked (ARCHITECTURE.md):

- **round trip**: when the result is lossy, the original retrieved from the store under its
  handle is byte-identical to the file, and every handle the result names can be retrieved;
- **signal kept**: every error or warning line of the file (as :mod:`headroom.signals` reads
  them, the vocabulary every compressor uses) is in the output, or inside an original that a
  marker in the output points to; a lossless result drops nothing by definition;
- **never larger**: the output has no more tokens than the input;
- **repeatable**: the second call gives the same bytes (prompt caches depend on it).
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from headroom._rawbytes import from_bytes, to_bytes
from headroom.client import Headroom
from headroom.errors import HeadroomError
from headroom.handles import find_markers, handle_for
from headroom.results import TextResult
from headroom.signals import EXCEPTION_HINTS, EXCEPTION_RE, SIGNAL_HINTS, SIGNAL_RE

__all__ = [
    "SKIPPED_DIRS",
    "FileReport",
    "KindTotals",
    "Selection",
    "by_kind",
    "find_files",
    "measure_file",
    "signal_lines",
]

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})
"""Directories never walked into, besides hidden ones (``.git``, ``.venv``, ...)."""

_SNIFF_BYTES = 8192


@dataclass
class Selection:
    """The files to measure, and what was left out and why."""

    files: list[Path] = field(default_factory=list)
    too_large: list[Path] = field(default_factory=list)
    binary: list[Path] = field(default_factory=list)
    empty: list[Path] = field(default_factory=list)
    over_limit: bool = False  # more files than max_files were found


@dataclass
class FileReport:
    """One file's figures and the checks it failed (empty when it passed them all)."""

    path: str
    kind: str
    language: str | None
    size: int  # bytes
    tokens_before: int
    tokens_after: int
    lossless: bool
    first_seconds: float
    again_seconds: float
    signal_lines: int  # error and warning lines in the input
    signal_in_output: int  # ... found as they were in the output
    signal_via_retrieval: int  # ... inside an original a marker in the output points to
    signal_lost: int  # ... in neither: a failed check (a lossless rewrite drops nothing)
    failures: list[str] = field(default_factory=list)


@dataclass
class KindTotals:
    """The sums over the files of one kind (or over all files)."""

    files: int = 0
    size: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    first_seconds: float = 0.0
    again_seconds: float = 0.0

    def add(self, report: FileReport) -> None:
        """Count ``report`` in."""
        self.files += 1
        self.size += report.size
        self.tokens_before += report.tokens_before
        self.tokens_after += report.tokens_after
        self.first_seconds += report.first_seconds
        self.again_seconds += report.again_seconds

    @property
    def saved_share(self) -> float:
        """Share of the tokens saved, 0 to 1."""
        before = self.tokens_before
        return (before - self.tokens_after) / before if before else 0.0

    @property
    def first_mb_s(self) -> float:
        """MB (10**6 bytes) per second of the first calls."""
        return self.size / self.first_seconds / 1e6 if self.first_seconds > 0 else 0.0

    @property
    def again_mb_s(self) -> float:
        """MB per second of the repeat calls (result-cache hits)."""
        return self.size / self.again_seconds / 1e6 if self.again_seconds > 0 else 0.0


def find_files(paths: Sequence[str], *, max_files: int, max_bytes: int) -> Selection:
    """The text files under ``paths`` (files, or directories walked in sorted order).

    Hidden files and directories and :data:`SKIPPED_DIRS` are not walked into (a file named
    outright is measured whatever its name). Files over ``max_bytes``, binary files (a NUL
    byte, or not UTF-8, in the first 8 KiB) and empty ones are left out and listed.

    Raises:
        FileNotFoundError: a path does not exist.
    """
    selection = Selection()
    for path in _candidates(paths):
        if len(selection.files) >= max_files:
            selection.over_limit = True
            break
        size = path.stat().st_size
        if size == 0:
            selection.empty.append(path)
        elif size > max_bytes:
            selection.too_large.append(path)
        elif _is_binary(path):
            selection.binary.append(path)
        else:
            selection.files.append(path)
    return selection


def _candidates(paths: Sequence[str]) -> Iterable[Path]:
    for name in paths:
        if not os.path.exists(name):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
    seen: set[Path] = set()
    for name in paths:
        for path in _walk(Path(name)):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                yield path


def _walk(root: Path) -> Iterable[Path]:
    if not root.is_dir():
        if root.is_file():
            yield root
        return
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(directory, name)
            if not name.startswith(".") and path.is_file():
                yield path


def _is_binary(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if b"\0" in head:
        return True
    # A multi-byte character cut at the end of the sample is still text.
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return False
    return True


def signal_lines(text: str) -> list[str]:
    """The lines of ``text`` that read as an error or a warning, stripped, in order.

    >>> signal_lines("ok\\n2024 WARN disk at 91%\\nValueError: bad\\n")
    ['2024 WARN disk at 91%', 'ValueError: bad']
    """
    found = []
    for line in text.splitlines():
        if _is_signal(line):
            stripped = line.strip()
            if stripped:
                found.append(stripped)
    return found


def _is_signal(line: str) -> bool:
    """An error or warning line: the hint test first, cheap, then the regex."""
    lowered = line.lower()
    if any(hint in lowered for hint in SIGNAL_HINTS) and SIGNAL_RE.search(line):
        return True
    return any(hint in line for hint in EXCEPTION_HINTS) and bool(EXCEPTION_RE.search(line))


def measure_file(client: Headroom, path: Path) -> FileReport:
    """Compress ``path`` twice with ``client``, time both calls, and check the result."""
    data = path.read_bytes()
    text = from_bytes(data)  # undecodable bytes as lone surrogates, as `headroom compress`
    start = time.perf_counter()
    result = client.compress_text(text, path=str(path))
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = client.compress_text(text, path=str(path))
    again_seconds = time.perf_counter() - start
    failures = []
    if result.tokens_after > result.tokens_before:
        failures.append(
            f"never larger: output has {result.tokens_after:,} tokens, "
            f"input {result.tokens_before:,}"
        )
    if again.text != result.text:
        failures.append("repeatable: the repeat call gave different bytes")
    failures.extend(_round_trip(client, result, data))
    lines = signal_lines(text)
    in_output, via_retrieval, missing = _signal_kept(client, result, lines)
    if missing:
        failures.append(
            f"signal kept: {len(missing):,} error/warning lines neither in the output nor "
            f"behind a marker, e.g. {missing[0][:120]!r}"
        )
    return FileReport(
        path=str(path),
        kind=result.kind,
        language=result.language,
        size=len(data),
        tokens_before=result.tokens_before,
        tokens_after=result.tokens_after,
        lossless=result.lossless,
        first_seconds=first,
        again_seconds=again_seconds,
        signal_lines=len(lines),
        signal_in_output=in_output,
        signal_via_retrieval=via_retrieval,
        signal_lost=len(missing),
        failures=failures,
    )


def _round_trip(client: Headroom, result: TextResult, data: bytes) -> list[str]:
    """What fails in getting the original back (nothing for a lossless result)."""
    if result.lossless:
        return []
    failures = []
    handle = handle_for(data)
    try:
        back = to_bytes(client.retrieve(handle))
    except HeadroomError as error:
        failures.append(f"round trip: the original is not retrievable under {handle}: {error}")
    else:
        if back != data:
            failures.append(
                f"round trip: {handle} gives back {len(back):,} bytes that differ from the "
                f"input's {len(data):,}" + _first_difference(back, data)
            )
    for other in result.handles:
        if other == handle:
            continue
        try:
            client.retrieve(other)
        except HeadroomError as error:
            failures.append(f"round trip: {other} named by the result: {error}")
    return failures


def _first_difference(a: bytes, b: bytes) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return f" (first at byte {at:,})"


def _signal_kept(
    client: Headroom, result: TextResult, lines: Sequence[str]
) -> tuple[int, int, list[str]]:
    """How many of ``lines`` are in the output, how many behind a marker, and the rest."""
    output = result.text
    output_lines = {line.strip() for line in output.splitlines()}
    in_output = 0
    rest: list[str] = []
    for line in lines:
        if line in output_lines or line in output:
            in_output += 1
        else:
            rest.append(line)
    if not rest or result.lossless:  # lossless: rewritten (e.g. as a table), nothing dropped
        return in_output, 0, []
    originals = []
    for handle in dict.fromkeys(marker.handle for marker in find_markers(output)):
        try:
            originals.append(client.retrieve(handle))
        except HeadroomError:
            continue  # the round-trip check reports handles that do not come back
    missing = [line for line in rest if not any(line in original for original in originals)]
    return in_output, len(rest) - len(missing), missing


def by_kind(reports: Iterable[FileReport]) -> dict[str, KindTotals]:
    """Totals per content kind, largest input first."""
    totals: dict[str, KindTotals] = {}
    for report in reports:
        totals.setdefault(report.kind, KindTotals()).add(report)
    return dict(sorted(totals.items(), key=lambda item: (-item[1].tokens_before, item[0])))
