"""``python -m headroom.bench.listing``: ListingCompressor on real file listings.

Inputs: the listings in ``tests/fixtures/tools`` (``ls_*``, ``find_*``, ``tree_*``,
``du_*``: see its README), and with ``--live DIR [DIR ...]`` the listing commands run
on each directory in the C.UTF-8 locale (``ls -laR``, ``ls -la``, ``find``, ``find -type
f``, ``tree``, ``du -a``; a command that is not installed is skipped).

Per listing it prints the form the compressor chose, tokens before and after (o200k_base)
through ``compress_text`` with no hint and ``min_tokens=0``, the share saved, whether the
result is lossless (``decode_listing`` gives the input back byte for byte), the paths of
the input and how many of them the output shows (read back from the folded text by the
simple reader below, not by the decoder), and the compressor's throughput (input MB over
its own time, best of three, its token counting for the date layout included; one core).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from headroom import CompressConfig, Headroom
from headroom.compressors.base import Context
from headroom.compressors.listing.compressor import ListingCompressor, decode_listing
from headroom.compressors.listing.parse import (
    LongEntry,
    Record,
    parse_du,
    parse_long,
    parse_paths,
    parse_tree,
)
from headroom.handles import find_markers
from headroom.store.memory import MemoryStore
from headroom.tokens import count_tokens, get_counter

__all__ = ["ListingScore", "main", "score"]

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tools"
LIVE_COMMANDS = (
    ("ls -laR", ["ls", "-laR"]),
    ("ls -la", ["ls", "-la"]),
    ("find", ["find"]),
    ("find -type f", ["find", "-type", "f"]),
    ("tree", ["tree"]),
    ("du -a", ["du", "-a"]),
)
_REPEAT = 3
_DATE = (
    r"(?:[A-Z][a-z]{2} [ \d]\d (?:\d\d:\d\d| \d{4})|\d{4}-\d\d-\d\d \d\d:\d\d\S*(?: [+-]\d{4})?)"
)
_TAGS_RE = re.compile(rf"(?:(?:perms|links|owner|group|size)=\S+ |date={_DATE} )*")
_VERBATIM_RE = re.compile(r"total \S+|same date=.+|(?:ls|find|du|tree): .*")


@dataclass(frozen=True, slots=True)
class ListingScore:
    """How the compressor did on one listing."""

    name: str
    form: str
    size: int
    tokens_before: int
    tokens_after: int
    lossless: bool
    paths: int
    paths_shown: int
    seconds: float

    @property
    def saved(self) -> float:
        return 1 - self.tokens_after / self.tokens_before if self.tokens_before else 0.0


def input_paths(text: str) -> set[str]:
    """The paths of an original listing, read with the module's parsers."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    long = parse_long(lines)
    if long is not None:
        section, found = "", set()
        for i, item in enumerate(long):
            if isinstance(item, LongEntry):
                found.add(f"{section}/{item.name}")
            elif item.endswith(":") and (i == 0 or not lines[i - 1] or lines[i - 1][:3] == "ls:"):
                section = item[:-1]
        return found
    tree = parse_tree(lines)
    if tree is not None:
        stack: list[str] = []
        found = set()
        for depth, name in tree.records:
            del stack[depth:]
            stack.append(name)
            found.add("/".join(stack))
        return found
    items = parse_du(lines) or parse_paths(lines) or [Record(line) for line in lines]
    return {item.path for item in items if isinstance(item, Record)}


def shown_paths(folded: str) -> set[str]:
    """The paths a folded listing shows, read from its text as a person would."""
    lines = folded.split("\n")
    header, body = lines[0], lines[1:]
    found = set()
    if header.startswith("[listing ls -l"):
        dated = "size, date, name]" in header
        folded_size = {
            "d": bool(re.search(r"· dirs/: [^·]*size=", header)),
            "l": bool(re.search(r"· symlinks ->: [^·]*size=", header)),
        }
        section = ""
        for i, line in enumerate(body):
            after_break = i == 0 or not body[i - 1] or body[i - 1][:3] == "ls:"
            if line.endswith(":") and after_break:
                section = line[:-1]
                continue
            if not line or _VERBATIM_RE.fullmatch(line) or find_markers(line):
                continue
            tags = _TAGS_RE.match(line)
            end = tags.end() if tags else 0
            rest = line[end:]
            perms = re.search(r"perms=(\S)", line[:end])
            inferred = "d" if rest.endswith("/") else "l" if " -> " in rest else "-"
            letter = perms[1] if perms else inferred
            if not folded_size.get(letter):
                rest = re.sub(r"^\d+(?:, \d+)?\S* ", "", rest)
            if dated:
                rest = re.sub(rf"^{_DATE} ", "", rest)
            found.add(f"{section}/{rest.removesuffix('/') if letter == 'd' else rest}")
        return found
    sizes = header.startswith("[listing du")
    key = None
    heading = False
    for line in body:
        if not line:
            heading = True
            continue
        if heading:
            heading = False
            if not line.endswith(":"):
                break  # tree's report
            key = line[:-1]
            continue
        if _VERBATIM_RE.fullmatch(line) or find_markers(line):
            continue
        rel = (line.split(" ", 1)[1] if sizes else line).removesuffix("/")
        found.add(rel if key is None else f"{key}/{rel}")
    return found


def score(name: str, text: str) -> ListingScore:
    """Compress one listing through the public API and time the compressor alone."""
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    result = hr.compress_text(text)
    compressor = ListingCompressor()
    count = get_counter()
    seconds = float("inf")
    for _ in range(_REPEAT):
        ctx = Context("listing", None, None, CompressConfig(), MemoryStore(), count)
        start = time.perf_counter()
        compressor.compress(text, ctx)
        seconds = min(seconds, time.perf_counter() - start)
    expected = input_paths(text)
    shown = shown_paths(result.text) if result.text != text else expected
    lossless = result.text == text or (result.lossless and decode_listing(result.text) == text)
    form = result.text.split(" · ", 1)[0].removeprefix("[listing ") if result.text != text else "-"
    return ListingScore(
        name=name,
        form=form if result.kind == "listing" else f"({result.kind})",
        size=len(text.encode("utf-8", "surrogateescape")),
        tokens_before=count_tokens(text),
        tokens_after=count_tokens(result.text),
        lossless=lossless,
        paths=len(expected),
        paths_shown=len(expected & shown),
        seconds=seconds,
    )


def live_listings(folders: list[Path]) -> list[tuple[str, str]]:
    """The listing commands' output on each folder, in the C.UTF-8 locale."""
    env = dict(os.environ, LC_ALL="C.UTF-8")
    out = []
    for folder in folders:
        for label, command in LIVE_COMMANDS:
            argv = (
                [*command[:1], str(folder), *command[1:]]
                if command[0] == "find"
                else [
                    *command,
                    str(folder),
                ]
            )
            try:
                done = subprocess.run(argv, capture_output=True, env=env, check=False)
            except FileNotFoundError:
                continue
            out.append((f"{label} {folder}", done.stdout.decode("utf-8", "surrogateescape")))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print one row per listing, then totals per command."""
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.listing")
    parser.add_argument("--live", type=Path, nargs="*", default=[], help="directories to list")
    parser.add_argument("--no-fixtures", action="store_true", help="only the --live listings")
    args = parser.parse_args(argv)
    listings: list[tuple[str, str]] = []
    if not args.no_fixtures:
        for path in sorted(FIXTURES.glob("*.txt")):
            if path.name.startswith(("ls_", "find_", "tree_", "du_")):
                listings.append((path.name, path.read_bytes().decode("utf-8", "surrogateescape")))
    missing = [str(p) for p in args.live if not p.is_dir()]
    if missing:
        print(f"no such directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    listings += live_listings(args.live)
    scores = [score(name, text) for name, text in listings]
    print(
        f"{'listing':<44} {'form':<22} {'tokens':>7} {'after':>7} {'saved':>6} "
        f"{'lossless':>8} {'paths kept':>11}"
    )
    for s in scores:
        print(
            f"{s.name[:44]:<44} {s.form[:22]:<22} {s.tokens_before:>7,} {s.tokens_after:>7,} "
            f"{s.saved:>6.1%} {'yes' if s.lossless else 'NO':>8} "
            f"{s.paths_shown:>5}/{s.paths:<5}"
        )
    before = sum(s.tokens_before for s in scores)
    after = sum(s.tokens_after for s in scores)
    kept = sum(s.paths_shown for s in scores)
    paths = sum(s.paths for s in scores)
    size = sum(s.size for s in scores)
    seconds = sum(s.seconds for s in scores)
    print(
        f"\n{len(scores)} listings: {before:,} -> {after:,} tokens ({1 - after / before:.1%} "
        f"saved), {sum(s.lossless for s in scores)} lossless, {kept:,} of {paths:,} paths shown; "
        f"{size / 1e6:.2f} MB in {seconds:.2f} s: {size / 1e6 / seconds:.1f} MB/s (one core)"
    )
    return 0 if kept == paths else 1


if __name__ == "__main__":
    sys.exit(main())
