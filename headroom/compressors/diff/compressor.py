"""Unified diffs (``git diff``, ``diff -ru``): every change kept, the surroundings trimmed.

Rules:

* Every file header line and every ``+``/``-`` line (and ``\\ No newline`` note) stays
  verbatim, as do lines outside any file (a commit message, ``Only in ...``).
* In a diff longer than a screenful, unchanged context shrinks to one line on each side of
  a change. A hunk whose context is cut is split into hunks with recomputed ``@@`` line
  numbers, exactly as ``git diff -U1`` would print them, so the result is still a diff
  that applies.
* A lock or generated file (``package-lock.json``, ``Cargo.lock``, ``*.min.js``,
  ``PKG-INFO``, ...) and a rename or copy with unchanged content become one summary line.
* The original goes to the CCR store first; one marker at the end says what was omitted.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from headroom.compressors._lines import Lines, bare, ends_with_marker
from headroom.compressors.base import Compressed, Context
from headroom.compressors.diff.parse import FileDiff, Hunk, parse_diff
from headroom.handles import format_marker

__all__ = ["DiffCompressor"]

_LARGE_DIFF_LINES = 60  # below this many lines, full context is cheap and reads better
_LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "Cargo.lock",
        "poetry.lock",
        "Pipfile.lock",
        "pdm.lock",
        "uv.lock",
        "composer.lock",
        "Gemfile.lock",
        "go.sum",
        "flake.lock",
        "mix.lock",
        "pubspec.lock",
        "Podfile.lock",
        "packages.lock.json",
        "gradle.lockfile",
        "Package.resolved",
        "PKG-INFO",
    }
)
_GENERATED_RE = re.compile(
    r"\.min\.(?:js|mjs|css)$|\.(?:js|css)\.map$|\.pb\.(?:go|h|cc)$|_pb2(?:_grpc)?\.pyi?$|"
    r"\.g\.dart$|\.designer\.cs$|(?:^|/)[^/]+\.egg-info/"
)


class DiffCompressor:
    """Keeps every change of a diff; trims context, lock files and unchanged renames.

    Example:
        >>> from headroom import CompressConfig, Headroom
        >>> hr = Headroom(CompressConfig(min_tokens=0), store="memory")
        >>> diff = "diff --git a/Cargo.lock b/Cargo.lock\\n--- a/Cargo.lock\\n+++ b/Cargo.lock\\n"
        >>> diff += "@@ -1,0 +1,40 @@\\n" + "".join(f'+name = "dep{i}"\\n' for i in range(40))
        >>> print(hr.compress_text(diff).text)
        Cargo.lock: lock/generated file, +40 -0 lines, diff omitted
        [44 lines omitted: 1 lock/generated file · retrieve: headroom:5ed7196db5c7]
        <BLANKLINE>
    """

    name = "diff.context"
    kinds = frozenset({"diff"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        if not ctx.config.lossy or ends_with_marker(text):
            return None
        lines = Lines.split(text)
        entries = parse_diff(lines.items)
        if not any(isinstance(entry, FileDiff) for entry in entries):
            return None
        trim = len(lines.items) > _LARGE_DIFF_LINES
        out: list[str] = []
        trimmed = generated = renames = omitted = 0
        for entry in entries:
            if isinstance(entry, str):
                out.append(entry)
            elif _is_generated(entry.path) and entry.hunks:
                added, removed = entry.changed_lines()
                out.append(
                    lines.added(
                        f"{entry.path}: lock/generated file, +{added} -{removed} lines, "
                        "diff omitted"
                    )
                )
                generated += 1
                omitted += len(entry.header) + sum(1 + len(h.body) for h in entry.hunks)
            elif (summary := _unchanged_rename(entry)) is not None:
                out.append(lines.added(summary))
                renames += 1
                omitted += len(entry.header)
            else:
                out.extend(entry.header)
                for hunk in entry.hunks:
                    cut = _trim(hunk, lines) if trim else None
                    if cut is None:
                        out += [hunk.header, *hunk.body]
                    else:
                        out += cut[0]
                        trimmed += cut[1]
        if not omitted and not trimmed:
            return None
        handle = ctx.keep_original(text)
        parts = [
            f"{n} {what}{'s' * (n != 1)}"
            for n, what in (
                (trimmed, "unchanged context line"),
                (generated, "lock/generated file"),
                (renames, "unchanged rename"),
            )
            if n
        ]
        marker = format_marker(omitted + trimmed, "lines", handle, summary=", ".join(parts))
        out.append(lines.added(marker))
        return Compressed(lines.join(out), self.name, lossless=False, handles=(handle,))


def _is_generated(path: str) -> bool:
    return PurePosixPath(path).name in _LOCK_FILES or _GENERATED_RE.search(path) is not None


def _unchanged_rename(entry: FileDiff) -> str | None:
    texts = [bare(line) for line in entry.header]
    if entry.hunks or "similarity index 100%" not in texts:
        return None
    for verb in ("rename", "copy"):
        source = next((t[len(verb) + 6 :] for t in texts if t.startswith(f"{verb} from ")), None)
        target = next((t[len(verb) + 4 :] for t in texts if t.startswith(f"{verb} to ")), None)
        if source is not None and target is not None:
            past = "renamed" if verb == "rename" else "copied"
            return f"{source} => {target}: {past}, content unchanged"
    return None


def _trim(hunk: Hunk, lines: Lines) -> tuple[list[str], int] | None:
    """The hunk as hunks with one line of context around each change, and how many lines
    were cut; ``None`` when none is."""
    tags = [bare(line)[:1] or " " for line in hunk.body]
    keep = [tag in "+-" or (tag == " " and _next_to_change(tags, i)) for i, tag in enumerate(tags)]
    for i, tag in enumerate(tags):
        if tag == "\\":  # "\ No newline at end of file" goes with the line it follows
            keep[i] = i > 0 and keep[i - 1]
    if all(keep):
        return None
    out: list[str] = []
    # With no lines on a side, "@@" gives the line before the hunk; count from the next.
    old = hunk.old_start if hunk.old_len else hunk.old_start + 1
    new = hunk.new_start if hunk.new_len else hunk.new_start + 1
    run: list[str] = []
    start, counts = (old, new), [0, 0]
    for line, tag, kept in zip(hunk.body, tags, keep, strict=True):
        if kept:
            if not run:
                start, counts = (old, new), [0, 0]
            run.append(line)
            counts[0] += tag in " -"
            counts[1] += tag in " +"
        elif run:
            out += [_header(start, counts, hunk.heading if not out else "", lines), *run]
            run = []
        old += tag in " -"
        new += tag in " +"
    if run:
        out += [_header(start, counts, hunk.heading if not out else "", lines), *run]
    return out, keep.count(False)


def _next_to_change(tags: list[str], i: int) -> bool:
    # "\ No newline" notes are not lines of either file, so adjacency skips them.
    before = i - 1
    while before >= 0 and tags[before] == "\\":
        before -= 1
    after = i + 1
    while after < len(tags) and tags[after] == "\\":
        after += 1
    return (before >= 0 and tags[before] in "+-") or (after < len(tags) and tags[after] in "+-")


def _header(start: tuple[int, int], counts: list[int], heading: str, lines: Lines) -> str:
    def span(line: int, count: int) -> str:
        if count == 1:
            return str(line)
        return f"{line if count else line - 1},{count}"

    old, new = span(start[0], counts[0]), span(start[1], counts[1])
    return lines.added(f"@@ -{old} +{new} @@{bare(heading)}")
