"""Every verb of the ``headroom`` command fails the same way: one stderr line
``headroom: error: <what is wrong and what to do>``, no traceback, unless ``--debug`` asks
for one. Run as users run it, in a subprocess; servers on a busy port included."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BUSY = "{busy}"  # replaced by a loopback port a listening socket holds

# (argv, extra environment, exit status, words the line must hold)
CASES: list[tuple[list[str], dict[str, str], int, str]] = [
    (["compress", "nope.txt"], {}, 1, "nope.txt: no such file (check the path)"),
    (["compress", "--min-tokens", "lots", "-"], {}, 2, "compress: argument --min-tokens"),
    (["retrieve", "headroom:000000000000"], {}, 1, "no original stored"),
    (["retrieve"], {}, 2, "retrieve: the following arguments are required: HANDLE"),
    (["decode", "nope.txt"], {}, 1, "nope.txt: No such file or directory (check the path)"),
    (["stats", "--days", "0"], {}, 2, "stats: argument --days: expected a whole number"),
    (["--store", "postgres://db/x", "stats"], {}, 1, "'postgres://db/x' is not a store"),
    (["store"], {}, 2, "store: the following arguments are required: ACTION"),
    (["store", "import", "nope.jsonl"], {}, 1, "nope.jsonl: No such file or directory"),
    (["nosuchverb"], {}, 2, "argument VERB: invalid choice: 'nosuchverb'"),
    (["proxy"], {"HEADROOM_PROXY_PORT": "abc"}, 2, "HEADROOM_PROXY_PORT: expected a number"),
    (["proxy", "--port", "70000"], {}, 2, "--port: expected 1-65535, got 70000"),
    (["proxy", "--port", BUSY], {}, 1, "address already in use (stop what uses it"),
    (["wrap"], {}, 2, "wrap: the following arguments are required: AGENT"),
    (["wrap", "no-such-agent"], {}, 127, "no-such-agent: command not found on PATH"),
    (["wrap", "--persist", "nosuchagent"], {}, 1, "nosuchagent: no config file to edit"),
    (["unwrap", "codex"], {}, 1, "codex"),
    (["perf", "--url", f"http://127.0.0.1:{BUSY}"], {}, 1, "no proxy stats at http://"),
    (["mcp", "--transport", "streamable-http", "--port", "0"], {}, 2, "--port: expected"),
    (["mcp", "--transport", "streamable-http", "--port", BUSY], {}, 1, "address already in use"),
    (["mcp", "install", "--client", "nosuch"], {}, 2, "mcp install: argument --client"),
    (["bench", "nope-dir"], {}, 1, "nope-dir"),
]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something that is no proxy listens on (and never answers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headroom", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "HEADROOM_HOME": str(cwd), "HOME": str(cwd), **env},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("argv", "env", "status", "words"), CASES, ids=[" ".join(c[0]) for c in CASES]
)
def test_an_error_is_one_line_and_debug_shows_the_traceback(
    argv: list[str], env: dict[str, str], status: int, words: str, tmp_path: Path, busy_port: int
) -> None:
    argv = [a.replace(BUSY, str(busy_port)) for a in argv]
    out = _run(argv, env, tmp_path)
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("headroom: error: ") and words in lines[0], lines[0]
    assert out.returncode == status
    assert "Traceback" not in out.stderr

    # --debug before the verb, and after it (every verb and sub-verb takes it)
    verb = next(i for i, a in enumerate(argv) if a[0] != "-" and "://" not in a)
    for debug_argv in (["--debug", *argv], [*argv[: verb + 1], "--debug", *argv[verb + 1 :]]):
        debug = _run(debug_argv, env, tmp_path)
        assert debug.returncode != 0
        assert "Traceback (most recent call last)" in debug.stderr, debug.stderr
        assert "unrecognized arguments: --debug" not in debug.stderr


def test_every_verb_and_sub_verb_takes_debug() -> None:
    from headroom.cli import _parser

    def walk(parser: argparse.ArgumentParser, name: str) -> Iterator[tuple[str, bool]]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for verb, sub in action.choices.items():
                    yield f"{name} {verb}", "--debug" in sub._option_string_actions
                    yield from walk(sub, f"{name} {verb}")

    found = dict(walk(_parser(), "headroom"))
    assert len(found) >= 12 and "headroom store export" in found
    assert all(found.values()), [verb for verb, has in found.items() if not has]


def test_the_cases_cover_every_verb() -> None:
    from headroom.cli import _parser

    verbs = next(
        action.choices
        for action in _parser()._actions
        if isinstance(action.choices, dict) and "compress" in action.choices
    )
    tried = {next(a for a in argv if a[0] != "-" and "://" not in a) for argv, *_ in CASES}
    assert set(verbs) <= tried, set(verbs) - tried
