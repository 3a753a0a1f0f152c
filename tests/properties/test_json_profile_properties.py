"""Hypothesis properties of the JSON crusher's column profile: what it reads in bulk (column
by column, with C-speed builtins) is what the rules say value by value.

Each reference below is the rule as first written, one value at a time; the profile must
agree with it on records mixing every JSON type, numbers beyond float range, infinities,
and subclasses of ``str`` and ``int`` (which a caller's Python values may hold).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from headroom.compressors.json.profile import Profile
from headroom.compressors.json.select import select_rows
from headroom.compressors.json.signals import (
    OUTLIER_MIN_KEEP,
    OUTLIER_SHARE,
    OUTLIER_Z,
    _error_reason,
    _may_signal,
    as_float,
    error_reason,
    error_reasons,
    is_number,
    rare_values,
    robust_z,
)
from headroom.compressors.json.summary import summarize
from headroom.jsontables.syntax import RawFloat


class Tag(str):
    """A str subclass: equal to its plain twin, but a category of its own type."""


class Count(int):
    """An int subclass."""


_SCALARS = st.one_of(
    st.sampled_from(["ok", "failed", "warn", "", "x", True, False, None]),
    st.sampled_from([Tag("ok"), Tag("rare"), Count(3), 1, 0, 10**400, -(10**400)]),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.sampled_from([RawFloat("1.50"), RawFloat("2e3"), math.inf]),
)
_KEYS = st.sampled_from(["status", "kind", "ms", "flag", "size", "id", "note", "type"])


@st.composite
def _rows(draw: st.DrawFn) -> list[Any]:
    # Few distinct values per column, so categories, rare values and outliers all occur.
    count = draw(st.integers(1, 60))
    palette = {key: draw(st.lists(_SCALARS, min_size=1, max_size=6)) for key in ["a", "b"]}
    rows: list[Any] = []
    for _ in range(count):
        if draw(st.integers(0, 30)) == 0:
            rows.append(None)
            continue
        row: dict[str, Any] = {}
        for key in draw(st.lists(_KEYS, max_size=6, unique=True)):
            row[key] = draw(st.sampled_from(palette["a"] + palette["b"]))
        if draw(st.booleans()):
            row["user"] = {"login": draw(st.sampled_from(["ana", "bo", Tag("cy")])), "n": 1}
        rows.append(row)
    return rows


def _reference_columns(items: list[Any]) -> list[tuple[tuple[str, ...], list[int], list[Any]]]:
    def flatten(record: dict[str, Any], prefix: tuple[str, ...], out: dict[Any, Any]) -> None:
        for key, value in record.items():
            if isinstance(value, str | int | float) or value is None:
                out[(*prefix, key)] = value
            elif isinstance(value, dict) and value and len(prefix) < 6:
                flatten(value, (*prefix, key), out)

    flat: dict[tuple[str, ...], tuple[list[int], list[Any]]] = {}
    for index, item in enumerate(items):
        if type(item) is dict:
            leaves: dict[Any, Any] = {}
            flatten(item, (), leaves)
            for path, value in leaves.items():
                rows, values = flat.setdefault(path, ([], []))
                rows.append(index)
                values.append(value)
    return [(path, rows, values) for path, (rows, values) in flat.items()]


def _hashable(value: Any) -> Any:
    return (type(value).__name__, value)


def _reference_categorical(profile: Profile) -> list[Any]:
    found = []
    for order, column in enumerate(profile.columns):
        if not all(v is None or isinstance(v, str | bool) for v in column.values):
            continue
        distinct = len({_hashable(v) for v in column.values})
        if 2 <= distinct <= 32 and distinct * 4 <= len(column.values):
            found.append((not profile.hinted(column), distinct, order, column))
    return [column for *_, column in sorted(found, key=lambda f: f[:3])]


def _reference_signals(profile: Profile) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for index, item in enumerate(profile.items):
        if type(item) is not dict:
            reasons[index] = "not-an-object"
        elif reason := error_reason(item):
            reasons[index] = reason
    for column in profile.categorical:
        is_bool = all(type(v) is bool for v in column.values)
        if not (is_bool or profile.hinted(column)):
            continue
        rare = rare_values(Counter(_hashable(v) for v in column.values), len(column.values))
        for row, value in zip(column.rows, column.values, strict=True):
            if _hashable(value) in rare:
                reasons.setdefault(row, "bool" if is_bool else "rare")
    for column in profile.numeric:
        pairs = [
            (r, number)
            for r, v in zip(column.rows, column.values, strict=True)
            if (number := as_float(v)) is not None
        ]
        scores = robust_z([v for _, v in pairs])
        outliers = sorted((-abs(z), row) for (row, _), z in zip(pairs, scores, strict=True))
        limit = max(OUTLIER_MIN_KEEP, math.ceil(OUTLIER_SHARE * len(pairs)))
        for negative_z, row in outliers[:limit]:
            if -negative_z > OUTLIER_Z:
                reasons.setdefault(row, "outlier")
    return dict(sorted(reasons.items()))


def _reference_error_reason(value: Any, depth: int = 0) -> str | None:
    # The walk as first written: every key asked whether it may signal, in order.
    if depth > 8:
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            reason = _error_reason(key, item) if _may_signal(key) else None
            if reason is None and isinstance(item, dict | list):
                reason = _reference_error_reason(item, depth + 1)
            if reason:
                return reason
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                reason = _reference_error_reason(item, depth + 1)
                if reason:
                    return reason
    return None


class Record(dict):  # type: ignore[type-arg]
    """A dict subclass, read key by key."""


_SIGNAL_KEYS = st.sampled_from(["error", "status", "stack", "kind", "errors", "level", "ok", "n"])
_SIGNAL_VALUES = st.sampled_from(["failed", "ok", "", " ", "a\nb", 0, 1, 404, True, None, [], {}])
_NESTED = st.recursive(
    _SIGNAL_VALUES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_SIGNAL_KEYS, inner, max_size=4)
        | st.dictionaries(_SIGNAL_KEYS, inner, max_size=3).map(Record)
    ),
    max_leaves=12,
)


@given(st.lists(st.dictionaries(_SIGNAL_KEYS, _NESTED, max_size=5), max_size=8))
def test_error_reasons_agree_with_the_key_by_key_walk(records: list[dict[str, Any]]) -> None:
    expected = [_reference_error_reason(record) for record in records]
    assert error_reasons(records) == expected
    assert [error_reason(record) for record in records] == expected


@given(_rows())
def test_columns_are_the_flattened_records(rows: list[Any]) -> None:
    profile = Profile(rows)
    got = [(c.path, c.rows, c.values) for c in profile.columns]
    assert got == _reference_columns(rows)


_MIXED = [{"kind": v} for v in [1, True, "ok", Tag("ok"), None, False, 0] * 6]


@example(_MIXED)
@example([{"kind": v, "ms": 10**400 if v else 1.5} for v in [True, False] * 9])
@given(_rows())
def test_bulk_reads_agree_with_the_value_by_value_rules(rows: list[Any]) -> None:
    profile = Profile(rows)
    assert profile.categorical == _reference_categorical(profile)
    for column in profile.columns:
        assert profile.floats(column) == [as_float(v) for v in column.values]
        # Numeric: only numbers and nulls, at least 8 numbers (ids aside, by name).
        numbers = [v for v in column.values if v is not None]
        if column in profile.numeric:
            assert len(numbers) >= 8 and all(is_number(v) for v in numbers)
        elif column.path[-1] not in {"id"} and all(is_number(v) for v in numbers):
            assert len(numbers) < 8
    for column in profile.categorical:
        keys = profile.category_keys(column)
        # The same values are together as when compared with their type's name.
        assert len(set(keys)) == len({_hashable(v) for v in column.values})
        pairs = set(zip(keys, map(_hashable, column.values), strict=True))
        assert len(pairs) == len(set(keys))
    assert profile.signals() == _reference_signals(profile)


@given(_rows(), st.integers(0, 25))
def test_selection_and_summary_are_deterministic_over_fresh_profiles(
    rows: list[Any], max_rows: int
) -> None:
    kept = select_rows(Profile(rows), None, max_rows=max_rows)
    assert kept == sorted(set(kept))
    assert kept == select_rows(Profile(rows), None, max_rows=max_rows)
    dropped = [i for i in range(len(rows)) if i not in set(kept)]
    first = summarize("$", Profile(rows), dropped, keep_ids=True)
    assert first == summarize("$", Profile(rows), dropped, keep_ids=True)


def _reference_id_values(values: list[Any]) -> bool:
    if all(type(v) is int for v in values):
        return len(set(values)) == len(values)
    if not all(type(v) is str for v in values):
        return False
    for text in values:
        if not text or len(text) > 64 or text != text.strip():
            return False
        if any(part in text for part in ("\n", ", ", ";", "]", " · ")):
            return False
    return len(set(values)) == len(values)


_ID_PIECES = st.sampled_from(["a", "7", " ", ",", ", ", ";", "]", "·", " · ", "\n", "\0", "\u3000"])


@given(
    st.lists(
        st.one_of(
            st.lists(_ID_PIECES, max_size=8).map("".join),
            st.text(max_size=70),
            st.integers(-3, 3),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_id_values_agree_with_the_value_by_value_rule(values: list[Any]) -> None:
    from headroom.compressors.json.profile import _id_values

    assert _id_values(values, set(map(type, values))) == _reference_id_values(values)


def _reference_sample(profile: Profile, keep: set[int], budget: int) -> list[int]:
    # The sample as first written: a dict from row to (type name, value) per column.
    taken = set(keep)
    chosen: list[int] = []
    values_by_row: list[dict[int, Any]] = []
    queues: list[list[tuple[Any, int]]] = []
    represented_now: list[set[Any]] = []
    for column in profile.categorical:
        by_row = {row: _hashable(v) for row, v in zip(column.rows, column.values, strict=True)}
        counts: dict[Any, int] = {}
        first_row: dict[Any, int] = {}
        for row, key in by_row.items():
            counts[key] = counts.get(key, 0) + 1
            first_row.setdefault(key, row)
        represented = {key for row, key in by_row.items() if row in taken}
        ordered = sorted(counts, key=lambda key: -counts[key])
        values_by_row.append(by_row)
        represented_now.append(represented)
        queues.append([(key, first_row[key]) for key in ordered if key not in represented])
    while len(chosen) < budget and any(queues):
        for number, queue in enumerate(queues):
            while queue and queue[0][0] in represented_now[number]:
                queue.pop(0)
            if not queue or len(chosen) >= budget:
                continue
            _, row = queue.pop(0)
            taken.add(row)
            chosen.append(row)
            for by_row, seen in zip(values_by_row, represented_now, strict=True):
                if row in by_row:
                    seen.add(by_row[row])
    remaining = min(budget - len(chosen), len(profile.items) - len(taken))
    if remaining > 0:
        free = [i for i in range(len(profile.items)) if i not in taken]
        step = len(free) / remaining
        chosen.extend(free[int(k * step + step / 2)] for k in range(remaining))
    return chosen


@example(_MIXED, 5)
@given(_rows(), st.integers(0, 25))
def test_the_sample_agrees_with_the_row_by_row_rule(rows: list[Any], budget: int) -> None:
    from headroom.compressors.json.select import _sample

    profile = Profile(rows)
    keep = {0, len(rows) - 1, *profile.signals()}
    assert _sample(profile, keep, budget) == _reference_sample(Profile(rows), keep, budget)


def _reference_robust_z(values: list[float]) -> list[float]:
    if not values:
        return []

    def median(ordered: list[float]) -> float:
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return float(ordered[middle])
        return (ordered[middle - 1] + ordered[middle]) / 2

    center = median(sorted(values))
    deviations = [abs(v - center) for v in values]
    mad = median(sorted(deviations))
    if mad > 0:
        scores = [0.6745 * (v - center) / mad for v in values]
    else:
        mean_ad = sum(deviations) / len(deviations)
        if mean_ad == 0:
            return [0.0] * len(values)
        scores = [(v - center) / (1.253314 * mean_ad) for v in values]
    return [z if math.isfinite(z) else 0.0 for z in scores]


@example([1e308, -1e308, 0.0, 1e308])
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False)
        | st.integers(-1000, 1000)
        | st.sampled_from([1.0, 2.0]),
        max_size=40,
    )
)
def test_robust_z_is_the_value_by_value_formula(values: list[float]) -> None:
    assert robust_z(values) == _reference_robust_z(values)


def _reference_ranges(profile: Profile, rows: set[int]) -> list[str]:
    from headroom.compressors.json.summary import _number

    ranked = []
    for order, column in enumerate(profile.numeric):
        numbers = [
            (number, value)
            for r, value in zip(column.rows, column.values, strict=True)
            if r in rows and (number := as_float(value)) is not None
        ]
        if not numbers:
            continue
        low = min(numbers, key=lambda pair: pair[0])[1]
        high = max(numbers, key=lambda pair: pair[0])[1]
        text = f"{column.name} {_number(low)}" + ("" if low == high else f"–{_number(high)}")
        ranked.append((-len(numbers), order, text))
    return [text for *_, text in sorted(ranked)[:4]]


@st.composite
def _numeric_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    numbers = st.none() | st.integers(-50, 50) | st.floats(-1e3, 1e3) | st.just(10**400)
    keys = [f"m{k}" for k in range(draw(st.integers(1, 7)))]
    count = draw(st.integers(8, 40))
    return [{key: draw(numbers) for key in keys if draw(st.integers(0, 4))} for _ in range(count)]


@given(_numeric_rows(), st.sets(st.integers(0, 39)))
def test_ranges_agree_with_the_value_by_value_rule(
    rows: list[dict[str, Any]], dropped: set[int]
) -> None:
    from headroom.compressors.json.summary import _ranges

    profile = Profile(rows)
    assert _ranges(profile, dropped) == _reference_ranges(profile, dropped)


@given(st.text(max_size=30))
def test_quoted_is_the_json_string_with_three_escapes(text: str) -> None:
    import json

    from headroom.compressors.json.summary import _quoted

    expected = (
        json.dumps(text, ensure_ascii=False)
        .replace("]", "\\u005d")
        .replace("·", "\\u00b7")
        .replace(";", "\\u003b")
    )
    assert _quoted(text) == expected


# Records with several columns that could identify or name them: ids, keys, numbers and
# names, present in more or fewer records, unique or not, at two depths.
_ID_KEYS = st.sampled_from(["id", "uuid", "guid", "user_id", "paperId", "key", "number", "sha"])
_LABEL_KEYS = st.sampled_from(["name", "title", "full_name", "login", "url", "email", "doi"])
_ID_VALUES = st.one_of(
    st.integers(0, 6),
    st.sampled_from(["a", "bb", "a-1", "x y", "ccc", "", "https://x/1", "https://x/2"]),
)
_NAMES = st.sampled_from(["ana", "bo", "cy", "x y", "https://x/1", "https://x/2", "a"])


@st.composite
def _identifiable_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 12))
    keys = draw(st.lists(_ID_KEYS | _LABEL_KEYS, min_size=1, max_size=5, unique=True))
    rows: list[dict[str, Any]] = [{} for _ in range(count)]
    for key in keys:
        nested = draw(st.booleans())
        values = _NAMES if draw(st.booleans()) else _ID_VALUES
        for row in rows:
            if draw(st.integers(0, 4)):  # present in most rows
                value = draw(values)
                if nested:
                    row.setdefault("user", {})[key] = value
                else:
                    row[key] = value
    return rows


def _best_by_definition(
    profile: Profile, qualifies: Any, key_of: Any
) -> Any:  # the column with the smallest key among those that qualify
    keyed = [(key_of(order, column), column) for order, column in enumerate(profile.columns)]
    found = [(key, column) for key, column in keyed if key is not None and qualifies(column)]
    return min(found, key=lambda pair: pair[0])[1] if found else None


@given(_identifiable_rows())
# Two ids of one rank in every row: the shorter values win, though they come second.
@example([{"uuid": f"aaaa{i}", "guid": f"b{i}", "name": f"n{i}"} for i in range(4)])
def test_id_and_label_columns_are_the_best_candidates_by_their_keys(
    rows: list[dict[str, Any]],
) -> None:
    from headroom.compressors.json import profile as module

    profile = Profile(rows)

    def id_key(order: int, column: Any) -> Any:
        rank = module._id_rank(column.path[-1])
        if rank is None or len(column.values) < module._MIN_ID_COVERAGE * len(rows):
            return None
        mean_chars = sum(len(str(value)) for value in column.values) / len(column.values)
        return (rank, -len(column.values), len(column.path), mean_chars, order)

    id_column = _best_by_definition(
        profile, lambda column: module._id_values(column.values, profile.types(column)), id_key
    )
    assert profile.id_column is id_column
    ids = dict(zip(id_column.rows, id_column.values, strict=True)) if id_column else {}

    def label_key(order: int, column: Any) -> Any:
        name = module._plain_name(column.path[-1])
        if name not in module._LABEL_NAMES or len(column.path) > module._MAX_LABEL_DEPTH:
            return None
        if column is id_column or len(column.values) < module._MIN_ID_COVERAGE * len(rows):
            return None
        return (module._LABEL_NAMES.index(name), -len(column.values), len(column.path), order)

    def names(column: Any) -> bool:
        return (
            profile.types(column) == {str}
            and all(column.values)
            and len(set(column.values)) >= 2
            and not module._derived(column, ids)
        )

    assert profile.label_column is _best_by_definition(profile, names, label_key)
