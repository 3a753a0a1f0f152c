"""``headroom stats``: the store line, tokens saved by kind and by day, ``--days`` and
``--json``, run as users run it on a store with several days of records."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from headroom.store import SQLiteStore
from headroom.store.usage import SQLiteUsageLog, day_of

DAY = 86_400.0


def _stats(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headroom", "stats", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "HEADROOM_HOME": str(home), "HEADROOM_STORE": ""},
        timeout=120,
    )


def _record(path: Path, seconds_ago: float, kind: str, before: int, after: int) -> None:
    now = time.time() - seconds_ago
    with SQLiteStore(path, clock=lambda: now) as store:
        SQLiteUsageLog(store).record(kind, before, after)


def _rows(table: str) -> dict[str, list[str]]:
    """Table lines by their first cell (the last of a repeated name wins)."""
    return {
        cells[0]: cells[1:]
        for line in table.splitlines()
        if (cells := line.split()) and not line.startswith("-")
    }


def test_stats_shows_tokens_saved_by_kind_and_by_day(tmp_path: Path) -> None:
    db = tmp_path / "ccr.sqlite3"
    _record(db, 0, "json", 12_000, 3_000)
    _record(db, 0, "log", 1_500, 500)
    _record(db, DAY, "json", 2_000, 1_000)
    _record(db, 20 * DAY, "log", 1_000_000, 10_000)  # outside the default 14 days
    today, yesterday, old = (day_of(time.time() - s) for s in (0, DAY, 20 * DAY))

    out = _stats(tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith(f"store: sqlite {db}\noriginals: 0 (")
    by_kind, by_day = text.split("by day (UTC), last 14 days, newest first:")
    kinds = _rows(by_kind)
    assert kinds["log"] == ["2", "1,001,500", "10,500", "991,000", "(99%)"]
    assert kinds["json"] == ["2", "14,000", "4,000", "10,000", "(71%)"]
    assert kinds["total"] == ["4", "1,015,500", "14,500", "1,001,000", "(99%)"]
    assert by_kind.index("log") < by_kind.index("json")  # most saved first
    days = _rows(by_day)
    assert days[today] == ["2", "13,500", "3,500", "10,000", "(74%)"]
    assert days[yesterday] == ["1", "2,000", "1,000", "1,000", "(50%)"]
    assert days["earlier"] == ["1", "1,000,000", "10,000", "990,000", "(99%)"]
    assert days["total"] == kinds["total"]  # the days and "earlier" add up to all time
    assert old not in days
    assert by_day.index(today) < by_day.index(yesterday)  # newest first
    # Numbers are right-aligned: each column's cells end where its header does.
    lines = by_day.strip().splitlines()
    header = lines[0]
    for line in lines[2:]:
        if not line.startswith("-"):
            assert len(line) == len(header), (line, header)

    wide = _rows(_stats(tmp_path, "--days", "30").stdout.split("newest first:")[1])
    assert wide[old] == ["1", "1,000,000", "10,000", "990,000", "(99%)"]
    assert "earlier" not in wide

    payload = json.loads(_stats(tmp_path, "--json", "--days", "2").stdout)
    assert list(payload["by_day"]) == [today, yesterday]
    assert payload["by_day"][today]["total"]["tokens_saved"] == 10_000
    assert payload["by_day"][today]["by_kind"]["log"] == {
        "calls": 1,
        "tokens_before": 1_500,
        "tokens_after": 500,
        "tokens_saved": 1_000,
        "saved_share": 0.6667,
    }
    assert payload["days"] == 2
    assert payload["earlier"]["tokens_saved"] == 990_000
    assert payload["total"]["tokens_saved"] == 1_001_000
    assert payload["store"]["backend"] == "sqlite" and payload["usage_error"] is None


def test_stats_on_a_store_from_before_per_day_counts(tmp_path: Path) -> None:
    """A version-3 file: its counts show as "earlier" (they have no day), then it is upgraded
    in place by the first write, keeping them."""
    db = tmp_path / "ccr.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE originals (handle TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT,
            created_at REAL, accessed_at REAL, size INTEGER, data BLOB);
        CREATE INDEX originals_by_access ON originals (accessed_at, handle, size);
        CREATE INDEX originals_by_creation ON originals (created_at);
        CREATE TABLE usage (kind TEXT PRIMARY KEY, calls INTEGER, tokens_before INTEGER,
            tokens_after INTEGER);
        CREATE TABLE tombstones (handle TEXT PRIMARY KEY, went_at REAL, reason TEXT);
        CREATE TABLE refs (name TEXT PRIMARY KEY, handle TEXT NOT NULL, expires_at REAL);
        INSERT INTO usage VALUES ('json', 7, 70000, 7000);
        PRAGMA user_version = 3;
        """
    )
    conn.close()
    _record(db, 0, "json", 100, 50)

    out = _stats(tmp_path)
    assert out.returncode == 0, out.stderr
    days = _rows(out.stdout.split("newest first:")[1])
    assert days[day_of(time.time())] == ["1", "100", "50", "50", "(50%)"]
    assert days["earlier"] == ["7", "70,000", "7,000", "63,000", "(90%)"]
    assert days["total"] == ["8", "70,100", "7,050", "63,050", "(90%)"]


def test_stats_with_nothing_recorded(tmp_path: Path) -> None:
    out = _stats(tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("no compression recorded yet\n")
    assert json.loads(_stats(tmp_path, "--json").stdout)["by_day"] == {}


def test_a_record_between_the_two_reads_never_shows_negative_earlier_counts(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    """totals() and by_day() are two reads: another process recording between them makes
    the days add up to more than the totals. stats reads again instead of printing a
    negative 'earlier' row."""
    from headroom import cli

    path = tmp_path / "ccr.sqlite3"
    _record(path, 0, "log", 1_000, 100)
    real = SQLiteUsageLog.totals
    reads: list[int] = []

    def totals_then_a_record(self: SQLiteUsageLog) -> dict[str, Any]:
        found = real(self)
        reads.append(1)
        if len(reads) == 1:  # another process records right after the first read
            _record(path, 0, "log", 500, 50)
        return found

    monkeypatch.setattr(SQLiteUsageLog, "totals", totals_then_a_record)
    assert cli.main(["--store", str(path), "stats", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert len(reads) == 2
    assert shown["earlier"]["calls"] == 0 and shown["earlier"]["tokens_saved"] == 0
    assert shown["total"]["calls"] == 2 and shown["total"]["tokens_saved"] == 1_350
