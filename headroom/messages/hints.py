"""Hints about a tool result that its tool call gives: the file a path argument names, or the
file a shell command prints (``cat json/decoder.py``, ``sed -n 1,200p src/x.rs``).

An agent's ``bash`` tool reads files with a viewer (``cat``, ``head``, ``tail``, ``sed -n``,
``nl``, ``less``, ``more``, ``bat``); the file's name is the best hint to what the output is.
A command counts only when its output is that file's text (perhaps cut or numbered): the
viewer's output may go on through more viewers (``cat x.py | head -50``), and the commands
chained around it must print nothing (``cd repo && cat x.py``). Anything else (``cat x.py |
grep def``, ``ls && cat x.py``) gives no hint rather than a wrong one.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Final

__all__ = ["command_path", "path_argument"]

_PATH_KEYS = ("path", "file_path", "filepath", "file", "filename", "target_file", "url")
_COMMAND_KEYS = ("command", "cmd")


def path_argument(arguments: object) -> str | None:
    """The path a tool call's arguments name (a JSON object string or a mapping), if any:
    a path argument, or the file a shell command argument prints.

    >>> path_argument('{"command": "cat json/decoder.py"}')
    'json/decoder.py'
    """
    if isinstance(arguments, str):
        # Arguments are model-written and untrusted: only an object can name a path, and
        # JSON nested deeper than the recursion limit raises RecursionError, not ValueError.
        if not arguments.lstrip().startswith("{"):
            return None
        try:
            arguments = json.loads(arguments)
        except (ValueError, RecursionError):
            return None
    if isinstance(arguments, Mapping):
        for key in _PATH_KEYS:
            value = arguments.get(key)
            if isinstance(value, str):
                return value
        for key in _COMMAND_KEYS:
            path = command_path(arguments.get(key))
            if path is not None:
                return path
    return None


_MAX_COMMAND: Final = 4_096  # longer is a script, not a file view; and shlex is slow
_VIEWERS: Final = frozenset({"cat", "bat", "batcat", "less", "more", "head", "tail", "nl", "sed"})
# Options that take the next word as their value, per viewer.
_VALUED: Final[dict[str, frozenset[str]]] = {
    "head": frozenset({"-n", "-c", "--lines", "--bytes"}),
    "tail": frozenset({"-n", "-c", "--lines", "--bytes", "-s", "--sleep-interval", "--pid"}),
    "sed": frozenset({"-e", "-f", "--expression", "--file", "-l", "--line-length"}),
    "nl": frozenset({"-b", "-d", "-f", "-h", "-i", "-l", "-n", "-s", "-v", "-w"}),
    "bat": frozenset({"-r", "--line-range", "-l", "--language", "-H", "--highlight-line"}),
    "less": frozenset({"-b", "-h", "-j", "-p", "-t", "-x", "-y", "-z", "-o", "-O"}),
}
_VALUED["batcat"] = _VALUED["bat"]
# Commands that print nothing: allowed in a chain around the viewer.
_SILENT: Final = frozenset({"cd", "pushd", "export", "source", ".", "set", "true", ":", "ulimit"})
_WRAPPERS: Final = frozenset({"sudo", "command", "exec", "nice", "time", "env"})
_SEPARATORS: Final = frozenset({"&&", "||", ";", "&", "\n"})
_SHELLS: Final = frozenset({"bash", "sh", "zsh", "dash"})


def command_path(command: object) -> str | None:
    """The file whose text ``command`` prints, if it is a plain file view.

    ``command`` is a command line, or an argument vector (``["bash", "-lc", "cat x.py"]``).

    >>> command_path("cd /repo && sed -n '1,200p' src/lib.rs")
    'src/lib.rs'
    >>> command_path("cat setup.py | grep version") is None
    True
    """
    if isinstance(command, list | tuple) and all(isinstance(w, str) for w in command):
        words = list(command)
        shell = len(words) == 3 and PurePosixPath(words[0]).name in _SHELLS
        command = words[2] if shell and words[1] in ("-c", "-lc") else shlex.join(words)
    if not isinstance(command, str) or len(command) > _MAX_COMMAND:
        return None
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = ""
        tokens = list(lexer)
    except ValueError:  # an unclosed quote: not a command we can read
        return None
    found: str | None = None
    for pipeline in _split(tokens, _SEPARATORS):
        stages = _split(pipeline, frozenset({"|"}))
        paths = [_viewed(stage) for stage in stages]
        first = paths[0]
        if first is None:
            if len(stages) == 1 and stages[0] and _name(stages[0]) in _SILENT:
                continue
            return None
        # Later stages may only cut or number what the first prints (no file of their own).
        if any(p != "" for p in paths[1:]) or found is not None or first == "":
            return None
        found = first
    return found


def _split(tokens: list[str], separators: frozenset[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token in separators:
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def _name(words: list[str]) -> str:
    return PurePosixPath(words[0]).name


def _viewed(words: list[str]) -> str | None:
    """The first file a viewer command reads; ``""`` for a viewer reading its input; ``None``
    for anything else (another command, a redirect, files of several types)."""
    while words and (words[0] in _WRAPPERS or "=" in words[0]):
        words = words[1:]
    if not words or _name(words) not in _VIEWERS or any(w in ("<", ">", ">>") for w in words):
        return None
    name = _name(words)
    valued = _VALUED.get(name, frozenset())
    operands: list[str] = []
    scripted = False  # sed: a script given by -e/-f, so the first operand is a file
    args = iter(words[1:])
    for word in args:
        if word == "--":
            operands.extend(args)
            break
        if word.startswith("-") and word != "-":
            if word in valued:
                scripted = scripted or word in ("-e", "-f", "--expression", "--file")
                next(args, None)
            continue
        operands.append(word)
    if name == "sed" and not scripted:
        operands = operands[1:]
    # Several files of one type concatenated are still that type (`cat a.py b.py`).
    if "-" in operands or len({PurePosixPath(o).suffix for o in operands}) > 1:
        return None
    return operands[0] if operands else ""
