"""Every Python block and ``headroom`` command shown in README.md and docs/*.md runs, offline.

The snippets are read from the Markdown files themselves, so the docs cannot drift from the
code. Two HTML comments, placed right before a fenced block, steer this test and stay
invisible on the rendered page:

* ``<!-- no-run: reason -->`` skips the block. Only for blocks that need a network, an API
  key, a running server or an external program, or that show output or a synopsis rather than
  something to run. The reasons are counted (``MAX_NO_RUN``) so the list stays short.
* ``<!-- setup: ... -->`` holds Python run just before the block, in the same namespace: the
  inputs a snippet takes for granted (``messages``, a log file), defined without cluttering
  the page.

Python blocks of one file run in order in one subprocess sharing one namespace, as a reader
goes down the page, with a fresh HEADROOM_HOME and HOME in a temporary directory (also the
working directory) and no API keys in the environment. A ``headroom ...`` line in a
sh/shell/bash/console block runs through the console script: it must exit 0, or 1 with a
one-line ``headroom[ VERB]: ...`` message naming what a fresh home lacks (``FRESH_HOME_ERRORS``:
the handle the docs print, a running proxy); a usage error (exit 2), any other error or a
traceback means the docs drifted.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_LANGS = {"sh", "shell", "bash", "console"}
# The skipped blocks, all documents together; raise it only with a reason in the doc.
MAX_NO_RUN = 20
TIMEOUT_S = 300
# The only failures a documented command may have here: what a fresh, empty home lacks (the
# handle printed in the docs, a running proxy). Anything else is the docs drifting.
FRESH_HOME_ERRORS = ("no original stored under", "no proxy stats at")

_FENCE = re.compile(r"^```(\w*)\s*$")
_ERROR_LINE = re.compile(r"^headroom( [a-z]+)?: ")
_COMMENT = re.compile(r"<!--\s*(no-run|setup):(.*?)-->", re.DOTALL)


@dataclass(frozen=True)
class Block:
    """One fenced block of a Markdown file, with the directives placed right before it."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    no_run: str | None
    setup: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        no_run, setup = _directives(lines[:i])
        code = "\n".join(lines[i + 1 : end])
        found.append(Block(path, i + 1, fence.group(1), code, no_run, setup))
        i = end + 1
    return found


def _directives(before: list[str]) -> tuple[str | None, str]:
    """The no-run reason and setup code in the HTML comments directly above a fence."""
    j = len(before)
    while j > 0 and not before[j - 1].strip():
        j -= 1
    text = ""
    # Walk back over consecutive comment lines (a setup comment spans several).
    while j > 0 and before[j - 1].rstrip().endswith("-->"):
        start = j - 1
        while start >= 0 and "<!--" not in before[start]:
            start -= 1
        if start < 0:
            break
        text = "\n".join(before[start:j]) + "\n" + text
        j = start
        while j > 0 and not before[j - 1].strip():
            j -= 1
    no_run: str | None = None
    setup = ""
    for kind, body in _COMMENT.findall(text):
        if kind == "no-run":
            no_run = body.strip()
        else:
            setup += body.strip("\n") + "\n"
    return no_run, setup


ALL_BLOCKS = [block for path in DOCS for block in _blocks(path)]


def _is_shell_command(line: str) -> bool:
    return bool(re.search(r"(^|\|\s*)(\$\s+)?headroom(\s|$)", line.strip()))


def _shell_commands(block: Block) -> list[list[str]]:
    """The ``headroom ...`` invocations in a shell block, as argument lists."""
    commands = []
    for raw in block.code.split("\n"):
        line = raw.strip().removeprefix("$ ")
        if not _is_shell_command(line):
            continue
        line = line[line.index("headroom") :] if "|" in line else line
        words = shlex.split(line, comments=True)
        if ">" in words:  # a redirection: the output goes to our capture instead
            words = words[: words.index(">")]
        commands.append(words[1:])
    return commands


def _env(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_API_KEY") and not key.startswith("HEADROOM_")
    }
    env.update(HEADROOM_HOME=str(home / "headroom"), HOME=str(home), PYTHONUTF8="1")
    return env


_DRIVER = r"""
import ast, json, sys, traceback
blocks = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
for where, setup, code in blocks:
    try:
        for source, label in ((setup, where + " (setup)"), (code, where)):
            exec(compile(source, label, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)
    except BaseException:
        print(f"FAILED {where}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    print(f"ok {where}", file=sys.stderr)
"""


PY_FILES = sorted({b.path for b in ALL_BLOCKS if b.lang == "python"})


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(path: Path, tmp_path: Path) -> None:
    blocks = [b for b in ALL_BLOCKS if b.path == path and b.lang == "python" and not b.no_run]
    if not blocks:
        pytest.skip("every Python block here is marked no-run")
    payload = json.dumps([[b.where, b.setup, b.code] for b in blocks])
    out = subprocess.run(
        [sys.executable, "-c", _DRIVER],
        input=payload,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=TIMEOUT_S,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert out.stderr.count("\nok ") + out.stderr.startswith("ok ") == len(blocks), out.stderr


SHELL_BLOCKS = [
    b for b in ALL_BLOCKS if b.lang in SHELL_LANGS and not b.no_run and _shell_commands(b)
]


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.where)
def test_headroom_commands_run(block: Block, tmp_path: Path) -> None:
    exe = shutil.which("headroom", path=str(Path(sys.executable).parent))
    assert exe, "the headroom console script is not installed next to this Python"
    if block.setup:
        subprocess.run(
            [sys.executable, "-c", block.setup], cwd=tmp_path, env=_env(tmp_path), check=True
        )
    for argv in _shell_commands(block):
        out = subprocess.run(
            [exe, *argv],
            input=b"2024-01-01 00:00:01 ERROR request timeout after 30 s\n" * 50,
            capture_output=True,
            cwd=tmp_path,
            env=_env(tmp_path),
            timeout=60,
        )
        stderr = out.stderr.decode(errors="replace")
        shown = f"{block.where}: headroom {shlex.join(argv)} -> {out.returncode}\n{stderr}"
        assert "Traceback" not in stderr, shown
        assert out.returncode in (0, 1), shown
        if out.returncode == 1:
            lines = [line for line in stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and _ERROR_LINE.match(lines[0]), shown
            assert any(reason in lines[0] for reason in FRESH_HOME_ERRORS), shown


def test_no_run_markers_stay_few() -> None:
    skipped = [b for b in ALL_BLOCKS if b.no_run is not None]
    assert all(b.no_run for b in skipped), [b.where for b in skipped if not b.no_run]
    assert len(skipped) <= MAX_NO_RUN, "\n".join(f"{b.where}: {b.no_run}" for b in skipped)


def test_every_runnable_snippet_is_collected() -> None:
    """The extraction itself: README's blocks are found, and a no-run is read from its comment."""
    readme = [b for b in ALL_BLOCKS if b.path.name == "README.md"]
    assert any(b.lang == "python" and "compress_text" in b.code for b in readme)
    assert any(
        b.lang == "sh" and ["compress", "-", "--query", "timeout"] in _shell_commands(b)
        for b in readme
    )
    assert _directives(["<!-- no-run: needs a server -->", ""]) == ("needs a server", "")
    assert _directives(["<!-- setup:", "x = 1", "-->"]) == (None, "x = 1\n")
