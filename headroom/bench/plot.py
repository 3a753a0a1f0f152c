"""The ``headroom bench --plot`` chart: tokens before and after per content kind, as a PNG.

matplotlib is an extra (``pip install "headroom-ctx[plot]"``), imported only here and only
when a chart is asked for; it draws with the Agg backend, so no display is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from headroom.bench.measure import KindTotals
from headroom.errors import InvalidArgumentError

__all__ = ["INSTALL_HINT", "check_destination", "load_pyplot", "write_chart"]

INSTALL_HINT = 'the chart needs matplotlib: pip install "headroom-ctx[plot]"'


def load_pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend.

    Raises:
        ImportError: matplotlib is not installed (the message says what to install).
    """
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def write_chart(totals: Mapping[str, KindTotals], out: Path, *, title: str) -> None:
    """Write a grouped bar chart of tokens before/after for each kind to ``out`` (PNG)."""
    pyplot = load_pyplot()
    kinds = list(totals)
    before = [totals[kind].tokens_before for kind in kinds]
    after = [totals[kind].tokens_after for kind in kinds]
    positions = range(len(kinds))
    width = 0.4
    figure, axes = pyplot.subplots(figsize=(max(5.0, 1.3 * len(kinds) + 2), 4), dpi=100)
    try:
        axes.bar([p - width / 2 for p in positions], before, width, label="tokens before")
        bars = axes.bar([p + width / 2 for p in positions], after, width, label="tokens after")
        labels = [f"-{totals[kind].saved_share:.0%}" for kind in kinds]
        axes.bar_label(bars, labels=labels, padding=2, fontsize=8)
        axes.set_xticks(list(positions), kinds)
        axes.set_ylabel("tokens")
        axes.set_title(title)
        axes.legend()
        figure.tight_layout()
        figure.savefig(out, format="png")
    finally:
        pyplot.close(figure)


def check_destination(out: Path) -> None:
    """Refuse a chart path whose directory does not exist, before any work is done.

    Raises:
        InvalidArgumentError: the directory is missing, or ``out`` is a directory.
    """
    parent = out.parent
    if not parent.is_dir():
        raise InvalidArgumentError(
            f"--plot {out}: the directory {parent} does not exist (create it first)"
        )
    if out.is_dir():
        raise InvalidArgumentError(f"--plot {out}: is a directory, expected a FILE.png path")
