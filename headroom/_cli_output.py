"""What the ``headroom`` verbs print besides their results: the progress bar and the
tables (``headroom compress`` over many files, ``stats``, ``bench``). Kept apart from
:mod:`headroom.cli` so verbs defined elsewhere (:mod:`headroom.bench.cli`) share the layout
without importing the CLI."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["Progress", "saved", "table"]


class Progress:
    """A progress bar on stderr, drawn over one line, only on a terminal.

    Shown for several inputs or a large one (compressing 1 MB of logs takes about a second);
    never in pipes or logs, where stderr carries the summary and nothing else.
    """

    LARGE = 1 << 20

    def __init__(self, inputs: Sequence[str]) -> None:
        self._sizes = [0 if name == "-" else os.path.getsize(name) for name in inputs]
        self._names = list(inputs)
        self._total = sum(self._sizes) or 1
        self._on = sys.stderr.isatty() and (len(inputs) > 1 or self._total >= self.LARGE)

    def show(self, index: int, name: str) -> None:
        """Draw the bar as input ``index`` (``name``) starts."""
        if not self._on:
            return
        done = sum(self._sizes[:index])
        width = 30
        filled = width * done // self._total
        label = "<stdin>" if name == "-" else os.path.basename(name)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {index + 1}/{len(self._names)} "
            f"{done * 100 // self._total:3d}% {label[:40]}\x1b[K"
        )
        sys.stderr.flush()

    def clear(self) -> None:
        """Erase the bar so that what follows (warnings, the table) starts on a clean line."""
        if self._on:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def saved(before: int, after: int) -> str:
    share = (before - after) / before if before else 0.0
    return f"{before - after:,} ({share:.0%})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int) -> str:
    """Columns padded to width: the first ``left`` (names) left-aligned, numbers right-aligned.

    The last row is a total, set off by a rule.
    """
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows[:-1]), rule, line(rows[-1])])
