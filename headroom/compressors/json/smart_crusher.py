"""SmartCrusher: JSON tool outputs as lossless tables, then (when allowed) crushed.

Stage 1 always runs: the JSON is parsed and written as a table document
(:mod:`headroom.jsontables`), which the library can decode back to the same JSON value.
It is used only when it takes fewer tokens than its input (already minified by
``json.minify``), so the result is never worse than minified JSON.

Stage 2 runs only when lossy compression is allowed and the lossless result is still
above ``CrushOptions.lossless_up_to`` (10,000 tokens; or above ``target_ratio`` of the
input): long arrays of records keep their signal rows (errors, rare values, outliers,
query hits, first and last, a diverse sample) and name each of the rest by its id and its
name, login, title or URL; long free text keeps its lead and the sentences that match the
query (:mod:`headroom.compressors.json.crush`). Originals go to the CCR store first (the
document exactly as given, under one handle); one marker per crushed array follows the
document. When the caller's ``target_ratio`` is not met that way, the markers list the
ids without the names, and then only id ranges.

JSON that cannot be represented exactly is left to the minifier: text that does not parse,
objects with duplicate keys (a parsed value keeps only the last), ``NaN``/``Infinity``,
numbers too large for a float, and nesting deeper than Python can recurse.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from typing import Any

import orjson

from headroom import _core
from headroom.compressors.base import Compressed, Context
from headroom.compressors.json.crush import LOSSLESS_UP_TO, CrushOptions, crush
from headroom.compressors.json.minify import NOT_PARSED, take_parsed
from headroom.jsontables import is_table_document
from headroom.jsontables.encoder import Tables
from headroom.jsontables.syntax import RawFloat
from headroom.tokens import TokenCounter
from headroom.tokens.tally import Tally

__all__ = ["CRUSH_ABOVE_TOKENS", "SmartCrusher", "parse_json"]

_CLEAR_WIN = 0.5
# A lossless document longer than this many characters per token of ``lossless_up_to`` is
# crushed in practice: table documents take 2.5-4.5 characters per token on the recorded
# API responses, so it would need twice that to stay under the limit.
_SURELY_CRUSHED = 8

CRUSH_ABOVE_TOKENS = LOSSLESS_UP_TO
"""The default of ``CrushOptions.lossless_up_to``: lossless results up to this size are kept
whole even when lossy compression is allowed."""


class _NotExact(ValueError):
    """The text parses, but a Python value cannot hold it exactly."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _NotExact("duplicate keys")
    return result


def _float(spelling: str) -> RawFloat:
    value = RawFloat(spelling)
    if not math.isfinite(value):
        raise _NotExact(f"number out of float range: {spelling[:40]}")
    return value


def _constant(name: str) -> Any:
    raise _NotExact(f"{name} is not JSON")


def _loads(text: str) -> Any:
    # Fast path: when writing the plain parse back gives the same text outside its string
    # literals, no key was duplicated and every number is spelled as Python writes it (the
    # few that orjson spells otherwise, below 1e-4, are refused), so nothing can be lost; the
    # strings may differ in escapes only ("\\/", "\\u00e9"), which parse to the same value.
    # Minified API output usually takes this path; the careful parse costs twice as much.
    # orjson parses and writes several times faster than the json module; what it refuses
    # (integers beyond 64 bits, lone surrogates) the json module parses.
    value = _plain_loads(text)
    try:
        written = orjson.dumps(value)
    except orjson.JSONEncodeError:  # what only the json module parsed (big integers)
        written = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )
    if _core.json_same_outside_strings(text, written):
        return value
    return json.loads(text, object_pairs_hook=_pairs, parse_float=_float, parse_constant=_constant)


def _plain_loads(text: str) -> Any:
    parsed = take_parsed(text)  # the router parsed it already (json_layout)
    if parsed is not NOT_PARSED:
        return parsed
    try:
        return orjson.loads(text)
    except (orjson.JSONDecodeError, UnicodeEncodeError):
        pass  # the json module decides, with its own errors
    return json.loads(text, parse_constant=_constant)


def parse_json(text: str) -> tuple[Any, bool] | None:
    """Parse a JSON document or JSON Lines text exactly, or return ``None``.

    Returns the value (a list of the lines' values for JSON Lines) and whether it was
    JSON Lines. Floats keep their spelling (:class:`RawFloat`).

    >>> parse_json('{"a": 1.50}')
    ({'a': 1.5}, False)
    >>> parse_json('{"a": 1, "a": 2}') is None
    True
    """
    stripped = text.strip()
    try:
        return _loads(stripped), False
    except (ValueError, RecursionError):
        pass
    lines = [line for line in stripped.split("\n") if line.strip()]
    if len(lines) < 2:
        return None
    try:
        return [_loads(line) for line in lines], True
    except (ValueError, RecursionError):
        return None


class SmartCrusher:
    """Writes JSON as a lossless table document; crushes it further when allowed."""

    name = "json.tables"
    kinds = frozenset({"json"})

    def __init__(self, options: CrushOptions | None = None) -> None:
        self.options = options or CrushOptions()

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        if is_table_document(text):
            return None
        parsed = parse_json(text)
        if parsed is None:
            return None
        value, lines = parsed
        # One writer for the lossless document and every crushed one: a crushed copy shares
        # the parts its crush left unchanged, whose tables are then decided once.
        tables = Tables(ctx.count_tokens)
        try:
            document = tables.encode(value, lines=lines)
        except RecursionError:  # nested deeper than the encoder can walk: minified is best
            return None
        count = ctx.count_tokens
        target = ctx.config.target_ratio
        limit = self.options.lossless_up_to
        # A document this long is crushed in practice (see _SURELY_CRUSHED): it is counted on
        # the worker threads while the main thread crushes, and only as far as the decisions
        # below need (_lossless_size); an unused crush is dropped.
        tally = getattr(count, "tally", None)  # a plain function (tests) has none
        early: Compressed | None = None
        counting: Tally | None = None
        if tally is not None and ctx.config.lossy and len(document) > _SURELY_CRUSHED * limit:
            counting = tally(document)
            try:
                early = self._crush(value, lines, ctx, text, self.options, tables)
            except BaseException:  # no crush, no decision: the count is not needed
                counting.stop()
                raise
        # Under half the characters is fewer tokens too (on the recorded API responses a
        # table spends at most 1.4x the tokens per character of its JSON): the JSON, as long
        # as the whole input when it is large, need not be counted.
        clear_win = target is None and len(document) < _CLEAR_WIN * len(text)
        before = None if clear_win else count(text)
        goal = None if target is None or before is None else target * before
        if counting is None:
            lossless = count(document)
        else:
            lossless = _lossless_size(counting, count, early, limit, goal, before)
        if before is None:
            best: Compressed | None = Compressed(document, self.name, lossless=True)
            size = lossless
        else:
            best = Compressed(document, self.name, lossless=True) if lossless < before else None
            size = min(lossless, before)
        if not ctx.config.lossy or (size <= limit and (goal is None or size <= goal)):
            return best
        tries = [self.options]
        if goal is not None:
            # Names, then ids, cost tokens; a ratio the caller asked for comes first.
            tries += [
                dataclasses.replace(self.options, keep_names=False),
                dataclasses.replace(self.options, keep_ids=False),
            ]
        for options in tries:
            if counting is not None and options is self.options:
                crushed: Compressed | None = early
            else:
                crushed = self._crush(value, lines, ctx, text, options, tables)
            if crushed is None:
                break
            tokens = ctx.count_tokens(crushed.text)
            if tokens < size:
                best, size = crushed, tokens
            if goal is None or tokens <= goal:
                break
        return best

    def _crush(
        self,
        value: Any,
        lines: bool,
        ctx: Context,
        text: str,
        options: CrushOptions,
        tables: Tables,
    ) -> Compressed | None:
        # Every marker names the document as the caller gave it: a re-serialised part would
        # come back with other escapes, number spellings or line structure.
        crushed = crush(
            value,
            query=ctx.query,
            stash=lambda _part: ctx.keep_original(text),
            options=options,
            whole=text,
        )
        if crushed is None:
            return None
        document = "\n".join([tables.encode(crushed.value, lines=lines), *crushed.markers])
        return Compressed(document, "json.crush", lossless=False, handles=tuple(crushed.handles))


def _lossless_size(
    counting: Tally,
    count: TokenCounter,
    early: Compressed | None,
    limit: int,
    goal: float | None,
    before: int | None,
) -> int:
    """The lossless document's count, or a lower bound of it that every decision of
    :meth:`SmartCrusher.compress` takes as it would take the count.

    Those decisions compare the lossless size with the limit, the goal and the crushed
    document's size, and with the input's size where the crushed document is not smaller
    than the input. A part of the count above all of these is above the count's place in
    each comparison too, so counting stops there: for a large response, after a small part.
    """
    if early is None:  # nothing to crush: the lossless size is compared with the input's
        return counting.at_least(sys.maxsize)[0]
    try:
        crushed = count(early.text)
    except BaseException:
        counting.stop()
        raise
    bound = max(limit, crushed, math.ceil(goal) if goal is not None else 0)
    if before is not None and crushed >= before:
        bound = max(bound, before)
    return counting.at_least(bound)[0]
