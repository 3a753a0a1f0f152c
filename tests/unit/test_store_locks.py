"""A second store on a file this process already has open must not drop the first one's locks.

POSIX advisory locks belong to a process and a file: closing any descriptor of the file drops
every lock the process holds on it. When opening a store read the file's header through a
descriptor of its own while another store of the same process had the file open, that
store's connection lost its locks; the next process to close its connection then found
itself the last one, checkpointed, and deleted the -wal and -shm files under it. The first
store went on writing to a deleted WAL: its originals never reached the file, and a later
checkpoint could copy stale pages over newer ones (seen in the full test suite as "file is
not a database" and "disk I/O error" on the session's default store).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from headroom import Headroom
from headroom.errors import StoreError
from headroom.store import SQLiteStore, open_store

_PUT = (
    "import sys\n"
    "from headroom.store import SQLiteStore\n"
    "with SQLiteStore(sys.argv[1]) as store:\n"
    "    print(store.put(sys.argv[2], kind='text'))\n"
)
_HAS = (
    "import sys\n"
    "from headroom.store import SQLiteStore\n"
    "with SQLiteStore(sys.argv[1], read_only=True) as store:\n"
    "    print(' '.join(str(h in store) for h in sys.argv[2:]))\n"
)


def _child(code: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize(
    "second", ["SQLiteStore", "read-only SQLiteStore", "open_store", "Headroom"]
)
def test_another_process_cannot_delete_the_wal_under_an_open_store(
    tmp_path: Path, second: str
) -> None:
    path = tmp_path / "ccr.sqlite3"
    first = SQLiteStore(path)
    mine = [first.put("first " * 200, kind="text")]
    # A second store on the same file in this process, opened and closed while the first
    # stays open, as a module-level compress() next to a Headroom() of the same file does.
    if second == "SQLiteStore":
        SQLiteStore(path).close()
    elif second == "read-only SQLiteStore":
        SQLiteStore(path, read_only=True).close()
    elif second == "open_store":
        open_store(path).close()
    else:
        Headroom(store=str(path)).close()

    theirs = _child(_PUT, str(path), "from another process " * 200)  # opens, writes, closes

    # The first store still holds its shared lock: the child was not the last connection.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ccr.sqlite3",
        "ccr.sqlite3-shm",
        "ccr.sqlite3-wal",
    ]
    mine.append(first.put("second " * 200, kind="text"))
    mine.append(_child(_PUT, str(path), "third " * 200))
    mine.append(first.put("fourth " * 200, kind="text"))
    assert first.get(theirs).text == "from another process " * 200
    first.close()
    # Everything the first store wrote after the second one closed reached the file.
    assert _child(_HAS, str(path), *mine, theirs) == "True True True True True"
    with SQLiteStore(path) as again:
        assert [again.get(h).text for h in mine] == [
            "first " * 200,
            "second " * 200,
            "third " * 200,
            "fourth " * 200,
        ]


def test_a_file_replaced_under_an_open_store_is_still_checked(tmp_path: Path) -> None:
    path = tmp_path / "ccr.sqlite3"
    with SQLiteStore(path):
        foreign = tmp_path / "foreign"
        foreign.write_bytes(b"not a database, some other program's file\n" * 200)
        os.replace(foreign, path)  # a new file at the path: no store of ours has it open
        with pytest.raises(StoreError, match="not an SQLite database"):
            SQLiteStore(path)


@pytest.mark.parametrize("how", ["closed", "collected"])
def test_the_header_is_checked_again_once_no_store_has_the_file_open(
    tmp_path: Path, how: str
) -> None:
    path = tmp_path / "ccr.sqlite3"
    store = SQLiteStore(path)
    store.put("an original", kind="text")
    if how == "closed":
        store.close()
    del store
    gc.collect()
    for name in ("ccr.sqlite3-wal", "ccr.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with open(path, "r+b") as file:  # the same file, overwritten in place
        file.write(b"not a database!!" * 64)

    with pytest.raises(StoreError, match="not an SQLite database"):
        SQLiteStore(path)
