"""``python -m headroom.bench.summary``: tokens saved and speed per content kind over a directory.

Every file under the directory is compressed with the default configuration (no query);
agent transcripts (``transcripts/*.json`` with a message list) go through ``compress``.
``MB/s`` is the first call: the best of ``--repeat`` runs, each by a new client (nothing
cached), on one core, with the tokenizer already loaded. ``again ms`` is the same content
sent again to the same client, as in the next turn of a conversation (a result-cache hit).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headroom import Headroom

__all__ = ["main"]


@dataclass
class _Totals:
    files: int = 0
    before: int = 0
    after: int = 0
    seconds: float = 0.0
    size: int = 0


def _messages(payload: Any) -> list[Any] | None:
    if isinstance(payload, dict):
        for key in ("traj", "history", "messages"):
            if isinstance(payload.get(key), list):
                return list(payload[key])
    return None


def _best_of(repeat: int, run: Any) -> tuple[Any, float]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return result, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.summary", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="benchmark data directory")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file (best is kept)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no benchmark data at {args.data}", file=sys.stderr)
        return 1
    Headroom(store="memory").compress_text("warm up the tokenizer")
    totals: dict[str, _Totals] = defaultdict(_Totals)
    print(
        f"{'file':52} {'kind':11} {'before':>9} {'after':>9} {'saved':>6} {'MB/s':>7} "
        f"{'again ms':>8}"
    )
    for path in sorted(p for p in args.data.rglob("*") if p.is_file()):
        if path.name.endswith((".md", ".csv", ".meta.json")) or path.name == "LICENSE":
            continue
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        messages = None
        if path.parent.name == "transcripts":
            messages = _messages(json.loads(text))
        hr = Headroom(store="memory")
        if messages is not None:
            result, seconds = _best_of(
                args.repeat, lambda m=messages: Headroom(store="memory").compress(m)
            )
            hr.compress(messages)
            _, again = _best_of(args.repeat, lambda m=messages, c=hr: c.compress(m))
            kind = "messages"
        else:
            result, seconds = _best_of(
                args.repeat, lambda t=text: Headroom(store="memory").compress_text(t)
            )
            hr.compress_text(text)
            _, again = _best_of(args.repeat, lambda t=text, c=hr: c.compress_text(t))
            kind = result.kind
        size = len(text.encode("utf-8", "surrogateescape"))
        row = totals[kind]
        row.files += 1
        row.before += result.tokens_before
        row.after += result.tokens_after
        row.seconds += seconds
        row.size += size
        name = str(path.relative_to(args.data))
        print(
            f"{name[:52]:52} {kind:11} {result.tokens_before:9,} {result.tokens_after:9,} "
            f"{result.compression_ratio:6.1%} {size / seconds / 1e6:7.1f} {again * 1e3:8.2f}"
        )
    print(f"\n{'kind':11} {'files':>5} {'before':>10} {'after':>10} {'saved':>6} {'MB/s':>7}")
    for kind, t in sorted(totals.items()):
        saved = (t.before - t.after) / t.before if t.before else 0.0
        print(
            f"{kind:11} {t.files:5} {t.before:10,} {t.after:10,} {saved:6.1%} "
            f"{t.size / t.seconds / 1e6:7.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
