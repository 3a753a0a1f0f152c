"""Properties: nothing changes without a way back, and every way back is byte-exact.

Inputs are built from the shapes that broke these promises: JSON records and JSON Lines
mixed with lines that are not JSON, prose with repeated paragraphs, log lines, odd line
endings and blank lines, bytes that are not UTF-8. Every kind is forced on every input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom
from headroom._rawbytes import from_bytes, to_bytes
from headroom.compressors.json.minify import json_layout, minify_json
from headroom.config import KINDS
from headroom.handles import find_markers, handle_for
from headroom.jsontables import loads
from headroom.store import MemoryStore

RECORD = st.fixed_dictionaries(
    {
        "id": st.integers(0, 10**6),
        "level": st.sampled_from(["INFO", "WARN", "ERROR"]),
        "msg": st.text(st.characters(codec="utf-8"), max_size=30),
        "score": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.none()),
    }
)
JSON_LINE = RECORD.map(json.dumps)
PRETTY_LINE = RECORD.map(lambda r: json.dumps(r, indent=1, ensure_ascii=False))
NOT_JSON = st.sampled_from(
    [
        "goroutine 1 [running]:",
        "\t/app/main.go:12 +0x1d",
        '{"msg": "truncated',
        "[",
        "}",
        '{"a": 1} trailing words',
        "user 1501 logged in",
        "2026-12-04 10:00:00 ERROR db timeout after 30 s",
        "Traceback (most recent call last):",
    ]
)
PROSE = st.sampled_from(
    [
        "The cache was cold, so the first request took four seconds.",
        "Retries doubled the load on the database during the incident.",
        "The fix moved the token refresh before the first call.",
    ]
)
LINE = st.one_of(JSON_LINE, PRETTY_LINE, NOT_JSON, PROSE, st.text(max_size=40))
NEWLINE = st.sampled_from(["\n", "\r\n", "\n\n", "\n \n"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = draw(st.lists(LINE, min_size=1, max_size=60))
    if draw(st.booleans()):  # many copies: long enough to compress, repeated paragraphs
        lines = lines * draw(st.integers(2, 30))
    sep = draw(NEWLINE)
    return draw(st.sampled_from(["", "\n", "  "])) + sep.join(lines) + draw(NEWLINE)


def _json_value(text: str) -> object:
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        return [json.loads(line) for line in stripped.split("\n") if line.strip()]


def _decoded(output: str) -> object:
    try:
        return loads(output)  # a table document, or one JSON document
    except ValueError:
        return _json_value(output)  # minified JSON Lines


@given(documents())
def test_minify_changes_only_json_and_keeps_its_value(text: str) -> None:
    minified = minify_json(text)
    if json_layout(text) is None:
        assert minified == text
    else:
        assert _json_value(minified) == _json_value(text)


@contextmanager
def _client(lossy: bool) -> Iterator[Headroom]:
    hr = Headroom(CompressConfig(min_tokens=0, lossy=lossy), store=MemoryStore())
    try:
        yield hr
    finally:
        hr.close()


@given(documents(), st.sampled_from(["auto", *[k for k in KINDS if k != "opaque"]]), st.booleans())
def test_every_result_is_the_input_or_has_the_exact_input_behind_it(
    text: str, kind: str, lossy: bool
) -> None:
    with _client(lossy) as hr:
        result = hr.compress_text(text, kind=kind, query="timeout")
        if result.lossless:
            assert not result.handles
            if result.text != text:  # only JSON is rewritten losslessly
                assert result.kind == "json"
                assert _decoded(result.text) == _json_value(text)
        else:
            assert lossy and result.handles
            for handle in result.handles:
                assert hr.retrieve(handle) == text
            assert {m.handle for m in find_markers(result.text)} <= set(result.handles)


@given(st.binary(min_size=1, max_size=2000), st.integers(1, 40))
def test_bytes_that_are_not_utf8_keep_their_handle_and_come_back(data: bytes, copies: int) -> None:
    """As the CLI reads a file: the handle is the SHA-256 of the file's own bytes."""
    raw = b"\n".join([b"2026-12-04 10:00:00 INFO request served " + data] * copies)
    text = from_bytes(raw)
    assert to_bytes(text) == raw
    with _client(True) as hr:
        result = hr.compress_text(text)
        for handle in result.handles:
            assert handle == handle_for(raw)
            assert hr.store.get(handle).data == raw
            assert to_bytes(hr.retrieve(handle)) == raw
