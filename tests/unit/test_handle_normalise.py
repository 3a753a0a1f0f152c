"""Handles as models write them: normalised where they can be, a clear error where not.

``normalize_handle`` is the one reader of handle text; ``headroom.retrieve``,
``Headroom.retrieve``, the CLI and the adapters' retrieve tools all go through it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom import (
    HandleNotFoundError,
    Headroom,
    InvalidArgumentError,
    normalize_handle,
    retrieve,
)
from headroom.handles import is_handle

H = "headroom:3f9a1c2e4b7d"
MARKER = "[187 rows omitted: status=active ×187 · retrieve: headroom:3f9a1c2e4b7d]"

NORMALISED = [
    H,
    "3f9a1c2e4b7d",
    "HEADROOM:3F9A1C2E4B7D",
    "Headroom:3f9A1c2E4b7D",
    "3F9A1C2E4B7D",
    f"  {H}\n",
    f"\t{H}\r\n",
    f"'{H}'",
    f'"{H}"',
    f"`{H}`",
    f"```{H}```",
    f"{H}]",
    f"{H}.",
    f"{H}.]",
    f"({H})",
    f"<{H}>",
    f"**{H}**",
    "'3f9a1c2e4b7d'",
    "3f9a1c2e4b7d]",
    "headroom: 3f9a1c2e4b7d",
    "headroom :3f9a1c2e4b7d",
    MARKER,
    MARKER.upper(),
    f"retrieve: {H}",
    f"Please retrieve {H} for me.",
    f"{H} and again {H}",
    f"{MARKER}\n{MARKER}",
    f"handle={H}",
    f"\u00a0{H}\u00a0",
]

NOT_A_HANDLE: list[object] = [
    "",
    "   ",
    "headroom:",
    "headroom:3f9a1c2e4b7",  # 11 digits
    "headroom:3f9a1c2e4b7d0",  # 13 digits
    "headroom:3f9a1c2e4b7g",
    "3f9a1c2e4b7d3f9a1c2e4b7d",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  # a full SHA-256
    "headroom:3f9a1c2e4b7dxyz",
    "headroomx3f9a1c2e4b7d",
    "the number 123456789012 in a sentence",
    "headroom:aaaaaaaaaaaa and headroom:bbbbbbbbbbbb",
    "[2 rows omitted · retrieve: headroom:aaaaaaaaaaaa] "
    "[3 rows omitted · retrieve: headroom:bbbbbbbbbbbb]",
    "not a handle",
    None,
    5,
    b"headroom:3f9a1c2e4b7d",
    [H],
]


@pytest.mark.parametrize("text", NORMALISED)
def test_loose_handles_are_normalised(text: str) -> None:
    assert normalize_handle(text) == H


@pytest.mark.parametrize("text", NOT_A_HANDLE)
def test_what_is_not_one_handle_is_none(text: object) -> None:
    assert normalize_handle(text) is None


@given(st.text())
def test_normalize_handle_is_total_and_idempotent(text: str) -> None:
    found = normalize_handle(text)
    assert found is None or (is_handle(found) and normalize_handle(found) == found)


@given(st.from_regex(r"[0-9a-fA-F]{12}", fullmatch=True), st.sampled_from(["", "headroom:"]))
def test_any_case_and_prefix(digits: str, prefix: str) -> None:
    assert normalize_handle(f" `{prefix}{digits}`. ") == "headroom:" + digits.lower()


def test_linear_on_long_adversarial_text() -> None:
    # Would be slow if any pattern backtracked quadratically; finishes in milliseconds.
    for text in ("headroom: " * 200_000, " " * 1_000_000 + "x", "a" * 1_000_000):
        assert normalize_handle(text) is None


# --- the library entry points ----------------------------------------------------------------


@pytest.fixture
def stored() -> tuple[Headroom, str, str]:
    hr = Headroom(store="memory")
    text = "\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO worker {i} done" for i in range(400))
    handle = hr.compress_text(text).handles[0]
    return hr, handle, text


def _loose_forms(handle: str) -> list[str]:
    digits = handle.removeprefix("headroom:")
    return [
        digits,
        handle.upper(),
        f"`{handle}`",
        f" '{handle}'\n",
        f"{handle}]",
        f"{handle}.",
        f"[400 lines omitted: INFO ×400 · retrieve: {handle}]",
        f"Retrieve {handle} please",
    ]


def test_client_and_module_retrieve_accept_loose_handles(
    stored: tuple[Headroom, str, str],
) -> None:
    hr, handle, text = stored
    for loose in _loose_forms(handle):
        assert hr.retrieve(loose) == text
        assert retrieve(loose, client=hr) == text
    assert "worker 7 done" in hr.retrieve(handle.upper(), query="worker 7")


@pytest.mark.parametrize("bad", ["", "nonsense", "headroom:123", f"{H} {H[:-1]}0"])
def test_what_cannot_be_normalised_raises_saying_what_a_handle_is(bad: str) -> None:
    hr = Headroom(store="memory")
    for call in (lambda: hr.retrieve(bad), lambda: retrieve(bad, client=hr)):
        with pytest.raises(InvalidArgumentError) as info:
            call()
        message = str(info.value)
        assert message.startswith("handle: ")
        assert "'headroom:' followed by 12 hex digits" in message and "marker" in message


def test_several_handles_are_named_as_such() -> None:
    with pytest.raises(InvalidArgumentError, match="names 2 different handles"):
        Headroom(store="memory").retrieve("headroom:aaaaaaaaaaaa or headroom:bbbbbbbbbbbb")


def test_unknown_handle_still_raises_not_found() -> None:
    with pytest.raises(HandleNotFoundError) as info:
        Headroom(store="memory").retrieve("ABCDEFABCDEF")
    assert info.value.handle == "headroom:abcdefabcdef"


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_retrieve_accepts_loose_handles(tmp_path: Path) -> None:
    env = {**os.environ, "HEADROOM_HOME": str(tmp_path)}
    text = "\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO worker {i} done" for i in range(400))
    (tmp_path / "app.log").write_text(text)

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "headroom", *args], capture_output=True, env=env, check=False
        )

    compressed = run("compress", str(tmp_path / "app.log"))
    handle = compressed.stderr.decode().rsplit("originals: ", 1)[1].strip()
    for loose in (handle.upper(), f"[400 lines omitted · retrieve: {handle}]"):
        out = run("retrieve", loose)
        assert out.returncode == 0, out.stderr
        assert out.stdout.decode().rstrip("\n") == text
    bad = run("retrieve", "nonsense")
    assert bad.returncode == 1 and b"12 hex digits" in bad.stderr
