"""RedisStore: the CCR store shared by every process and host that reaches one Redis server.

Proxy workers, web workers and a LangGraph deployment see the same originals, so a handle
one process wrote into a prompt can be retrieved by any other. Selected by a URL:
``open_store("redis://host:6379/0")`` (also ``rediss://`` and ``unix:///path/to.sock``), the
``HEADROOM_STORE`` variable or ``--store`` in the CLI.

Layout, under a key prefix (``headroom:`` by default):

* ``<prefix>o:<handle>``: a hash of the original (``data``, ``sha256``, ``kind``,
  ``created``), written in one round trip by a server-side script that also refuses a
  truncated-hash collision and, with a TTL, sets the key to expire (Redis drops it then);
* ``<prefix>u:<kind>``: usage totals (``calls``, ``before``, ``after``) by atomic increments;
* ``<prefix>m``: the count and bytes of originals stored (grown on each new original; a
  Redis-side expiry does not shrink it, so it counts what was ever written while the TTL
  runs, and exactly what is held without one).

The size bound is Redis's own: set ``maxmemory`` with an ``allkeys-lru`` policy on the
server. An unreachable server gives :class:`~headroom.StoreError` naming the URL (without
its password) after the connect or command timeout, never a hang; compression then keeps
only lossless output, with a warning naming the store.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from headroom.errors import HandleNotFoundError, InvalidArgumentError, StoreError
from headroom.store._common import check_bounds, check_usage, collision, encode_original
from headroom.store.base import StoredOriginal, StoreStats, UsageTotals

if TYPE_CHECKING:
    import redis

__all__ = ["INSTALL_HINT", "RedisStore", "is_redis_url"]

INSTALL_HINT = "pip install 'headroom-ctx[redis]'"
_SCHEMES = ("redis://", "rediss://", "unix://")

# KEYS[1] the original's hash, KEYS[2] the meta counters; ARGV: data, sha256, kind, now, ttl.
# Returns the sha256 already stored under the handle (a collision when it differs), or "".
_PUT = """
local held = redis.call('HGET', KEYS[1], 'sha256')
if held and held ~= ARGV[2] then return held end
if not held then
  redis.call('HSET', KEYS[1], 'data', ARGV[1], 'sha256', ARGV[2], 'kind', ARGV[3],
             'created', ARGV[4])
  redis.call('HINCRBY', KEYS[2], 'items', 1)
  redis.call('HINCRBY', KEYS[2], 'bytes', string.len(ARGV[1]))
else
  redis.call('HSET', KEYS[1], 'kind', ARGV[3], 'created', ARGV[4])
end
if ARGV[5] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
return ''
"""


def is_redis_url(spec: object) -> bool:
    """Whether ``spec`` names a Redis server (``redis://``, ``rediss://``, ``unix://``).

    >>> is_redis_url("redis://127.0.0.1:6379/0"), is_redis_url("ccr.sqlite3")
    (True, False)
    """
    return isinstance(spec, str) and spec.startswith(_SCHEMES)


class RedisStore:
    """Originals in a Redis server, shared by every process that names the same URL.

    Args:
        url: ``redis://[:password@]host:port/db``, ``rediss://…`` or ``unix:///path``.
        ttl_seconds: originals expire this long after their last put; ``None`` keeps them
            until Redis evicts them under its own ``maxmemory`` policy.
        prefix: the key prefix, so several stores can share one database.
        timeout_seconds: connect and command timeout; a server that does not answer in
            time is a :class:`~headroom.StoreError`, not a hang.

    Raises:
        ImportError: the ``redis`` extra is not installed (names the ``pip install``).
        InvalidArgumentError: ``url`` is not a Redis URL, or a bound is invalid.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float | None = None,
        prefix: str = "headroom:",
        timeout_seconds: float = 2.0,
    ) -> None:
        if not is_redis_url(url):
            raise InvalidArgumentError(
                f"url: expected redis://, rediss:// or unix://, got {_redacted(str(url))!r}"
            )
        check_bounds(ttl_seconds, None, 0.0)
        try:
            import redis
        except ImportError as error:
            raise ImportError(f"RedisStore needs the redis package: {INSTALL_HINT}") from error
        self.url = _redacted(url)
        self._ttl = ttl_seconds
        self._prefix = prefix
        self._client: redis.Redis = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds
        )
        self._put_script = self._client.register_script(_PUT)

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, ttl_seconds={self._ttl!r})"

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def put(self, original: str | bytes, *, kind: str) -> str:
        """Store ``original`` and return its handle (idempotent; one round trip).

        Raises:
            StoreError: the server failed or is unreachable, or the handle already names a
                different original (hash collision).
        """
        data, sha, handle = encode_original(original)
        ttl = "" if self._ttl is None else str(max(1, round(self._ttl)))
        held = self._call(
            self._put_script,
            keys=[self._key(handle), self._prefix + "m"],
            args=[data, sha, kind, repr(time.time()), ttl],
        )
        if held:
            raise collision(handle, _text(held), sha, f"Redis store at {self.url}")
        return handle

    def get(self, handle: str) -> StoredOriginal:
        """Return the original stored under ``handle``.

        Raises:
            HandleNotFoundError: never stored, expired or evicted.
            StoreError: the server failed or is unreachable.
        """
        row: dict[bytes, bytes] = self._call(self._client.hgetall, self._key(handle))
        data = row.get(b"data")
        if data is None:
            raise HandleNotFoundError(handle)
        return StoredOriginal(
            handle,
            data,
            _text(row.get(b"kind", b"")),
            float(_text(row.get(b"created", b"0"))),
            len(data),
        )

    def __contains__(self, handle: object) -> bool:
        if not isinstance(handle, str):
            return False
        return bool(self._call(self._client.exists, self._key(handle)))

    def record_usage(self, kind: str, tokens_before: int, tokens_after: int) -> None:
        """Add one call's token counts to ``kind``'s totals (atomic, one round trip)."""
        check_usage(kind, tokens_before, tokens_after)
        key = f"{self._prefix}u:{kind}"
        pipe = self._client.pipeline(transaction=True)
        pipe.hincrby(key, "calls", 1)
        pipe.hincrby(key, "before", tokens_before)
        pipe.hincrby(key, "after", tokens_after)
        self._call(pipe.execute)

    def stats(self) -> StoreStats:
        """Counts and usage totals; a server that cannot be reached is reported, not raised."""
        try:
            meta: dict[bytes, bytes] = self._call(self._client.hgetall, self._prefix + "m")
            usage = {}
            for key in self._call(self._client.keys, f"{self._prefix}u:*"):
                totals: dict[bytes, bytes] = self._call(self._client.hgetall, key)
                usage[_text(key)[len(self._prefix) + 2 :]] = UsageTotals(
                    int(totals.get(b"calls", 0)),
                    int(totals.get(b"before", 0)),
                    int(totals.get(b"after", 0)),
                )
        except StoreError as error:
            return StoreStats("redis", self.url, 0, 0, {}, writable=False, error=str(error))
        return StoreStats(
            "redis", self.url, int(meta.get(b"items", 0)), int(meta.get(b"bytes", 0)), usage
        )

    def close(self) -> None:
        """Release the connections (idempotent)."""
        self._client.close()

    def _key(self, handle: str) -> str:
        return f"{self._prefix}o:{handle}"

    def _call(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return command(*args, **kwargs)
        except redis.RedisError as error:
            raise StoreError(
                f"Redis store at {self.url}: {type(error).__name__}: {error}"
            ) from error


def _redacted(url: str) -> str:
    """``url`` without its password (URLs are logged and put in error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
