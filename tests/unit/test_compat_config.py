"""Code written against headroom-ai's documented options runs here with the same meaning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headroom import CompressConfig, Headroom, InvalidArgumentError, PieceDiagnostic, compress
from tests.conftest import read_bench


def _session(bench_data: Path) -> list[dict[str, Any]]:
    log = read_bench(bench_data / "loghub" / "HDFS_2k.log")
    system = "You are a careful SRE assistant. " + " ".join(
        f"Rule {i}: answer with evidence from the logs and cite the block id." for i in range(80)
    )
    call = {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "Which blocks failed to replicate?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": log},
    ]


def test_the_snippet_from_articles_runs(bench_data: Path) -> None:
    config = CompressConfig(
        compress_user_messages=True,
        target_ratio=0.5,
        protect_recent=0,
        kompress_model="default",
    )
    result = compress(_session(bench_data), model="gpt-4o", config=config)
    assert result.tokens_after < result.tokens_before
    assert not result.lossless  # the log lost lines to a marker
    assert [d.where for d in result.diagnostics][-1] == "messages[3].content"


def test_min_tokens_to_compress_is_min_tokens() -> None:
    assert CompressConfig(min_tokens_to_compress=50).min_tokens == 50
    with pytest.raises(InvalidArgumentError, match="another name for min_tokens"):
        CompressConfig(min_tokens=10, min_tokens_to_compress=50)


@pytest.mark.parametrize(
    ("option", "nearest"),
    [("kompres_model", "kompress_model"), ("protect_recnt", "protect_recent"), ("ratio", None)],
)
def test_an_unknown_option_is_named_with_the_nearest_valid_one(
    option: str, nearest: str | None
) -> None:
    with pytest.raises(InvalidArgumentError, match=repr(option)) as caught:
        CompressConfig(**{option: 1})
    assert (nearest or "known:") in str(caught.value)


def test_system_prompts_are_compressed_only_when_asked(bench_data: Path) -> None:
    messages = _session(bench_data)
    messages[0]["content"] = read_bench(bench_data / "loghub" / "OpenSSH_2k.log")
    kept = Headroom(store="memory").compress(messages)
    assert kept.messages[0] == messages[0]
    asked = Headroom(CompressConfig(compress_system_messages=True), store="memory")
    assert asked.compress(messages).messages[0] != messages[0]


def test_frozen_messages_are_never_touched(bench_data: Path) -> None:
    messages = _session(bench_data)
    hr = Headroom(CompressConfig(frozen_message_count=4), store="memory")
    result = hr.compress(messages)
    assert result.messages == messages and result.lossless
    assert Headroom(store="memory").compress(messages).messages[3] != messages[3]


def test_diagnostics_say_what_happened_to_each_piece(bench_data: Path) -> None:
    messages = _session(bench_data)
    messages.append({"role": "user", "content": "thanks"})
    call = {"id": "c2", "type": "function", "function": {"name": "http_get", "arguments": "{}"}}
    rows = json.dumps([{"id": i, "ok": True} for i in range(50)], indent=2)
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c2", "content": rows},
    ]
    result = Headroom(store="memory").compress(messages)
    by_where = {d.where: d for d in result.diagnostics}
    log, table = by_where["messages[3].content"], by_where["messages[6].content"]
    assert isinstance(log, PieceDiagnostic)
    assert (log.kind, log.lossless, bool(log.handles)) == ("log", False, True)
    assert (table.kind, table.lossless, table.handles) == ("json", True, [])
    assert table.tokens_after < table.tokens_before
    assert sum(d.tokens_before - d.tokens_after for d in result.diagnostics) == (
        result.tokens_saved
    )
    assert not result.lossless
