"""The conversation engine: compress each piece once, and send its exact bytes every time after.

Providers bill a prompt prefix they have already seen at a fraction of the price, so a piece
of a conversation must reach the model with the same bytes on every later request. The
engine owns that promise (contract 8 in ``ARCHITECTURE.md``) for every door: the client, the
adapters, the proxy and the MCP server all compress through it.

How a piece is recognised again:

* In a message list, a slot is known by its **place in the conversation**: a digest of every
  slot up to and including it (location, role, text), plus its hints and the encoding. The
  next request of the same conversation carries the same prefix, so each earlier slot is
  found again and gets the bytes it got the first time: compressed for the latest user turn
  at or before it (the question of the time the tool result was first seen, and a function
  of the prefix alone, so a process that never saw the conversation computes the same), or
  left as it was if it was protected then (a recent turn that later leaves
  ``protect_recent`` stays as sent).
  An explicit ``query=`` argument is part of the key: the caller asked for another view.
* A single text (``compress_text``) is known by its content, kind, hints, query and encoding.

What a hit costs: a SHA-256 of the text and a check that the store still holds the
handles the output names. If the store lost them (evicted, or a store that was down), the
original is put back under the same handle, so the bytes stay the same and the way back is
restored; only when that fails is the piece computed again (the pipeline then falls back to
lossless output with a warning).

The cache is in memory, bounded by entries and by characters of output held, least recently
used first out. A piece evicted from it is computed again on its next appearance, which
gives the same bytes unless the query or the piece's protection changed since.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from headroom.compressors import Registry
from headroom.config import CompressConfig
from headroom.messages import count_overhead, find_slots, latest_user_texts, replace_texts
from headroom.pipeline import Piece, compress_piece, missing_handles
from headroom.router import Hints, Route
from headroom.store.base import Store
from headroom.tokens import TokenCounter

__all__ = [
    "DEFAULT_CACHE_CHARS",
    "DEFAULT_CACHE_ENTRIES",
    "PROTECTED",
    "Engine",
    "MessagesOutcome",
    "ResultCache",
]

PROTECTED: Final = "protected when first seen"
"""The reason of the route of a slot left as given because the config protects it."""
DEFAULT_CACHE_ENTRIES: Final = 65_536
"""Pieces remembered per engine (an unchanged piece costs about 300 bytes)."""
DEFAULT_CACHE_CHARS: Final = 64_000_000
"""Characters of compressed output held per engine (about 64 MB of ASCII)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    """A piece's outcome as first computed; ``text`` is ``None`` when it was left as given."""

    text: str | None
    route: Route
    tokens_before: int
    tokens_after: int
    lossless: bool
    transforms: tuple[str, ...]
    handles: tuple[str, ...]
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, piece: Piece, given: str) -> _Entry:
        return cls(
            None if piece.text == given else piece.text,
            piece.route,
            piece.tokens_before,
            piece.tokens_after,
            piece.lossless,
            tuple(piece.transforms),
            tuple(piece.handles),
            tuple(piece.warnings),
        )

    def piece(self, given: str) -> Piece:
        return Piece(
            given if self.text is None else self.text,
            self.route,
            self.tokens_before,
            self.tokens_after,
            self.lossless,
            list(self.transforms),
            list(self.handles),
            list(self.warnings),
        )

    @property
    def size(self) -> int:
        return 0 if self.text is None else len(self.text)


class ResultCache:
    """Outcomes by key, least recently used first out; safe to share between threads.

    Args:
        max_entries: at most this many pieces are remembered.
        max_chars: at most this many characters of compressed output are held.

    >>> cache = ResultCache(max_entries=2)
    >>> cache.hits, cache.misses, len(cache)
    (0, 0, 0)
    """

    def __init__(
        self, *, max_entries: int = DEFAULT_CACHE_ENTRIES, max_chars: int = DEFAULT_CACHE_CHARS
    ) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return entry

    def add(self, key: bytes, entry: _Entry) -> _Entry:
        """Remember ``entry`` unless ``key`` already has one; return the one remembered.

        The first outcome wins: two requests computing the same piece at once both send
        what the first stored.
        """
        with self._lock:
            held = self._entries.get(key)
            if held is not None:
                return held
            self._put(key, entry)
            return entry

    def replace(self, key: bytes, entry: _Entry) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._chars -= old.size
            self._put(key, entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0

    def _put(self, key: bytes, entry: _Entry) -> None:
        if entry.size > self.max_chars:
            return  # larger than the whole budget: computing it again is the only option
        self._entries[key] = entry
        self._chars += entry.size
        while len(self._entries) > self.max_entries or self._chars > self.max_chars:
            _, dropped = self._entries.popitem(last=False)
            self._chars -= dropped.size


@dataclass(frozen=True, slots=True)
class MessagesOutcome:
    """What :meth:`Engine.compress_messages` made of a message list."""

    messages: list[Any]
    tokens_before: int
    tokens_after: int
    pieces: list[tuple[str, Piece]]  # (where, outcome) per slot, in order
    transforms: list[str]
    handles: list[str]
    warnings: list[str]


class Engine:
    """Compresses pieces and message lists for one config, registry and store, each piece
    once (see the module docstring).

    Args:
        config: what may be compressed and how.
        store: where originals go.
        registry: the compressors.
        cache: remembered outcomes; a new bounded :class:`ResultCache` by default.
    """

    def __init__(
        self,
        config: CompressConfig,
        store: Store,
        registry: Registry,
        *,
        cache: ResultCache | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.registry = registry
        self.cache = cache if cache is not None else ResultCache()

    def compress_text(
        self,
        text: str,
        *,
        count: TokenCounter,
        query: str | None = None,
        kind: str = "auto",
        hints: Hints | None = None,
    ) -> Piece:
        """One string, known again by its content and the settings that shape its output."""
        hints = hints or Hints()
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        key = _key(b"text", count.encoding, kind, hints, query, digest)
        return self._piece(key, text, count=count, query=lambda: query, kind=kind, hints=hints)

    def compress_messages(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        count: TokenCounter,
        query: str | None = None,
    ) -> MessagesOutcome:
        """A message list (already validated), each slot known again by its place in the
        conversation; ``query`` overrides the latest user turn and is part of the key."""
        # A slot's question is the latest user turn at or before it: a function of the
        # conversation up to the slot, so any process that has not seen the conversation
        # (another proxy worker, a restart) computes the bytes the first one sent.
        asked: list[str | None] = []  # read when a slot is first computed, not on hits

        def question(index: int) -> Callable[[], str | None]:
            def ask() -> str | None:
                if query is not None:
                    return query
                if not asked:
                    asked.extend(latest_user_texts(messages))
                return asked[index]

            return ask

        before = after = count_overhead(messages, count)
        prefix = hashlib.sha256()
        replacements: dict[tuple[int | str, ...], str] = {}
        pieces: list[tuple[str, Piece]] = []
        transforms: list[str] = []
        handles: list[str] = []
        warnings: list[str] = []
        for slot in find_slots(messages, self.config):
            prefix.update(repr((slot.path, slot.source, len(slot.text))).encode())
            prefix.update(slot.text.encode("utf-8", "surrogatepass"))
            key = _key(b"slot", count.encoding, "auto", slot.hints, query, prefix.digest())
            piece = self._piece(
                key,
                slot.text,
                count=count,
                query=question(int(slot.path[0])),
                hints=slot.hints,
                where=slot.where,
                eligible=slot.eligible,
            )
            pieces.append((slot.where, piece))
            before += piece.tokens_before
            after += piece.tokens_after
            warnings.extend(piece.warnings)
            if piece.text != slot.text:
                replacements[slot.path] = piece.text
                transforms.extend(t for t in piece.transforms if t not in transforms)
                handles.extend(h for h in piece.handles if h not in handles)
        return MessagesOutcome(
            replace_texts(messages, replacements),
            before,
            after,
            pieces,
            transforms,
            handles,
            warnings,
        )

    def _piece(
        self,
        key: bytes,
        text: str,
        *,
        count: TokenCounter,
        query: Callable[[], str | None],
        kind: str = "auto",
        hints: Hints,
        where: str = "text",
        eligible: bool = True,
    ) -> Piece:
        entry = self.cache.get(key)
        if entry is not None:
            if self._still_retrievable(entry, text):
                return entry.piece(text)
            fresh = self._compute(text, count, query, kind, hints, where, eligible)
            self.cache.replace(key, _Entry.of(fresh, text))
            return fresh
        fresh = self._compute(text, count, query, kind, hints, where, eligible)
        return self.cache.add(key, _Entry.of(fresh, text)).piece(text)

    def _compute(
        self,
        text: str,
        count: TokenCounter,
        query: Callable[[], str | None],
        kind: str,
        hints: Hints,
        where: str,
        eligible: bool,
    ) -> Piece:
        if not eligible:  # protected: left as given, and remembered so
            tokens = count(text)
            return Piece(text, Route("opaque", reason=PROTECTED), tokens, tokens)
        return compress_piece(
            text,
            config=self.config,
            registry=self.registry,
            store=self.store,
            count=count,
            query=query(),  # asked only now: a hit never reads the conversation's questions
            kind=kind,
            hints=hints,
            where=where,
        )

    def _still_retrievable(self, entry: _Entry, text: str) -> bool:
        """Whether every handle ``entry`` names can be retrieved, putting the original
        back under its handle when the store lost it."""
        if entry.lossless or not entry.handles:
            return True
        missing = missing_handles(list(entry.handles), self.store)
        if not missing:
            return True
        try:
            restored = self.store.put(text, kind=entry.route.kind)
        except Exception:  # the store is down: compute again, lossless with a warning
            return False
        return set(missing) == {restored} and not missing_handles(missing, self.store)


def _key(
    scope: bytes, encoding: str, kind: str, hints: Hints, query: str | None, digest: bytes
) -> bytes:
    head = repr((encoding, kind, hints.tool_name, hints.path, query)).encode(
        "utf-8", "surrogatepass"
    )
    return hashlib.sha256(scope + b"\0" + head + b"\0" + digest).digest()
