"""One answer to "did Headroom compress this already?", used by the router and the pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from headroom import CompressConfig, compress_text
from headroom.jsontables import encode
from headroom.router import OWN_MARKER, TABLE_DOCUMENT, already_compressed, detect

DOCS = Path(__file__).resolve().parents[2] / "docs"
MARKER = "[187 rows omitted: status=active ×187 · retrieve: headroom:3f9a1c2e4b7d]"
QUERY = "How do I install the server for Claude Code?"


def _config(**options: object) -> CompressConfig:
    return CompressConfig(store="memory", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"output\n{MARKER}", OWN_MARKER),
        (f"```\ndef f():\n    # {MARKER}\n```", OWN_MARKER),  # fences hold our code skeletons
        (f"a marker: `{MARKER}` and then\n{MARKER}", OWN_MARKER),  # one quoted, one ours
        (f"`{MARKER}", OWN_MARKER),  # a backtick on one side only
        (f"Markers look like `{MARKER}` in the output.", None),
        ("no marker at all, just [brackets] and `code`", None),
        (encode([{"id": 1, "ok": True}, {"id": 2, "ok": True}], len), TABLE_DOCUMENT),
    ],
)
def test_already_compressed(text: str, expected: str | None) -> None:
    assert already_compressed(text) == expected


def test_the_router_names_a_table_document_by_the_same_words() -> None:
    table = encode([{"id": n, "state": "open"} for n in range(5)], len)
    route = detect(table)
    assert route.kind == "json"
    assert route.reason.startswith(TABLE_DOCUMENT)


@pytest.mark.parametrize("name", ["mcp.md", "proxy.md"])
def test_a_document_quoting_a_marker_inline_is_compressed(name: str) -> None:
    # These pages show a marker as inline code; the old gate (any marker) left them whole.
    text = (DOCS / name).read_text(encoding="utf-8")
    assert "`[" in text and already_compressed(text) is None
    result = compress_text(text, query=QUERY, config=_config())
    assert result.tokens_after < result.tokens_before
    assert already_compressed(result.text) == OWN_MARKER
    again = compress_text(result.text, query=QUERY, config=_config())
    assert again.text == result.text  # idempotent: now it carries its own marker


@pytest.mark.parametrize("ratio", [None, 0.3])
def test_compressing_a_quoting_document_twice_changes_nothing(ratio: float | None) -> None:
    text = (DOCS / "proxy.md").read_text(encoding="utf-8")
    once = compress_text(text, config=_config(target_ratio=ratio))
    twice = compress_text(once.text, config=_config(target_ratio=ratio))
    assert twice.text == once.text


def test_our_own_output_passes_through() -> None:
    log = "\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO worker {i % 7} done" for i in range(400))
    once = compress_text(log, config=_config())
    assert already_compressed(once.text) == OWN_MARKER
    twice = compress_text(once.text, config=_config())
    assert twice.text == once.text
    assert twice.transforms_applied == []


def test_a_forced_kind_does_not_reopen_a_table_document() -> None:
    # Before the pipeline asked already_compressed, kind="text" pruned this table's rows
    # (1119 -> 124 tokens) though the router calls it compressed.
    rows = [
        {"id": n, "note": f"Record {n} was filed by team {n * 7 % 13}. It covers service {n}."}
        for n in range(60)
    ]
    table = encode(rows, len)
    result = compress_text(table, kind="text", query="service 7", config=_config(min_tokens=0))
    assert result.text == table
