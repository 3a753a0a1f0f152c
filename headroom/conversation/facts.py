"""Regex fact extraction: what a summary must not lose, and what the benchmark checks.

A *fact* is a short verbatim fragment a reader may need later: an id, a number with a unit
or a currency, a date or time, a file path, a URL, a version, an e-mail address. A
*constraint* is a whole sentence that says must/never/don't/always/only/required.
Everything here is pure and deterministic; nothing is paraphrased.

>>> extract_facts("Ship v2.3.1 to ops@example.com by 2024-05-15; costs $120.")
['ops@example.com', 'v2.3.1', '2024-05-15', '$120']
"""

from __future__ import annotations

import re

from headroom import signals

__all__ = [
    "CONSTRAINT_RE",
    "DECISION_RE",
    "ERROR_RE",
    "error_template",
    "extract_facts",
    "has_fact",
    "split_sentences",
]

# Order matters: earlier patterns claim their span first, so a URL's path is not also
# reported as a path, nor an e-mail's domain as an id.
_FACT_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bhttps?://[^\s<>\"'`)\]]+"),
    re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
    re.compile(r"(?<![\w/.<])(?:~|\.{1,2})?/(?:[\w.@+-]+/)*[\w.@+-]+"),  # /a/b.py, ./x, ~/y
    re.compile(
        r"\b[\w-]+(?:/[\w-]+)*\.(?:py|rs|js|ts|json|md|txt|toml|yaml|yml|cfg|ini|sh|c|h|go|java|img|log)\b"
    ),
    re.compile(r"\bv?\d+\.\d+(?:\.\d+)+(?:[-+][\w.]+)?\b|\bv\d+(?:\.\d+)?\b"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b"),
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AP]M)?\b"),
    re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?"),
    re.compile(
        r"\b\d[\d,]*(?:\.\d+)?\s?(?:%|ms|s|sec|seconds|minutes|min|hours|h|days|KB|MB|GB|TB|"
        r"kb|mb|gb|bytes|tokens|lines|rows|USD|EUR|dollars|kg|lbs|km|miles|bags?|passengers?)\b"
    ),
    # Identifiers: letters and digits mixed (HAT123, K1NW8N, omar_davis_3817, 0x1f, sha-ish).
    re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9][\w-]{3,}\b"),
)

CONSTRAINT_RE = re.compile(
    r"\b(?:must|never|don't|do not|always|only|required|requires|cannot|can't|should not|"
    r"shouldn't|not allowed|forbidden)\b",
    re.I,
)
DECISION_RE = re.compile(
    r"\b(?:decided|decide|will|I'll|we'll|let's|going to|plan|chose|choose|instead|confirm|"
    r"confirmed|agreed|proceed)\b",
    re.I,
)
ERROR_RE = signals.ERROR_RE
"""A sentence or line that reports an error (:data:`headroom.signals.ERROR_RE`)."""

# What varies between two reports of the same error: numbers, hex, quoted names, paths.
_VARIABLE_RE = re.compile(r"0x[0-9a-f]+|\d+|'[^']*'|\"[^\"]*\"|/[\w./-]+", re.I)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[])|\n+")


def extract_facts(text: str) -> list[str]:
    """Every fact fragment in ``text``, in pattern order then position, without repeats.

    Args:
        text: any text.

    Returns:
        Verbatim substrings of ``text``.

    >>> extract_facts("user omar_davis_3817 flies HAT123 at 15:00")
    ['15:00', 'omar_davis_3817', 'HAT123']
    """
    taken: list[tuple[int, int]] = []
    found: list[str] = []
    for pattern in _FACT_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            value = match.group().rstrip(".,;:")
            if value and value not in found:
                found.append(value)
    return found


def error_template(line: str) -> str:
    """``line`` with its variable parts masked: two reports of one error share it.

    >>> error_template("line 4: 'x.py' not found") == error_template("line 9: 'y.py' not found")
    True
    """
    return _VARIABLE_RE.sub("#", line.strip())


def has_fact(text: str) -> bool:
    """Whether ``text`` holds at least one fact fragment.

    >>> has_fact("see /etc/hosts"), has_fact("hello there")
    (True, False)
    """
    return any(pattern.search(text) for pattern in _FACT_PATTERNS)


def split_sentences(text: str) -> list[str]:
    """Sentences and lines of ``text``, stripped, empty ones dropped; each is a substring.

    >>> split_sentences("Hi. I need help.\\nNow!")
    ['Hi.', 'I need help.', 'Now!']
    """
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]
