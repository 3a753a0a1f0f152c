"""Store invariants under generated input: byte-exact round trip, both backends agree, and
eviction never takes an original put within the grace period."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from headroom.errors import HandleNotFoundError
from headroom.handles import handle_for, original_bytes
from headroom.store import MemoryStore, SQLiteStore, Store

BACKENDS = ["memory", "sqlite"]

# Lone surrogates included: a str original must survive (see headroom._rawbytes).
texts = st.text(st.characters(exclude_categories=()))
originals = st.one_of(st.binary(), texts)


def as_bytes(original: str | bytes) -> bytes:
    # Escaped bytes (U+DC80..U+DCFF) as the bytes they stand for, other lone surrogates in
    # their surrogatepass spelling: what the CLI read is what is stored.
    return original_bytes(original)


class TickClock:
    """Strictly increasing time, so "least recently used" is never a tie."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def fresh_store(
    backend: str,
    *,
    ttl_seconds: float | None = None,
    max_bytes: int | None = None,
    grace_seconds: float = 0,
    clock: TickClock | None = None,
) -> Iterator[Store]:
    # A temporary directory per example rather than tmp_path: hypothesis runs many examples
    # per function-scoped fixture, and each example needs an empty store.
    clock = clock or TickClock()
    if backend == "memory":
        yield MemoryStore(
            ttl_seconds=ttl_seconds, max_bytes=max_bytes, grace_seconds=grace_seconds, clock=clock
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(
            Path(tmp) / "ccr.sqlite3",
            ttl_seconds=ttl_seconds,
            max_bytes=max_bytes,
            grace_seconds=grace_seconds,
            clock=clock,
        )
        try:
            yield store
        finally:
            store.close()


@pytest.mark.parametrize("backend", BACKENDS)
@settings(deadline=None)
@given(original=originals)
def test_round_trip(backend: str, original: str | bytes) -> None:
    with fresh_store(backend) as store:
        handle = store.put(original, kind="text")
        got = store.get(handle)

    assert handle == handle_for(original)
    assert got.data == as_bytes(original)
    if isinstance(original, str):
        assert got.text == original


@pytest.mark.parametrize("backend", BACKENDS)
@settings(deadline=None)
@given(batch=st.lists(originals, max_size=20))
def test_put_many_then_read_all(backend: str, batch: list[str | bytes]) -> None:
    with fresh_store(backend) as store:
        handles = [store.put(original, kind="text") for original in batch]
        got = [store.get(handle).data for handle in handles]
        stats = store.stats()

    assert got == [as_bytes(original) for original in batch]
    distinct = {as_bytes(original) for original in batch}
    assert stats.items == len(distinct)
    assert stats.bytes == sum(len(data) for data in distinct)


# Small originals and small bounds, so eviction and expiry happen often. A "put" stores a new
# original of 2 + size bytes; "put_again", "get" and "contains" pick an earlier one by index,
# so they hit stored items instead of missing.
operations = st.lists(
    st.tuples(
        st.sampled_from(["put", "put_again", "get", "contains"]),
        st.integers(min_value=0, max_value=12),  # size of a new original
        st.integers(min_value=0, max_value=50),  # which earlier original
        st.integers(min_value=1, max_value=4),  # seconds that pass before the operation
    ),
    max_size=25,
)


# Random sequences rarely line up a recency-sensitive eviction, so the cases that tell LRU from
# FIFO are pinned as examples: with room for two 10-byte originals, touching the older one
# must make the newer one the victim.
@example(
    ops=[("put", 8, 0, 1), ("put", 8, 0, 1), ("get", 0, 0, 1), ("put", 8, 0, 1)],
    max_bytes=20,
    ttl_seconds=None,
    grace_seconds=0,
)
@example(
    ops=[("put", 8, 0, 1), ("put", 8, 0, 1), ("put_again", 0, 0, 1), ("put", 8, 0, 1)],
    max_bytes=20,
    ttl_seconds=None,
    grace_seconds=0,
)
@example(
    ops=[("put", 8, 0, 1), ("put", 8, 0, 4), ("put_again", 0, 0, 4), ("get", 0, 1, 4)],
    max_bytes=None,
    ttl_seconds=10,
    grace_seconds=0,
)
@settings(deadline=None)
@given(
    ops=operations,
    max_bytes=st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    ttl_seconds=st.one_of(st.none(), st.integers(min_value=1, max_value=20)),
    grace_seconds=st.sampled_from([0, 0.5, 3, 10]),
)
def test_backends_agree_on_eviction_and_expiry(
    ops: list[tuple[str, int, int, int]],
    max_bytes: int | None,
    ttl_seconds: int | None,
    grace_seconds: float,
) -> None:
    """Memory and SQLite keep and drop exactly the same originals; bounds and the grace
    period hold: nothing put within ``grace_seconds`` (and not expired) is ever missing, and
    the store exceeds ``max_bytes`` only by originals still within their grace period."""
    clock = TickClock()
    with (
        fresh_store(
            "memory",
            ttl_seconds=ttl_seconds,
            max_bytes=max_bytes,
            grace_seconds=grace_seconds,
            clock=clock,
        ) as mem,
        fresh_store(
            "sqlite",
            ttl_seconds=ttl_seconds,
            max_bytes=max_bytes,
            grace_seconds=grace_seconds,
            clock=clock,
        ) as db,
    ):
        seen: list[bytes] = []
        last_put: dict[bytes, float] = {}
        for op, size, pick, elapsed in ops:
            clock.now += elapsed
            if seen and op != "put":
                data = seen[pick % len(seen)]
            else:
                data = len(seen).to_bytes(2, "big") + b"x" * size
            if op in ("put", "put_again"):
                seen.append(data)
                last_put[data] = clock.now
                handle = mem.put(data, kind="opaque")
                assert db.put(data, kind="opaque") == handle
                assert mem.get(handle).data == db.get(handle).data == data
            elif op == "get":
                results: list[bytes | None] = []
                for store in (mem, db):
                    try:
                        results.append(store.get(handle_for(data)).data)
                    except HandleNotFoundError:
                        results.append(None)
                assert results[0] == results[1]
                assert results[0] in (None, data)
            else:
                assert (handle_for(data) in mem) == (handle_for(data) in db)
            mem_stats, db_stats = mem.stats(), db.stats()
            assert (mem_stats.items, mem_stats.bytes) == (db_stats.items, db_stats.bytes)
            kept = {d for d in seen if handle_for(d) in mem}
            assert kept == {d for d in seen if handle_for(d) in db}
            in_grace = {
                d
                for d, at in last_put.items()
                if at >= clock.now - grace_seconds
                and (ttl_seconds is None or at >= clock.now - ttl_seconds)
            }
            assert in_grace <= kept
            if max_bytes is not None and op in ("put", "put_again"):
                evictable = sum(len(d) for d in kept - in_grace)
                assert db_stats.bytes <= max_bytes or evictable == 0


@pytest.mark.parametrize("backend", BACKENDS)
@settings(deadline=None)
@given(
    calls=st.lists(
        st.lists(st.binary(max_size=30), min_size=1, max_size=6), min_size=1, max_size=8
    ),
    max_bytes=st.integers(min_value=0, max_value=60),
    gap=st.floats(min_value=0, max_value=100),
)
def test_a_call_keeps_every_handle_it_put(
    backend: str, calls: list[list[bytes]], max_bytes: int, gap: float
) -> None:
    """However small ``max_bytes``, every original a call put (one second apart, within the
    grace period) is there when the call ends; ``gap`` seconds pass between calls."""
    clock = TickClock()
    with fresh_store(backend, max_bytes=max_bytes, grace_seconds=30, clock=clock) as store:
        for originals in calls:
            handles = []
            for original in originals:
                clock.now += 1
                handles.append(store.put(original, kind="opaque"))
            assert [store.get(h).data for h in handles] == originals
            clock.now += gap
