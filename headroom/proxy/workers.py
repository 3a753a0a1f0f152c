"""How the workers of one ``headroom proxy --workers N`` see each other's counters.

Each uvicorn worker is its own process with its own :class:`~headroom.proxy.stats.ProxyStats`.
``headroom proxy`` makes a directory for the run (``HEADROOM_PROXY_STATS_DIR``, removed when
it exits); every worker writes its raw counts there as ``<pid>.json`` (atomically: a temporary
file renamed over the old one) within :data:`PUBLISH_SECONDS` of a change, and at shutdown.
The worker answering ``/stats`` or ``/metrics`` sums its own live counts with the others'
files. The directory is local to the host, whatever the store (SQLite or Redis): ``/stats``
is one proxy's (all of its workers), as a Prometheus target should be; proxies on several
hosts are several targets.

A worker that exits keeps its file, so the counts it made stay in the sums (counters never go
down when uvicorn replaces a worker).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Final

__all__ = ["ENV", "PUBLISH_SECONDS", "WorkerBoard"]

ENV: Final = "HEADROOM_PROXY_STATS_DIR"
PUBLISH_SECONDS: Final = 0.2
"""How far behind another worker's counts may be in a ``/stats`` answer."""

log = logging.getLogger("headroom.proxy")


class WorkerBoard:
    """The directory where the workers of one proxy leave their counts.

    >>> import tempfile
    >>> a = WorkerBoard(tempfile.mkdtemp(), pid=1)
    >>> b = WorkerBoard(a.directory, pid=2)
    >>> a.publish({"requests": {"chat": 3}})
    >>> b.peers()
    [{'requests': {'chat': 3}}]
    >>> a.peers()
    []
    """

    def __init__(self, directory: str | os.PathLike[str], *, pid: int | None = None) -> None:
        self.directory = Path(directory)
        self.pid = os.getpid() if pid is None else pid

    @classmethod
    def from_env(cls) -> WorkerBoard | None:
        """The board ``headroom proxy`` set up for its workers, or None (one process)."""
        directory = os.environ.get(ENV)
        return cls(directory) if directory else None

    def publish(self, counts: dict[str, Any]) -> None:
        """Write this worker's counts (blocking: run it in a thread)."""
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{self.pid}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(counts, out, separators=(",", ":"))
            os.replace(tmp, self.directory / f"{self.pid}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def peers(self) -> list[dict[str, Any]]:
        """The other workers' counts (blocking: run it in a thread). A file that cannot be
        read is logged and left out rather than failing ``/stats``."""
        out = []
        for path in sorted(self.directory.glob("*.json")):
            if path.stem == str(self.pid):
                continue
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as error:
                log.warning("worker counts %s unreadable: %s", path.name, error)
        return out
