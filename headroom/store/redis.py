"""RedisStore: the CCR store shared by every process and host that reaches one Redis server.

Proxy workers, web workers and a LangGraph deployment see the same originals, so a handle
one process wrote into a prompt can be retrieved by any other. Selected by a URL:
``open_store("redis://host:6379/0")`` (also ``rediss://`` and ``unix:///path/to.sock``), the
``HEADROOM_STORE`` variable or ``--store`` in the CLI.

TTL, size bound, grace period and tombstones behave as :class:`~headroom.store.SQLiteStore`'s
(the same contract tests run against all three backends): every ``put`` runs one server-side
script that purges expired originals, stores the new one and evicts the least recently used
past the grace period until the originals fit ``max_bytes``, all atomically. Layout, under a
key prefix (``headroom:`` by default):

* ``<prefix>o:<handle>``: a hash of the original (``data``, ``sha256``, ``kind``, ``created``);
* ``<prefix>c`` and ``<prefix>a``: sorted sets of handles by creation (last put) and by
  last access, the TTL and LRU orders; ``<prefix>s``: each handle's size;
* ``<prefix>m``: the count and bytes of originals held;
* ``<prefix>u:<kind>`` and ``<prefix>uk``: usage totals, and ``<prefix>ud:<day>`` and
  ``<prefix>ud``: the same per UTC day (no expiry), written by
  :class:`~headroom.store.usage.RedisUsageLog`, not by the store;
* ``<prefix>x:<handle>``: a tombstone (when and why an original went), kept
  ``TOMBSTONE_SECONDS`` (30 days) by Redis's own expiry.

An original's key also carries a Redis expiry an hour past its TTL, so data does not outlive
its TTL by much even when no more puts come to purge it. Set ``maxmemory`` on the server
above ``max_bytes`` (originals plus about 200 bytes of bookkeeping each): a ``noeviction``
server refuses a put when full (compression then stays lossless), while an ``allkeys-*``
policy may drop originals the store still counts.

An unreachable server gives :class:`~headroom.StoreUnavailableError` naming the URL (without
its password) after the connect or command timeout, never a hang; compression then keeps
only lossless output, with a warning naming the store.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from headroom.errors import (
    HandleExpiredError,
    HandleNotFoundError,
    InvalidArgumentError,
    StoreError,
    StoreUnavailableError,
)
from headroom.store._common import (
    DEFAULT_GRACE_SECONDS,
    DEFAULT_TTL_SECONDS,
    TOMBSTONE_SECONDS,
    check_bounds,
    collision,
    encode_original,
)
from headroom.store.base import StoredOriginal, StoreStats

if TYPE_CHECKING:
    import redis

__all__ = ["INSTALL_HINT", "RedisStore", "is_redis_url"]

INSTALL_HINT = "pip install 'headroom-ctx[redis]'"
_SCHEMES = ("redis://", "rediss://", "unix://")
# Handles this client put in the last few seconds, for __contains__ without a round trip:
# the check a compression makes right after its put. Kept short and forgotten on any
# connection error, since a server that restarted without persistence holds none of them.
_RECENT = 4096
_RECENT_SECONDS = 5.0
# The backstop expiry on an original's key, past its TTL (see the module docstring).
_BACKSTOP_MS = 3600 * 1000

# Shared by the scripts: drop one original, leaving a tombstone.
_DROP = """
local p = ARGV[1]
local function fmt(x) return string.format('%.17g', x) end
local function drop(h, went, why)
  local size = tonumber(redis.call('HGET', p .. 's', h) or '0')
  redis.call('DEL', p .. 'o:' .. h)
  redis.call('ZREM', p .. 'c', h)
  redis.call('ZREM', p .. 'a', h)
  redis.call('HDEL', p .. 's', h)
  redis.call('HINCRBY', p .. 'm', 'items', -1)
  redis.call('HINCRBY', p .. 'm', 'bytes', -size)
  redis.call('SET', p .. 'x:' .. h, fmt(went) .. '|' .. why, 'PX', ARGV[10])
  return size
end
"""

# ARGV: prefix, handle, data, sha256, kind, now, ttl ('' = none), max_bytes ('' = none),
# grace, tombstone ms, backstop ms, created ('' = now; else an imported original's, kept if
# later than the one held). Returns the sha256 already stored under the handle (a
# collision when it differs from ARGV[4]), or "".
_PUT = (
    _DROP
    + """
local h, data, now = ARGV[2], ARGV[3], tonumber(ARGV[6])
local key = p .. 'o:' .. h
if ARGV[7] ~= '' then
  local ttl = tonumber(ARGV[7])
  local old = redis.call('ZRANGEBYSCORE', p .. 'c', '-inf', '(' .. fmt(now - ttl),
                         'WITHSCORES', 'LIMIT', 0, 1000)
  for i = 1, #old, 2 do drop(old[i], tonumber(old[i + 1]) + ttl, 'expired') end
end
local held = redis.call('HGET', key, 'sha256')
if held and held ~= ARGV[4] then return held end
local created = ARGV[6]
if ARGV[12] ~= '' then
  created = ARGV[12]
  local had = held and redis.call('ZSCORE', p .. 'c', h)
  if had and tonumber(had) > tonumber(created) then created = had end
end
if held then
  redis.call('HSET', key, 'kind', ARGV[5], 'created', created)
else
  redis.call('HSET', key, 'data', data, 'sha256', ARGV[4], 'kind', ARGV[5], 'created', created)
  -- A size still recorded means the key went behind the store's back (a backstop expiry
  -- or a server-side eviction): replace its count rather than add to it.
  local was = redis.call('HGET', p .. 's', h)
  if not was then redis.call('HINCRBY', p .. 'm', 'items', 1) end
  redis.call('HINCRBY', p .. 'm', 'bytes', string.len(data) - tonumber(was or '0'))
  redis.call('HSET', p .. 's', h, string.len(data))
  redis.call('DEL', p .. 'x:' .. h)
end
redis.call('ZADD', p .. 'c', created, h)
redis.call('ZADD', p .. 'a', ARGV[6], h)
if ARGV[7] ~= '' then
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[7]) * 1000) + tonumber(ARGV[11]))
else
  redis.call('PERSIST', key)
end
if ARGV[8] ~= '' then
  local max = tonumber(ARGV[8])
  local total = tonumber(redis.call('HGET', p .. 'm', 'bytes') or '0')
  local cutoff = now - tonumber(ARGV[9])
  local kept = 0  -- originals passed over (in their grace period): the next rank to read
  while total > max do
    local batch = redis.call('ZRANGE', p .. 'a', kept, kept + 99)
    if #batch == 0 then break end
    for _, victim in ipairs(batch) do
      local score = redis.call('ZSCORE', p .. 'c', victim)
      local created = score and tonumber(score) or -math.huge
      if created < cutoff then
        total = total - drop(victim, now, 'evicted')
        if total <= max then break end
      else
        kept = kept + 1
      end
    end
  end
end
return ''
"""
)

# ARGV: prefix, now, ttl ('' = none). Returns {items, bytes} of the originals not expired.
_STATS = """
local p, now = ARGV[1], tonumber(ARGV[2])
local items = tonumber(redis.call('HGET', p .. 'm', 'items') or '0')
local bytes = tonumber(redis.call('HGET', p .. 'm', 'bytes') or '0')
if ARGV[3] ~= '' then
  local cutoff = string.format('%.17g', now - tonumber(ARGV[3]))
  local old = redis.call('ZRANGEBYSCORE', p .. 'c', '-inf', '(' .. cutoff)
  for _, h in ipairs(old) do
    items = items - 1
    bytes = bytes - tonumber(redis.call('HGET', p .. 's', h) or '0')
  end
end
return {items, bytes}
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
        ttl_seconds: originals expire this long after their last put (default 7 days);
            ``None`` keeps them until evicted. A ``get`` of one that expired or was
            evicted raises :class:`~headroom.errors.HandleExpiredError` saying when.
        max_bytes: after a ``put``, least recently used originals (by last ``put`` or
            ``get``) are deleted until the originals total at most this, sparing those put
            within ``grace_seconds``, as :class:`~headroom.store.SQLiteStore` does. ``None``
            (the default) leaves the bound to the server's ``maxmemory``.
        grace_seconds: an original is never evicted this soon after its last ``put``, by
            any process sharing the server (default 10 minutes).
        prefix: the key prefix, so several stores can share one database.
        timeout_seconds: connect and command timeout; a server that does not answer in
            time is a :class:`~headroom.StoreUnavailableError`, not a hang.
        clock: seconds since the epoch; injectable so tests can move time. Processes
            sharing a server should have synchronised clocks (NTP), as for SQLite files.

    Raises:
        ImportError: the ``redis`` extra is not installed (names the ``pip install``).
        InvalidArgumentError: ``url`` is not a Redis URL, or a bound is invalid.

    Example:
        >>> store = RedisStore("redis://127.0.0.1:6379/0", ttl_seconds=3600)  # doctest: +SKIP
        >>> store.get(store.put("a long tool output", kind="text")).text  # doctest: +SKIP
        'a long tool output'
    """

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float | None = DEFAULT_TTL_SECONDS,
        max_bytes: int | None = None,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        prefix: str = "headroom:",
        timeout_seconds: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not is_redis_url(url):
            raise InvalidArgumentError(
                f"url: expected redis://, rediss:// or unix://, got {_redacted(str(url))!r}"
            )
        check_bounds(ttl_seconds, max_bytes, grace_seconds)
        try:
            import redis
        except ImportError as error:
            raise ImportError(f"RedisStore needs the redis package: {INSTALL_HINT}") from error
        self.url = _redacted(url)
        self._ttl = ttl_seconds
        self._max_bytes = max_bytes
        self._grace = grace_seconds
        self._prefix = prefix
        self._clock = clock
        self._client: redis.Redis = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds
        )
        self._put_script = self._client.register_script(_PUT)
        self._stats_script = self._client.register_script(_STATS)
        self._recent_lock = threading.Lock()
        self._recent: OrderedDict[str, float] = OrderedDict()

    @property
    def prefix(self) -> str:
        """The key prefix this store's keys share."""
        return self._prefix

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, ttl_seconds={self._ttl!r})"

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def put(self, original: str | bytes, *, kind: str, created_at: float | None = None) -> str:
        """Store ``original`` and return its handle (idempotent; one round trip).

        ``created_at`` (for ``headroom store import``) keeps an original's creation time
        from another store; an original already held keeps the later of the two.

        Raises:
            StoreUnavailableError: the server is unreachable or did not answer in time.
            StoreError: the server failed, or the handle already names a different
                original (hash collision).
        """
        data, sha, handle = encode_original(original)
        now = self._clock()
        held = self._call(
            self._put_script,
            keys=[],
            args=[
                self._prefix,
                handle,
                data,
                sha,
                kind,
                repr(now),
                "" if self._ttl is None else repr(float(self._ttl)),
                "" if self._max_bytes is None else str(self._max_bytes),
                repr(float(self._grace)),
                str(max(1, math.ceil(TOMBSTONE_SECONDS * 1000))),
                str(_BACKSTOP_MS),
                "" if created_at is None else repr(float(created_at)),
            ],
        )
        if held:
            raise collision(handle, _text(held), sha, f"Redis store at {self.url}")
        if created_at is not None:
            return handle  # an import: not a handle a compression is about to check
        with self._recent_lock:
            self._recent[handle] = now
            self._recent.move_to_end(handle)
            while len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
        return handle

    def get(self, handle: str) -> StoredOriginal:
        """Return the original stored under ``handle`` (one round trip).

        Raises:
            HandleExpiredError: it expired or was evicted (saying when).
            HandleNotFoundError: never stored (or gone longer than the tombstones last).
            StoreUnavailableError: the server is unreachable or did not answer in time.
            StoreError: the server failed.
        """
        now = self._clock()
        pipe = self._client.pipeline(transaction=False)
        pipe.hgetall(self._key(handle))
        pipe.get(f"{self._prefix}x:{handle}")
        pipe.zadd(self._prefix + "a", {handle: now}, xx=True)  # LRU: a get makes it recent
        row, tombstone, _ = self._call(pipe.execute)
        data = row.get(b"data")
        if data is not None:
            created = float(_text(row.get(b"created", b"0")))
            if self._ttl is not None and created < now - self._ttl:
                raise HandleExpiredError(handle, created + self._ttl)
            return StoredOriginal(handle, data, _text(row.get(b"kind", b"")), created, len(data))
        if tombstone is not None:
            went, _, why = _text(tombstone).partition("|")
            raise HandleExpiredError(
                handle, float(went), "evicted" if why == "evicted" else "expired"
            )
        raise HandleNotFoundError(handle)

    def originals(self, *, batch: int = 100) -> Iterator[StoredOriginal]:
        """Every original held and not expired, oldest first (for ``headroom store
        export``), read ``batch`` at a time (one round trip each). Originals put or
        expired meanwhile may or may not be included."""
        cutoff = -math.inf if self._ttl is None else self._clock() - self._ttl
        low = "-inf" if cutoff == -math.inf else repr(cutoff)
        offset = 0
        while True:
            handles = [
                _text(h)
                for h in self._call(
                    self._client.zrangebyscore,
                    self._prefix + "c",
                    low,
                    "+inf",
                    start=offset,
                    num=batch,
                )
            ]
            if not handles:
                return
            pipe = self._client.pipeline(transaction=False)
            for handle in handles:
                pipe.hgetall(self._key(handle))
            for handle, row in zip(handles, self._call(pipe.execute), strict=True):
                data = row.get(b"data")
                if data is not None:  # gone since the range was read
                    created = float(_text(row.get(b"created", b"0")))
                    kind = _text(row.get(b"kind", b""))
                    yield StoredOriginal(handle, data, kind, created, len(data))
            offset += len(handles)

    def set_ref(self, name: str, handle: str, ttl_seconds: float | None) -> None:
        """Point the reference ``name`` at ``handle`` for ``ttl_seconds`` (``None``: until
        replaced); one atomic ``SET``, which Redis also expires.

        Raises:
            StoreUnavailableError: the server is unreachable or did not answer in time.
        """
        now = self._clock()
        expires = "" if ttl_seconds is None else repr(now + ttl_seconds)
        key = f"{self._prefix}r:{name}"
        value = f"{handle}|{expires}"
        if ttl_seconds is None:
            self._call(self._client.set, key, value)
        else:
            self._call(self._client.set, key, value, px=max(1, math.ceil(ttl_seconds * 1000)))

    def get_ref(self, name: str) -> str | None:
        """The handle the reference ``name`` points at, or ``None`` (never set, deleted or
        expired).

        Raises:
            StoreUnavailableError: the server is unreachable or did not answer in time.
        """
        value = self._call(self._client.get, f"{self._prefix}r:{name}")
        if value is None:
            return None
        handle, _, expires = _text(value).partition("|")
        if expires and float(expires) <= self._clock():
            return None
        return handle

    def delete_ref(self, name: str) -> bool:
        """Remove the reference ``name``; whether there was one."""
        return bool(self._call(self._client.delete, f"{self._prefix}r:{name}"))

    def __contains__(self, handle: object) -> bool:
        """Whether ``get(handle)`` would find the original. A handle this client put in
        the last few seconds (within the grace period and TTL) is known to be there
        without asking, since eviction spares it: checking the handles of a compression
        just made costs no round trip."""
        if not isinstance(handle, str):
            return False
        now = self._clock()
        with self._recent_lock:
            put_at = self._recent.get(handle)
        window = min(_RECENT_SECONDS, self._grace, self._ttl or math.inf)
        if put_at is not None and 0 <= now - put_at < window:
            return True
        pipe = self._client.pipeline(transaction=False)
        pipe.exists(self._key(handle))
        pipe.zscore(self._prefix + "c", handle)
        exists, created = self._call(pipe.execute)
        if not exists or created is None:
            return False
        return self._ttl is None or not float(created) < now - self._ttl

    def stats(self) -> StoreStats:
        """What the server holds for this store now (expired originals are not counted);
        a server that cannot be reached is reported, not raised."""
        ttl = "" if self._ttl is None else repr(float(self._ttl))
        try:
            items, total = self._call(
                self._stats_script, keys=[], args=[self._prefix, repr(self._clock()), ttl]
            )
        except StoreError as error:
            return StoreStats(
                "redis", self.url, 0, 0, self._max_bytes, writable=False, error=str(error)
            )
        return StoreStats("redis", self.url, int(items), int(total), self._max_bytes)

    def close(self) -> None:
        """Release the connections (idempotent)."""
        self._client.close()

    def _key(self, handle: str) -> str:
        return f"{self._prefix}o:{handle}"

    def _call(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return command(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            with self._recent_lock:
                self._recent.clear()
            raise StoreUnavailableError(self.url, f"{type(error).__name__}: {error}") from error
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
