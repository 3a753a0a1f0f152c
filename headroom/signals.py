"""What counts as an error or a warning: the one vocabulary every compressor reads.

Contract 6 (ARCHITECTURE.md) says signal is never dropped; this module says what signal is,
once. Its readers:

- the router (:data:`headroom.router.LEVEL_RE`) counts lines naming a level in
  :data:`SPELLED_LEVELS` when it decides whether text is a log;
- the log compressor (:func:`headroom.compressors.logs.prefix.is_signal`) ranks levels by
  :data:`SEVERITY` and keeps lines at :data:`WARN_SEVERITY` or above, lines matching
  :data:`EXCEPTION_RE`, and lines without a level that match :data:`SIGNAL_RE`;
- the JSON crusher (:mod:`headroom.compressors.json.signals`) keeps records whose status
  holds one of :func:`failure_status_words`;
- the conversation summarizer (:mod:`headroom.conversation.facts`) quotes the lines
  :data:`ERROR_RE` matches.

Widening what counts as an error is one edit to :data:`ERROR_WORDS` (or
:data:`WARNING_WORDS`, or :data:`SEVERITY`), and every reader follows.

>>> bool(ERROR_RE.search("connection refused")), bool(SIGNAL_RE.search("disk warning"))
(True, True)
>>> bool(ERROR_RE.search("disk warning"))
False
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from headroom._regex import compile_possessive

__all__ = [
    "ERROR_RE",
    "ERROR_WORDS",
    "EXCEPTION_HINTS",
    "EXCEPTION_RE",
    "SEVERITY",
    "SIGNAL_HINTS",
    "SIGNAL_RE",
    "SPELLED_LEVELS",
    "WARNING_WORDS",
    "WARN_SEVERITY",
    "failure_status_words",
    "has_signal_words",
    "names_exception",
    "words_re",
]

# fmt: off
ERROR_WORDS: Final[tuple[str, ...]] = (
    "error", "errors", "err", "fatal", "fail", "fails", "failed", "failure", "failures",
    "critical", "crit", "exception", "exceptions", "traceback", "panic", "panicked",
    "denied", "refused", "invalid", "illegal", "not found", "no such",
    "timeout", "timedout", "timesout", "time out", "timed out", "times out",
    "abort", "aborted", "segfault", "break-in", "unreachable", "corrupt", "corrupted",
)
"""Words (and two-word phrases) that make a line read as an error, matched whole and in any
case. A phrase's space also matches the same phrase written with ``_`` or ``-`` in a JSON
status value (:func:`failure_status_words`)."""

WARNING_WORDS: Final[tuple[str, ...]] = ("warn", "warning")
"""Words that make a line read as a warning: signal too, but not an error."""
# fmt: on

SEVERITY: Final[dict[str, int]] = {
    "TRACE": 0,
    "FINEST": 0,
    "FINER": 0,
    "VERBOSE": 0,
    "DEBUG": 1,
    "FINE": 1,
    "CONFIG": 1,
    "INFO": 2,
    "NOTICE": 2,
    "WARN": 3,
    "WARNING": 3,
    "ERROR": 4,
    "SEVERE": 4,
    "CRITICAL": 5,
    "FATAL": 5,
    "ALERT": 5,
    "EMERGENCY": 5,
    "PANIC": 5,
    "ASSERT": 5,
}
"""Rank of each log level (Java's FINE..SEVERE, syslog's, Android's spelled out)."""

WARN_SEVERITY: Final = 3
"""Levels at or above this rank (WARN, ERROR, FATAL, ...) are signal."""

SPELLED_LEVELS: Final[frozenset[str]] = frozenset(
    {"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL", "SEVERE"}
)
"""Levels that mark a line as a log line wherever they stand in its first 160 characters.
The other names in :data:`SEVERITY` (FINE, CONFIG, ALERT, PANIC, ASSERT, ...) are ordinary
capitalised words in prose and code, so they are read only where a log prefix puts them."""


def words_re(words: Iterable[str], *, flags: int = re.IGNORECASE | re.ASCII) -> re.Pattern[str]:
    """A pattern matching any of ``words`` as a whole word (longest first).

    >>> words_re(["fail", "failed"]).findall("it failed, fail")
    ['failed', 'fail']
    """
    alternatives = sorted({re.escape(word) for word in words}, key=lambda w: (-len(w), w))
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", flags)


ERROR_RE: Final = words_re(ERROR_WORDS)
"""A line that reads as an error."""

SIGNAL_RE: Final = words_re((*ERROR_WORDS, *WARNING_WORDS))
"""A line that reads as an error or a warning (ASCII: no Kelvin sign matching ``k``, so the
substring pre-check with :data:`SIGNAL_HINTS` is exact)."""


def _hints(words: Iterable[str]) -> tuple[str, ...]:
    """The first four letters of each word's longest word, none holding another."""
    stems = {max(word.split(), key=len)[:4] for word in words}
    return tuple(sorted(s for s in stems if not any(o != s and o in s for o in stems)))


SIGNAL_HINTS: Final[tuple[str, ...]] = _hints((*ERROR_WORDS, *WARNING_WORDS))
"""Every match of :data:`SIGNAL_RE`, lower-cased, contains one of these: a cheap substring
test that rules out most lines before the regex runs."""

EXCEPTION_RE: Final = compile_possessive(
    # "\b[A-Z][\w$]*(?:Exception|Error)\b", tried only from the first word of each [\w$] run
    # that starts with a capital (words are split by "$"): tried from every such word, it
    # rescanned the run each time, quadratic on "A$A$A$...". A match from a later word
    # implies one from the first.
    r"(?<![\w$])(?:\$|[^\WA-Z]\w*+)*+[A-Z][\w$]*(?:Exception|Error)\b"
    r"|Traceback \(most recent call last\)|\bpanic:"
)
"""An exception, a Python traceback or a Go panic: signal whatever the line's level."""

EXCEPTION_HINTS: Final = ("Exception", "Error", "Traceback", "panic:")
"""Every match of :data:`EXCEPTION_RE` contains one of these."""


def names_exception(text: str) -> bool:
    """Whether ``text`` names an exception, a traceback or a panic (:data:`EXCEPTION_RE`),
    the substring test first: most text holds none of :data:`EXCEPTION_HINTS`.

    >>> names_exception("java.io.IOException: closed"), names_exception("it failed")
    (True, False)
    """
    return any(hint in text for hint in EXCEPTION_HINTS) and EXCEPTION_RE.search(text) is not None


def has_signal_words(text: str) -> bool:
    """Whether ``text`` holds an error or warning word (:data:`SIGNAL_RE`), the substring
    test with :data:`SIGNAL_HINTS` first.

    >>> has_signal_words("disk WARNING at 91%"), has_signal_words("took 3 ms")
    (True, False)
    """
    lowered = text.lower()
    return any(hint in lowered for hint in SIGNAL_HINTS) and SIGNAL_RE.search(text) is not None


def failure_status_words(extra: Iterable[str] = ()) -> frozenset[str]:
    """The status values that report a failure, normalised as a JSON reader compares them
    (lower case, ``-`` and spaces as ``_``): every error and warning word, and ``extra``.

    >>> sorted(failure_status_words())[:3]
    ['abort', 'aborted', 'break_in']
    """
    return frozenset(
        word.lower().replace("-", "_").replace(" ", "_")
        for word in (*ERROR_WORDS, *WARNING_WORDS, *extra)
    )
