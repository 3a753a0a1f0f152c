"""Savings in dollars: the shipped price table and user files over it, the savings report
(today and in total, by model and kind), the upstream's own cached-prefix counts read from
responses as they pass, and ``headroom perf`` against a running proxy."""

from __future__ import annotations

import datetime
import gzip
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import openai
import pytest
from starlette.responses import StreamingResponse

import headroom
from headroom import Headroom, InvalidArgumentError
from headroom.cli import main
from headroom.pricing import ModelTally, load_prices, report
from headroom.proxy.billed import tap, usage_of
from headroom.proxy.inprocess import stats
from headroom.proxy.stats import ProxyStats
from tests.conftest import read_bench
from tests.proxy.test_retrieve_loop import (
    CLAUDE_READ_FILE,
    READ_FILE,
    Scripted,
    _calls,
    _chat_messages,
    _claude_messages,
    _text,
)
from tests.proxy.upstream import Served

SHIPPED = load_prices(environ={})


@pytest.fixture(scope="module")
def hdfs(bench_data: Path) -> str:
    return read_bench(bench_data / "loghub" / "HDFS_2k.log")


@pytest.fixture(scope="module")
def script_server() -> Any:
    scripted = Scripted()
    with Served(scripted.app()) as served:
        scripted.url = served.url
        yield scripted


@pytest.fixture
def script(script_server: Scripted) -> Scripted:
    script_server.script.clear()
    script_server.requests.clear()
    return script_server


# -- the price table ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "table_name"),
    [
        ("gpt-4o", "gpt-4o"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("GPT-5", "gpt-5"),
    ],
)
def test_models_priced_by_name_or_dated_variant(model: str, table_name: str) -> None:
    assert SHIPPED.price(model) == SHIPPED.prices[table_name]


@pytest.mark.parametrize("model", [None, "", "gpt-4oo", "llama-3-70b", "gpt", "claude-sonnet"])
def test_unknown_models_are_not_guessed(model: str | None) -> None:
    assert SHIPPED.price(model) is None


def test_shipped_table_is_dated_and_every_price_sane() -> None:
    datetime.date.fromisoformat(SHIPPED.as_of)
    assert SHIPPED.file is None and "openai.com" in SHIPPED.source
    for name, price in SHIPPED.prices.items():
        assert 0 < price.input < 100, name
        assert price.cached_input is not None and price.cached_input < price.input, name


def test_user_file_over_the_shipped_table(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {"as_of": "2026-12-01", "models": {"gpt-4o": {"input": 10}, "my-llm": {"input": 1}}}
        )
    )
    for table in (
        load_prices(path, environ={}),
        load_prices(environ={"HEADROOM_PRICES": str(path)}),
    ):
        assert table.file == str(path) and table.as_of == "2026-12-01"
        assert table.price("gpt-4o-2024-08-06") == type(table.prices["gpt-4o"])(10.0, None)
        assert table.price("my-llm") is not None
        assert table.price("claude-sonnet-4-5") == SHIPPED.prices["claude-sonnet-4-5"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"prices": {}}', 'expected {"models"'),
        ('{"models": {"gpt-4o": 2.5}}', "models.gpt-4o: expected"),
        ('{"models": {"gpt-4o": {"input": -1}}}', r"models\.gpt-4o\.input: expected a number >= 0"),
        ('{"models": {"gpt-4o": {"input": "2.5"}}}', r"models\.gpt-4o\.input"),
        ('{"models": {"x": {"input": 1, "cached_input": true}}}', r"models\.x\.cached_input"),
    ],
)
def test_bad_price_files_are_refused_by_name(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        load_prices(path)
    assert str(path) in str(caught.value)
    with pytest.raises(InvalidArgumentError, match="cannot be read"):
        load_prices(tmp_path / "missing.json")


def test_report_values_tokens_by_model_and_kind() -> None:
    tallies = {
        "gpt-4o": ModelTally(
            3_000_000, 1_000_000, {"log": (2_000_000, 200_000), "json": (900_000, 700_000)}
        ),
        "claude-sonnet-4-5": ModelTally(1_000_000, 500_000, {"log": (1_000_000, 500_000)}),
        "local-llm": ModelTally(400, 100, {"json": (400, 100)}),
    }
    out = report(tallies, SHIPPED)
    assert out["tokens_saved"] == 2_000_000 + 500_000 + 300
    assert out["usd"] == 2.0 * 2.5 + 0.5 * 3.0  # the unpriced model counts in no dollar
    assert out["usd_at_cached_rate"] == 2.0 * 1.25 + 0.5 * 0.3
    assert out["unpriced"] == ["local-llm"]
    assert out["by_model"]["local-llm"]["usd"] is None
    assert out["by_model"]["gpt-4o"]["by_kind"]["log"] == {"before": 2_000_000, "after": 200_000}
    assert out["by_kind"]["log"] == {
        "tokens_saved": 1_800_000 + 500_000,
        "usd": 1.8 * 2.5 + 0.5 * 3,
    }
    assert out["by_kind"]["json"] == {"tokens_saved": 200_000 + 300, "usd": 0.2 * 2.5}


def test_today_starts_again_at_midnight_utc() -> None:
    day = [datetime.date(2026, 12, 4)]
    counters = ProxyStats(SHIPPED, today=lambda: day[0])
    counters.tokens("gpt-4o", 1000, 200, {"log": (900, 100)})
    day[0] = datetime.date(2026, 12, 5)
    counters.tokens("gpt-4o-2024-08-06", 500, 400, {"json": (300, 200)})
    savings = counters.snapshot([])["savings"]
    assert savings["today"]["date"] == "2026-12-05"
    assert savings["today"]["tokens_saved"] == 100
    assert list(savings["today"]["by_model"]) == ["gpt-4o-2024-08-06"]
    assert savings["total"]["tokens_saved"] == 900
    assert savings["total"]["by_kind"] == {
        "json": {"tokens_saved": 100, "usd": 0.00025},
        "log": {"tokens_saved": 800, "usd": 0.002},
    }


# -- what the upstream says it billed ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "data", "billed"),
    [
        (
            "chat",
            {"usage": {"prompt_tokens": 900, "prompt_tokens_details": {"cached_tokens": 512}}},
            (900, 512),
        ),
        ("chat", {"usage": {"prompt_tokens": 900}}, (900, 0)),
        (
            "responses",
            {
                "type": "response.completed",
                "response": {
                    "usage": {"input_tokens": 70, "input_tokens_details": {"cached_tokens": 64}}
                },
            },
            (70, 64),
        ),
        (
            "anthropic",
            {
                "type": "message_start",
                "message": {
                    "usage": {
                        "input_tokens": 10,
                        "cache_read_input_tokens": 2000,
                        "cache_creation_input_tokens": 300,
                    }
                },
            },
            (2310, 2000),
        ),
        ("chat", {"choices": []}, None),
        ("chat", {"usage": None}, None),
        ("anthropic", ["usage"], None),
    ],
)
def test_usage_read_from_each_wire_format(fmt: Any, data: object, billed: Any) -> None:
    assert usage_of(data, fmt) == billed


def test_tap_reads_gzip_json_and_split_events_without_changing_them() -> None:
    body = json.dumps(
        {"usage": {"prompt_tokens": 4000, "prompt_tokens_details": {"cached_tokens": 3072}}}
    ).encode()
    packed = gzip.compress(body)
    events = (
        b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'
        b'data: {"choices":[],"usage":{"prompt_tokens":50,"prompt_tokens_details":'
        b'{"cached_tokens":32}}}\r\n\r\ndata: [DONE]\n\n'
    )

    async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
        for i in range(0, len(data), size):
            yield data[i : i + size]

    async def relay(
        data: bytes, size: int, headers: dict[str, str]
    ) -> tuple[bytes, list[tuple[int, int]]]:
        seen: list[tuple[int, int]] = []
        response = tap(StreamingResponse(chunks(data, size), headers=headers), "chat", seen.append)
        out = b"".join([bytes(c) async for c in response.body_iterator])  # type: ignore[arg-type]
        return out, seen

    gz = {"content-type": "application/json", "content-encoding": "gzip"}
    assert anyio.run(relay, packed, 7, gz) == (packed, [(4000, 3072)])
    sse = {"content-type": "text/event-stream"}
    assert anyio.run(relay, events, 5, sse) == (events, [(50, 32)])
    br = {"content-type": "application/json", "content-encoding": "br"}  # not read, relayed
    assert anyio.run(relay, b"\x8b\x00", 1, br) == (b"\x8b\x00", [])


def test_cached_prefix_counted_apart_through_the_retrieve_loop(script: Scripted, hdfs: str) -> None:
    script.script[:] = [_calls(None), _text, _text]
    client = headroom.wrap(
        openai.OpenAI(base_url=f"{script.url}/v1", api_key="k", max_retries=0),
        headroom=Headroom(store="memory"),
    )
    client.chat.completions.create(model="gpt-4o", messages=_chat_messages(hdfs), tools=[READ_FILE])  # type: ignore[arg-type, list-item]
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=_chat_messages(hdfs),  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    list(stream)
    snapshot = stats(client)
    # Two rounds answered in-process (usage summed: 2 x 1000 input, 2 x 512 cached), then
    # one streamed request; the scripted upstream reports 512 cached tokens a round.
    assert snapshot["billed"] == {
        "gpt-4o": {"responses": 2, "input_tokens": 3000, "cached_tokens": 1536}
    }
    assert snapshot["savings"]["total"]["by_model"]["gpt-4o"]["tokens_saved"] > 0
    client.close()


def test_anthropic_cache_reads_counted(script: Scripted, hdfs: str) -> None:
    script.script[:] = [_text]
    client = headroom.wrap(
        __import__("anthropic").Anthropic(base_url=script.url, api_key="k", max_retries=0),
        headroom=Headroom(store="memory"),
    )
    client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=64,
        messages=_claude_messages(hdfs),
        tools=[CLAUDE_READ_FILE],
    )
    billed = stats(client)["billed"]
    assert billed == {
        "claude-sonnet-4-5": {"responses": 1, "input_tokens": 1512, "cached_tokens": 512}
    }
    client.close()


# -- headroom perf -----------------------------------------------------------------------------


def test_perf_reports_a_running_proxy(
    start_proxy: Callable[..., Served],
    hdfs: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proxy = start_proxy()
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="k", max_retries=0)
    client.chat.completions.create(model="gpt-4o-2024-08-06", messages=_chat_messages(hdfs))  # type: ignore[arg-type]
    served = httpx.get(f"{proxy.url}/stats").json()
    saved = served["savings"]["total"]["tokens_saved"]
    assert saved > 10_000

    assert main(["perf", "--url", proxy.url]) == 0
    text = capsys.readouterr().out
    assert f"{saved:,}" in text and "prices as of 2025-11-30" in text
    assert f"${saved * 2.5 / 1e6:,.2f}" in text  # gpt-4o's list price
    assert "gpt-4o-2024-08-06" in text and "log" in text
    assert "1,200 input" in text  # what the recording upstream said it billed
    assert "all time, from the store's usage log" in text
    assert (
        f"{served['savings']['stored']['by_kind']['log']['tokens_saved']:,} saved in 1 calls"
        in text
    )
    # By UTC day too, from the same log: today's row sums its kinds.
    (today, kinds), *older = served["savings"]["stored"]["by_day"].items()
    assert today == time.strftime("%Y-%m-%d", time.gmtime()) and not older
    assert kinds["log"] == served["savings"]["stored"]["by_kind"]["log"]
    day_saved = sum(entry["tokens_saved"] for entry in kinds.values())
    assert "by day (UTC), from the store's usage log" in text
    assert f"  {today:22}{day_saved:>14,} saved (" in text

    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"gpt-4o": {"input": 10.0}}}))
    assert main(["perf", "--url", proxy.url, "--prices", str(prices), "--json"]) == 0
    repriced = json.loads(capsys.readouterr().out)
    assert repriced["savings"]["total"]["usd"] == round(saved * 10.0 / 1e6, 6)
    assert repriced["savings"]["total"]["usd_at_cached_rate"] == repriced["savings"]["total"]["usd"]
    assert repriced["savings"]["prices"]["file"] == str(prices)
    assert repriced["billed"] == served["billed"]


def test_perf_without_a_proxy_says_where_it_looked(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert main(["perf", "--url", url]) == 1
    assert f"no proxy stats at {url}/stats" in capsys.readouterr().err


def test_stored_totals_outlive_a_restart(
    start_proxy: Callable[..., Served], hdfs: str, tmp_path: Path
) -> None:
    db = str(tmp_path / "ccr.sqlite3")
    saved = []
    for _ in range(2):  # the same store file, one proxy after the other
        proxy = start_proxy(client=Headroom(store=db))
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="k", max_retries=0)
        client.chat.completions.create(model="gpt-4o", messages=_chat_messages(hdfs))  # type: ignore[arg-type]
        savings = httpx.get(f"{proxy.url}/stats").json()["savings"]
        saved.append(savings["total"]["by_kind"]["log"]["tokens_saved"])
        stored = savings["stored"]
        assert stored["error"] is None
    # This process's counters start again; the store's usage log holds both runs.
    assert saved[0] == saved[1] > 0
    assert stored["by_kind"]["log"]["calls"] == 2
    assert stored["by_kind"]["log"]["tokens_saved"] == 2 * saved[1]


def test_a_long_event_line_is_skipped_not_copied_and_usage_still_found() -> None:
    # An image's base64 arrives as one multi-megabyte "data:" line in small pieces: the
    # reader held and re-split the whole unfinished line for every piece (1.6 s of the event
    # loop for 8 MB). A line longer than any usage event is dropped as it comes, so what is
    # held stays bounded, and the usage event after it is still read.
    from headroom.proxy.billed import _MAX_EVENT_LINE, _Reader

    reader = _Reader("chat", True, None)
    big = b"data: " + b'{"b64": "' + b"A" * 8_000_000 + b'"}\n\n'
    usage = (
        b'data: {"choices": [], "usage": {"prompt_tokens": 120, '
        b'"prompt_tokens_details": {"cached_tokens": 100}}}\n\n'
    )
    stream = big + usage
    held = 0
    for i in range(0, len(stream), 16_384):
        reader.feed(stream[i : i + 16_384])
        held = max(held, len(reader.buffer))
    assert held <= _MAX_EVENT_LINE + 16_384
    assert reader.finish() is not None
