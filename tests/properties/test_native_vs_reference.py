"""Differential tests: the Rust kernels return exactly what the Python reference returns.

The native module is called directly here (not through ``headroom._core``) so that a native
failure cannot hide behind ``_core``'s fallback to the reference.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from headroom import _core, _reference

ALLOW_PURE_PYTHON = os.environ.get("HEADROOM_ALLOW_PURE_PYTHON") == "1"

needs_native = pytest.mark.skipif(
    not _core.NATIVE_AVAILABLE,
    reason="headroom._native is not built, so there is nothing to compare the reference with "
    "(build it with `maturin develop`)",
)


def native() -> ModuleType:
    from headroom import _native

    return _native


SEPARATORS = " \t\n\r\x0b\x0c,;=()[]{}<>\"'|"

# Characters the rules single out, their look-alikes, and multi-byte UTF-8 of every length.
interesting_chars = st.sampled_from(
    [
        *SEPARATORS,
        *"0123456789",
        "/",
        "/",  # twice: a path needs two
        "*",
        "a",
        "Z",
        "_",
        "-",
        ".",
        ":",
        "\x00",
        "\x1c",  # ASCII "file separator": whitespace to str.split, a token character here
        "\x85",  # NEL: Unicode whitespace, token character
        "\u00a0",  # no-break space
        "\u2028",  # line separator
        "\u3000",  # ideographic space
        "é",
        "ß",
        "٣",  # Arabic-Indic digit three: Unicode digit, not ASCII
        "５",  # fullwidth digit five
        "𝟘",  # mathematical double-struck zero
        "／",  # fullwidth solidus
        "😀",
        "\u200d",  # zero-width joiner
        "💻",
    ]
)

lines_interesting = st.text(alphabet=interesting_chars, max_size=80)
# Any Unicode scalar value: everything Rust can receive.
lines_encodable = st.text(alphabet=st.characters(exclude_categories=["Cs"]))
# Hypothesis' default alphabet, lone surrogates included.
lines_any = st.text()

lines = st.one_of(lines_interesting, lines_encodable)
line_lists = st.lists(lines, max_size=30) | st.lists(
    st.sampled_from(["a 1", "a 2", "b", "", "/x/y", "/x", "c=3;d=4"]), max_size=30
)


def has_lone_surrogate(s: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in s)


@needs_native
@given(lines)
def test_mask_line(line: str) -> None:
    assert native().mask_line(line) == _reference.mask_line(line)


@needs_native
@given(line_lists)
def test_mask_lines(lines: list[str]) -> None:
    assert native().mask_lines(lines) == _reference.mask_lines(lines)


@needs_native
@given(line_lists)
def test_group_templates(lines: list[str]) -> None:
    assert native().group_templates(lines) == _reference.group_templates(lines)


@needs_native
@given(st.lists(lines_any, max_size=10))
def test_core_equals_reference_for_every_str(lines: list[str]) -> None:
    for line in lines:
        assert _core.mask_line(line) == _reference.mask_line(line)
    assert _core.mask_lines(lines) == _reference.mask_lines(lines)
    assert _core.group_templates(lines) == _reference.group_templates(lines)
    # The native side agrees whenever it can receive the input at all.
    if not any(has_lone_surrogate(line) for line in lines):
        assert native().mask_lines(lines) == _reference.mask_lines(lines)
    else:
        with pytest.raises(UnicodeEncodeError):
            native().mask_lines(lines)


@given(lines_interesting)
def test_reference_is_idempotent_and_round_trips(line: str) -> None:
    template, values = _reference.mask_line(line)
    assert _reference.mask_line(template) == (template, [])
    assume("<*>" not in line)  # a literal wildcard in the input cannot be told apart
    parts = template.split("<*>")
    assert parts[0] + "".join(v + p for v, p in zip(values, parts[1:], strict=True)) == line


def test_native_extension_is_built() -> None:
    if ALLOW_PURE_PYTHON:
        pytest.skip("HEADROOM_ALLOW_PURE_PYTHON=1: running without the native extension")
    assert _core.NATIVE_AVAILABLE, (
        "headroom._native could not be imported: build it with `maturin develop --release`, "
        "or set HEADROOM_ALLOW_PURE_PYTHON=1 to test the pure-Python fallback on purpose"
    )
