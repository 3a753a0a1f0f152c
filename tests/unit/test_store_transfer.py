"""headroom store export / import: originals move between backends byte-exact, with their
handles, kinds and creation times."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from headroom.errors import HandleExpiredError, InvalidArgumentError
from headroom.handles import handle_for, original_bytes
from headroom.store import MemoryStore, SQLiteStore, Store
from headroom.store.redis import RedisStore
from headroom.store.transfer import export_originals, import_originals
from tests.conftest import REPO_ROOT, read_bench
from tests.unit.test_store import FakeClock

ORIGINALS: list[tuple[str | bytes, str]] = [
    ("a long tool output", "text"),
    ("naïve 日本語 🎉\r\n", "log"),
    (b"\x00\xff\xfe invalid utf-8 \xc3\x28", "opaque"),
    ("a\udcffb lone surrogate escape", "text"),
    (b"", "opaque"),
    (random.Random(1).randbytes(1024 * 1024), "opaque"),
]


@pytest.fixture
def make(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    opened: list[Store] = []

    def build(backend: str, **kwargs: Any) -> Store:
        store: Store
        if backend == "memory":
            store = MemoryStore(**kwargs)
        elif backend == "sqlite":
            store = SQLiteStore(tmp_path / f"{len(opened)}.sqlite3", **kwargs)
        else:
            url = request.getfixturevalue("redis_url")
            store = RedisStore(url, prefix=f"t{uuid4().hex[:8]}:", **kwargs)
        opened.append(store)
        return store

    yield build
    for store in opened:
        store.close()


@pytest.mark.parametrize(
    ("source", "target"),
    [("sqlite", "redis"), ("redis", "sqlite"), ("memory", "sqlite"), ("sqlite", "memory")],
)
def test_export_then_import_is_byte_exact_with_handles_and_times(
    make: Any, source: str, target: str
) -> None:
    clock = FakeClock()
    src = make(source, clock=clock, ttl_seconds=None)
    expected = {}
    for original, kind in ORIGINALS:
        clock.advance(7.25)
        expected[src.put(original, kind=kind)] = (original_bytes(original), kind, clock.now)
    file = io.StringIO()

    exported = export_originals(src, file)
    file.seek(0)
    dst = make(target, clock=clock, ttl_seconds=None)
    imported = import_originals(dst, file)
    file.seek(0)
    again = import_originals(dst, file)  # idempotent

    assert exported == imported == again == len(ORIGINALS)
    assert dst.stats().items == len(ORIGINALS)
    for handle, (data, kind, created) in expected.items():
        got = dst.get(handle)
        assert (got.data, got.kind, got.created_at) == (data, kind, created)
    lines = file.getvalue().splitlines()
    assert json.loads(lines[0]) == {"format": "headroom-store", "version": 1}
    assert [json.loads(line)["created_at"] for line in lines[1:]] == sorted(
        c for _, _, c in expected.values()
    )  # oldest first


def test_the_ttl_runs_from_the_original_creation_time(make: Any) -> None:
    clock = FakeClock()
    src = make("memory", clock=clock)
    handle = src.put("a day old", kind="text")
    clock.advance(86_400)
    file = io.StringIO()
    export_originals(src, file)
    file.seek(0)
    dst = make("sqlite", clock=clock, ttl_seconds=86_400 + 10)
    import_originals(dst, file)

    assert dst.get(handle).text == "a day old"
    clock.advance(11)
    with pytest.raises(HandleExpiredError):
        dst.get(handle)


def test_an_original_already_held_keeps_its_later_creation_time(make: Any) -> None:
    clock = FakeClock()
    src = make("memory", clock=clock)
    handle = src.put("shared", kind="text")
    file = io.StringIO()
    export_originals(src, file)
    clock.advance(100)
    dst = make("sqlite", clock=clock)
    dst.put("shared", kind="text")
    file.seek(0)
    import_originals(dst, file)

    assert dst.get(handle).created_at == clock.now


def _exported(original: str) -> list[str]:
    file = io.StringIO()
    store = MemoryStore()
    store.put(original, kind="text")
    export_originals(store, file)
    return file.getvalue().splitlines()


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (lambda lines: ["{}", *lines[1:]], "line 1: expected the header"),
        (lambda lines: ["not json", *lines[1:]], "line 1: expected the header"),
        (lambda lines: [lines[0], "{oops"], "line 2: not JSON"),
        (lambda lines: [lines[0], "[1]"], "line 2: expected a JSON object"),
        (
            lambda lines: [lines[0], lines[1].replace('"data": "', '"data": "QUJD')],
            "line 2: the data does not match",
        ),
        (
            lambda lines: [lines[0], lines[1].replace('"handle": "headroom:', '"handle": "x')],
            "line 2: handle",
        ),
        (
            lambda lines: [
                lines[0],
                lines[1].replace('"created_at": ', '"created_at": "1", "x": '),
            ],
            "line 2: created_at: expected a number",
        ),
        (lambda lines: [lines[0], lines[1].replace('"data": "', '"data": "!')], "not base64"),
    ],
)
def test_a_malformed_or_altered_file_is_refused_naming_the_line(alter: Any, message: str) -> None:
    lines = alter(_exported("an original"))
    store = MemoryStore()
    with pytest.raises(InvalidArgumentError, match=message):
        import_originals(store, io.StringIO("\n".join(lines) + "\n"))
    assert store.stats().items == 0


def test_the_cli_moves_a_sqlite_store_to_redis(
    redis_url: str, bench_data: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HEADROOM_HOME": str(tmp_path / "home")}
    env.pop("HEADROOM_STORE", None)

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "headroom", *args],
            capture_output=True,
            env=env,
            cwd=REPO_ROOT,
            timeout=120,
        )

    log = bench_data / "loghub" / "OpenSSH_2k.log"
    compressed = run("compress", str(log))
    assert compressed.returncode == 0, compressed.stderr
    handle = compressed.stderr.decode().rsplit("originals: ", 1)[1].strip()
    assert handle == handle_for(read_bench(log))
    dump = tmp_path / "ccr.jsonl"

    exported = run("store", "export", str(dump))
    prefix_url = redis_url.rsplit("/", 1)[0] + "/3"  # a database of its own
    imported = run("--store", prefix_url, "store", "import", str(dump))
    back = run("--store", prefix_url, "retrieve", handle)

    assert exported.returncode == 0 and b"exported 1 originals" in exported.stderr
    assert imported.returncode == 0, imported.stderr
    assert b"imported 1 originals into redis://" in imported.stderr
    assert back.returncode == 0 and back.stdout == log.read_bytes()
