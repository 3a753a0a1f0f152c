"""Test runner output: failures in full, passing tests as counts, library frames dropped.

Rules (pytest, unittest, jest/vitest, node --test, go test, cargo test, Maven Surefire):

* Lines reporting a passing, skipped or expected-to-fail test (``PASSED``, ``... ok``,
  ``--- PASS:``, ``✓``, pytest's progress dots, a Surefire class with no failures) are
  collapsed into counts in the marker, e.g. ``1292 passed, 8 skipped, 1 xfailed``.
  Progress noise with no result (``=== RUN``, ``[INFO] Running ...``) goes too.
* Everything else stays verbatim: every failing or erroring test id and its assertion
  message, the runner's summary lines, warnings, compiler output, the failure list.
* Traceback frames from outside the project (see :mod:`.frames`) are dropped; the
  project's own frames stay.
* The original goes to the CCR store first; one marker at the end says what was omitted.
"""

from __future__ import annotations

import re
from collections import Counter

from headroom._regex import compile_possessive
from headroom.compressors._lines import Lines, bare, ends_with_marker
from headroom.compressors.base import Compressed, Context
from headroom.compressors.test_output.frames import droppable_traceback_lines
from headroom.handles import format_marker

__all__ = ["TestOutputCompressor"]

# pytest -v: "path::id STATUS", then optionally " (reason)" and the progress "[ 10%]". As
# one regex ("\S+::\S.*? STATUS(?: \(.*\))?...") this rescans the line from every "::" and
# every status word: minutes on one long line of colons. See _pytest_status.
_PYTEST_NODE_RE = compile_possessive(r"(?=\S+?::\S)\S++")  # the first token, holding "::" inside
_PYTEST_STATUS_RE = re.compile(r" (PASSED|SKIPPED|XFAIL)")
_PYTEST_PROGRESS_RE = re.compile(r"\s+\[\s*\d+%\]")
_PROGRESS_VALUE_RE = re.compile(r"\s*\d+")
# One line, one outcome; the group named "status" says which.
_OUTCOME_RES = (
    # pytest-xdist: "[gw0] [ 10%] PASSED path::id"
    re.compile(r"\[gw\d+\] \[\s*\d+%\] (?P<status>PASSED|SKIPPED|XFAIL) \S+::\S.*"),
    # unittest -v, cargo test: "name ... ok" / "... skipped 'why'" / "... ignored"
    re.compile(r".+ \.\.\. (?P<status>ok|skipped(?: .*)?|ignored(?:, .*)?|expected failure)"),
    # go test -v
    re.compile(r"\s*--- (?P<status>PASS|SKIP): \S.*"),
    # jest / vitest / node --test (spec reporter) / TAP
    re.compile(r"\s*(?P<status>[✓√✔]|○ skipped|﹣) \S.*"),
    re.compile(r"\s*(?P<status>ok) \d+ - .*"),
)
_NOISE_RE = re.compile(
    r"=== (?:RUN|PAUSE|CONT|NAME)\s+\S+|PASS|\[INFO\] Running \S+|\s*# Subtest: .*|"
    r"\s*\[\s*\d+%\]"  # pytest's progress column, wrapped onto a line of its own
)
_PROGRESS_RE = re.compile(r"(?:\S+\.py )?(?P<marks>[.sxX]+)(?:\s+\[\s*\d+%\])?")
_SUREFIRE_CLASS_RE = re.compile(
    # At most 18 digits: int() refuses more than 4,300.
    r"\[INFO\] Tests run: (?P<run>\d{1,18}), Failures: 0, Errors: 0, "
    r"Skipped: (?P<skipped>\d{1,18}), Time elapsed: .* - in \S+"
)
_UNITTEST_NAME_RE = re.compile(r"test\w* \([\w.]+\)")
_STATUS_NAMES = {
    "PASSED": "passed",
    "PASS": "passed",
    "ok": "passed",
    "✓": "passed",
    "√": "passed",
    "✔": "passed",
    "SKIPPED": "skipped",
    "SKIP": "skipped",
    "skipped": "skipped",
    "ignored": "skipped",
    "○ skipped": "skipped",
    "﹣": "skipped",
    "XFAIL": "xfailed",
    "expected failure": "xfailed",
    ".": "passed",
    "s": "skipped",
    "x": "xfailed",
}
_ORDER = ("passed", "skipped", "xfailed")


class TestOutputCompressor:
    """Keeps failures and summaries of test runs; passing tests become counts.

    Example:
        >>> from headroom import CompressConfig, Headroom
        >>> hr = Headroom(CompressConfig(min_tokens=0), store="memory")
        >>> run = "".join(f"tests/test_api.py::test_case_{i} PASSED\\n" for i in range(30))
        >>> run += "tests/test_api.py::test_login FAILED\\n"
        >>> run += "==== 1 failed, 30 passed in 0.52s ====\\n"
        >>> print(hr.compress_text(run).text)
        tests/test_api.py::test_login FAILED
        ==== 1 failed, 30 passed in 0.52s ====
        [30 lines omitted: 30 passed · retrieve: headroom:0c66a7e845c5]
        <BLANKLINE>
    """

    __test__ = False  # a name starting with "Test" is not a pytest test class
    name = "test-output.failures"
    kinds = frozenset({"test-output"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        if not ctx.config.lossy or ends_with_marker(text):
            return None
        lines = Lines.split(text)
        counts: Counter[str] = Counter()
        drop: set[int] = set()
        for i, line in enumerate(lines.items):
            outcome = _outcome(bare(line), counts)
            if outcome:
                drop.add(i)
                if i > 0 and _UNITTEST_NAME_RE.fullmatch(bare(lines.items[i - 1])):
                    drop.add(i - 1)  # the name line before a docstring's "... ok" line
        traceback, frames = droppable_traceback_lines(lines.items)
        drop |= traceback
        if not drop:
            return None
        handle = ctx.keep_original(text)
        parts = [f"{counts[status]} {status}" for status in _ORDER if counts[status]]
        if traceback:
            detail = f"{len(traceback)} traceback lines"
            if frames:
                detail += f" ({frames} library frame{'s' * (frames != 1)})"
            parts.append(detail)
        summary = ", ".join(parts)
        out = [line for i, line in enumerate(lines.items) if i not in drop]
        out.append(lines.added(format_marker(len(drop), "lines", handle, summary=summary)))
        return Compressed(lines.join(out), self.name, lossless=False, handles=(handle,))


def _outcome(text: str, counts: Counter[str]) -> bool:
    """Whether ``text`` only reports passing/skipped tests or progress; counts them."""
    status = _pytest_status(text)
    for pattern in _OUTCOME_RES if status is None else ():
        if m := pattern.fullmatch(text):
            status = m["status"]
            break
    if status is not None:
        counts[_STATUS_NAMES.get(status) or _STATUS_NAMES[re.split(r"[ ,]", status)[0]]] += 1
        return True
    m = _PROGRESS_RE.fullmatch(text)
    if m and ("[" in text or ".py " in text):
        if "X" in m["marks"]:
            return False  # an unexpected pass is an anomaly worth a line
        counts.update(_STATUS_NAMES[mark] for mark in m["marks"])
        return True
    m = _SUREFIRE_CLASS_RE.fullmatch(text)
    if m:
        counts["passed"] += int(m["run"]) - int(m["skipped"])
        counts["skipped"] += int(m["skipped"])
        return True
    return _NOISE_RE.fullmatch(text) is not None


def _pytest_status(text: str) -> str | None:
    """The status of a pytest -v line, what fullmatching
    ``\\S+::\\S.*? (?P<status>PASSED|SKIPPED|XFAIL)(?: \\(.*\\))?(?:\\s+\\[\\s*\\d+%\\])?``
    gives, in linear time.

    The status word is the first one after the node id that the rest of the line can
    follow: nothing, a progress column, or `` (`` up to a ``)`` that ends the line or comes
    right before the progress column. Where that ``)`` can be does not depend on the status
    word, so it is found once.
    """
    node = _PYTEST_NODE_RE.match(text)
    if node is None:
        return None
    close = _closing_paren(text)
    for found in _PYTEST_STATUS_RE.finditer(text, node.end()):
        rest = found.end()
        if (
            rest == len(text)
            or (close >= rest + 2 and text.startswith(" (", rest))
            or _PYTEST_PROGRESS_RE.fullmatch(text, rest)
        ):
            return found[1]
    return None


def _closing_paren(text: str) -> int:
    """Where a ``)`` ends ``text``, or comes right before a trailing progress column; -1."""
    if text.endswith(")"):
        return len(text) - 1
    if not text.endswith("%]"):
        return -1
    bracket = text.rfind("[")
    if bracket < 0 or not _PROGRESS_VALUE_RE.fullmatch(text, bracket + 1, len(text) - 2):
        return -1
    before = len(text[:bracket].rstrip())
    if before == bracket or before == 0 or text[before - 1] != ")":
        return -1
    return before - 1
