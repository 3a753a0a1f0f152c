"""Which rows of an array of records carry signal: errors, rare values, outliers.

The rules (applied by :meth:`headroom.compressors.json.profile.Profile.signals`); a row is
signal when:

- ``error``: a key naming an error (``error``, ``errors``, ``exception``, ``failure``,
  ``fault``, ``stackTrace``, ``traceback``, ``panic``, ``warnings``, ...; words are found
  in camelCase and snake_case keys) holds a non-empty value (a non-blank string, a
  non-empty list or object, ``true``, a non-zero number), anywhere in the record, nested
  objects and lists included;
- ``status``: a status-like key (``status``, ``state``, ``conclusion``, ``result``,
  ``outcome``, ``level``, ``severity``, ``health``, ``type``, ``kind``) holds a failure
  word (``error``, ``failed``, ``failure``, ``fatal``, ``critical``, ``timeout``,
  ``cancelled``, ``aborted``, ``warning``, ...), or a key with ``status`` in its name
  holds an HTTP error code (400-599);
- ``rare``: a categorical column whose name says it categorises (the status-like words
  above and ``category``, ``phase``, ``priority``, ``alert``, ``class``, ``mode``, ...,
  e.g. ``magType``) holds here a value (``null`` included) held by at most 2 records or
  by fewer than 5% of the records that have the column;
- ``bool``: a boolean column holds here its rare value (same threshold);
- ``outlier``: a numeric column (not an id) has here a robust z-score above 3.5 (median
  and MAD; the mean absolute deviation when the MAD is 0, after Iglewicz and Hoaglin);
  per column only the most extreme ``max(3, 1%)`` such rows count, because a column
  with many values past 3.5 is heavy-tailed (stars, distances), not anomalous;
- ``not-an-object``: an item of the array that is not an object (``null`` for a record
  that was not found, say).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from operator import mul, sub, truediv
from typing import Any, Final

from headroom.jsontables.syntax import RawFloat
from headroom.relevance import tokenize
from headroom.signals import failure_status_words

__all__ = [
    "CATEGORY_HINTS",
    "MAX_CATEGORIES",
    "OUTLIER_MIN_KEEP",
    "OUTLIER_SHARE",
    "OUTLIER_Z",
    "as_float",
    "error_reason",
    "error_reasons",
    "is_number",
    "key_words",
    "rare_values",
    "robust_z",
]

# Nesting deeper than this is rare in real records; it only bounds the work per record.
_MAX_DEPTH: Final = 8

# fmt: off
_ERROR_KEYS: Final = frozenset({
    "error", "errors", "err", "exception", "exceptions", "failure", "failures", "fault",
    "faults", "stacktrace", "backtrace", "traceback", "panic", "warning", "warnings",
})
_STATUS_KEYS: Final = frozenset({
    "status", "state", "conclusion", "result", "outcome", "level", "loglevel", "severity",
    "health", "type", "kind",
})
# Every error and warning word of headroom.signals, and the states only a status holds.
_FAILURE_WORDS: Final = failure_status_words({
    "errored", "failing", "emerg", "emergency", "alert", "severe", "crash", "crashed",
    "cancelled", "canceled", "broken", "unhealthy", "down", "startup_failure",
    "action_required",
})
# Column names that say the column sorts records into kinds: a rare kind is news.
CATEGORY_HINTS: Final = _STATUS_KEYS | frozenset({
    "category", "phase", "stage", "priority", "alert", "class", "mode", "reason", "verdict",
    "tier", "action", "event",
})
# fmt: on

RARE_SHARE: Final = 0.05
RARE_COUNT: Final = 2
MAX_CATEGORIES: Final = 32
OUTLIER_Z: Final = 3.5
OUTLIER_SHARE: Final = 0.01
OUTLIER_MIN_KEEP: Final = 3


def is_number(value: object) -> bool:
    """Whether ``value`` is a JSON number (``bool`` is not, though Python says it is)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_float(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` (not a number, or beyond float range)."""
    if not is_number(value):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:  # an int with more than 308 digits
        return None
    return number if math.isfinite(number) else None


@lru_cache(maxsize=4096)  # records repeat the same few keys thousands of times
def key_words(key: str) -> frozenset[str]:
    """The words of a key, split on case and punctuation (``stackTrace`` -> stack, trace)."""
    return frozenset(tokenize(key))


def _is_set(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return value is not None and value is not False and value != 0


def _failure_word(value: str) -> bool:
    return value.strip().lower().replace("-", "_").replace(" ", "_") in _FAILURE_WORDS


# Every word of a key, lower-cased, is a substring of the lower-cased key: a key none of
# these words is in cannot signal, and that is decided without splitting it into words.
# (An array of records with differing keys has more distinct keys than the caches hold.)
_SIGNAL_WORD_RE: Final = re.compile(
    "|".join(sorted(map(re.escape, _ERROR_KEYS | _STATUS_KEYS | {"stack"})))
)


@lru_cache(maxsize=4096)
def _may_signal(key: str) -> bool:
    """Whether values under ``key`` can ever report an error (most keys cannot)."""
    if _SIGNAL_WORD_RE.search(key.lower()) is None:
        return False
    words = key_words(key)
    return bool(words & _ERROR_KEYS or words & _STATUS_KEYS) or key.lower() == "stack"


# What the value under a key that may signal is checked for: (the key names an error, it is
# a bare "stack", it is status-like, it names a status: HTTP codes count).
_Roles = tuple[bool, bool, bool, bool]


def _roles(key: str) -> _Roles:
    words = key_words(key)
    return (
        bool(words & _ERROR_KEYS),
        key.lower() == "stack",
        bool(words & _STATUS_KEYS),
        "status" in words,
    )


def _error_reason(key: str, value: Any) -> str | None:
    # Asked only for keys that _may_signal (error_reason checks that first).
    return _reason_for(_roles(key), value, None)


def _reason_for(roles: _Roles, value: Any, failures: dict[str, bool] | None) -> str | None:
    """Why ``value``, under a key with these roles, reports an error, or ``None``;
    ``failures`` remembers which status strings are failure words (records repeat them)."""
    error, stack, status, http = roles
    if error and _is_set(value):
        return "error"
    # A bare "stack" key is as often a tech stack ("heroku-22") as a stack trace.
    if stack and (
        (isinstance(value, str) and "\n" in value) or (isinstance(value, list) and value)
    ):
        return "error"
    if status:
        if isinstance(value, str):
            if failures is None or type(value) is not str:
                failed = _failure_word(value)
            elif (known := failures.get(value)) is not None:
                failed = known
            else:
                failed = failures[value] = _failure_word(value)
            if failed:
                return "status"
        if http and is_number(value) and 400 <= value <= 599:
            return "status"
    return None


_CONTAINERS: Final = (dict, list)  # a tuple: isinstance checks it faster than a union
# Exact types that are never containers: values of only these types are skipped at once.
_SCALAR_TYPES: Final = frozenset({str, int, float, bool, type(None), RawFloat})


@dataclass(slots=True)
class _Keys:
    """What a scan learned: every key seen, those that may signal (with their roles), and
    which status strings are failure words."""

    seen: set[str] = field(default_factory=set)
    signal: dict[str, _Roles] = field(default_factory=dict)
    failures: dict[str, bool] = field(default_factory=dict)

    def learn(self, record: dict[str, Any]) -> None:
        for key in record:
            if key not in self.seen:
                self.seen.add(key)
                if _may_signal(key):
                    self.signal[key] = _roles(key)


def error_reason(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` (a record) reports an error or failure, or ``None``."""
    return _reason(value, depth, _Keys())


def error_reasons(records: Iterable[Any]) -> list[str | None]:
    """:func:`error_reason` of each record; what is learnt about keys is kept between
    records (records of one array repeat the same keys)."""
    keys = _Keys()
    return [_reason(record, 0, keys) for record in records]


def _reason(value: Any, depth: int, keys: _Keys) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    if type(value) is dict:
        if not keys.seen.issuperset(value):
            keys.learn(value)
        signal = keys.signal
        # The keys that may signal are asked first; only when one does is the object read
        # key by key (the first reason in key order wins). Else only containers matter.
        for key in signal.keys() & value.keys():
            if _reason_for(signal[key], value[key], keys.failures):
                return _reason_in_order(value, depth, keys)
        items = value.values()
        if not _SCALAR_TYPES.issuperset(map(type, items)):
            for item in items:
                if isinstance(item, _CONTAINERS):
                    reason = _reason(item, depth + 1, keys)
                    if reason:
                        return reason
    elif isinstance(value, dict):  # a subclass: read through items() alone, key by key
        for key, item in value.items():
            # Most keys cannot signal (cached per key); only their containers are read.
            reason = _error_reason(key, item) if _may_signal(key) else None
            if reason is None and isinstance(item, _CONTAINERS):
                reason = _reason(item, depth + 1, keys)
            if reason:
                return reason
    elif isinstance(value, list) and not _SCALAR_TYPES.issuperset(map(type, value)):
        for item in value:
            if isinstance(item, _CONTAINERS):
                reason = _reason(item, depth + 1, keys)
                if reason:
                    return reason
    return None


def _reason_in_order(value: dict[str, Any], depth: int, keys: _Keys) -> str | None:
    signal = keys.signal
    for key, item in value.items():
        if key in signal:
            reason = _reason_for(signal[key], item, keys.failures)
            if reason:
                return reason
        if isinstance(item, _CONTAINERS):
            reason = _reason(item, depth + 1, keys)
            if reason:
                return reason
    return None


def robust_z(values: Sequence[float]) -> list[float]:
    """Modified z-scores: ``0.6745 (x - median) / MAD``; the mean absolute deviation
    (scaled by 1.2533) stands in when more than half the values are equal (MAD 0).

    >>> [round(z, 1) for z in robust_z([1, 2, 3, 4, 100])]
    [-1.3, -0.7, 0.0, 0.7, 65.4]
    """
    if not values:
        return []
    median = _median(sorted(values))
    # The same float operations as "abs(v - median)" and "0.6745 * (v - median) / mad" per
    # value, mapped in C.
    offsets = list(map(sub, values, repeat(median)))
    deviations = list(map(abs, offsets))
    mad = _median(sorted(deviations))
    if mad > 0:
        scores = list(map(truediv, map(mul, repeat(0.6745), offsets), repeat(mad)))
    else:
        mean_ad = sum(deviations) / len(deviations)
        if mean_ad == 0:
            return [0.0] * len(values)
        scores = list(map(truediv, offsets, repeat(1.253314 * mean_ad)))
    # Values near the float limits overflow the deviations; such a column has no usable
    # spread, so nothing in it is called an outlier.
    if all(map(math.isfinite, scores)):
        return scores
    return [z if math.isfinite(z) else 0.0 for z in scores]


def _median(ordered: Sequence[float]) -> float:
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def rare_values(counts: Counter[Any], present: int) -> set[Any]:
    """Values held by at most 2 records or by fewer than 5% of ``present`` records."""
    if len(counts) < 2:
        return set()
    return {v for v, c in counts.items() if c <= RARE_COUNT or c < RARE_SHARE * present}
