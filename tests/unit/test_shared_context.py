"""SharedContext: one agent puts a long output under a key, another (another process) gets
the compressed view or the exact original; keys namespaced per app, with a TTL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from headroom import (
    Headroom,
    SharedContext,
    SharedKeyError,
    StoreUnavailableError,
    retrieve,
)
from headroom.errors import HandleExpiredError, InvalidArgumentError
from headroom.handles import find_markers, handle_for
from headroom.store import MemoryStore
from headroom.store.redis import RedisStore
from tests.conftest import REPO_ROOT, RedisServer, read_bench
from tests.unit.test_store import FakeClock

_CHILD = """
import json, sys
from headroom import SharedContext
store, app, key = sys.argv[1:4]
shared = SharedContext(app, store=store)
entry = shared.entry(key)
print(json.dumps({"view": shared.get(key), "full": shared.get(key, full=True),
                  "handle": entry.handle, "tokens": [entry.tokens_before, entry.tokens_after]}))
"""


@pytest.fixture(params=["sqlite", "redis"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "shared.sqlite3")
    url: str = request.getfixturevalue("redis_url")
    return url


def test_another_process_gets_the_view_and_the_exact_original(
    store_spec: str, bench_data: Path
) -> None:
    log = read_bench(bench_data / "loghub" / "OpenSSH_2k.log")
    app = f"pipeline-{uuid4().hex[:6]}"
    writer = SharedContext(app, store=store_spec)

    entry = writer.put("fetch/ssh-log", log, query="Failed password")

    assert entry.handle == handle_for(log) and entry.tokens_after < entry.tokens_before / 2
    assert find_markers(entry.text)  # a lossy view, its omissions retrievable
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, store_spec, app, "fetch/ssh-log"],
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr.decode()
    got = json.loads(child.stdout)
    assert got["view"] == entry.text and got["full"] == log
    assert got["handle"] == entry.handle
    assert got["tokens"] == [entry.tokens_before, entry.tokens_after]
    # The view's markers name the original, which any agent can retrieve.
    assert {m.handle for m in find_markers(entry.text)} == {entry.handle}
    assert retrieve(entry.handle, client=writer.client) == log


def test_keys_are_namespaced_per_app() -> None:
    store = MemoryStore()
    one = SharedContext("a:b", client=Headroom(store=store))
    other = SharedContext("a", client=Headroom(store=store))
    one.put("c", "from app a:b")

    with pytest.raises(SharedKeyError) as caught:
        other.get("b:c")  # the same "a:b:c" spelled across app and key
    assert (caught.value.app, caught.value.key) == ("a", "b:c")
    assert "'b:c'" in str(caught.value) and "'a'" in str(caught.value)
    assert isinstance(caught.value, KeyError)
    assert one.get("c") == "from app a:b"


def test_a_key_expires_after_its_ttl_and_a_put_replaces_it() -> None:
    clock = FakeClock()
    shared = SharedContext("app", client=Headroom(store=MemoryStore(clock=clock)), ttl_seconds=60)
    shared.put("k", "first")
    shared.put("k", "second")
    assert shared.get("k") == "second"

    clock.advance(59)
    assert shared.get("k", full=True) == "second"
    clock.advance(2)
    with pytest.raises(SharedKeyError):
        shared.get("k")


def test_ttl_none_keeps_a_key_until_deleted() -> None:
    clock = FakeClock()
    shared = SharedContext("app", client=Headroom(store=MemoryStore(clock=clock)), ttl_seconds=None)
    shared.put("k", "kept")
    clock.advance(10 * 365 * 86_400)

    assert shared.get("k") == "kept"
    assert shared.delete("k") is True and shared.delete("k") is False
    with pytest.raises(SharedKeyError):
        shared.get("k")


def test_a_key_outliving_its_original_says_the_original_expired() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock, ttl_seconds=100)
    shared = SharedContext("app", client=Headroom(store=store), ttl_seconds=1000)
    shared.put("k", "short-lived original")
    clock.advance(101)

    with pytest.raises(HandleExpiredError):
        shared.get("k")


def test_nothing_is_shared_while_redis_is_down(redis_server: RedisServer) -> None:
    shared = SharedContext("app", store=RedisStore(redis_server.url, timeout_seconds=0.5))
    shared.put("before", "put while the server was up")
    redis_server.kill()

    with pytest.raises(StoreUnavailableError, match=redis_server.url):
        shared.put("during", "a long output " * 200)
    with pytest.raises(StoreUnavailableError):
        shared.get("before")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"app": ""}, "app: expected a non-empty str"),
        ({"app": 3}, "app: expected a non-empty str"),
        ({"app": "a", "ttl_seconds": 0}, "ttl_seconds"),
        ({"app": "a", "client": "memory"}, "client: expected a Headroom"),
        ({"app": "a", "store": "memory", "client": Headroom(store="memory")}, "not both"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        SharedContext(**kwargs)


def test_bad_keys_and_content_are_named() -> None:
    shared = SharedContext("app", store="memory")
    with pytest.raises(InvalidArgumentError, match="key: expected a non-empty str"):
        shared.put("", "x")
    with pytest.raises(InvalidArgumentError, match="content: expected str, got bytes"):
        shared.put("k", b"x")  # type: ignore[arg-type]
