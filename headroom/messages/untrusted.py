"""Text of values Headroom counts but never changes, whatever they hold.

Tool-call arguments (OpenAI ``tool_calls[].function.arguments``, Anthropic
``tool_use.input``) are produced by a model or by application code and are untrusted:
they may hold sets, datetimes, Decimals, bytes, NaN, non-string keys, cycles, or nest
100,000 levels deep. Headroom only needs their text to count tokens and to quote them in
summaries, so :func:`untrusted_json` turns any value into text without raising, in time
linear in the number of objects, without recursion, and deterministically.

For a value ``json.dumps`` accepts (a tree of dicts with string keys, lists, tuples,
strings, numbers, booleans and ``None``) the text is exactly ``json.dumps(value,
sort_keys=sort_keys, ensure_ascii=ensure_ascii)``. Beyond that:

* a set or frozenset is an array, its items ordered by their own text;
* a dict key that is not a string is written as JSON writes it (``1`` -> ``"1"``,
  ``None`` -> ``"null"``) or as its ``str()``; keys are sorted by that text;
* any other object (datetime, Decimal, bytes, a custom class) is the JSON string of its
  ``str()`` (or ``repr()``, or its type name, if that raises);
* a container inside itself (a cycle) is written as ``"<ref>"``; a container met again
  elsewhere (a shared reference) is written again in full until the text holds
  :data:`REPEAT_BUDGET` values, then as ``"<ref>"``: ``[x, x]`` nested 200 deep has 2**200
  paths, and the work stays linear in the number of objects plus that budget;
* an int too long for ``str()`` is written in hex.

>>> import datetime, decimal
>>> untrusted_json({"b": {2, 1}, "a": decimal.Decimal("1.10"), 3: datetime.date(2024, 5, 1)})
'{"3": "2024-05-01", "a": "1.10", "b": [1, 2]}'
>>> loop = [1]
>>> loop.append(loop)
>>> untrusted_json(loop)
'[1, "<ref>"]'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

__all__ = ["REPEAT_BUDGET", "untrusted_json", "untrusted_text"]

REPEAT_BUDGET = 100_000
"""Values written after which a container already written once is written as ``"<ref>"``."""

_REF = '"<ref>"'
_VALUE, _LITERAL, _EXIT = 0, 1, 2
_CONTAINERS = (Mapping, list, tuple, set, frozenset)
# Sets nested deeper than this inside sets are written in iteration order rather than
# sorted (sorting copies each level's text once more); no JSON source produces sets at all.
_MAX_SORTED_SET_DEPTH = 32


def untrusted_text(value: object) -> str:
    """``value`` itself if it is a string, else :func:`untrusted_json` of it.

    >>> untrusted_text('{"path": "a.py"}'), untrusted_text({"path": "a.py"})
    ('{"path": "a.py"}', '{"path": "a.py"}')
    """
    return value if isinstance(value, str) else untrusted_json(value)


def untrusted_json(value: object, *, sort_keys: bool = True, ensure_ascii: bool = True) -> str:
    """JSON-like text of any Python value; never raises, never recurses (see module doc).

    Args:
        value: anything.
        sort_keys: order dict items by key text (``False`` keeps their order).
        ensure_ascii: escape non-ASCII characters, as ``json.dumps`` does by default.
    """
    out: list[str] = []
    _Walker(sort_keys, ensure_ascii).write(value, out, 0)
    return "".join(out)


class _Walker:
    __slots__ = ("active", "encode", "keep", "seen", "sort_keys", "written")

    def __init__(self, sort_keys: bool, ensure_ascii: bool) -> None:
        self.sort_keys = sort_keys
        self.encode = encode_basestring_ascii if ensure_ascii else encode_basestring
        self.seen: set[int] = set()  # containers written (or being written)
        self.active: set[int] = set()  # containers being written: met again, a cycle
        # Strong references to every container met, so an id is never reused by a
        # temporary object (e.g. what a custom Mapping's items() returns) during the walk.
        self.keep: list[object] = []
        self.written = 0

    def write(self, value: object, out: list[str], set_depth: int) -> None:
        """Append the text of ``value`` to ``out``, with an explicit stack."""
        encode = self.encode
        append = out.append
        active = self.active
        seen = self.seen
        # (_VALUE, a value to write) | (_LITERAL, text) | (_EXIT, id of a finished container)
        stack: list[tuple[int, Any]] = [(_VALUE, value)]
        pop = stack.pop
        while stack:
            tag, item = pop()
            if tag == _LITERAL:
                append(item)
                continue
            if tag == _EXIT:
                active.discard(item)
                continue
            self.written += 1
            kind = type(item)
            # Exact types first: isinstance against the ABCs is the slow path.
            if kind is str:
                append(encode(item))
            elif item is None or kind is bool or kind is int or kind is float:
                append(_scalar(item))
            elif kind is list or kind is dict or kind is tuple or isinstance(item, _CONTAINERS):
                key = id(item)
                if key in active or (key in seen and self.written > REPEAT_BUDGET):
                    append(_REF)
                    continue
                if key not in seen:
                    seen.add(key)
                    self.keep.append(item)
                active.add(key)
                stack.append((_EXIT, key))
                if kind is list or kind is tuple:
                    self._array(list(item), out, stack)
                elif isinstance(item, Mapping):
                    self._mapping(item, out, stack)
                elif isinstance(item, list | tuple):
                    self._sequence(item, out, stack)
                else:
                    self._set(item, out, stack, set_depth)
            elif isinstance(item, str):
                append(encode(item))
            elif isinstance(item, bool | int | float):
                append(_scalar(item))
            else:
                append(encode(_str(item)))

    def _mapping(self, value: Mapping[Any, Any], out: list[str], stack: list[Any]) -> None:
        try:
            pairs = [(_key(k), v) for k, v in value.items()]
        except Exception:  # a broken custom Mapping: written as its str()
            out.append(self.encode(_str(value)))
            return
        if not pairs:
            out.append("{}")
            return
        if self.sort_keys:
            pairs.sort(key=lambda pair: pair[0])
        out.append("{")
        stack.append((_LITERAL, "}"))
        for i in range(len(pairs) - 1, -1, -1):
            key, item = pairs[i]
            stack.append((_VALUE, item))
            stack.append((_LITERAL, (", " if i else "") + self.encode(key) + ": "))

    def _sequence(
        self, value: list[Any] | tuple[Any, ...], out: list[str], stack: list[Any]
    ) -> None:
        try:
            items = list(value)
        except Exception:  # a subclass with a broken __iter__
            out.append(self.encode(_str(value)))
            return
        self._array(items, out, stack)

    def _array(self, items: list[Any], out: list[str], stack: list[Any]) -> None:
        if not items:
            out.append("[]")
            return
        out.append("[")
        stack.append((_LITERAL, "]"))
        for i in range(len(items) - 1, -1, -1):
            stack.append((_VALUE, items[i]))
            if i:
                stack.append((_LITERAL, ", "))

    def _set(
        self,
        value: set[Any] | frozenset[Any],
        out: list[str],
        stack: list[Any],
        set_depth: int,
    ) -> None:
        try:
            items = list(value)
        except Exception:
            out.append(self.encode(_str(value)))
            return
        if set_depth >= _MAX_SORTED_SET_DEPTH:
            self._array(items, out, stack)
            return
        # A set's iteration order depends on the hash seed: order items by their text.
        texts = []
        for item in items:
            piece: list[str] = []
            self.write(item, piece, set_depth + 1)
            texts.append("".join(piece))
        texts.sort()
        out.append("[" + ", ".join(texts) + "]")


def _scalar(value: bool | int | float | None) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        try:
            return int.__repr__(value)
        except ValueError:  # longer than sys.get_int_max_str_digits()
            return hex(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool | int | float):
        return _scalar(key)
    return _str(key)


def _str(value: object) -> str:
    for convert in (str, repr):
        try:
            text = convert(value)
        except Exception:  # any failure of user code: try the next form
            continue
        if isinstance(text, str):
            return text
    return f"<{type(value).__qualname__}>"
