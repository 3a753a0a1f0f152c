"""What an MCP client sees: ``headroom mcp`` over stdio, driven by the SDK's own client.

Compresses real files from the benchmark data through ``headroom_compress``, retrieves each
original through ``headroom_retrieve`` (checked byte for byte), then does the same with
5 MB of log, and prints a Markdown table (the figures in docs/mcp.md)::

    python -m headroom.bench.mcp_server --data ../shared/bench-data
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CASES = (
    "loghub/HDFS_2k.log",
    "loghub/OpenStack_2k.log",
    "json/gh_issues_rails_admin.json",
    "json/usgs_earthquakes_week.geojson.json",
)


async def _measure(data: Path) -> list[str]:
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    home = tempfile.mkdtemp(prefix="headroom-mcp-bench-")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "headroom", "mcp", "--store", str(Path(home) / "ccr.sqlite3")],
        env={"HEADROOM_HOME": home},
    )
    rows = [
        "| content | bytes | kind | tokens before | tokens after | compress | retrieve (exact) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    started = time.perf_counter()
    async with Client(params) as client:
        rows.insert(0, f"session started in {time.perf_counter() - started:.2f} s\n")
        texts = [(name, (data / name).read_bytes().decode("utf-8")) for name in CASES]
        log = texts[0][1]
        texts.append(("5 MB of HDFS log", (log * (5_000_000 // len(log) + 1))[:5_000_000]))
        for name, text in texts:
            rows.append(await _row(client, name, text))
    return rows


async def _row(client: Any, name: str, text: str) -> str:
    started = time.perf_counter()
    result = await client.call_tool("headroom_compress", {"content": text})
    compress = time.perf_counter() - started
    out = result.structured_content
    started = time.perf_counter()
    original = await client.call_tool("headroom_retrieve", {"handle": out["handles"][0]})
    retrieve = time.perf_counter() - started
    exact = "yes" if original.content[0].text == text else "NO"
    return (
        f"| {name} | {len(text.encode()):,} | {out['kind']} | {out['tokens_before']:,} | "
        f"{out['tokens_after']:,} | {compress * 1000:,.0f} ms | {retrieve * 1000:,.0f} ms "
        f"({exact}) |"
    )


def main(argv: list[str] | None = None) -> int:
    """Print the table; 1 if an original did not come back byte for byte."""
    import anyio

    parser = argparse.ArgumentParser(
        prog="python -m headroom.bench.mcp_server",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/bench-data"))
    args = parser.parse_args(argv)
    rows = anyio.run(_measure, args.data)
    print("\n".join(rows))
    return 1 if any("(NO)" in row for row in rows) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
