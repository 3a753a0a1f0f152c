"""``headroom bench [PATH ...]``: tokens saved, fidelity checks and speed on your own files.

Every text file under each PATH (default: the current directory) is compressed the way
``headroom compress`` does it, then checked (:mod:`headroom.bench.measure`): the original
comes back byte-identical from the store, every error and warning line is kept or reachable,
the output is never larger, a repeat gives the same bytes. The report is a table per content
kind (tokens before/after, share saved, MB/s of the first call and of a repeat served by the
result cache) and the checks, with each failure named by file; exit status 1 if any failed.

Originals go to a store in memory unless ``headroom --store ... bench`` names one, so a run
leaves the default store as it was. ``--json`` prints one object for scripts; ``--plot
FILE.png`` draws tokens before/after per kind (matplotlib, the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from headroom._cli_output import Progress, saved, table
from headroom.bench.measure import (
    FileReport,
    KindTotals,
    Selection,
    by_kind,
    find_files,
    measure_file,
)
from headroom.client import Headroom
from headroom.errors import InvalidArgumentError
from headroom.tools import DEFAULT_MODEL

__all__ = ["DEFAULT_MAX_FILES", "DEFAULT_MAX_MB", "add_parser", "run"]

DEFAULT_MAX_FILES = 200
DEFAULT_MAX_MB = 4.0
_NAMES_SHOWN = 3


def _file_count(value: str) -> int:
    """``--max-files``: a whole number, at least 1 (argparse names the option)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of files, at least 1, got {value!r}"
        )
    return number


def _megabytes(value: str) -> float:
    """``--max-mb``: a finite number above 0 (``inf`` and ``nan`` are refused)."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(
            f"expected a finite number of MB above 0 (e.g. 4 or 0.5), got {value!r}"
        )
    return number


def add_parser(verbs: Any) -> None:
    """Add the ``bench`` verb to the ``headroom`` command's subparsers."""
    p: argparse.ArgumentParser = verbs.add_parser(
        "bench",
        help="tokens saved, fidelity checks and speed on your files",
        description="Compress every text file under each PATH (default: .) as `headroom "
        "compress` would, and report tokens saved per content kind, the fidelity checks "
        "(original byte-identical from the store, error and warning lines visible in the "
        "output, output never larger, a fresh client gives the same bytes) and MB/s of the "
        "first and the repeated call. Hidden files and directories, node_modules, symbolic "
        "links to directories, binary, empty and unreadable files and files over --max-mb "
        "are skipped and named on stderr. Exit status 1 if a check fails.",
    )
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    p.add_argument(
        "--max-files",
        type=_file_count,
        default=DEFAULT_MAX_FILES,
        help=f"measure at most this many files (default {DEFAULT_MAX_FILES})",
    )
    p.add_argument(
        "--max-mb",
        type=_megabytes,
        default=DEFAULT_MAX_MB,
        help=f"skip files larger than this many MB (default {DEFAULT_MAX_MB:g})",
    )
    p.add_argument(
        "--model", "-m", default=DEFAULT_MODEL, help="model whose tokenizer counts tokens"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help='write a chart of tokens before/after per kind (pip install "headroom-ctx[plot]")',
    )


def run(args: argparse.Namespace) -> int:
    """Measure, print the report; 1 when a fidelity check failed.

    Raises:
        FileNotFoundError: a PATH does not exist.
        InvalidArgumentError: there is no text file to measure.
        ImportError: ``--plot`` without matplotlib (the message says what to install).
        InvalidArgumentError: ``--plot``'s directory does not exist.
    """
    if args.plot is not None:  # said before the work, not after minutes of it
        from headroom.bench.plot import check_destination, load_pyplot

        check_destination(args.plot)
        load_pyplot()
    selection = find_files(args.paths, max_files=args.max_files, max_bytes=int(args.max_mb * 1e6))
    _say_skipped(selection, args)
    if not selection.files:
        raise InvalidArgumentError(
            f"no text files to measure under {', '.join(args.paths)} "
            "(hidden directories, binary, empty and oversized files are skipped)"
        )
    reports, unreadable = _measure(selection.files, store=args.store or "memory", model=args.model)
    _say_paths(unreadable, "files that could not be read")
    if not reports:
        raise InvalidArgumentError(
            f"no file under {', '.join(args.paths)} could be read (see the skips above)"
        )
    totals = by_kind(reports)
    if args.json:
        _print_json(reports, totals)
    else:
        print(_render(reports, totals))
    if args.plot is not None:
        from headroom.bench.plot import write_chart

        total = _total(reports)
        write_chart(
            totals,
            args.plot,
            title=f"headroom bench: {total.files} files, {total.saved_share:.0%} tokens saved",
        )
        print(f"headroom bench: chart written to {args.plot}", file=sys.stderr)
    failed = [report for report in reports if report.failures]
    if failed:
        print(
            f"headroom bench: {len(failed)} of {len(reports)} files failed a fidelity check",
            file=sys.stderr,
        )
        return 1
    return 0


def _measure(files: list[Path], *, store: str, model: str) -> tuple[list[FileReport], list[Path]]:
    """The reports of the files, and the files that could not be read after all.

    A second client, with its own store in memory and its own result cache but the same
    config and model, compresses each file again: its bytes must be the first's.
    """

    client = Headroom(store=store, model=model)
    fresh = Headroom(client.config, store="memory", model=model)
    try:
        for warming in (client, fresh):  # the tokenizer's loading is not any file's time
            warming.compress_text("warm up the tokenizer")
        progress = Progress([str(path) for path in files])
        reports = []
        unreadable = []
        for index, path in enumerate(files):
            progress.show(index, str(path))
            try:
                reports.append(measure_file(client, fresh, path))
            except OSError:
                unreadable.append(path)
            finally:
                progress.clear()
        return reports, unreadable
    finally:
        fresh.close()
        client.close()


def _say_skipped(selection: Selection, args: argparse.Namespace) -> None:
    if selection.over_limit:
        print(
            f"headroom bench: measuring the first {args.max_files} files found "
            "(raise --max-files for more)",
            file=sys.stderr,
        )
    for paths, why in (
        (selection.too_large, f"files larger than {args.max_mb:g} MB (--max-mb)"),
        (selection.binary, "files binary or not UTF-8"),
        (selection.empty, "empty files"),
        (selection.hidden, "hidden files and directories (names starting with '.')"),
        (selection.ignored_dirs, "dependency and cache directories (node_modules and such)"),
        (selection.symlinked_dirs, "symbolic links to directories (not followed)"),
        (selection.unreadable, "files that could not be read (or are no regular files)"),
    ):
        _say_paths(paths, why)


def _say_paths(paths: list[Path], why: str) -> None:
    """One stderr line: how many paths were skipped, why, and the first few."""
    if paths:
        names = ", ".join(str(path) for path in paths[:_NAMES_SHOWN])
        more = f" and {len(paths) - _NAMES_SHOWN} more" if len(paths) > _NAMES_SHOWN else ""
        print(f"headroom bench: skipped {len(paths)} {why}: {names}{more}", file=sys.stderr)


def _total(reports: list[FileReport]) -> KindTotals:
    total = KindTotals()
    for report in reports:
        total.add(report)
    return total


def _render(reports: list[FileReport], totals: dict[str, KindTotals]) -> str:

    def row(name: str, t: KindTotals) -> tuple[str, ...]:
        return (
            name,
            f"{t.files:,}",
            f"{t.size / 1e6:.2f}",
            f"{t.tokens_before:,}",
            f"{t.tokens_after:,}",
            saved(t.tokens_before, t.tokens_after),
            f"{t.first_mb_s:.1f}",
            f"{t.again_mb_s:.0f}",
        )

    rows = [row(kind, t) for kind, t in totals.items()]
    rows.append(row("total", _total(reports)))
    header = ("kind", "files", "MB", "tokens before", "tokens after", "saved", "MB/s", "again MB/s")
    lines = [table(header, rows, left=1), ""]
    lossy = [r for r in reports if not r.lossless]
    signal = sum(r.signal_lines for r in reports)
    as_is = sum(r.signal_in_output for r in reports)
    grouped = sum(r.signal_as_template for r in reports)
    behind = sum(r.signal_behind_marker for r in reports)
    lost = sum(r.signal_lost for r in reports)
    rewritten = signal - as_is - grouped - behind - lost
    failed = [r for r in reports if r.failures]
    lines += [
        f"checks: {len(reports) - len(failed)} of {len(reports)} files pass",
        f"  round trip: {_passing(lossy, 'round trip')} of {len(lossy)} lossy files come back "
        "byte-identical from the store (lossless ones need no store)",
        f"  signal kept: {_passing(reports, 'signal kept')} of {len(reports)} files; "
        f"error/warning lines: {signal:,}: {as_is:,} in the output as they were, {grouped:,} "
        f"shown by a line of their template with its count, {rewritten:,} in lossless "
        f"rewrites; {behind:,} only behind a marker and {lost:,} lost (both fail, but in "
        "JSON, where they are counted)",
        f"  never larger (output tokens counted again): {_passing(reports, 'never larger')} of "
        f"{len(reports)} files; repeatable (a fresh client gives the same bytes): "
        f"{_passing(reports, 'repeatable')} of {len(reports)}",
    ]
    for report in failed:
        lines.extend(f"FAILED {report.path}: {failure}" for failure in report.failures)
    lines.append(
        "MB/s: first call on one core; again: the same file sent again (a result-cache hit)"
    )
    return "\n".join(lines)


def _passing(reports: list[FileReport], check: str) -> int:
    """How many reports have no failure of ``check`` (failures start with its name)."""
    return sum(not any(f.startswith(check + ":") for f in r.failures) for r in reports)


def _kind_fields(t: KindTotals) -> dict[str, Any]:
    return {
        "files": t.files,
        "bytes": t.size,
        "tokens_before": t.tokens_before,
        "tokens_after": t.tokens_after,
        "tokens_saved": t.tokens_before - t.tokens_after,
        "saved_share": round(t.saved_share, 4),
        "first_mb_s": round(t.first_mb_s, 3),
        "again_mb_s": round(t.again_mb_s, 3),
    }


def _print_json(reports: list[FileReport], totals: dict[str, KindTotals]) -> None:
    payload = {
        "files": [
            {
                "path": r.path,
                "kind": r.kind,
                "language": r.language,
                "bytes": r.size,
                "tokens_before": r.tokens_before,
                "tokens_after": r.tokens_after,
                "lossless": r.lossless,
                "first_seconds": round(r.first_seconds, 6),
                "again_seconds": round(r.again_seconds, 6),
                "signal_lines": r.signal_lines,
                "signal_in_output": r.signal_in_output,
                "signal_as_template": r.signal_as_template,
                "signal_behind_marker": r.signal_behind_marker,
                "signal_lost": r.signal_lost,
                "failures": r.failures,
                "ok": not r.failures,
            }
            for r in reports
        ],
        "by_kind": {kind: _kind_fields(t) for kind, t in totals.items()},
        "total": _kind_fields(_total(reports)),
        "ok": not any(r.failures for r in reports),
    }
    sys.stdout.write(json.dumps(payload) + "\n")
