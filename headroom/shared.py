"""Context shared between agents: one puts a long output under a key, others get it back.

An agent that fetched something large (a crawl, a query result, a log) puts it under a key
and gets the compressed view to use itself; any other agent, in another process or on
another host sharing the same store (a Redis URL, or one SQLite file on one host), gets the
compressed view by key, or the full original when it needs every byte. Nobody pays for the
full text in tokens unless they ask for it.

Example:
    >>> from headroom import SharedContext
    >>> research = SharedContext("research", store="memory")
    >>> rows = "\\n".join(f"2024-01-01 INFO request {i} ok" for i in range(300))
    >>> entry = research.put("crawl/day1", rows)
    >>> entry.tokens_after < entry.tokens_before
    True
    >>> research.get("crawl/day1") == entry.text
    True
    >>> research.get("crawl/day1", full=True) == rows
    True
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from headroom.client import Headroom
from headroom.errors import InvalidArgumentError, SharedKeyError
from headroom.store import Store
from headroom.store._common import DEFAULT_TTL_SECONDS, check_bounds

__all__ = ["SharedContext", "SharedEntry"]

_ENTRY_KIND = "shared"


@dataclass(frozen=True, slots=True)
class SharedEntry:
    """What is shared under one key.

    Attributes:
        key: the key it was put under.
        text: the compressed view (what an agent puts in its prompt); its markers'
            handles retrieve what it omitted, like any compressed text.
        handle: the handle of the full original (``retrieve(handle)`` gives it back).
        kind: the content kind it was compressed as.
        tokens_before, tokens_after: the original's and the view's token counts.
        put_at: when it was put, in seconds since the epoch.
    """

    key: str
    text: str
    handle: str
    kind: str
    tokens_before: int
    tokens_after: int
    put_at: float


@runtime_checkable
class _RefStore(Store, Protocol):
    def set_ref(self, name: str, handle: str, ttl_seconds: float | None) -> None: ...

    def get_ref(self, name: str) -> str | None: ...

    def delete_ref(self, name: str) -> bool: ...


class SharedContext:
    """Keys naming compressed views and their originals, namespaced per app, in a store.

    Args:
        app: the namespace: contexts with the same ``app`` on the same store share keys,
            others never see them.
        store: where entries live (as for :class:`headroom.Headroom`): a ``redis://`` URL
            for agents on several hosts, a SQLite file path for processes on one host,
            ``"memory"`` for one process. Default: the client's store, else the default.
        ttl_seconds: a key is forgotten this long after its last ``put`` (default 7 days);
            ``None`` keeps it until deleted. The store's own TTL and size bound still apply
            to the originals behind it: a key that outlives them raises
            :class:`~headroom.HandleExpiredError` on ``get``.
        client: the :class:`~headroom.Headroom` that compresses (its config and model);
            default: a new one on ``store``.

    Raises:
        InvalidArgumentError: ``app`` is empty or not a string, ``ttl_seconds`` is not
            > 0, ``client`` is not a ``Headroom``, or the store cannot hold keys.
    """

    def __init__(
        self,
        app: str,
        *,
        store: Store | str | None = None,
        ttl_seconds: float | None = DEFAULT_TTL_SECONDS,
        client: Headroom | None = None,
    ) -> None:
        if not isinstance(app, str) or not app:
            raise InvalidArgumentError(f"app: expected a non-empty str, got {app!r}")
        check_bounds(ttl_seconds, None, 0.0)
        if client is not None and not isinstance(client, Headroom):
            raise InvalidArgumentError(
                f"client: expected a Headroom instance or None, got {type(client).__name__}"
            )
        if client is not None and store is not None:
            raise InvalidArgumentError("store: give either store or client, not both")
        self.app = app
        self.ttl_seconds = ttl_seconds
        self.client = client if client is not None else Headroom(store=store)
        if not isinstance(self.client.store, _RefStore):
            raise InvalidArgumentError(
                f"store: {type(self.client.store).__name__} cannot hold shared keys (it has "
                "no set_ref/get_ref); use the SQLite, memory or Redis store"
            )
        self._store: _RefStore = self.client.store

    def __repr__(self) -> str:
        return f"SharedContext({self.app!r}, store={self._store!r})"

    def put(
        self, key: str, content: str, *, kind: str = "auto", query: str | None = None
    ) -> SharedEntry:
        """Compress ``content``, keep it and its view under ``key`` (replacing what was
        there), and return the entry. Everything is stored before the key is set, so
        another agent never reads a key whose original is not there yet.

        Args:
            key: any non-empty string, unique within the app.
            content: the long output.
            kind, query: as for :meth:`headroom.Headroom.compress_text`.

        Raises:
            InvalidArgumentError: ``key`` or ``content`` is not a (non-empty) string.
            StoreError: the store failed (nothing is shared then; a failing store also
                makes the view lossless, as for any compression).
        """
        name = self._name(key)
        if not isinstance(content, str):
            raise InvalidArgumentError(f"content: expected str, got {type(content).__name__}")
        result = self.client.compress_text(content, kind=kind, query=query)
        handle = self._store.put(content, kind=result.kind)
        entry = SharedEntry(
            key=key,
            text=result.text,
            handle=handle,
            kind=result.kind,
            tokens_before=result.tokens_before,
            tokens_after=result.tokens_after,
            put_at=time.time(),
        )
        record = json.dumps(
            {
                "app": self.app,
                "key": key,
                "text": entry.text,
                "handle": handle,
                "kind": entry.kind,
                "tokens_before": entry.tokens_before,
                "tokens_after": entry.tokens_after,
                "put_at": entry.put_at,
            },
            ensure_ascii=False,
        )
        self._store.set_ref(name, self._store.put(record, kind=_ENTRY_KIND), self.ttl_seconds)
        return entry

    def get(self, key: str, *, full: bool = False) -> str:
        """The compressed view under ``key``, or with ``full=True`` the exact original.

        Raises:
            SharedKeyError: nothing is under ``key`` in this app (never put, deleted or
                expired).
            HandleExpiredError: the key is there, but the store dropped what it names.
            StoreError: the store failed or cannot be reached.
        """
        entry = self.entry(key)
        return self._store.get(entry.handle).text if full else entry.text

    def entry(self, key: str) -> SharedEntry:
        """Everything known about ``key`` (see :class:`SharedEntry`); raises as :meth:`get`."""
        ref = self._store.get_ref(self._name(key))
        if ref is None:
            raise SharedKeyError(self.app, key)
        record = json.loads(self._store.get(ref).text)
        return SharedEntry(
            key=key,
            text=record["text"],
            handle=record["handle"],
            kind=record["kind"],
            tokens_before=record["tokens_before"],
            tokens_after=record["tokens_after"],
            put_at=record["put_at"],
        )

    def delete(self, key: str) -> bool:
        """Forget ``key`` (the originals stay until the store's TTL); whether it was there."""
        return self._store.delete_ref(self._name(key))

    def _name(self, key: str) -> str:
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(f"key: expected a non-empty str, got {key!r}")
        # The app's length first: app "a:b" with key "c" and app "a" with key "b:c" differ.
        return f"shared:{len(self.app)}:{self.app}:{key}"
