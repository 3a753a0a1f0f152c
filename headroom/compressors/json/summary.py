"""The summary a crushed array's marker carries about the rows it dropped.

The summary is one line, sections joined by ``"; "``:

1. where: the path of the array from the root ``$``, keys and list positions joined by
   dots (``$.features``, ``$.message.items.3.reference``; positions count the rows as
   the reader sees them; keys that are not plain names are JSON strings). Brackets are
   avoided because a marker's summary cannot contain ``]``;
2. up to 3 categorical columns that vary over the dropped rows (columns named like a
   category first), each with its 3 most common values and counts
   (``properties.type: earthquake ×1640, explosion ×10, +1 more``);
3. up to 4 numeric columns as ranges over the dropped rows (``properties.mag 0.1–4.5``);
4. the identifiers of the dropped rows, from the array's id column, with their count and
   range: ``ids by number (58, 101–158): 101, 102, …`` (integers: lowest–highest) or
   ``ids by id (1542): ci37868143, ak18384056, …`` (strings). Every id is written out
   verbatim, in array order, up to 10,000 (then ``+N more``): no runs, no factored
   prefixes, so an id can be found in the prompt by its own spelling (by the model, or by
   a grep). When the array has a label column (a name, login, title or URL:
   :attr:`~headroom.compressors.json.profile.Profile.label_column`) each id is followed by a
   space and the row's label: ``ids by id with login (87, 1–99): 1 octocat, 2 hubot, …``.
   A label is cut after about 40 characters (at a word, with ``…``); an id or label that
   would make the list ambiguous (``, `` or ``;`` in a label, a space in an id, a
   leading quote) is written as a JSON string with ``]`` and ``·`` escaped.
   Records of an array with no id column but a label (search results: title, url,
   snippet) are listed by that alone: ``names by title (48): Intro, "Setup, part 2", …``.
   :func:`listed_records` and :func:`listed_ids` read the list back. With
   ``keep_ids=False`` only the count and range: ``id range by number: 58 ids, 101–158``
   (strings: ``from A to B``).

Values that would make the summary ambiguous to read (containing ``,`` ``;`` ``:`` or
quotes) are written as JSON strings; long values are cut with ``…``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from itertools import compress
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, Final

from headroom.compressors.json.profile import Column, Profile

__all__ = ["MAX_IDS", "listed_ids", "listed_records", "summarize"]

MAX_IDS: Final = 10_000
"""Ids listed per marker at most. The crusher keeps an array whole when its listing would
cost about as much as its rows, so this only bounds a marker line on huge arrays."""
_IDS_LABEL: Final = "ids by "
_NAMES_LABEL: Final = "names by "
_WITH: Final = " with "
_MORE_RE: Final = re.compile(r"\+[0-9]+ more")
_PLAIN_NAME_RE: Final = re.compile(r"[\w.$@/-]+")
_MAX_LABEL_CHARS: Final = 40
_MIN_LABEL_CUT: Final = 24
_DECODER: Final = json.JSONDecoder()
_MAX_CATEGORY_COLUMNS: Final = 3
_MAX_CATEGORY_VALUES: Final = 3
_MAX_NUMERIC_COLUMNS: Final = 4
_MAX_VALUE_CHARS: Final = 40


def summarize(
    path: str, profile: Profile, dropped: Sequence[int], *, keep_ids: bool, keep_names: bool = True
) -> str:
    """The summary of the rows ``dropped`` (indexes into ``profile.items``) of the array at
    ``path``; ``keep_names=False`` lists the ids without the rows' names."""
    rows = set(dropped)
    sections = [path]
    sections.extend(_categories(profile, rows))
    sections.extend(_ranges(profile, rows))
    ids = _ids(profile, dropped, keep_ids=keep_ids, keep_names=keep_names)
    if ids:
        sections.append(ids)
    return "; ".join(sections)


def _values_at(column: Column, values: list[Any], rows: set[int]) -> list[Any]:
    """The ``values`` (one per value of ``column``) of the rows in ``rows``."""
    return list(compress(values, map(rows.__contains__, column.rows)))


def _categories(profile: Profile, rows: set[int]) -> list[str]:
    out: list[str] = []
    for column in profile.categorical:
        keys = profile.category_keys(column)
        if profile.plain_keys(keys):
            # Each distinct value is written once, in order of first appearance (values
            # that write alike are counted together, first where the first one appears).
            counts: dict[str, int] = {}
            for value, count in Counter(_values_at(column, keys, rows)).items():
                text = _text(value)
                counts[text] = counts.get(text, 0) + count
        else:
            counts = Counter(_text(v) for v in _values_at(column, column.values, rows))
        if len(counts) < 2:
            continue  # a value every dropped row shares is said by its kept siblings
        # Most common first; ties keep first appearance (Counter preserves insertion order).
        ranked = sorted(counts.items(), key=lambda item: -item[1])
        shown = ", ".join(f"{value} ×{count}" for value, count in ranked[:_MAX_CATEGORY_VALUES])
        if len(ranked) > _MAX_CATEGORY_VALUES:
            shown += f", +{len(ranked) - _MAX_CATEGORY_VALUES} more"
        out.append(f"{column.name}: {shown}")
        if len(out) == _MAX_CATEGORY_COLUMNS:
            break
    return out


def _ranges(profile: Profile, rows: set[int]) -> list[str]:
    # The columns with the most numbers over the rows, first ones first; only those shown
    # are read for their lowest and highest.
    counted: list[tuple[int, int, Column, list[float | None]]] = []
    for order, column in enumerate(profile.numeric):
        floats = _values_at(column, profile.floats(column), rows)
        count = len(floats) - floats.count(None)
        if count:
            counted.append((-count, order, column, floats))
    out = []
    for *_, column, floats in sorted(counted, key=itemgetter(0, 1))[:_MAX_NUMERIC_COLUMNS]:
        numbers = [
            (number, value)
            for number, value in zip(floats, _values_at(column, column.values, rows), strict=True)
            if number is not None
        ]
        low = min(numbers, key=itemgetter(0))[1]
        high = max(numbers, key=itemgetter(0))[1]
        out.append(f"{column.name} {_number(low)}" + ("" if low == high else f"–{_number(high)}"))
    return out


def _ids(
    profile: Profile, dropped: Sequence[int], *, keep_ids: bool, keep_names: bool
) -> str | None:
    column = profile.id_column
    if column is None:
        return _names(profile, dropped) if keep_ids and keep_names else None
    by_row = dict(zip(column.rows, column.values, strict=True))
    rows = [row for row in dropped if row in by_row]
    if not rows:
        return None
    values = [by_row[row] for row in rows]
    numeric = all(type(v) is int for v in values)
    span = f"{min(values)}–{max(values)}" if numeric else f"from {values[0]} to {values[-1]}"
    if not keep_ids:
        return f"id range by {column.name}: {len(values)} ids, {span}"
    label = profile.label_column if keep_names else None
    names = {} if label is None else dict(zip(label.rows, label.values, strict=True))
    header = _IDS_LABEL + _column_name(column.name)
    if label is not None:
        header += _WITH + _column_name(label.name)
    header += f" ({len(values)}{', ' + span if numeric else ''}): "
    if label is None:
        listed = ", ".join(str(v) for v in values[:MAX_IDS])
    else:
        listed = ", ".join(_entry(by_row[row], names.get(row)) for row in rows[:MAX_IDS])
    more = len(values) - MAX_IDS
    return header + listed + (f", +{more} more" if more > 0 else "")


def _names(profile: Profile, dropped: Sequence[int]) -> str | None:
    """Records with no id column (search results: title, url, snippet) are listed by name."""
    label = profile.label_column
    if label is None:
        return None
    by_row = dict(zip(label.rows, label.values, strict=True))
    rows = [row for row in dropped if row in by_row]
    if not rows:
        return None
    header = f"{_NAMES_LABEL}{_column_name(label.name)} ({len(rows)}): "
    listed = ", ".join(_label(by_row[row]) for row in rows[:MAX_IDS])
    more = len(rows) - MAX_IDS
    return header + listed + (f", +{more} more" if more > 0 else "")


def _column_name(name: str) -> str:
    # A column name with " with ", "): " or separators in it would misplace the list's
    # start, so it is a JSON string with spaces and ")" escaped as well.
    if _PLAIN_NAME_RE.fullmatch(name):
        return name
    return _quoted(name).replace(" ", "\\u0020").replace(")", "\\u0029")


def _entry(ident: Any, label: str | None) -> str:
    text = str(ident)
    if type(ident) is not int and (" " in text or text.startswith('"')):
        text = _quoted(text)
    return text if label is None else f"{text} {_label(label)}"


def _label(value: str) -> str:
    """A row's label as listed: cut at a word after about 40 characters, quoted if needed."""
    if len(value) > _MAX_LABEL_CHARS:
        cut = value.rfind(" ", _MIN_LABEL_CUT, _MAX_LABEL_CHARS)
        value = value[: cut if cut > 0 else _MAX_LABEL_CHARS - 1].rstrip() + "…"
    plain = (
        value
        and value == value.strip()
        and value.isprintable()
        and value[0] != '"'
        and ", " not in value
        and ";" not in value
        and "]" not in value
        and "·" not in value
    )
    return value if plain else _quoted(value)


def _quoted(text: str) -> str:
    # JSON leaves "]", "·" and ";" as they are. format_marker would rewrite the first two (a
    # "]" ends a marker), and "; ids by " in a name would look like the list's start, so
    # all three are escaped: the JSON string still reads back exactly.
    return (
        encode_basestring(text)  # json.dumps(text, ensure_ascii=False), without an encoder
        .replace("]", "\\u005d")
        .replace("·", "\\u00b7")
        .replace(";", "\\u003b")
    )


def listed_ids(summary: str) -> list[str]:
    """The ids a marker summary lists (written by :func:`summarize`), as strings.

    >>> listed_ids("$.items; status: ok ×3; ids by number (3, 7–12): 7, 9, 12")
    ['7', '9', '12']
    """
    return [ident for ident, _ in listed_records(summary)]


def listed_records(summary: str) -> list[tuple[str, str | None]]:
    """The ``(id, label)`` pairs a marker summary lists (labels ``None`` when the list has
    none), as :func:`summarize` wrote them: labels as cut, quoted ones decoded. Records
    listed by name alone (no id column) give ``(name, None)``.

    >>> listed_records('$; ids by id with login (2, 1–7): 1 octocat, 7 "hu, bot"')
    [('1', 'octocat'), ('7', 'hu, bot')]
    >>> listed_records('$; names by title (2): Intro, "Setup, part 2"')
    [('Intro', None), ('Setup, part 2', None)]
    """
    start = summary.rfind("; " + _IDS_LABEL)
    by_name = summary.rfind("; " + _NAMES_LABEL)
    if max(start, by_name) < 0:
        return []
    start = max(start, by_name)
    header_end = summary.find("): ", start)
    if header_end < 0:
        return []
    named = start == by_name
    labelled = not named and _WITH in summary[start:header_end]
    text, at, out = summary, header_end + 3, []
    while at < len(text):
        if _MORE_RE.fullmatch(text, at):
            break
        # Without labels ids are verbatim (a leading quote is part of the id).
        ident, at = _read(
            text, at, stops=(" ", ", ") if labelled else (", ",), quoted=labelled or named
        )
        label = None
        if labelled and text.startswith(" ", at):
            label, at = _read(text, at + 1, stops=(", ",), quoted=True)
        out.append((ident, label))
        if not text.startswith(", ", at):
            break
        at += 2
    return out


def _read(text: str, at: int, *, stops: tuple[str, ...], quoted: bool) -> tuple[str, int]:
    """One id or label from ``at``: a JSON string, or plain text up to the first stop."""
    if quoted and text.startswith('"', at):
        try:
            value, end = _DECODER.raw_decode(text, at)
        except ValueError:
            value, end = None, at
        if isinstance(value, str):
            return value, end
    ends = [found for stop in stops if (found := text.find(stop, at)) >= 0]
    end = min(ends, default=len(text))
    return text[at:end], end


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    text = str(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    if not text or any(c in text for c in ',;:"') or text != text.strip():
        return encode_basestring(text)  # json.dumps(text, ensure_ascii=False)
    return text


def _number(value: Any) -> str:
    return str(value) if type(value) is int else repr(float(value))
