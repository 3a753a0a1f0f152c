"""Find the traceback lines of test output that a reader of a failure can do without.

Two kinds go:

* **Library frames**: frames whose code lives outside the project (site-packages, the
  standard library, ``node_modules``, Node internals, the Rust and Go standard libraries,
  registry crates and Go modules, JDK and test-framework packages). The project's own frames
  are where a failure is fixed, so they all stay.
* **Distant source lines** of pytest's long tracebacks: pytest prints the whole function
  up to the failing ``>`` line (docstrings included); the ``def`` line and the two lines
  before ``>`` stay, along with everything from ``>`` on (the ``E`` lines with the
  assertion message, the ``path:line:`` location).

Also, the lines of only ``^`` or ``~`` that Python 3.11 puts under a frame's source line
go: the line above says what failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from headroom.compressors._lines import bare

__all__ = ["droppable_traceback_lines"]

_FOREIGN_PATH_RE = re.compile(
    r"site-packages|dist-packages|node_modules|/lib/python\d|<frozen |\bnode:\w|"
    r"/rustc/|/\.cargo/registry/|/\.rustup/|/usr/(?:local/|lib/)go[^/]*/src/|/pkg/mod/|"
    r"/opt/hostedtoolcache/|\\Lib\\"  # the last: CPython's standard library on Windows
)
_FOREIGN_JVM_RE = re.compile(
    r"(?:java|javax|jdk|sun|com\.sun|org\.junit|junit|org\.apache\.maven|org\.opentest4j|"
    r"org\.gradle|kotlin|scala)\.\S"
)
_FOREIGN_RUST_SYMBOL_RE = re.compile(
    r"(?:std|core|alloc|test|__rustc)::|<(?:std|core|alloc|fn\()|rust_begin_unwind|"
    r"__libc_|_start\b|start_thread|clone3?\b"
)
_PY_FRAME_RE = re.compile(r'(?P<indent>\s*)File "(?P<path>[^"]+)", line \d+(?:, in .*)?')
_RUST_FRAME_RE = re.compile(r"\s+\d+: (?P<symbol>.+)")
_RUST_AT_RE = re.compile(r"\s+at (?P<path>.+?):\d+(?::\d+)?")
# "pkg.(*T).Method(0x1, ...)": a symbol, then "(" ... ")" to the end of the line. The symbol's
# characters include "(", so "[...]+\(.*\)" retried ".*" from every "(": quadratic on "(((...".
_GO_FRAME_RE = re.compile(r"[\w./*()\-\[\]](?=[\w./*()\-\[\]]*?\().*\)")
_GO_AT_RE = re.compile(r"\t(?P<path>\S+\.(?:go|s)):\d+(?: \+0x[0-9a-f]+)?")
_AT_FRAME_RE = re.compile(r"\s+at (?P<where>\S.*)")
_CARET_RE = re.compile(r"\s*[\^~]+\s*")
_SECTION_RE = re.compile(r"=+ (?P<name>.+?) =+")
_PYTEST_FRAME_SEPARATOR_RE = re.compile(r"(?:_ )+_")
_PYTEST_LOCATION_RE = re.compile(r"(?P<path>(?:[A-Za-z]:)?[^\s:]+):\d+:(?: .*)?")
_PYTEST_SOURCE_CONTEXT = 2


def droppable_traceback_lines(lines: list[str]) -> tuple[set[int], int]:
    """Indices of library-frame and distant-source lines, and how many library frames."""
    drop: set[int] = set()
    frames = 0
    for finder in _FINDERS:
        found, count = finder(lines)
        drop |= found
        frames += count
    drop |= {i for i in range(2, len(lines)) if _position_marker(lines, i)}
    return drop, frames


def _position_marker(lines: list[str], i: int) -> bool:
    # Only under a traceback's source line: elsewhere (an assertion diff) a "^" line
    # points at the characters that differ, which is part of the message.
    return _CARET_RE.fullmatch(bare(lines[i])) is not None and (
        _PY_FRAME_RE.fullmatch(bare(lines[i - 2])) is not None or lines[i - 1].startswith(">")
    )


def _python_frames(lines: list[str]) -> tuple[set[int], int]:
    drop: set[int] = set()
    frames = 0
    block_end = 0  # lines before this are in the block of an earlier frame
    for i, line in enumerate(lines):
        m = _PY_FRAME_RE.fullmatch(bare(line))
        if not m or not _FOREIGN_PATH_RE.search(m["path"]):
            continue
        frames += 1
        drop.add(i)
        if i < block_end:
            # Deeper than that frame's File line, so its own block ends within that block,
            # which is dropped already: scanning it again would be quadratic in nesting.
            continue
        depth = len(m["indent"])
        j = i + 1
        # The frame's source and marker lines are indented deeper than its File line.
        while j < len(lines) and _indent(bare(lines[j])) > depth and bare(lines[j]).strip():
            drop.add(j)
            j += 1
        block_end = j
    return drop, frames


def _paired_frames(lines: list[str]) -> tuple[set[int], int]:
    """Rust backtrace frames (``N: symbol`` / ``at path``) and Go stack frames."""
    drop: set[int] = set()
    frames = 0
    for i, line in enumerate(lines):
        text = bare(line)
        after = bare(lines[i + 1]) if i + 1 < len(lines) else ""
        rust = _RUST_FRAME_RE.fullmatch(text)
        if rust:
            at = _RUST_AT_RE.fullmatch(after)
            foreign = _FOREIGN_RUST_SYMBOL_RE.match(rust["symbol"]) or (
                at and _FOREIGN_PATH_RE.search(at["path"])
            )
            if foreign:
                frames += 1
                drop.update((i, i + 1) if at else (i,))
            continue
        go_at = _GO_AT_RE.fullmatch(after)
        if go_at and _GO_FRAME_RE.fullmatch(text) and _FOREIGN_PATH_RE.search(go_at["path"]):
            frames += 1
            drop.update((i, i + 1))
    return drop, frames


def _at_frames(lines: list[str]) -> tuple[set[int], int]:
    """JavaScript and JVM ``at ...`` stack lines."""
    drop = {
        i
        for i, line in enumerate(lines)
        if (m := _AT_FRAME_RE.fullmatch(bare(line)))
        and not _RUST_AT_RE.fullmatch(bare(line))
        and not bare(line).endswith("{")  # Node prints the error's fields after the last frame
        and (_FOREIGN_PATH_RE.search(m["where"]) or _FOREIGN_JVM_RE.match(m["where"]))
    }
    return drop, len(drop)


def _pytest_long_frames(lines: list[str]) -> tuple[set[int], int]:
    """Library frames and distant source lines in pytest's FAILURES/ERRORS sections."""
    drop: set[int] = set()
    frames = 0
    in_failures = False
    start = 0
    for i, line in enumerate([*lines, "=== end ==="]):
        text = bare(line)
        section = _SECTION_RE.fullmatch(text)
        separator = _PYTEST_FRAME_SEPARATOR_RE.fullmatch(text) is not None
        location = _PYTEST_LOCATION_RE.fullmatch(text)
        if not (section or separator or location or (text[:3] == text[-3:] == "___")):
            continue
        if in_failures and (location or start < i):
            # A frame ends at its "path:line:" location line, inclusive.
            end = i + 1 if location else i
            # Only a chunk that shows code (">") or an error ("E") is a frame: a captured
            # output line may also look like "path:line: text".
            foreign = (
                location is not None
                and _FOREIGN_PATH_RE.search(location["path"])
                and any(bare(line)[:2] in (">", "> ", "E ") for line in lines[start:end])
            )
            if foreign:
                frames += 1
                drop.update(range(start, end))
                if start > 0 and _PYTEST_FRAME_SEPARATOR_RE.fullmatch(bare(lines[start - 1])):
                    drop.add(start - 1)
            else:
                drop |= _distant_source(lines, start, end)
        if section is not None:
            in_failures = section["name"] in ("FAILURES", "ERRORS")
        start = i + 1
    return drop, frames


def _distant_source(lines: list[str], start: int, end: int) -> set[int]:
    texts = [bare(line) for line in lines[start:end]]
    pointer = next((k for k, text in enumerate(texts) if text.startswith(">")), None)
    if pointer is None:
        return set()
    return {
        start + k
        for k in range(pointer - _PYTEST_SOURCE_CONTEXT)
        if texts[k].startswith("    ") and not texts[k].lstrip().startswith(("def ", "async def "))
    }


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


_FINDERS: tuple[Callable[[list[str]], tuple[set[int], int]], ...] = (
    _python_frames,
    _paired_frames,
    _at_frames,
    _pytest_long_frames,
)
