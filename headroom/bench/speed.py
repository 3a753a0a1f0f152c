"""``python -m headroom.bench.speed``: end-to-end speed of ``compress()`` against its floor.

Every case is one tool result in a message list, compressed through the public
``Headroom.compress`` with the default configuration and an in-memory store:

* ``first``: a new client each run (nothing cached), best of ``--repeat``;
* ``cpu``: the processor time of that call over every thread (the counting threads
  included), best of ``--repeat``: steadier than ``first`` on a busy machine;
* ``again``: the same request to the same client, as in the next turn of a conversation;
* ``floor``: counting the input's tokens once with tiktoken on one thread, the cost no
  compressor can go below (the issue's target: ``first`` within 1.5x of it);
* ``peak MB``: growth of the process's peak resident memory over the run, measured in a
  child process per case (``--memory``).

Inputs are real data from ``--data`` (bench-data): the eight loghub logs concatenated and
repeated to size; GitHub repository events as JSON records, repeated with distinct ids;
SQuAD contexts as prose, asked one of their questions; and every recorded API response in
``json/`` as it is.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from headroom import Headroom
from headroom.tokens import _chunks
from headroom.tokens.vocabularies import load_encoding

__all__ = ["cases", "main"]

_MB = 1_000_000


def _logs(data: Path, size: int) -> str:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(data.glob("loghub/*_2k.log")))
    return (text * (size // len(text) + 1))[:size].rsplit("\n", 1)[0] + "\n"


def _records(data: Path, size: int) -> str:
    events = json.loads((data / "json" / "gh_repo_events_rails_admin.json").read_text())
    out: list[Any] = []
    length = 2
    copy = 0
    while length < size:
        for event in events:
            record = dict(event, id=f"{event['id']}{copy:04d}")
            out.append(record)
            length += len(json.dumps(record)) + 2
        copy += 1
    return json.dumps(out)


def _prose(data: Path, size: int) -> tuple[str, str]:
    squad = json.loads((data / "squad" / "dev-v2.0.json").read_text())
    parts: list[str] = []
    question = ""
    for article in squad["data"]:
        for paragraph in article["paragraphs"]:
            parts.append(paragraph["context"])
            if not question and paragraph["qas"]:
                question = paragraph["qas"][0]["question"]
            if sum(map(len, parts)) >= size:
                return "\n\n".join(parts), question
    return "\n\n".join(parts), question


Case = Callable[[], tuple[str, str | None]]


def cases(data: Path, *, large: bool = True) -> dict[str, Case]:
    """Name -> a function building (tool output, query), for every case."""
    out: dict[str, Case] = {}
    for label, size in (("1MB", _MB), ("8MB", 8 * _MB)) if large else (("1MB", _MB),):
        out[f"logs {label}"] = partial(lambda n: (_logs(data, n), None), size)
        out[f"json records {label}"] = partial(lambda n: (_records(data, n), None), size)
    out["prose 1MB + query"] = partial(_prose, data, _MB)
    for path in sorted((data / "json").glob("*.json")):
        if not path.name.endswith(".meta.json"):
            out[f"api {path.stem[:28]}"] = partial(
                lambda p: (p.read_text(encoding="utf-8"), None), path
            )
    return out


def _messages(text: str, query: str | None) -> list[dict[str, Any]]:
    call = {"id": "c1", "type": "function", "function": {"name": "http_get", "arguments": "{}"}}
    return [
        {"role": "user", "content": query or "Look at this."},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": text},
    ]


def _best(
    repeat: int, run: Callable[[], Any], clock: Callable[[], float] = time.perf_counter
) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        run()
        best = min(best, clock() - start)
    return best


def _first_call(messages: list[dict[str, Any]]) -> Any:
    return Headroom(store="memory").compress(messages)


def _floor(text: str) -> float:
    encoding = load_encoding("o200k_base")
    return _best(1, lambda: [encoding.encode_ordinary(c) for c in _chunks(text)])


def _high_water_kb() -> int:
    """This process's peak resident size in kB. On Linux from ``VmHWM``: ``ru_maxrss``
    survives ``exec``, so a child started by a large parent would report the parent's."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        import resource  # Unix only, and needed only off Linux

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def _peak(text: str, query: str | None) -> float:
    """Peak resident growth (MB) of compressing ``text`` in a fresh process, over the
    process holding the input (the issue's bound: 3x the input size plus 100 MB). The child
    reads the text from a file, so nothing bigger than it was ever allocated before."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write(text)
    code = (
        "import sys; from pathlib import Path;"
        "from headroom.bench.speed import _messages, _high_water_kb; from headroom import Headroom;"
        "hr = Headroom(store='memory'); hr.compress_text('warm up');"
        "text = Path(sys.argv[1]).read_text(encoding='utf-8');"
        "query = sys.argv[2] or None;"
        "base = _high_water_kb();"
        "hr.compress(_messages(text, query));"
        "print((_high_water_kb() - base) / 1024)"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, f.name, query or ""],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        Path(f.name).unlink()
    return float(done.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.speed", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the bench-data directory")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is kept)")
    parser.add_argument("--small", action="store_true", help="skip the 8 MB cases")
    parser.add_argument("--memory", action="store_true", help="measure peak memory too")
    args = parser.parse_args(argv)
    if not (args.data / "loghub").is_dir():
        print(f"no benchmark data at {args.data}", file=sys.stderr)
        return 1
    Headroom(store="memory").compress_text("warm up the tokenizer")
    print(
        f"{'case':34} {'MB':>6} {'tokens':>10} {'saved':>6} {'first ms':>9} {'MB/s':>6} "
        f"{'cpu ms':>8} {'floor ms':>9} {'x floor':>7} {'again ms':>8}"
        + (" peak MB" if args.memory else "")
    )
    for name, build in cases(args.data, large=not args.small).items():
        text, query = build()
        messages = _messages(text, query)
        first = _best(args.repeat, partial(_first_call, messages))
        cpu = _best(args.repeat, partial(_first_call, messages), time.process_time)
        warm = Headroom(store="memory")
        result = warm.compress(messages)
        again = _best(args.repeat, partial(warm.compress, messages))
        floor = _floor(text)
        size = len(text.encode("utf-8")) / _MB
        peak = f" {_peak(text, query):7.0f}" if args.memory else ""
        print(
            f"{name:34} {size:6.2f} {result.tokens_before:10,} {result.compression_ratio:6.1%} "
            f"{first * 1e3:9.1f} {size / first:6.1f} {cpu * 1e3:8.1f} {floor * 1e3:9.1f} "
            f"{first / floor:7.2f} "
            f"{again * 1e3:8.2f}{peak}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
