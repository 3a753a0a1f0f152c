"""The proxy's small pure parts: upstream URLs, header filtering, settings and env vars,
workers' counts summed."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from headroom.proxy.forward import request_headers, upstream_url
from headroom.proxy.settings import ProxySettings, is_loopback
from headroom.proxy.stats import ProxyStats
from headroom.proxy.workers import WorkerBoard


@pytest.mark.parametrize(
    ("base", "path", "query", "url"),
    [
        (
            "https://api.openai.com",
            b"/v1/chat/completions",
            b"",
            "https://api.openai.com/v1/chat/completions",
        ),
        (
            "https://api.openai.com/v1",
            b"/v1/models",
            b"limit=2",
            "https://api.openai.com/v1/models?limit=2",
        ),
        ("https://api.openai.com/v1/", b"/v1/models", b"", "https://api.openai.com/v1/models"),
        (
            "https://gw.example/openai",
            b"/v1/responses",
            b"",
            "https://gw.example/openai/v1/responses",
        ),
        ("http://127.0.0.1:9", b"/a%2Fb", b"q=%20x&q=2", "http://127.0.0.1:9/a%2Fb?q=%20x&q=2"),
    ],
)
def test_upstream_url(base: str, path: bytes, query: bytes, url: str) -> None:
    assert upstream_url(base, path, query) == url


def test_request_headers_drop_hop_by_hop_and_own() -> None:
    raw = [
        (b"Host", b"127.0.0.1:8787"),
        (b"Connection", b"keep-alive, X-Hop"),
        (b"x-hop", b"1"),
        (b"Expect", b"100-continue"),
        (b"Authorization", b"Bearer sk-1"),
        (b"x-api-key", b"sk-ant"),
        (b"anthropic-beta", b"a,b"),
        (b"Transfer-Encoding", b"chunked"),
        (b"x-headroom-key", b"k"),
        (b"X-Headroom-Bypass", b"1"),
        (b"content-length", b"12"),
        (b"openai-organization", b"org"),
    ]
    kept = [
        (b"Authorization", b"Bearer sk-1"),
        (b"x-api-key", b"sk-ant"),
        (b"anthropic-beta", b"a,b"),
        (b"openai-organization", b"org"),
    ]
    assert request_headers(raw) == kept
    assert request_headers(raw, keep_length=True) == [
        *kept[:3],
        (b"content-length", b"12"),
        kept[3],
    ]


def test_settings_round_trip_through_the_environment() -> None:
    settings = ProxySettings(
        host="0.0.0.0",
        port=9000,
        workers=3,
        openai_upstream="http://a:1",
        anthropic_upstream="http://b:2",
        api_key="k",
        insecure=True,
        max_body_bytes=10,
        timeout=2.5,
        store="/tmp/s.db",
    )
    assert ProxySettings.from_env(settings.to_env()) == settings
    assert ProxySettings.from_env({}) == ProxySettings()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert (ProxySettings(host=host).problem() is None) is loopback
    assert ProxySettings(host=host, api_key="k").problem() is None
    assert ProxySettings(host=host, insecure=True).problem() is None


def test_worker_counts_sum_into_one_snapshot(tmp_path: Path) -> None:
    today, yesterday = datetime.date(2026, 12, 5), datetime.date(2026, 12, 4)
    answering = ProxyStats(today=lambda: today)
    other = ProxyStats(today=lambda: today)
    stale = ProxyStats(today=lambda: yesterday)  # has not counted anything since midnight
    for stats, before in ((answering, 100), (other, 50), (stale, 30)):
        stats.request("chat_completions")
        stats.outcome("compressed")
        stats.tokens("gpt-4o", before, before // 2, {"log": (before, before // 2)})
        stats.billed_usage("gpt-4o", 1000, 200)
    other.upstream_error("upstream_timeout")
    board = WorkerBoard(tmp_path, pid=1)
    for pid, stats in ((2, other), (3, stale)):
        WorkerBoard(tmp_path, pid=pid).publish(stats.counts([]))
    (tmp_path / "4.json").write_text("{not json")  # a broken file is left out, not fatal
    board.publish(answering.counts([]))  # its own file is not read back: it is live
    snap = answering.snapshot([], board.peers())
    assert snap["workers"] == 3
    assert snap["requests"] == {"total": 3, "by_route": {"chat_completions": 3}}
    assert snap["tokens"] == {"before": 180, "after": 90, "saved": 90}
    assert snap["savings"]["total"]["by_kind"]["log"]["tokens_saved"] == 90
    assert snap["upstream_errors"] == {"upstream_timeout": 1}
    assert snap["billed"]["gpt-4o"] == {"responses": 3, "input_tokens": 3000, "cached_tokens": 600}
    assert snap["savings"]["total"]["tokens_saved"] == 90
    assert snap["savings"]["today"]["date"] == "2026-12-05"
    assert snap["savings"]["today"]["tokens_saved"] == 75  # the stale worker's day is over
    # Summing never changes what it was given.
    assert other.snapshot([])["tokens"] == {"before": 50, "after": 25, "saved": 25}


def test_counts_change_marker_moves_with_every_counter() -> None:
    stats = ProxyStats()
    seen = [stats.changes]
    for bump in (
        lambda: stats.request("x"),
        lambda: stats.outcome("compressed"),
        lambda: stats.tokens(None, 2, 1),
        lambda: stats.billed_usage(None, 1, 0),
        lambda: stats.warn(),
        lambda: stats.upstream_error("upstream_unreachable"),
    ):
        bump()
        seen.append(stats.changes)
    assert seen == sorted(set(seen))


def test_bodies_are_read_and_written_as_the_json_module_would() -> None:
    # orjson writes the bodies and the json module reads them (orjson reads a 30-digit
    # integer as a float); a body with NaN, which orjson would write as null, is refused,
    # so it goes out as sent.
    import json

    from headroom.proxy.wire import dump, loads

    body = {
        "model": "gpt-4o",
        "temperature": 0.7,
        "messages": [{"role": "user", "content": "é\u2028\x1f"}],
    }
    assert (
        dump(loads(json.dumps(body).encode()))
        == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    )
    huge = b'{"seed": 123456789012345678901234567890, "messages": []}'
    assert loads(huge)["seed"] == 123456789012345678901234567890
    assert dump(loads(huge)) == b'{"seed":123456789012345678901234567890,"messages":[]}'
    lone = b'{"messages": [{"role": "user", "content": "\\ud800"}]}'
    assert dump(loads(lone)) == b'{"messages":[{"role":"user","content":"\\ud800"}]}'
    with pytest.raises(ValueError, match="NaN"):
        loads(b'{"temperature": NaN}')


@pytest.mark.parametrize("later", ["x\ud800", 2**70])
def test_a_later_message_orjson_refuses_leaves_the_earlier_bytes_as_they_were(
    later: object,
) -> None:
    # The prompt-cache contract: a float below 1e-4 and non-ASCII text in an earlier message
    # are written the same way whether or not a later message needs the json module.
    from headroom.proxy.wire import dump

    earlier = [
        {"role": "assistant", "content": [{"type": "tool_use", "input": {"eps": 1e-05}}]},
        {"role": "user", "content": "é  "},
    ]
    alone = dump({"messages": earlier})
    grown = dump({"messages": [*earlier, {"role": "user", "content": later}]})
    assert grown.startswith(alone[: -len(b"]}")] + b",")
    assert json.loads(grown) == {"messages": [*earlier, {"role": "user", "content": later}]}


def test_a_worker_file_of_an_unexpected_shape_is_left_out_of_the_sum() -> None:
    from headroom.proxy.stats import merge_counts

    ours = {"workers": 1, "requests": {"chat": 2}, "cache": [1, 0, 1], "day": "2026-12-05"}
    odd: list[dict[str, object]] = [{}, {"cache": [1, 2]}, {"requests": "many"}]
    merged = merge_counts([ours, *odd])
    assert merged["workers"] == 1 and merged["requests"] == {"chat": 2}
    assert merged["cache"] == [1, 0, 1]
