"""DiffCompressor on real ``git diff`` and ``diff -ru`` output: every change survives, the
trimmed diff is what ``git diff -U1`` prints and still applies."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from headroom import CompressConfig, Headroom
from headroom.compressors.diff.compressor import DiffCompressor
from headroom.store.memory import MemoryStore
from tests.command_outputs import (
    DIFF_FIXTURES,
    PATHOLOGICAL,
    context,
    marker_summary,
    run,
    tool_output,
)
from tests.conftest import REPO_ROOT

COMPRESSOR = DiffCompressor()
_FILE_HEADER_RE = re.compile(r"(?:---|\+\+\+) (?:a/|b/|/dev/null|\S+\t)|(?:---|\+\+\+) \S+$")
_GENERATED = ("Cargo.lock", "PKG-INFO", ".egg-info/")
# Two commits of this repository and files changed (not only added) between them.
_OLD, _NEW = "03aa10d", "40768ee"
_HISTORY_FILES = ["headroom/router.py", "headroom/pipeline.py", "headroom/client.py"]


def sections(text: str) -> list[tuple[str, list[str]]]:
    """(first line, lines) of each part of a diff that starts with a ``diff`` line."""
    out: list[tuple[str, list[str]]] = [("", [])]
    for line in text.split("\n"):
        if line.startswith("diff "):
            out.append((line, []))
        out[-1][1].append(line)
    return out


def changes(text: str) -> list[str]:
    """The ``+``/``-`` lines of the parts of a diff that are not lock or generated files."""
    return [
        line
        for first, lines in sections(text)
        if not any(g in first for g in _GENERATED)
        for line in lines
        if line[:1] in "+-" and not _FILE_HEADER_RE.match(line)
    ]


@pytest.mark.parametrize("name", DIFF_FIXTURES)
def test_every_change_survives_verbatim_and_in_order(name: str) -> None:
    text = tool_output(name)
    out = run(COMPRESSOR, text, "diff").text
    assert changes(out) == changes(text)


@pytest.mark.parametrize("name", DIFF_FIXTURES)
def test_every_file_header_survives_or_is_summarised(name: str) -> None:
    text = tool_output(name)
    out = run(COMPRESSOR, text, "diff").text
    kept = set(out.split("\n"))
    for first, lines in sections(text)[1:]:
        paths = first.split()[-2:]
        if any(g in first for g in _GENERATED):
            assert any(
                line.startswith(paths[1].removeprefix("b/") + ": lock/generated") for line in kept
            )
        elif "similarity index 100%" in lines:
            assert any(" => " in line and line.endswith("content unchanged") for line in kept)
        else:
            assert all(line in kept for line in lines if _FILE_HEADER_RE.match(line)), first
            assert first in kept
    assert all(line in kept for line in text.split("\n") if line.startswith("Only in "))


def test_lock_files_are_one_line() -> None:
    text = tool_output("git_diff_headroom_native_kernel.txt")
    out = run(COMPRESSOR, text, "diff").text
    assert "native/Cargo.lock: lock/generated file, +132 -0 lines, diff omitted" in out
    assert 'name = "pyo3"' in text and 'name = "pyo3"' not in out
    assert "1 lock/generated file" in marker_summary(out)


def test_generated_metadata_of_sdists_is_one_line() -> None:
    out = run(COMPRESSOR, tool_output("diff_ru_six_1.15.0_1.16.0.txt"), "diff").text
    assert "six-1.16.0/PKG-INFO: lock/generated file, +1 -1 lines, diff omitted" in out
    assert "six-1.16.0/six.egg-info/PKG-INFO: lock/generated file, +1 -1 lines" in out


def test_unchanged_renames_are_one_line_and_small_diffs_keep_context() -> None:
    text = tool_output("git_diff_six_moves.txt")
    out = run(COMPRESSOR, text, "diff").text
    for source, target in [
        ("six.py", "src/six.py"),
        ("test_six.py", "tests/test_six.py"),
        ("documentation/conf.py", "docs/conf.py"),
    ]:
        assert f"{source} => {target}: renamed, content unchanged" in out
    assert "rename from six.py" not in out
    assert out.startswith(text.split("\ndiff --git a/documentation")[0])  # CHANGES untouched
    assert "5 unchanged renames" in marker_summary(out)


def test_renames_with_edits_keep_their_headers() -> None:
    out = run(COMPRESSOR, tool_output("git_diff_pluggy_0.13.1_1.0.0.txt"), "diff").text
    assert "rename from src/pluggy/hooks.py\nrename to src/pluggy/_hooks.py" in out


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def history() -> None:
    if (
        shutil.which("git") is None
        or subprocess.run(
            ["git", "-C", str(REPO_ROOT), "cat-file", "-e", f"{_OLD}^{{commit}}"],
            capture_output=True,
        ).returncode
    ):
        pytest.skip("this repository's history is not available")


@pytest.mark.usefixtures("history")
def test_trimmed_context_is_what_git_diff_U1_prints() -> None:
    u3 = _git("diff", "-U3", _OLD, _NEW, "--", *_HISTORY_FILES)
    u1 = _git("diff", "-U1", _OLD, _NEW, "--", *_HISTORY_FILES)
    out = run(COMPRESSOR, u3, "diff").text
    body = out[: out.rindex("[")]

    def without_headings(diff: str) -> list[str]:
        # git names the enclosing function after "@@" for each hunk it cuts; that name is
        # not recomputed for the hunks a cut hunk is split into.
        return [re.sub(r"^(@@ [^@]+ @@).*", r"\1", line) for line in diff.split("\n")]

    assert without_headings(body) == without_headings(u1)
    assert "unchanged context lines" in marker_summary(out)


@pytest.mark.usefixtures("history")
def test_trimmed_diff_still_applies(tmp_path: Path) -> None:
    u3 = _git("diff", "-U3", _OLD, _NEW, "--", *_HISTORY_FILES)
    out = run(COMPRESSOR, u3, "diff").text
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for path in _HISTORY_FILES:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(_git("show", f"{_OLD}:{path}"))
    patch = tmp_path / "trimmed.diff"
    patch.write_text(out[: out.rindex("[")])
    subprocess.run(["git", "-C", str(tmp_path), "apply", str(patch)], check=True)
    for path in _HISTORY_FILES:
        assert (tmp_path / path).read_text() == _git("show", f"{_NEW}:{path}")


@pytest.mark.parametrize("name", DIFF_FIXTURES)
def test_original_round_trips_through_the_store(name: str) -> None:
    text = tool_output(name)
    hr = Headroom(CompressConfig(min_tokens=0), store="memory")
    result = hr.compress_text(text)
    assert result.kind == "diff" and result.transforms_applied == ["diff.context"]
    assert result.tokens_after < result.tokens_before
    assert [hr.retrieve(h) for h in result.handles] == [text]
    assert hr.compress_text(result.text).text == result.text


@pytest.mark.parametrize("name", DIFF_FIXTURES)
def test_deterministic_and_idempotent(name: str) -> None:
    text = tool_output(name)
    first = run(COMPRESSOR, text, "diff")
    assert run(COMPRESSOR, text, "diff", store=MemoryStore()) == first
    assert COMPRESSOR.compress(first.text, context("diff")) is None


def test_lossless_mode_leaves_diffs_alone() -> None:
    text = tool_output("git_diff_pluggy_0.13.1_1.0.0.txt")
    assert COMPRESSOR.compress(text, context("diff", lossy=False)) is None


def test_crlf_diff_keeps_its_line_endings() -> None:
    crlf = tool_output("git_diff_pluggy_0.13.1_1.0.0.txt").replace("\n", "\r\n")
    store = MemoryStore()
    result = run(COMPRESSOR, crlf, "diff", store=store)
    assert all(line.endswith("\r") for line in result.text.split("\n")[:-1])
    assert [c.removesuffix("\r") for c in changes(result.text)] == changes(
        tool_output("git_diff_pluggy_0.13.1_1.0.0.txt")
    )
    assert store.get(result.handles[0]).text == crlf


def test_no_newline_notes_follow_their_line() -> None:
    old = "".join(f"line {i}\n" for i in range(80)) + "last"
    new = old.replace("line 40\n", "line forty\n").replace("last", "final")
    text = (
        "--- a/f\n+++ b/f\n@@ -1,81 +1,81 @@\n"
        + "".join(f" line {i}\n" for i in range(40))
        + "-line 40\n+line forty\n"
        + "".join(f" line {i}\n" for i in range(41, 80))
        + "-last\n\\ No newline at end of file\n+final\n\\ No newline at end of file\n"
    )
    assert new.count("\n") == old.count("\n")
    out = run(COMPRESSOR, text, "diff").text
    assert out.startswith(
        "--- a/f\n+++ b/f\n@@ -40,3 +40,3 @@\n line 39\n-line 40\n+line forty\n line 41\n"
        "@@ -80,2 +80,2 @@\n line 79\n-last\n\\ No newline at end of file\n+final\n"
        "\\ No newline at end of file\n["
    )


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_input_never_crashes(text: str) -> None:
    result = COMPRESSOR.compress(text, context("diff"))
    assert result is None or result.text
    Headroom(CompressConfig(min_tokens=0), store="memory").compress_text(text, kind="diff")
