"""An original that expired from the store: the tool error says so, and the server goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headroom import Headroom, SQLiteStore
from tests.conftest import read_bench
from tests.mcp.conftest import LOG, session

pytest.importorskip("mcp")


def test_an_expired_handle_is_a_tool_error(tmp_path: Path, bench_data: Path) -> None:
    from headroom.mcpserver import create_server

    now = [1_000_000.0]
    store = SQLiteStore(tmp_path / "ccr.sqlite3", ttl_seconds=60, clock=lambda: now[0])
    server = create_server(client=Headroom(store=store))
    log = read_bench(bench_data / LOG)

    async def work(client: Any) -> Any:
        compressed = await client.call_tool("headroom_compress", {"content": log})
        handle = compressed.structured_content["handles"][0]
        fresh = await client.call_tool("headroom_retrieve", {"handle": handle})
        now[0] += 3600  # an hour later: past the 60 s TTL
        expired = await client.call_tool("headroom_retrieve", {"handle": handle})
        again = await client.call_tool("headroom_compress", {"content": log})
        return handle, fresh, expired, again

    handle, fresh, expired, again = session(server, work)  # the SDK's in-process transport
    assert fresh.content[0].text == log
    assert expired.is_error
    assert f"the original stored under {handle!r} expired at" in expired.content[0].text
    assert not again.is_error and again.structured_content["handles"] == [handle]
