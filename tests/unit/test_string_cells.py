"""Table cells of string columns: the kernel behind ``format_cells`` follows the table
format's own rules (``is_bare`` and the stdlib's JSON string encoder), native or not."""

from __future__ import annotations

import json
import json.encoder
from pathlib import Path

import pytest

from headroom import _core
from headroom.jsontables import encode
from headroom.jsontables.syntax import format_cells

LOOK_ALIKES = ["007", "-1.5e3", "1e5", "-", "0", "1.", "null", "true", "false", "^", "Null"]


@pytest.fixture(params=[True, False], ids=["native", "reference"])
def native_or_not(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    if request.param and not _core.NATIVE_AVAILABLE:
        pytest.skip("headroom._native is not built")
    monkeypatch.setattr(_core, "NATIVE_AVAILABLE", request.param)
    return bool(request.param)


@pytest.mark.usefixtures("native_or_not")
def test_examples_of_each_rule() -> None:
    values = ["main", "a b", " a", "a ", "a|b", '"q"', "@1", "&x", "[a", "{a", "a@b", *LOOK_ALIKES]
    values += ["tab\there", "\x7f", "é\u2028", ""]
    assert _core.string_cells(values) == [
        "main",
        "a b",
        '" a"',
        '"a "',
        '"a|b"',
        '"\\"q\\""',
        '"@1"',
        '"&x"',
        '"[a"',
        '"{a"',
        "a@b",
        "007",
        '"-1.5e3"',
        '"1e5"',
        "-",
        '"0"',
        "1.",
        '"null"',
        '"true"',
        '"false"',
        '"^"',
        "Null",
        '"tab\\there"',
        '"\x7f"',
        "é\u2028",
        '""',
    ]
    # Lone surrogates cannot reach Rust: the reference answers, copying them verbatim.
    assert _core.string_cells(["\ud800", "\udfff ", "a|b"]) == ["\ud800", '"\udfff "', '"a|b"']


@pytest.mark.usefixtures("native_or_not")
@pytest.mark.parametrize("values", [["a", 1], ["a", None], ["\ud800", 2.5], ["a", b"b"]])
def test_a_value_that_is_not_a_str_is_a_type_error(values: list[object]) -> None:
    with pytest.raises(TypeError):
        _core.string_cells(values)  # type: ignore[arg-type]


def test_format_cells_writes_mixed_columns_as_before() -> None:
    assert format_cells(["a", None, "1", 2], lambda _: None) == ["a", "null", '"1"', "2"]
    assert format_cells([], lambda _: None) == []


def test_tables_are_byte_identical_with_and_without_the_native_kernel(
    bench_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _core.NATIVE_AVAILABLE:
        pytest.skip("headroom._native is not built")
    documents = sorted(p for p in (bench_data / "json").glob("*.json") if ".meta." not in p.name)
    assert documents
    values = [json.loads(path.read_text(encoding="utf-8")) for path in documents]
    native = [encode(value, len) for value in values]
    monkeypatch.setattr(_core, "NATIVE_AVAILABLE", False)
    assert [encode(value, len) for value in values] == native
