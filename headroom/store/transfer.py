"""Moving originals between stores: ``headroom store export`` and ``headroom store import``.

The file is JSON Lines: a header line, then one line per original::

    {"format": "headroom-store", "version": 1}
    {"handle": "headroom:…", "kind": "log", "created_at": 1764900000.25, "size": 5,
     "sha256": "…", "data": "<base64 of the exact bytes>"}

Base64 keeps any bytes (binary, invalid UTF-8) exact; the handle, kind and creation time
come along, so a marker written against one store retrieves the same bytes from the other
(e.g. a laptop's SQLite file moved to a shared Redis), and the TTL runs from the original
creation time. Each line is checked on import: its bytes must hash to its ``sha256``, which
must name its handle.

Example:
    >>> import io
    >>> from headroom.store import MemoryStore
    >>> source, target, file = MemoryStore(), MemoryStore(), io.StringIO()
    >>> handle = source.put(b"\\x00raw", kind="opaque")
    >>> export_originals(source, file)
    1
    >>> _ = file.seek(0)
    >>> import_originals(target, file)
    1
    >>> target.get(handle).data
    b'\\x00raw'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator
from typing import IO, Protocol, runtime_checkable

from headroom.errors import InvalidArgumentError
from headroom.handles import handle_from_sha256, is_handle
from headroom.store.base import Store, StoredOriginal

__all__ = ["FORMAT", "PortableStore", "export_originals", "import_originals"]

FORMAT = {"format": "headroom-store", "version": 1}


@runtime_checkable
class PortableStore(Store, Protocol):
    """A store whose originals can be listed and put back with their creation time
    (every built-in backend)."""

    def originals(self) -> Iterator[StoredOriginal]:
        """Every original held and not expired, oldest first."""
        ...

    def put(self, original: str | bytes, *, kind: str, created_at: float | None = None) -> str:
        """Store ``original``; ``created_at`` keeps the creation time it had elsewhere."""
        ...


def export_originals(store: Store, file: IO[str]) -> int:
    """Write every original ``store`` holds to ``file`` as JSON Lines; returns how many.

    Raises:
        InvalidArgumentError: ``store`` cannot list its originals.
        StoreError: the store failed while being read.
    """
    portable = _portable(store)
    file.write(json.dumps(FORMAT) + "\n")
    count = 0
    for original in portable.originals():
        record = {
            "handle": original.handle,
            "kind": original.kind,
            "created_at": original.created_at,
            "size": original.size,
            "sha256": hashlib.sha256(original.data).hexdigest(),
            "data": base64.b64encode(original.data).decode("ascii"),
        }
        file.write(json.dumps(record) + "\n")
        count += 1
    return count


def import_originals(store: Store, file: IO[str]) -> int:
    """Put every original in ``file`` (written by :func:`export_originals`) into ``store``,
    under the same handles and creation times; returns how many. Idempotent: importing a
    file twice, or into a store that already holds some of it, stores each original once.

    Raises:
        InvalidArgumentError: the file is not an export, or a line is malformed or does not
            hash to its handle (names the line); the lines before it are imported.
        StoreError: the store failed (e.g. a truncated-hash collision).
    """
    portable = _portable(store)
    lines = iter(file)
    header = next(lines, "")
    try:
        ok = json.loads(header) == FORMAT
    except ValueError:
        ok = False
    if not ok:
        raise InvalidArgumentError(
            f"line 1: expected the header {json.dumps(FORMAT)}, got {header[:80]!r} "
            "(not a file written by 'headroom store export')"
        )
    count = 0
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        handle, kind, created_at, data = _record(line, number)
        stored = portable.put(data, kind=kind, created_at=created_at)
        if stored != handle:  # cannot happen after _record's checks; kept as a guard
            raise InvalidArgumentError(f"line {number}: stored as {stored}, not {handle}")
        count += 1
    return count


def _record(line: str, number: int) -> tuple[str, str, float, bytes]:
    where = f"line {number}"
    try:
        record = json.loads(line)
    except ValueError as error:
        raise InvalidArgumentError(f"{where}: not JSON ({error})") from None
    if not isinstance(record, dict):
        raise InvalidArgumentError(f"{where}: expected a JSON object")
    handle, kind = record.get("handle"), record.get("kind")
    created_at, sha, encoded = record.get("created_at"), record.get("sha256"), record.get("data")
    if not is_handle(handle):
        raise InvalidArgumentError(f"{where}: handle: expected a Headroom handle, got {handle!r}")
    assert isinstance(handle, str)
    if not isinstance(kind, str):
        raise InvalidArgumentError(f"{where}: kind: expected str, got {type(kind).__name__}")
    if isinstance(created_at, bool) or not isinstance(created_at, int | float):
        raise InvalidArgumentError(f"{where}: created_at: expected a number, got {created_at!r}")
    if not isinstance(encoded, str):
        raise InvalidArgumentError(f"{where}: data: expected base64 text")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidArgumentError(f"{where}: data: not base64 ({error})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha or handle_from_sha256(digest) != handle:
        raise InvalidArgumentError(
            f"{where}: the data does not match its sha256 or handle {handle} (the file was "
            "altered or truncated)"
        )
    return handle, kind, float(created_at), data


def _portable(store: Store) -> PortableStore:
    if not isinstance(store, PortableStore):
        raise InvalidArgumentError(
            f"store: {type(store).__name__} cannot list or restore its originals; "
            "export and import work with the SQLite, memory and Redis stores"
        )
    return store
