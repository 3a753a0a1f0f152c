"""``python -m headroom.bench.logs``: LogCompressor on the loghub samples, against ground truth.

For every ``<name>.log`` with a loghub ``<name>.log_structured.csv`` next to it (``--data`` is
that directory, or a directory holding ``loghub/``), prints lines, tokens before and after
(o200k_base), tokens saved, error-template recall, template recall and throughput, then
totals.

- **Template recall**: the share of the distinct ground-truth ``EventId`` s that have at
  least one line kept verbatim: the original line appears as a whole line of the output once
  the count annotation (see :func:`headroom.compressors.logs.render.split_annotation`) is
  taken off.
- **Error-template recall**: the same, over the events of error-level lines. A line is
  error-level when its ``Level`` column is WARN, WARNING, ERROR, FATAL, CRITICAL or SEVERE
  in any case, or Android's ``W``, ``E``, ``F``, ``A``. Logs without a ``Level`` column
  (OpenSSH) use the words the compressor itself treats as errors in lines without a level
  (:data:`headroom.compressors.logs.prefix.SIGNAL_WORDS`: error, failed, denied, invalid,
  refused, fatal, ...) found in the ``Content`` column.
- **MB/s**: input bytes over the best of ``--repeat`` runs of the compressor alone, from the
  text to the compressed text (CCR store included, with the in-memory store), excluding
  token counting, on one core.

Totals add tokens and bytes over all logs; the recall totals are the mean of the per-log
recalls.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from headroom.compressors.base import Context
from headroom.compressors.logs import LogCompressor
from headroom.compressors.logs.prefix import SIGNAL_WORDS
from headroom.compressors.logs.render import split_annotation
from headroom.config import CompressConfig
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter

__all__ = [
    "ERROR_LEVELS",
    "LogScore",
    "is_error_row",
    "kept_lines",
    "log_lines",
    "main",
    "score_log",
]

ERROR_LEVELS = frozenset({"WARN", "WARNING", "ERROR", "FATAL", "CRITICAL", "SEVERE"})
_ANDROID_ERROR_LEVELS = frozenset({"W", "E", "F", "A"})


@dataclass(frozen=True, slots=True)
class LogScore:
    """How the compressor did on one log."""

    name: str
    lines: int
    size: int
    tokens_before: int
    tokens_after: int
    error_recall: float
    recall: float
    events: int
    error_events: int
    seconds: float

    @property
    def saved(self) -> float:
        """Share of tokens saved."""
        return 1 - self.tokens_after / self.tokens_before if self.tokens_before else 0.0


def is_error_row(row: dict[str, str]) -> bool:
    """Whether a loghub ``_structured.csv`` row is error-level (see the module docstring)."""
    level = row.get("Level")
    if level is None:
        return SIGNAL_WORDS.search(row.get("Content", "")) is not None
    return level.upper() in ERROR_LEVELS or level in _ANDROID_ERROR_LEVELS


def log_lines(text: str) -> list[str]:
    """The lines of a log, without line endings (``\\n`` or ``\\r\\n``)."""
    body = text[:-1] if text.endswith("\n") else text
    return [line.removesuffix("\r") for line in body.split("\n")]


def kept_lines(output: str) -> set[str]:
    """The lines a compressed log keeps verbatim: its lines with annotations taken off."""
    return {split_annotation(line)[0].removesuffix("\r") for line in output.split("\n")}


def score_log(log: Path, structured: Path, *, repeat: int = 1) -> LogScore:
    """Compress one loghub log and score the output against its ground truth.

    Args:
        log: the raw log.
        structured: its ``_structured.csv`` (columns ``LineId``, ``EventId``, ``Content`` and
            ``Level`` where the format has one).
        repeat: runs to time; the fastest counts.

    Returns:
        Sizes, token counts, recalls and the best time.
    """
    raw = log.read_bytes()
    text = raw.decode("utf-8", "surrogateescape")
    with structured.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    lines = log_lines(text)
    if len(rows) != len(lines):
        raise ValueError(f"{structured.name}: {len(rows)} rows for {len(lines)} lines")
    count = get_counter()
    compressor = LogCompressor()
    best = float("inf")
    out = None
    for _ in range(max(1, repeat)):
        ctx = Context("log", None, None, CompressConfig(), MemoryStore(), count)
        start = time.perf_counter()
        result = compressor.compress(text, ctx)
        best = min(best, time.perf_counter() - start)
        out = text if result is None else result.text
    assert out is not None
    before = count(text)
    after = min(before, count(out))  # the pipeline returns the input when it is not smaller
    if after == before:
        out = text
    kept = kept_lines(out)
    events = {row["EventId"] for row in rows}
    error_events = {row["EventId"] for row in rows if is_error_row(row)}
    found = {row["EventId"] for row, line in zip(rows, lines, strict=True) if line in kept}
    return LogScore(
        name=log.name,
        lines=len(lines),
        size=len(raw),
        tokens_before=before,
        tokens_after=after,
        error_recall=len(found & error_events) / len(error_events) if error_events else 1.0,
        recall=len(found & events) / len(events),
        events=len(events),
        error_events=len(error_events),
        seconds=best,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.logs", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="loghub directory")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per log")
    args = parser.parse_args(argv)
    data: Path = args.data
    if (data / "loghub").is_dir():
        data = data / "loghub"
    pairs = [
        (log, log.with_name(log.name + "_structured.csv"))
        for log in sorted(data.glob("*.log"))
        if log.with_name(log.name + "_structured.csv").is_file()
    ]
    if not pairs:
        print(f"no loghub logs with _structured.csv under {args.data}", file=sys.stderr)
        return 1
    print(
        f"{'log':18} {'lines':>6} {'tokens':>9} {'after':>7} {'saved':>6} "
        f"{'err.rec':>8} {'recall':>7} {'events':>6} {'MB/s':>6}"
    )
    scores = [score_log(log, structured, repeat=args.repeat) for log, structured in pairs]
    for s in scores:
        print(
            f"{s.name:18} {s.lines:6} {s.tokens_before:9,} {s.tokens_after:7,} {s.saved:6.1%} "
            f"{s.error_recall:8.1%} {s.recall:7.1%} {s.events:6} {s.size / s.seconds / 1e6:6.1f}"
        )
    before = sum(s.tokens_before for s in scores)
    after = sum(s.tokens_after for s in scores)
    size = sum(s.size for s in scores)
    seconds = sum(s.seconds for s in scores)
    print(
        f"{'total':18} {sum(s.lines for s in scores):6} {before:9,} {after:7,} "
        f"{1 - after / before:6.1%} {sum(s.error_recall for s in scores) / len(scores):8.1%} "
        f"{sum(s.recall for s in scores) / len(scores):7.1%} "
        f"{sum(s.events for s in scores):6} {size / seconds / 1e6:6.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
