"""What ``headroom bench`` measures on one file, and which files it measures.

Each file is compressed as ``headroom compress`` does it
(:meth:`~headroom.Headroom.compress_text` with the file's path as a hint): twice by one
:class:`~headroom.Headroom` client (the first call is the real work, the second a
result-cache hit, as in a conversation's next turn; both are timed), and once more by a
second, fresh client with its own store and cache. Then the contracts users rely on are
checked (ARCHITECTURE.md):

- **round trip**: when the result is lossy, the original retrieved from the store under its
  handle is byte-identical to the file, and every handle the result names can be retrieved;
- **signal kept** (contract 6: errors and warnings survive compression): every error or
  warning line of the file (as :mod:`headroom.signals` reads them, the vocabulary every
  compressor uses) is visible in the output: verbatim, or as a line the log compressor shows
  for its template with a count (``...  [×80]``), the same masked template as the line's
  (:func:`headroom._core.mask_line`, the masking the log compressor uses). A line reachable
  only through a marker's original is counted apart and fails the check; a lossless result
  drops nothing by definition;
- **never larger**: the output, its tokens counted again with the product's counter, has
  no more tokens than the input;
- **repeatable**: the fresh client gives the same bytes as the first (contract 1; the
  cached repeat could not show it, it returns what it stored).
"""

from __future__ import annotations

import errno
import json
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from headroom import _core
from headroom._rawbytes import from_bytes, to_bytes
from headroom.client import Headroom
from headroom.compressors.logs.prefix import is_signal, parse_prefix
from headroom.compressors.logs.render import split_annotation
from headroom.errors import HeadroomError
from headroom.handles import find_markers, handle_for
from headroom.results import TextResult
from headroom.signals import EXCEPTION_RE, SIGNAL_RE, names_exception
from headroom.tokens import get_counter

__all__ = [
    "SKIPPED_DIRS",
    "FileReport",
    "KindTotals",
    "Selection",
    "SignalCount",
    "by_kind",
    "find_files",
    "measure_file",
    "signal_lines",
]

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})
"""Directories never walked into, besides hidden ones (``.git``, ``.venv``, ...)."""

_SNIFF_BYTES = 8192
_DIGITS = re.compile(r"\d+")  # as the log compressor keys components
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


@dataclass
class Selection:
    """The files to measure, and what was left out and why."""

    files: list[Path] = field(default_factory=list)
    too_large: list[Path] = field(default_factory=list)
    binary: list[Path] = field(default_factory=list)
    empty: list[Path] = field(default_factory=list)
    hidden: list[Path] = field(default_factory=list)  # hidden files and directories
    ignored_dirs: list[Path] = field(default_factory=list)  # SKIPPED_DIRS met on the walk
    symlinked_dirs: list[Path] = field(default_factory=list)  # not followed
    unreadable: list[Path] = field(default_factory=list)  # an OSError on stat or read
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
    signal_as_template: int  # ... shown as a line of the same template, with its count
    signal_behind_marker: int  # ... only inside an original a marker points to: a failure
    signal_lost: int  # ... nowhere: a failure (a lossless rewrite drops nothing)
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

    Hidden files and directories and :data:`SKIPPED_DIRS` are not walked into, nor are
    symbolic links to directories (a file named outright is measured whatever its name).
    Files over ``max_bytes``, binary files (a NUL byte, or not UTF-8, in the first 8 KiB),
    empty ones and ones that cannot be read are left out; everything left out is listed.

    Raises:
        FileNotFoundError: a path does not exist.
    """
    selection = Selection()
    for path in _candidates(paths, selection):
        if len(selection.files) >= max_files:
            selection.over_limit = True
            break
        try:
            size = path.stat().st_size
            binary = 0 < size <= max_bytes and _is_binary(path)
        except OSError:
            selection.unreadable.append(path)
            continue
        if size == 0:
            selection.empty.append(path)
        elif size > max_bytes:
            selection.too_large.append(path)
        elif binary:
            selection.binary.append(path)
        else:
            selection.files.append(path)
    return selection


def _candidates(paths: Sequence[str], selection: Selection) -> Iterable[Path]:
    for name in paths:
        if not os.path.exists(name):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
    seen: set[Path] = set()
    for name in paths:
        for path in _walk(Path(name), selection):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                yield path


def _walk(root: Path, selection: Selection) -> Iterable[Path]:
    if not root.is_dir():
        if root.is_file():
            yield root
        return
    for directory, dirs, files in os.walk(root):
        kept = []
        for name in sorted(dirs):
            path = Path(directory, name)
            if name.startswith("."):
                selection.hidden.append(path)
            elif name in SKIPPED_DIRS:
                selection.ignored_dirs.append(path)
            elif path.is_symlink():
                selection.symlinked_dirs.append(path)  # os.walk would not go in either
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = Path(directory, name)
            if name.startswith("."):
                selection.hidden.append(path)
            elif path.is_file():
                yield path
            else:
                selection.unreadable.append(path)  # a broken link, a socket, a FIFO


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


def signal_lines(text: str, kind: str = "text") -> list[str]:
    """The lines of ``text`` that report an error or a warning, stripped, in order, as the
    compressor of ``kind`` promises to keep them.

    Lines of events (logs, search and test output, diffs, prose) are signal when they name a
    level or an error word. In ``json`` only lines naming an exception, a traceback or a
    panic are, and they are counted but not failed: error records are kept by their
    structure (error keys, failure statuses, see :mod:`headroom.compressors.json.signals`),
    error words in free text ("fails when", "a critical review") are the subject of bug
    reports and abstracts, not events, and an exception name can be a test's name.
    In ``code`` none are: a skeleton keeps the API (signatures, docstrings), and a
    ``raise ValueError`` in a body it omits is code, not something that happened.

    >>> signal_lines("ok\\n2024 WARN disk at 91%\\nValueError: bad\\n")
    ['2024 WARN disk at 91%', 'ValueError: bad']
    >>> signal_lines('{"body": "it fails", "log": "ValueError: bad"}', "json")
    ['{"body": "it fails", "log": "ValueError: bad"}']
    >>> signal_lines("raise ValueError(width)", "code")
    []
    """
    if kind == "code":
        return []
    test = names_exception if kind == "json" else partial(is_signal, None)
    found = []
    for line in text.splitlines():
        if test(line):
            stripped = line.strip()
            if stripped:
                found.append(stripped)
    return found


def measure_file(client: Headroom, fresh: Headroom, path: Path) -> FileReport:
    """Compress ``path`` with ``client`` twice (timed) and with ``fresh``, and check it.

    Args:
        client: does the real work, then serves the repeat from its result cache.
        fresh: a second client with its own store and cache, the same config and model:
            its output must be the same bytes (determinism, contract 1).
        path: the file.

    Raises:
        OSError: the file cannot be read.
    """
    data = path.read_bytes()
    text = from_bytes(data)  # undecodable bytes as lone surrogates, as `headroom compress`
    start = time.perf_counter()
    result = client.compress_text(text, path=str(path))
    first = time.perf_counter() - start
    start = time.perf_counter()
    client.compress_text(text, path=str(path))  # a result-cache hit: its speed only
    again_seconds = time.perf_counter() - start
    failures = []
    tokens_after = get_counter(client.model, counter=client.config.token_counter)(result.text)
    if tokens_after > result.tokens_before:
        failures.append(
            f"never larger: output has {tokens_after:,} tokens, input {result.tokens_before:,}"
        )
    other = fresh.compress_text(text, path=str(path))
    if other.text != result.text:
        failures.append(
            "repeatable: a fresh client gave different bytes"
            + _first_difference(to_bytes(other.text), to_bytes(result.text))
        )
    failures.extend(_round_trip(client, result, data))
    lines = signal_lines(text, result.kind)
    signal = _signal_kept(client, result, lines)
    # JSON's signal is its structure (error keys, failure statuses, outliers; property-tested
    # in tests/properties/test_json_crush_properties.py). An exception named in a string is
    # kept by the shortener, but it can be a test's name or a line of a code listing: such
    # lines are counted, and not failed.
    strict = result.kind != "json"
    if signal.behind_marker and strict:
        failures.append(
            f"signal kept: {len(signal.behind_marker):,} error/warning lines only behind a "
            f"marker, not visible in the output (contract 6), e.g. "
            f"{_excerpt(signal.behind_marker[0])!r}"
        )
    if signal.lost and strict:
        failures.append(
            f"signal kept: {len(signal.lost):,} error/warning lines neither in the output nor "
            f"behind a marker, e.g. {_excerpt(signal.lost[0])!r}"
        )
    return FileReport(
        path=str(path),
        kind=result.kind,
        language=result.language,
        size=len(data),
        tokens_before=result.tokens_before,
        tokens_after=tokens_after,
        lossless=result.lossless,
        first_seconds=first,
        again_seconds=again_seconds,
        signal_lines=len(lines),
        signal_in_output=signal.verbatim,
        signal_as_template=signal.as_template,
        signal_behind_marker=len(signal.behind_marker),
        signal_lost=len(signal.lost),
        failures=failures,
    )


def _excerpt(line: str, width: int = 120) -> str:
    """``line``, or when it is longer than ``width`` the part around its error word.

    >>> _excerpt("x" * 200 + " disk error " + "y" * 200, 30)
    '...xxxxxxx disk error yyyyyyyyyyy...'
    """
    if len(line) <= width:
        return line
    found = SIGNAL_RE.search(line) or EXCEPTION_RE.search(line)
    middle = (found.start() + found.end()) // 2 if found else 0
    start = max(0, min(middle - width // 2, len(line) - width))
    end = start + width
    return ("..." if start else "") + line[start:end] + ("..." if end < len(line) else "")


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


@dataclass
class SignalCount:
    """Where a file's error and warning lines are in a result.

    Attributes:
        verbatim: how many are in the output as they were.
        as_template: how many are shown by a line of their template with a count.
        behind_marker: those only inside an original a marker of the output points to.
        lost: those nowhere.
    """

    verbatim: int = 0
    as_template: int = 0
    behind_marker: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)


def _signal_kept(client: Headroom, result: TextResult, lines: Sequence[str]) -> SignalCount:
    """Count where each of ``lines`` is in ``result`` (see :class:`SignalCount`)."""
    output = result.text
    count = SignalCount()
    unseen = [line for line in lines if line not in output and not _strings_shown(line, output)]
    count.verbatim = len(lines) - len(unseen)
    groups = _TemplateGroups(output)
    # Same templates first, then templates one token apart: a line must not use up the
    # count of a group that is not its own while its own group still has room.
    unseen = [line for line in unseen if not groups.take(line, exact=True)]
    rest = [line for line in unseen if not groups.take(line, exact=False)]
    count.as_template = len(lines) - count.verbatim - len(rest)
    if not rest or result.lossless:  # lossless: rewritten (e.g. as a table), nothing dropped
        return count
    originals = []
    for handle in dict.fromkeys(marker.handle for marker in find_markers(output)):
        try:
            originals.append(client.retrieve(handle))
        except HeadroomError:
            continue  # the round-trip check reports handles that do not come back
    for line in rest:
        reachable = any(line in original for original in originals)
        (count.behind_marker if reachable else count.lost).append(line)
    return count


def _strings_shown(line: str, output: str) -> bool:
    """Whether the JSON strings of ``line`` that carry its error or warning are all in the
    output, as written or decoded: a value re-laid out (minified, in a table) is still seen.
    """
    carrying = [
        match[0] for match in _JSON_STRING.finditer(line) if is_signal(None, match[0].strip('"'))
    ]
    if not carrying:
        return False
    for literal in carrying:
        if literal in output:
            continue
        try:
            value = json.loads(literal)
        except ValueError:
            return False
        if not isinstance(value, str) or value not in output:
            return False
    return True


_Key = tuple[str, str, tuple[str, ...]]


class _TemplateGroups:
    """The lines of a compressed log that stand for their template: ``line  [×count]``.

    The log compressor groups lines on their level, component and masked message (the
    prefix's timestamp, thread and such left out), and merges messages that differ in one
    word taking many values. So an input line is shown by such a group when the group line
    is itself an error or warning line with the same level and component, and a masked
    message (:func:`headroom._core.mask_line`, the compressor's masking) the same as the
    line's, or one token apart. A group shows at most ``count - 1`` lines besides its own.
    """

    def __init__(self, output: str) -> None:
        self._left: list[int] = []
        self._exact: dict[_Key, list[int]] = {}
        self._one_off: dict[tuple[int, _Key], list[int]] = {}
        for line in output.splitlines():
            shown, annotation = split_annotation(line)
            if annotation is None or annotation.count < 2 or not is_signal(None, shown):
                continue
            group = len(self._left)
            self._left.append(annotation.count - 1)
            key = _template_key(shown)
            self._exact.setdefault(key, []).append(group)
            for at in range(len(key[2])):
                self._one_off.setdefault(_wildcard(key, at), []).append(group)

    def take(self, line: str, *, exact: bool) -> bool:
        """Whether a group shows ``line`` (the same template, or ``exact=False``: one token
        apart); that group then stands for one line fewer."""
        if not self._left:
            return False
        key = _template_key(line)
        if exact:
            candidates = self._exact.get(key, [])
        else:
            candidates = [
                g for at in range(len(key[2])) for g in self._one_off.get(_wildcard(key, at), ())
            ]
        for group in candidates:
            if self._left[group] > 0:
                self._left[group] -= 1
                return True
        return False


def _template_key(line: str) -> _Key:
    prefix = parse_prefix(line)
    message = _core.mask_line(line[prefix.end :].strip())[0]
    component = _DIGITS.sub("#", prefix.component or "")
    return prefix.level or "", component, tuple(_core.tokenize(message))


def _wildcard(key: _Key, at: int) -> tuple[int, _Key]:
    level, component, tokens = key
    return at, (level, component, (*tokens[:at], "*", *tokens[at + 1 :]))


def by_kind(reports: Iterable[FileReport]) -> dict[str, KindTotals]:
    """Totals per content kind, largest input first."""
    totals: dict[str, KindTotals] = {}
    for report in reports:
        totals.setdefault(report.kind, KindTotals()).add(report)
    return dict(sorted(totals.items(), key=lambda item: (-item[1].tokens_before, item[0])))
