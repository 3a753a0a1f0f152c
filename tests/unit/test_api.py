"""The public API: compress_text, retrieve, Headroom, config validation, fail-safe."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

import headroom
from headroom import (
    CompressConfig,
    HandleNotFoundError,
    Headroom,
    InvalidArgumentError,
    UnknownKindError,
    compress,
    compress_text,
    retrieve,
)
from headroom.compressors import Compressed, Context, Registry, default_registry
from headroom.handles import find_markers, handle_for
from headroom.jsontables import decode
from tests.conftest import read_bench

PRETTY = json.dumps([{"id": i, "ok": i % 7 != 0} for i in range(100)], indent=2)


@pytest.fixture
def hr() -> Headroom:
    return Headroom(store="memory")


def test_public_names_are_pinned_and_sorted() -> None:
    def isort_style(name: str) -> tuple[int, str]:  # constants, classes, then the rest
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert headroom.__all__ == sorted(headroom.__all__, key=isort_style)
    assert set(headroom.__all__) == {
        "KINDS",
        "AlignResult",
        "CacheAligner",
        "CompressConfig",
        "CompressResult",
        "ConversationResult",
        "HandleExpiredError",
        "HandleNotFoundError",
        "Headroom",
        "HeadroomError",
        "HeadroomStats",
        "InvalidArgumentError",
        "InvalidMessageError",
        "MemoryStore",
        "PieceDiagnostic",
        "PrunerConfig",
        "RollingSummarizer",
        "SQLiteStore",
        "SharedContext",
        "SharedEntry",
        "SharedKeyError",
        "Store",
        "StoreError",
        "StoreUnavailableError",
        "TextPruner",
        "TextResult",
        "UnknownKindError",
        "__version__",
        "compress",
        "compress_text",
        "count_tokens",
        "normalize_handle",
        "retrieve",
        "retrieve_answer",
        "wrap",
    }


def test_result_fields_match_headroom_ai(hr: Headroom) -> None:
    result = hr.compress([{"role": "tool", "tool_call_id": "t", "content": PRETTY}])
    for name in (
        "messages",
        "tokens_before",
        "tokens_after",
        "tokens_saved",
        "compression_ratio",
        "transforms_applied",
        "handles",
        "warnings",
    ):
        assert hasattr(result, name), name
    assert result.tokens_saved == result.tokens_before - result.tokens_after > 0
    assert result.compression_ratio == round(result.tokens_saved / result.tokens_before, 4)


def test_compress_text_reports_kind_tokens_and_losslessness(hr: Headroom) -> None:
    result = hr.compress_text(PRETTY)
    assert result.kind == "json" and result.lossless
    assert decode(result.text) == json.loads(PRETTY)
    assert result.tokens_after < result.tokens_before
    assert result.handles == [] and result.transforms_applied == ["json.minify", "json.tables"]


def test_lossy_log_compression_stores_original_before_returning(bench_data: Path) -> None:
    hr = Headroom(store="memory")
    original = read_bench(bench_data / "loghub" / "HDFS_2k.log")
    result = hr.compress_text(original)
    assert result.kind == "log" and not result.lossless
    assert result.compression_ratio > 0.9
    markers = find_markers(result.text)
    assert len(markers) == 1 and markers[0].handle == result.handles[0]
    assert markers[0].handle == handle_for(original)
    assert hr.retrieve(result.handles[0]) == original  # byte-exact, CRLF included


def test_log_compressor_keeps_every_distinct_warning_and_error_event(bench_data: Path) -> None:
    from headroom.bench.logs import is_error_row, kept_lines, log_lines

    hr = Headroom(store="memory")
    for path in sorted((bench_data / "loghub").glob("*_2k.log")):
        text = read_bench(path)
        kept = kept_lines(hr.compress_text(text).text)
        structured = path.with_name(path.name + "_structured.csv")
        with structured.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        errors = {row["EventId"] for row in rows if is_error_row(row)}
        shown = {
            row["EventId"] for row, line in zip(rows, log_lines(text), strict=True) if line in kept
        }
        assert errors and errors <= shown, (path.name, sorted(errors - shown))


def test_query_lines_are_kept_verbatim(bench_data: Path) -> None:
    from headroom.bench.logs import kept_lines, log_lines

    text = read_bench(bench_data / "loghub" / "OpenSSH_2k.log")
    out = Headroom(store="memory").compress_text(text, query="173.234.31.186").text
    wanted = [line for line in log_lines(text) if "173.234.31.186" in line][:20]
    assert wanted and set(wanted) <= kept_lines(out)


def test_lossless_config_never_drops(bench_data: Path) -> None:
    hr = Headroom(CompressConfig(lossy=False), store="memory")
    text = read_bench(bench_data / "loghub" / "HDFS_2k.log")
    result = hr.compress_text(text)
    assert result.text == text and result.lossless and result.handles == []


def test_min_tokens_and_disabled_kinds_leave_content_alone(hr: Headroom) -> None:
    small = json.dumps({"a": [1, 2, 3]}, indent=2)
    assert hr.compress_text(small).text == small
    off = Headroom(CompressConfig(disabled_kinds=frozenset({"json"})), store="memory")
    assert off.compress_text(PRETTY).text == PRETTY


def test_explicit_kind_and_unknown_kind(hr: Headroom) -> None:
    # Text without a query and without repeated paragraphs: nothing to prune.
    assert hr.compress_text(PRETTY, kind="text").text == PRETTY
    with pytest.raises(UnknownKindError, match="'yaml'"):
        hr.compress_text(PRETTY, kind="yaml")


class Exploding:
    name = "test.explode"
    kinds = frozenset({"json"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        raise RuntimeError("boom")


class Growing:
    name = "test.grow"
    kinds = frozenset({"json"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        return Compressed(text + " " * 10 + "padding " * 50, self.name, lossless=True)


def test_a_failing_compressor_leaves_content_unchanged_with_a_warning() -> None:
    registry = Registry()
    registry.register(Exploding())
    hr = Headroom(store="memory", registry=registry)
    result = hr.compress([{"role": "tool", "tool_call_id": "x", "content": PRETTY}])
    assert result.messages[0]["content"] == PRETTY
    assert len(result.warnings) == 1
    assert "messages[0].content" in result.warnings[0] and "boom" in result.warnings[0]


def test_a_failing_later_stage_keeps_the_earlier_stages_output() -> None:
    registry = default_registry()
    registry.register(Exploding())
    result = Headroom(store="memory", registry=registry).compress_text(PRETTY)
    assert result.transforms_applied == ["json.minify", "json.tables"] and result.warnings


def test_never_worse_rejects_a_larger_result() -> None:
    registry = Registry()
    registry.register(Growing())
    result = Headroom(store="memory", registry=registry).compress_text(PRETTY)
    assert result.text == PRETTY and result.transforms_applied == []


def test_registry_rejects_non_compressors() -> None:
    with pytest.raises(InvalidArgumentError):
        Registry().register(object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"protect_recent": -1}, "protect_recent"),
        ({"min_tokens": "10"}, "min_tokens"),
        ({"target_ratio": 0}, "target_ratio"),
        ({"target_ratio": 1.5}, "target_ratio"),
        ({"lossy": "yes"}, "lossy"),
        ({"disabled_kinds": frozenset({"yaml"})}, "disabled_kinds"),
        ({"token_counter": 5}, "token_counter"),
    ],
)
def test_bad_config_names_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"CompressConfig.{field}"):
        CompressConfig(**options)


def test_config_is_frozen_and_keyword_only() -> None:
    config = CompressConfig()
    with pytest.raises(AttributeError):
        config.lossy = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        CompressConfig(False)  # type: ignore[misc]


def test_custom_token_counter_is_used() -> None:
    hr = Headroom(CompressConfig(token_counter=lambda t: len(t), min_tokens=0), store="memory")
    result = hr.compress_text(PRETTY)
    assert result.tokens_before == len(PRETTY)
    assert result.tokens_after == len(result.text)


def test_retrieve_with_query_returns_best_matching_sections(bench_data: Path) -> None:
    hr = Headroom(store="memory")
    result = hr.compress_text(read_bench(bench_data / "loghub" / "Zookeeper_2k.log"))
    found = hr.retrieve(result.handles[0], query="Connection broken")
    lines = found.split("\n\n")
    assert 0 < len(lines) <= 20
    assert all("connection" in line.lower() or "broken" in line.lower() for line in lines)
    missing = hr.retrieve(result.handles[0], query="zzzqqq")
    assert missing.startswith("[no part of")


def test_retrieve_json_sections_are_records(bench_data: Path) -> None:
    hr = Headroom(store="memory")
    text = read_bench(bench_data / "json" / "gh_top100_repos.json")
    handle = hr.store.put(text, kind="json")
    found = hr.retrieve(handle, query="tensorflow")
    records = [json.loads(section) for section in found.split("\n\n")]
    assert any("tensorflow" in json.dumps(r).lower() for r in records)


def test_retrieve_errors(hr: Headroom) -> None:
    with pytest.raises(HandleNotFoundError):
        hr.retrieve("headroom:000000000000")
    with pytest.raises(KeyError):
        hr.retrieve("headroom:000000000000")
    with pytest.raises(InvalidArgumentError, match="12 hex"):
        hr.retrieve("not-a-handle")


def test_module_level_functions_share_a_default_store(bench_data: Path) -> None:
    text = read_bench(bench_data / "loghub" / "Apache_2k.log")
    result = compress_text(text)
    assert retrieve(result.handles[0]) == text
    memory = CompressConfig(store="memory")
    messages = [{"role": "tool", "tool_call_id": "1", "content": text}]
    out = compress(messages, config=memory)
    assert retrieve(out.handles[0]) == text  # found in the memory store of that config


def test_stats_accumulate(hr: Headroom) -> None:
    hr.compress_text(PRETTY)
    hr.compress_text(PRETTY)
    stats = hr.stats
    assert stats.calls == 2
    assert stats.by_kind["json"][0] == stats.tokens_before
    assert stats.tokens_saved > 0 and 0 < stats.compression_ratio < 1
    assert hr.usage.totals()["json"].calls == 2


def test_non_string_text_is_rejected(hr: Headroom) -> None:
    with pytest.raises(InvalidArgumentError, match="text: expected str"):
        hr.compress_text(b"bytes")  # type: ignore[arg-type]


def test_pathological_inputs_pass_through(hr: Headroom) -> None:
    for text in [
        "",
        "\x00" * 5000,
        "[" * 50_000 + "]" * 50_000,
        "a\ud800b" * 1000,
        "x" * 1_000_000,
        '{"a": ' * 3000,
    ]:
        result = hr.compress_text(text)
        assert result.tokens_after <= result.tokens_before
        if result.kind in ("opaque", "text"):
            assert result.text == text


def test_module_level_compress_text_takes_detection_hints() -> None:
    source = "x = 1\n" * 300
    assert compress_text(source).kind != "code"
    result = compress_text(source, path="settings.py", tool_name="read_file")
    assert (result.kind, result.language) == ("code", "python")


def test_count_tokens_equals_what_compress_counts_before(hr: Headroom) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What failed?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": PRETTY},
    ]
    assert headroom.count_tokens(messages) == hr.compress(messages).tokens_before
    assert headroom.count_tokens(PRETTY) == hr.compress_text(PRETTY).tokens_before
    assert headroom.count_tokens("abc", token_counter=len) == 3
    with pytest.raises(headroom.InvalidMessageError):
        headroom.count_tokens([{"content": "no role"}])


def test_module_retrieve_reads_a_given_clients_store_first(bench_data: Path) -> None:
    client = Headroom(store="memory")
    # A text no other test compresses, so no shared store holds its handle.
    text = read_bench(bench_data / "loghub" / "Apache_2k.log") + "\n[notice] only in this test"
    handle = client.compress_text(text).handles[0]
    with pytest.raises(HandleNotFoundError):
        retrieve(handle)  # a client made directly is not known to the module functions
    assert retrieve(handle, client=client) == text
