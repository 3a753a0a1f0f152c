"""``python -m headroom.bench.demo``: compress real tool outputs and show what was saved.

Samples are produced on the spot (pip's package list, a standard-library source file,
this repository's git log, the access log of a real ``http.server`` run) and, when the
benchmark data directory is present, real third-party logs, API responses and an agent
transcript from it. Then one compressed output is shown and its original retrieved.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import inspect
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from headroom import Headroom, TextResult

__all__ = ["main"]

_BENCH_FILES = (
    "loghub/HDFS_2k.log",
    "loghub/OpenSSH_2k.log",
    "json/gh_top100_repos.json",
    "json/gh_issues_rails_admin.json",
    "json/usgs_earthquakes_week.geojson.json",
)
_TRANSCRIPT = "transcripts/taubench_airline_gpt4o_task02_trial1.json"


def _pip_list() -> str:
    return subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _stdlib_source() -> str:
    import json.decoder

    return inspect.getsource(json.decoder)


def _git_log() -> str:
    try:
        return subprocess.run(
            ["git", "log", "--stat", "-n", "30"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def _access_log() -> str:
    """Serve a temporary directory with http.server and fetch files from it, some missing."""
    lines: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            lines.append(
                f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}"
            )

    with tempfile.TemporaryDirectory() as root:
        for i in range(20):
            Path(root, f"page{i}.html").write_text(f"<p>page {i}</p>")
        handler = functools.partial(Handler, directory=root)
        with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            port = server.server_address[1]
            for i in range(300):
                name = f"page{i % 20}.html" if i % 37 else f"missing{i}.html"
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/{name}", timeout=5).read()
            server.shutdown()
    return "\n".join(lines) + "\n"


def _samples(data: Path | None) -> Iterator[tuple[str, str, str | None]]:
    yield "pip list --format=json", _pip_list(), None
    yield "stdlib json/decoder.py", _stdlib_source(), "decoder.py"
    log = _git_log()
    if log:
        yield "git log --stat", log, None
    yield "http.server access log", _access_log(), None
    if data and data.is_dir():
        for name in _BENCH_FILES:
            path = data / name
            if path.is_file():
                # Bytes, not text mode: newline translation would alter the original.
                yield f"bench-data/{name}", path.read_bytes().decode("utf-8"), path.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.demo", description=__doc__)
    parser.add_argument("--data", type=Path, default=None, help="benchmark data directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        client = Headroom(store=str(Path(home) / "ccr.sqlite3"))
        client.compress_text("warm up")  # loads the tokenizer once, outside the timings
        rows: list[tuple[str, TextResult, float]] = []
        for name, text, path in _samples(args.data):
            start = time.perf_counter()
            result = client.compress_text(text, path=path)
            rows.append((name, result, time.perf_counter() - start))
        _print_table(rows)
        _print_transcript(client, args.data)
        _show_round_trip(client, rows)
    return 0


def _print_table(rows: list[tuple[str, TextResult, float]]) -> None:
    print(
        f"{'sample':42} {'kind':10} {'before':>8} {'after':>8} {'saved':>6} {'ms':>7}  transforms"
    )
    print("-" * 104)
    for name, r, seconds in rows:
        print(
            f"{name[:42]:42} {r.kind:10} {r.tokens_before:8,} {r.tokens_after:8,} "
            f"{r.compression_ratio:6.0%} {seconds * 1000:7.1f}  "
            f"{', '.join(r.transforms_applied) or '(unchanged)'}"
        )
    before = sum(r.tokens_before for _, r, _ in rows)
    after = sum(r.tokens_after for _, r, _ in rows)
    print("-" * 104)
    print(f"{'total':53} {before:8,} {after:8,} {(before - after) / before:6.0%}")


def _print_transcript(client: Headroom, data: Path | None) -> None:
    path = data / _TRANSCRIPT if data else None
    if not path or not path.is_file():
        return
    messages = json.loads(path.read_text(encoding="utf-8"))["traj"]
    result = client.compress(messages)
    print(
        f"\ncompress(messages) on a real agent transcript ({path.name}, {len(messages)} "
        f"messages): {result.tokens_before:,} -> {result.tokens_after:,} tokens "
        f"({result.compression_ratio:.0%} saved), transforms {result.transforms_applied}"
    )


def _show_round_trip(client: Headroom, rows: list[tuple[str, TextResult, float]]) -> None:
    lossy = [(name, r) for name, r, _ in rows if r.handles]
    if not lossy:
        return
    name, result = max(lossy, key=lambda item: item[1].tokens_saved)
    lines = result.text.rstrip("\n").split("\n")
    print(f"\n=== compressed output of {name} ({len(lines)} lines, first 12 and the marker) ===")
    print("\n".join(_clip(line) for line in lines[:12]))
    print("...")
    print(_clip(lines[-1]))
    handle = result.handles[0]
    original = client.retrieve(handle)
    print(f"\n=== retrieve({handle!r}) ===")
    print(f"{len(original):,} characters, {original.count(chr(10)):,} lines; first 3 lines:")
    print("\n".join(_clip(line) for line in original.split("\n")[:3]))
    # Ask for one of the records the marker says were dropped (by id), or for errors.
    listed = _LISTED_ID_RE.search(result.text)
    query = listed.group(1) if listed else "error exception failed"
    print(f"\n=== retrieve({handle!r}, query={query!r}) (first 5 sections) ===")
    sections = client.retrieve(handle, query=query).split("\n\n")[:5]
    print("\n".join(_clip(section) for section in sections))


_LISTED_ID_RE = re.compile(r"ids by [^:]+: ([^,\s·]+)")


def _clip(line: str, limit: int = 400) -> str:
    """A long line cut for the terminal, saying how much was cut."""
    return line if len(line) <= limit else f"{line[:limit]}… ({len(line) - limit:,} more chars)"


if __name__ == "__main__":
    sys.exit(main())
