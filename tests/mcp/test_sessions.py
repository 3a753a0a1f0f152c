"""A real MCP client session (the SDK's ``Client``) against ``headroom mcp``, over stdio (the
server as a subprocess) and over streamable HTTP (a server on a loopback port)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from headroom.config import KINDS
from tests.conftest import read_bench
from tests.mcp.conftest import JSON, LOG, MAX_CONTENT_BYTES, Served, server_args, session

pytest.importorskip("mcp")

TOOLS = {"headroom_compress", "headroom_retrieve", "headroom_read", "headroom_stats"}


async def _call(client: Any, name: str, **arguments: Any) -> Any:
    return await client.call_tool(name, arguments)


def _error(result: Any) -> str:
    assert result.is_error, result
    text: str = result.content[0].text
    return text


def test_tools_are_listed_with_their_schemas(served: Served) -> None:
    async def work(client: Any) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in session(served.target, work)}
    assert set(tools) == TOOLS
    compress = tools["headroom_compress"]
    assert compress.description.startswith("Compress content before reading it")
    schema = compress.input_schema
    assert schema["required"] == ["content"]
    assert schema["properties"]["content"]["type"] == "string"
    assert schema["properties"]["content_type"]["default"] == "auto"
    assert all(kind in schema["properties"]["content_type"]["description"] for kind in KINDS)
    assert {"type": "null"} in schema["properties"]["query"]["anyOf"]
    assert set(compress.output_schema["required"]) >= {"text", "tokens_before", "handles"}
    retrieve = tools["headroom_retrieve"].input_schema
    assert retrieve["required"] == ["handle"]
    assert tools["headroom_retrieve"].output_schema is None  # the original is the text
    assert tools["headroom_read"].input_schema["required"] == ["path"]
    assert tools["headroom_stats"].input_schema.get("properties") == {}
    assert tools["headroom_retrieve"].annotations.read_only_hint is True


def test_a_real_log_compresses_and_comes_back_byte_exact(served: Served, bench_data: Path) -> None:
    log = read_bench(bench_data / LOG)

    async def work(client: Any) -> Any:
        compressed = await _call(client, "headroom_compress", content=log)
        handle = compressed.structured_content["handles"][0]
        whole = await _call(client, "headroom_retrieve", handle=handle)
        part = await _call(client, "headroom_retrieve", handle=handle, query="exception")
        loose = await _call(client, "headroom_retrieve", handle=handle.upper().split(":")[1])
        return compressed, whole, part, loose

    compressed, whole, part, loose = session(served.target, work)
    out = compressed.structured_content
    assert not compressed.is_error
    assert out["kind"] == "log"
    assert out["tokens_after"] * 10 < out["tokens_before"]
    assert compressed.content[0].text == out["text"]
    assert f"retrieve: {out['handles'][0]}" in out["text"]
    assert "Got exception while serving" in out["text"]  # the WARN lines' template survives
    assert out["handles"][0] in compressed.content[1].text
    assert whole.content[0].text == log
    assert loose.content[0].text == log
    lines = [line for line in part.content[0].text.split("\n") if line]
    assert 0 < len(lines) < 100
    assert all("exception" in line for line in lines)


def test_a_real_json_response_compresses_to_tables(served: Served, bench_data: Path) -> None:
    response = read_bench(bench_data / JSON)

    async def work(client: Any) -> Any:
        compressed = await _call(
            client, "headroom_compress", content=response, content_type="json", query="Mongoid"
        )
        handles = compressed.structured_content["handles"]
        originals = [await _call(client, "headroom_retrieve", handle=h) for h in handles]
        return compressed, originals

    compressed, originals = session(served.target, work)
    out = compressed.structured_content
    assert out["kind"] == "json"
    assert out["tokens_after"] * 2 < out["tokens_before"]
    assert "Mongoid::Autoinc" in out["text"]  # the issue matching the query is kept
    assert response in [o.content[0].text for o in originals]


def test_bad_calls_are_tool_errors_and_the_server_goes_on(served: Served) -> None:
    async def work(client: Any) -> Any:
        calls = [
            ("headroom_retrieve", {"handle": "headroom:000000000000"}),
            ("headroom_retrieve", {"handle": "not a handle"}),
            ("headroom_compress", {"content": "x", "content_type": "xml"}),
            ("headroom_compress", {"content": "é" * (MAX_CONTENT_BYTES // 2 + 1)}),
            ("headroom_compress", {"content": 5}),
            ("headroom_read", {"path": str(served.outside)}),
            ("headroom_read", {"path": str(served.root / "escape.txt")}),
            ("headroom_read", {"path": str(served.root / "sub" / ".." / ".." / "secret.txt")}),
            ("headroom_read", {"path": str(served.root / "missing.log")}),
            ("headroom_read", {"path": str(served.root / "sub")}),
            ("headroom_nothing", {}),
        ]
        results = [await client.call_tool(name, args) for name, args in calls]
        after = await _call(client, "headroom_compress", content="still here")
        return results, after

    results, after = session(served.target, work)
    errors = [_error(r) for r in results]
    assert "no original stored under 'headroom:000000000000'" in errors[0]
    assert "'not a handle' is not a Headroom handle" in errors[1]
    assert "content_type: unknown kind 'xml'" in errors[2]
    assert f"over the server's limit of {MAX_CONTENT_BYTES:,} bytes" in errors[3]
    assert "content" in errors[4] and "valid string" in errors[4]
    secret = str(served.outside.resolve())
    assert f"resolves to {secret!r}, outside the allowed roots" in errors[5]
    assert f"resolves to {secret!r}, outside the allowed roots" in errors[6]  # the symlink
    assert f"resolves to {secret!r}, outside the allowed roots" in errors[7]  # the ..
    assert "missing.log'" in errors[8] and "no such file" in errors[8]
    assert "not a regular file" in errors[9]
    assert "headroom_nothing" in errors[10]
    assert "outside the allowed root\n" not in "".join(errors)  # nothing of the file leaks
    assert not after.is_error and after.content[0].text == "still here"


def test_five_megabytes_round_trip(served: Served, bench_data: Path) -> None:
    log = read_bench(bench_data / LOG)
    big = (log * (5_000_000 // len(log) + 1))[:5_000_000]

    async def work(client: Any) -> Any:
        compressed = await _call(client, "headroom_compress", content=big, content_type="log")
        handle = compressed.structured_content["handles"][0]
        return compressed, await _call(client, "headroom_retrieve", handle=handle)

    compressed, original = session(served.target, work)
    out = compressed.structured_content
    assert out["tokens_after"] * 100 < out["tokens_before"]
    assert original.content[0].text == big


def test_read_compresses_files_under_the_allowed_root(served: Served, bench_data: Path) -> None:
    async def work(client: Any) -> Any:
        log = await _call(client, "headroom_read", path=str(served.root / "inside-link.log"))
        data = await _call(client, "headroom_read", path="allowed/issues.json", query="Mongoid")
        original = await _call(
            client, "headroom_retrieve", handle=log.structured_content["handles"][0]
        )
        code = await _call(client, "headroom_read", path=str(served.root / "decoder.py"))
        return log, data, original, code

    log, data, original, code = session(served.target, work)
    assert log.structured_content["kind"] == "log"
    assert log.structured_content["path"] == str((served.root / "sub" / "hdfs.log").resolve())
    assert original.content[0].text == read_bench(bench_data / LOG)
    assert data.structured_content["kind"] == "json"
    assert "Mongoid::Autoinc" in data.structured_content["text"]
    skeleton = code.structured_content
    assert (skeleton["kind"], skeleton["language"]) == ("code", "python")
    assert skeleton["tokens_after"] * 2 < skeleton["tokens_before"]
    assert "    def __init__(self, msg, doc, pos):\n" in skeleton["text"]  # signatures kept


def test_stats_count_this_session_and_the_store(served: Served, bench_data: Path) -> None:
    log = read_bench(bench_data / LOG)

    async def work(client: Any) -> Any:
        before = (await _call(client, "headroom_stats")).structured_content
        compressed = (await _call(client, "headroom_compress", content=log)).structured_content
        after = await _call(client, "headroom_stats")
        return before, compressed, after

    before, compressed, after = session(served.target, work)
    stats = after.structured_content
    assert json.loads(after.content[0].text) == stats
    assert stats["store"] == "sqlite" and stats["location"] == str(served.store)
    assert stats["originals"] >= 1 and stats["bytes"] >= len(log)
    saved = compressed["tokens_before"] - compressed["tokens_after"]
    assert stats["session"]["tokens_saved"] - before["session"]["tokens_saved"] == saved
    assert stats["total"]["tokens_saved"] - before["total"]["tokens_saved"] == saved
    assert stats["by_kind"]["log"]["tokens_saved"] >= saved
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert next(iter(stats["by_day"])) == today
    assert (
        stats["by_day"][today]["tokens_saved"]
        - before["by_day"].get(today, {}).get("tokens_saved", 0)
        == saved
    )


def test_the_cli_retrieves_what_the_server_stored(stdio_server: Served, bench_data: Path) -> None:
    log = read_bench(bench_data / LOG)

    async def work(client: Any) -> str:
        result = await _call(client, "headroom_compress", content=log)
        handle: str = result.structured_content["handles"][0]
        return handle

    handle = session(stdio_server.target, work)
    out = subprocess.run(
        [sys.executable, "-m", "headroom", "--store", str(stdio_server.store), "retrieve", handle],
        capture_output=True,
        env=stdio_server.env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == log.encode()


def test_read_is_off_without_allow_read(tmp_path: Path) -> None:
    from mcp.client.stdio import StdioServerParameters

    (tmp_path / "a.log").write_text("hello\n")
    params = StdioServerParameters(
        command=sys.executable,
        args=server_args("memory", None),
        cwd=str(tmp_path),
        env={"HEADROOM_HOME": str(tmp_path)},
    )

    async def work(client: Any) -> Any:
        return await _call(client, "headroom_read", path=str(tmp_path / "a.log"))

    assert "headroom_read is off: start the server with --allow-read DIR" in _error(
        session(params, work)
    )


def test_a_redis_store_is_shared_across_servers(
    redis_url: str, tmp_path: Path, bench_data: Path
) -> None:
    from mcp.client.stdio import StdioServerParameters

    def params() -> Any:
        return StdioServerParameters(
            command=sys.executable,
            args=server_args(redis_url, None),
            env={"HEADROOM_HOME": str(tmp_path)},
        )

    content = read_bench(bench_data / LOG)

    async def store(client: Any) -> tuple[int, Any]:
        stats = await _call(client, "headroom_stats")
        result = await _call(client, "headroom_compress", content=content)
        return stats.structured_content["total"]["tokens_saved"], result.structured_content

    async def fetch(client: Any) -> Any:
        stats = await _call(client, "headroom_stats")
        return stats, await _call(client, "headroom_retrieve", handle=handle)

    saved_before, compressed = session(params(), store)
    handle = compressed["handles"][0]
    stats, original = session(params(), fetch)  # a second server process
    assert stats.structured_content["store"] == "redis"
    # The first server's usage reached Redis before it exited (its counts are held back).
    saved = compressed["tokens_before"] - compressed["tokens_after"]
    assert stats.structured_content["total"]["tokens_saved"] - saved_before >= saved
    assert original.content[0].text == content
