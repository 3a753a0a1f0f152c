"""``python -m headroom.bench.json_data --data DIR``: SmartCrusher on real JSON, file by file.

For every ``*.json`` / ``*.jsonl`` file under ``DIR`` (sidecar ``*.meta.json`` skipped) it
prints tokens pretty-printed (indent 2), minified, after the lossless table encoding, and
after the default (lossy) compression; whether the table document decodes back to the same
value; the share of record ids still in the default output; and the share of *anomalous*
records (defined here independently of the compressor: an error-like field set, an
error-like status, an HTTP status >= 400) whose id is still there; and the share of records
still *identifiable* (``ident``): a record is identifiable when its row is in the output, or
when a marker names it by its identifying fields, its id and its name-like field (``name``,
``login``, ``title``, ... or a URL; the first 20 characters, since markers may cut long
names) where the record has them. The bench picks those fields itself, per array of records:
the id among ``id``, ``key``, ``number``, ... (one level of nesting allowed, unique, in at
least 20% of the records), the name among ``full_name``, ``name``, ``login``, ``title``, ...
Records with neither are not counted. Speed is the lossless encoding of the minified text
(parse + encode, token counting excluded), best of 3.

``--sweep 2000,10000,20000`` then prints, for each value of ``CrushOptions.lossless_up_to``,
the total tokens and share of records identifiable over all files had SmartCrusher used it
(each file is either its lossless table or its crushed form; no target ratio, no query).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from headroom import CompressConfig, Headroom
from headroom.compressors.base import Context
from headroom.compressors.json.crush import CrushOptions
from headroom.compressors.json.minify import minify_json
from headroom.compressors.json.smart_crusher import SmartCrusher, parse_json
from headroom.handles import find_markers
from headroom.jsontables import decode, encode, loads
from headroom.store.memory import MemoryStore
from headroom.tokens import count_tokens, get_counter

__all__ = ["main"]

_ID_KEYS = ("id", "key", "number", "sha", "uuid", "paperId", "DOI", "login", "name", "code")
_LABEL_KEYS = (
    "full_name", "name", "login", "username", "title", "article-title", "display_name",
    "slug", "email", "DOI", "doi", "html_url", "url",
)  # fmt: skip
_LABEL_PREFIX = 20
_MIN_COVERAGE = 0.2
_ERROR_KEYS = {"error", "errors", "exception", "failure", "fault", "stacktrace", "stack"}
_ERROR_WORDS = {"error", "failed", "failure", "fatal", "critical", "timeout", "cancelled"}


def _arrays(value: Any) -> Iterator[list[dict[str, Any]]]:
    if isinstance(value, list):
        if len(value) >= 2 and all(isinstance(item, dict) for item in value):
            yield value
        for item in value:
            yield from _arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)


def _id_key(records: list[dict[str, Any]]) -> str | None:
    for key in _ID_KEYS:
        values = [r.get(key) for r in records]
        scalars = [v for v in values if isinstance(v, str | int) and not isinstance(v, bool)]
        if len(scalars) == len(records) and len(set(scalars)) == len(scalars):
            return key
    return None


def _field(record: dict[str, Any], path: str) -> Any:
    head, _, tail = path.partition(".")
    value = record.get(head)
    return value.get(tail) if tail and isinstance(value, dict) else value


def _paths(records: list[dict[str, Any]], keys: tuple[str, ...]) -> Iterator[str]:
    """``keys`` at the top level first, then inside each nested object, in ``keys`` order."""
    nested = list(dict.fromkeys(k for r in records for k, v in r.items() if isinstance(v, dict)))
    yield from keys
    for parent in nested:
        yield from (f"{parent}.{key}" for key in keys)


def _identifying(records: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The bench's own id and name fields of an array of records (see the module docs)."""
    floor = _MIN_COVERAGE * len(records)
    id_path = None
    for path in _paths(records, _ID_KEYS):
        values = [_field(r, path) for r in records]
        scalars = [v for v in values if isinstance(v, str | int) and not isinstance(v, bool)]
        if len(scalars) >= floor and len(set(scalars)) == len(scalars):
            id_path = path
            break
    for path in _paths(records, _LABEL_KEYS):
        strings = [v for r in records if isinstance(v := _field(r, path), str) and v]
        if path != id_path and len(strings) >= floor and len(set(strings)) > 1:
            return id_path, path
    return id_path, None


def _named(marker_text: str, value: Any) -> bool:
    # A marker writes a long name cut, maybe as a JSON string, with "]" and " · " replaced
    # (they would end the marker): its first characters, in either spelling, are enough.
    text = str(value).replace("]", ")").replace(" · ", " - ")
    head = text[:_LABEL_PREFIX]
    return head in marker_text or _spelled(text)[:_LABEL_PREFIX] in marker_text


def _identifiable(value: Any, output: str) -> tuple[int, int]:
    """(records identifiable, records with an id or a name) over arrays of records."""
    markers = "\n".join(m.summary or "" for m in find_markers(output))
    kept = output
    with contextlib.suppress(ValueError):
        kept = json.dumps(loads(output), ensure_ascii=False)
    found = total = 0
    for records in _arrays(value):
        id_path, label_path = _identifying(records)
        for record in records:
            ident = _field(record, id_path) if id_path else None
            label = _field(record, label_path) if label_path else None
            label = label if isinstance(label, str) and label else None
            if ident is None and label is None:
                continue
            total += 1
            if ident is not None:
                in_row = _present(kept, _spelled(ident))
                listed = _present(markers, _spelled(ident))
            else:
                in_row = _named(kept, label)
                listed = True
            found += in_row or (listed and (label is None or _named(markers, label)))
    return found, total


def _anomalous(record: dict[str, Any]) -> bool:
    for key, value in record.items():
        lowered = key.lower()
        if lowered in _ERROR_KEYS and value not in (None, "", [], {}, False):
            return True
        if lowered in {"status", "state", "conclusion", "result", "level"}:
            if isinstance(value, str) and value.lower() in _ERROR_WORDS:
                return True
            if isinstance(value, int) and not isinstance(value, bool) and 400 <= value < 600:
                return True
        if isinstance(value, dict) and _anomalous(value):
            return True
    return False


def _present(text: str, value: Any) -> bool:
    return re.search(r"(?<![\w.-])" + re.escape(str(value)) + r"(?![\w-])", text) is not None


def _fingerprint(record: dict[str, Any]) -> str | None:
    """The longest short string in a record without an id: enough to tell it was kept."""
    strings = [v for v in record.values() if isinstance(v, str) and 8 <= len(v) <= 200]
    return max(strings, key=len)[:40] if strings else None


def _spelled(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1] if isinstance(value, str) else str(value)


def _retention(value: Any, output: str) -> tuple[int, int, int, int]:
    """(ids kept, ids, anomalous records kept, anomalous records) over arrays of records.

    A record counts as kept when its id (or, without an id column, its fingerprint) is
    still somewhere in the output: in a kept row or in a marker's id list.
    """
    # Read the output back (a table document decodes to the value that was kept; markers
    # stay in the raw text), so ditto marks and templates do not hide what is there.
    with contextlib.suppress(ValueError):
        output = json.dumps(loads(output), ensure_ascii=False) + "\n" + output
    kept = total = bad_kept = bad = 0
    for records in _arrays(value):
        key = _id_key(records)
        for record in records:
            if key:
                hit = _present(output, _spelled(record[key]))
            else:
                mark = _fingerprint(record)
                hit = mark is not None and _spelled(mark) in output
            if key:
                total += 1
                kept += hit
            if _anomalous(record):
                bad += 1
                bad_kept += hit
    return kept, total, bad_kept, bad


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _speed(minified: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        parsed = parse_json(minified)
        if parsed is not None:
            encode(parsed[0], len, lines=parsed[1])
        best = min(best, time.perf_counter() - start)
    return len(minified.encode()) / best / 1e6


def _forms(text: str, value: Any) -> tuple[int, int, int, int, int]:
    """(minified, lossless, crushed tokens, records identifiable when crushed, records) of
    one file, through SmartCrusher with the default options but no lossless budget."""
    minified = minify_json(text)
    counter = get_counter()
    forced = SmartCrusher(CrushOptions(lossless_up_to=0))
    ctx = Context("json", None, None, CompressConfig(), MemoryStore(), counter, text)
    result = forced.compress(minified, ctx)
    crushed = result.text if result is not None else minified
    lossless = SmartCrusher().compress(
        minified, Context("json", None, None, CompressConfig(lossy=False), MemoryStore(), counter)
    )
    named, records = _identifiable(value, crushed)
    size = count_tokens(minified)
    return (
        size,
        count_tokens(lossless.text) if lossless is not None else size,
        count_tokens(crushed),
        named,
        records,
    )


def _sweep(forms: list[tuple[int, int, int, int, int]], budgets: list[int]) -> None:
    minified = sum(form[0] for form in forms)
    print(f"\n{'lossless_up_to':>14} {'tokens':>8} {'saved':>6} {'ident':>6}")
    for budget in budgets:
        after = named = records = 0
        for _, lossless, crushed, found, total in forms:
            whole = lossless <= budget or crushed >= lossless
            after += lossless if whole else crushed
            named += total if whole else found
            records += total
        print(f"{budget:14} {after:8} {1 - after / minified:6.1%} {_share(named, records):>6}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.json_data", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="directory with JSON files")
    parser.add_argument(
        "--sweep",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[],
        help="lossless budgets (tokens) to compare, e.g. 2000,10000,20000",
    )
    args = parser.parse_args(argv)
    files = [
        p
        for p in sorted(args.data.rglob("*"))
        if p.suffix in (".json", ".jsonl") and not p.name.endswith(".meta.json")
    ]
    if not files:
        print(f"no JSON files under {args.data}", file=sys.stderr)
        return 1
    default = Headroom(CompressConfig(min_tokens=0), store="memory")
    print(
        f"{'file':42} {'pretty':>8} {'minified':>8} {'lossless':>8} {'saved':>6} "
        f"{'default':>8} {'saved':>6} {'ids':>5} {'ident':>5} {'anom':>5} {'MB/s':>5} round-trip"
    )
    sums = [0, 0, 0, 0]
    idents = [0, 0]
    forms = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        parsed = parse_json(text)
        if parsed is None:
            print(f"{path.name:42} not exact JSON, skipped")
            continue
        value, lines = parsed
        pretty = (
            "\n".join(json.dumps(v, indent=2) for v in value)
            if lines
            else json.dumps(value, indent=2)
        )
        minified = minify_json(text)
        document = encode(value, count_tokens, lines=lines)
        round_trip = "ok" if decode(document) == value else "MISMATCH"
        lossless = min(count_tokens(document), count_tokens(minified))
        result = default.compress_text(text, kind="json")
        kept, total, bad_kept, bad = _retention(value, result.text)
        named, records = _identifiable(value, result.text)
        idents = [idents[0] + named, idents[1] + records]
        if args.sweep:
            forms.append(_forms(text, value))
        row = [count_tokens(pretty), count_tokens(minified), lossless, result.tokens_after]
        sums = [a + b for a, b in zip(sums, row, strict=True)]
        print(
            f"{path.name[:42]:42} {row[0]:8} {row[1]:8} {row[2]:8} "
            f"{1 - row[2] / row[1]:6.1%} {row[3]:8} {1 - row[3] / row[1]:6.1%} "
            f"{_share(kept, total):>5} {_share(named, records):>5} {_share(bad_kept, bad):>5} "
            f"{_speed(minified):5.1f} {round_trip}"
        )
    print(
        f"{'total':42} {sums[0]:8} {sums[1]:8} {sums[2]:8} {1 - sums[2] / sums[1]:6.1%} "
        f"{sums[3]:8} {1 - sums[3] / sums[1]:6.1%} {'':5} {_share(*idents):>5}"
    )
    print("saved = fewer tokens than the minified JSON")
    if args.sweep:
        _sweep(forms, args.sweep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
