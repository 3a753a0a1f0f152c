"""The conversation engine: each piece compressed once, its exact bytes reused (contract 8)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from headroom import CompressConfig, Headroom, compress_text, retrieve
from headroom.compressors import default_registry
from headroom.engine import Engine, ResultCache
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter
from tests.conftest import read_bench


def _call(i: int, name: str, args: dict[str, str]) -> dict[str, Any]:
    function = {"name": name, "arguments": json.dumps(args)}
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": f"c{i}", "type": "function", "function": function}],
    }


def _result(i: int, text: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": f"c{i}", "content": text}


@pytest.fixture(scope="module")
def conversation(bench_data: Path) -> list[dict[str, Any]]:
    """An agent session over real tool outputs, with a new question every few turns."""
    squad = json.loads(read_bench(bench_data / "squad" / "dev-v2.0.json"))
    paragraphs = [p["context"] for a in squad["data"][:3] for p in a["paragraphs"]]
    return [
        {"role": "system", "content": "You are an agent."},
        {"role": "user", "content": "Which open issues mention the export feature?"},
        _call(1, "http_get", {"url": "https://api.github.com/repos/rails_admin/issues"}),
        _result(1, read_bench(bench_data / "json" / "gh_issues_rails_admin.json")),
        {"role": "assistant", "content": "A long analysis.\n\n" + "\n\n".join(paragraphs[20:28])},
        {"role": "user", "content": "When did the Normans conquer England? Read the page."},
        _call(2, "fetch", {"url": "https://example.org/normans"}),
        _result(2, "\n\n".join(paragraphs[:12])),
        {"role": "assistant", "content": "Summary: " + paragraphs[21]},
        {"role": "user", "content": "What does the HDFS log say about replication errors?"},
        _call(3, "bash", {"command": "cat /var/log/hdfs.log"}),
        _result(3, read_bench(bench_data / "loghub" / "HDFS_2k.log")),
        {"role": "assistant", "content": "Done. " + paragraphs[22]},
        {"role": "user", "content": "Anything about the Super Bowl 50 halftime show?"},
    ]


def _replay(hr_for_turn: Any, conversation: list[dict[str, Any]]) -> list[int]:
    """The request lengths at which an earlier request's output bytes changed."""
    broken = []
    sent: list[Any] | None = None
    for k in range(2, len(conversation) + 1):
        out = hr_for_turn().compress(conversation[:k]).messages
        if sent is not None and out[: len(sent)] != sent:
            broken.append(k)
        sent = out
    return broken


def test_a_growing_conversation_keeps_every_earlier_byte(
    conversation: list[dict[str, Any]],
) -> None:
    hr = Headroom(store="memory")
    assert _replay(lambda: hr, conversation) == []
    saved = hr.compress(conversation)
    assert saved.tokens_after < 0.5 * saved.tokens_before  # the pieces were compressed


def test_a_process_that_never_saw_the_conversation_sends_the_same_tool_results(
    conversation: list[dict[str, Any]],
) -> None:
    # Another proxy worker, or a restart: the query of a tool result is the latest user turn
    # before it, a function of the prefix, so recomputing gives the bytes first sent.
    hr = Headroom(store="memory")
    for k in range(2, len(conversation) + 1):
        seen = hr.compress(conversation[:k]).messages
        fresh = Headroom(store="memory").compress(conversation[:k]).messages
        tools = [i for i, m in enumerate(conversation[:k]) if m["role"] == "tool"]
        assert [fresh[i] for i in tools] == [seen[i] for i in tools]


def test_without_the_engine_a_turn_leaving_the_protected_window_is_rewritten(
    conversation: list[dict[str, Any]],
) -> None:
    # What only the engine's memory keeps stable: a fresh client per request compresses the
    # long assistant turn once it is no longer among the recent ones.
    assert _replay(lambda: Headroom(store="memory"), conversation) != []


def test_a_recent_turn_stays_as_sent_when_it_leaves_the_protected_window(
    conversation: list[dict[str, Any]],
) -> None:
    hr = Headroom(CompressConfig(protect_recent=1), store="memory")
    early = hr.compress(conversation[:5]).messages  # the analysis at [4] is the newest turn
    later = hr.compress(conversation).messages
    assert later[4] == early[4] == conversation[4]
    fresh = Headroom(CompressConfig(protect_recent=1), store="memory")
    assert fresh.compress(conversation).messages[4] != conversation[4]  # would be cut


def test_the_query_is_the_latest_user_turn_when_a_piece_is_first_seen(
    conversation: list[dict[str, Any]],
) -> None:
    hr = Headroom(store="memory")
    first = hr.compress(conversation[:8]).messages[7]
    assert hr.compress(conversation).messages[7] == first
    asked_then = Headroom(store="memory").compress(conversation[:8]).messages[7]
    assert first == asked_then


def test_an_explicit_query_is_another_view(conversation: list[dict[str, Any]]) -> None:
    hr = Headroom(store="memory")
    default = hr.compress(conversation[:8]).messages[7]
    asked = hr.compress(conversation[:8], query="Super Bowl 50 halftime show").messages[7]
    assert asked != default
    assert hr.compress(conversation[:8]).messages[7] == default


def test_repeated_text_is_a_lookup_with_the_same_result(bench_data: Path) -> None:
    hr = Headroom(store="memory")
    log = read_bench(bench_data / "loghub" / "OpenSSH_2k.log")
    first = hr.compress_text(log, tool_name="bash")
    hits = hr.engine.cache.hits
    second = hr.compress_text(log, tool_name="bash")
    assert hr.engine.cache.hits == hits + 1
    assert second == first
    assert hr.compress_text(log, tool_name="bash", query="Failed password").text != first.text


def test_a_lost_original_is_put_back_under_the_same_handle(bench_data: Path) -> None:
    now = [0.0]
    store = MemoryStore(ttl_seconds=60, grace_seconds=0, clock=lambda: now[0])
    hr = Headroom(store=store)
    log = read_bench(bench_data / "loghub" / "Zookeeper_2k.log")
    first = hr.compress_text(log)
    assert first.handles and not first.lossless
    now[0] += 3600  # expired while the conversation went on
    assert all(handle not in store for handle in first.handles)
    again = hr.compress_text(log)
    assert again.text == first.text
    assert retrieve(first.handles[0], client=hr) == log


class _Down(MemoryStore):
    """A store that has lost everything and refuses writes."""

    def put(self, original: str | bytes, *, kind: str) -> str:
        raise OSError("disk full")

    def __contains__(self, handle: object) -> bool:
        return False


def test_a_store_that_cannot_take_the_original_back_gives_the_lossless_result(
    bench_data: Path,
) -> None:
    good = MemoryStore()
    count = get_counter("gpt-4o")
    engine = Engine(CompressConfig(), good, default_registry())
    log = read_bench(bench_data / "loghub" / "Zookeeper_2k.log")
    lossy = engine.compress_text(log, count=count)
    assert not lossy.lossless
    engine.store = _Down()
    fallback = engine.compress_text(log, count=count)
    assert fallback.lossless and fallback.text != lossy.text
    assert any("no longer holds" in w or "failed" in w for w in fallback.warnings)


def test_the_cache_is_bounded_by_entries_and_characters() -> None:
    cache = ResultCache(max_entries=3, max_chars=25)
    engine = Engine(CompressConfig(min_tokens=0), MemoryStore(), default_registry(), cache=cache)
    count = get_counter("gpt-4o")
    for n in range(10):
        engine.compress_text(json.dumps([{"id": i, "n": n} for i in range(40)]), count=count)
    assert len(cache) <= 3
    assert sum(e.size for e in cache._entries.values()) <= 25


def test_pieces_computed_at_once_by_many_threads_get_one_outcome(bench_data: Path) -> None:
    hr = Headroom(store="memory")
    text = read_bench(bench_data / "json" / "gh_issues_rails_admin.json")
    results: list[str] = []

    def work() -> None:
        results.append(hr.compress_text(text, query="export").text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1


def test_module_level_calls_keep_a_bounded_number_of_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import headroom.client

    monkeypatch.setattr(headroom.client, "_clients", OrderedDict())
    for ratio in range(1, 41):  # a config built per call, as some programs do
        compress_text("x " * 300, config=CompressConfig(target_ratio=ratio / 40, store="memory"))
    assert len(headroom.client._clients) == headroom.client._MAX_CLIENTS
    newest = CompressConfig(target_ratio=1.0, store="memory")
    assert next(reversed(headroom.client._clients)) == newest


def test_a_responses_user_item_without_a_type_is_the_question(bench_data: Path) -> None:
    # A Responses input item {"role": "user", "content": [input_text]} has no "type": read
    # on its own it looks like a chat message, whose parts are not input_text.
    question = "Which blocks had replication errors on 10.251.71.16?"
    items = [
        {"role": "user", "content": [{"type": "input_text", "text": question}]},
        {"type": "function_call", "call_id": "c1", "name": "bash", "arguments": "{}"},
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": read_bench(bench_data / "loghub" / "HDFS_2k.log"),
        },
    ]
    implicit = Headroom(store="memory").compress(items).messages[2]
    explicit = Headroom(store="memory").compress(items, query=question).messages[2]
    unasked = Headroom(store="memory").compress(items, query="").messages[2]
    assert implicit == explicit != unasked
