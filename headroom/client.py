"""The public entry points: the ``Headroom`` client and the module-level shortcuts."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from headroom.compressors import Registry, default_registry
from headroom.compressors.text.pruner import TextPruner
from headroom.config import DEFAULT_MODEL, CompressConfig, PrunerConfig
from headroom.conversation.rolling import RollingSummarizer
from headroom.engine import PROTECTED, Engine
from headroom.errors import InvalidArgumentError, StoreError
from headroom.messages import count_overhead, find_slots, validate_messages
from headroom.pipeline import Piece
from headroom.results import CompressResult, HeadroomStats, PieceDiagnostic, TextResult
from headroom.retrieval import retrieve_from
from headroom.router import Hints
from headroom.store import Store, UsageLog, open_store, usage_log_for
from headroom.tokens import get_counter

__all__ = ["Headroom", "compress", "compress_text", "count_tokens", "retrieve", "stores_for"]


class Headroom:
    """Compression bound to one config and one CCR store, with cumulative stats.

    Args:
        config: what may be compressed and how; defaults to ``CompressConfig()``.
        store: where originals go; overrides ``config.store``. A ``Store``, ``"memory"``,
            ``"sqlite"`` or a SQLite file path. Default: SQLite under ``HEADROOM_HOME``.
            A SQLite file that cannot be opened for writing (unwritable directory, corrupt
            or foreign file, full disk) does not raise: it is opened read-only if it can
            be, else replaced by an ``UnavailableStore``, a warning naming it is logged, and
            compression stays lossless, each result's ``warnings`` naming the store.
        model: the model whose tokenizer counts tokens, unless a call names another.
        registry: the compressors to use; defaults to every built-in one.

    >>> import json
    >>> hr = Headroom(store="memory")
    >>> rows = json.dumps([{"id": i, "ok": True} for i in range(50)], indent=2)
    >>> result = hr.compress([{"role": "tool", "tool_call_id": "1", "content": rows}])
    >>> result.messages[0]["content"].splitlines()[1:4]
    ['@1', '@1 = 50 rows: id', '  same ok=true']
    >>> result.tokens_after < result.tokens_before
    True
    """

    def __init__(
        self,
        config: CompressConfig | None = None,
        *,
        store: Store | str | None = None,
        model: str = DEFAULT_MODEL,
        registry: Registry | None = None,
    ) -> None:
        _check_client_args(model, registry)
        if config is not None and not isinstance(config, CompressConfig):
            raise InvalidArgumentError(
                f"config: expected CompressConfig, got {type(config).__name__}"
            )
        self.config = config or CompressConfig()
        self.store: Store = open_store(
            store if store is not None else self.config.store, degrade=True
        )
        self.usage: UsageLog = usage_log_for(self.store)
        self.model = model
        self.registry = registry or default_registry()
        self.engine = Engine(self.config, self.store, self.registry)
        self._lock = threading.Lock()
        self._calls = 0
        self._by_kind: dict[str, tuple[int, int]] = {}

    def compress(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str | None = None,
        query: str | None = None,
    ) -> CompressResult:
        """Compress the text inside a chat message list (OpenAI, Anthropic or Gemini shape).

        Tool results are compressed wherever they are; the system prompt, user turns and
        the most recent turns are left alone unless the config says otherwise. Messages
        are never added, removed or reordered, and the input is never mutated.

        Raises:
            InvalidMessageError: a message has the wrong shape (names index and field).
            InvalidArgumentError: ``model`` or ``query`` is not a string, or the config's
                ``token_counter`` raised or returned something other than an int >= 0.
        """
        _check_optional_str("model", model)
        _check_optional_str("query", query)
        validate_messages(messages, gemini=True)
        count = get_counter(model or self.model, counter=self.config.token_counter)
        outcome = self.engine.compress_messages(messages, count=count, query=query)
        considered = [(w, p) for w, p in outcome.pieces if p.route.reason != PROTECTED]
        recorded = self._record([p for _, p in considered])
        return CompressResult(
            messages=outcome.messages,
            tokens_before=outcome.tokens_before,
            tokens_after=outcome.tokens_after,
            transforms_applied=outcome.transforms,
            handles=outcome.handles,
            warnings=[*outcome.warnings, *recorded],
            lossless=all(p.lossless for _, p in considered),
            diagnostics=[
                PieceDiagnostic(
                    where,
                    p.route.kind,
                    list(p.transforms),
                    p.tokens_before,
                    p.tokens_after,
                    p.lossless,
                    list(p.handles),
                    list(p.warnings),
                )
                for where, p in considered
            ],
        )

    def compress_text(
        self,
        text: str,
        *,
        kind: str = "auto",
        query: str | None = None,
        model: str | None = None,
        tool_name: str | None = None,
        path: str | None = None,
    ) -> TextResult:
        """Compress one string, e.g. a tool's output.

        Args:
            text: the content.
            kind: ``"auto"`` to detect, or one of ``headroom.KINDS``.
            query: what the model is looking for; lossy engines keep what matches it.
            model: whose tokenizer counts tokens.
            tool_name, path: hints for detection (the producing tool, the source file).

        >>> Headroom(store="memory").compress_text("[1, 2,\\n 3]", kind="json").text
        '[1, 2,\\n 3]'
        """
        if not isinstance(text, str):
            raise InvalidArgumentError(f"text: expected str, got {type(text).__name__}")
        if not isinstance(kind, str):
            raise InvalidArgumentError(f"kind: expected str, got {type(kind).__name__}")
        for name, value in (("query", query), ("model", model), ("tool_name", tool_name)):
            _check_optional_str(name, value)
        path = _path_hint(path)
        count = get_counter(model or self.model, counter=self.config.token_counter)
        piece = self.engine.compress_text(
            text, count=count, query=query, kind=kind, hints=Hints(tool_name, path)
        )
        piece.warnings.extend(self._record([piece]))
        return TextResult(
            text=piece.text,
            kind=piece.route.kind,
            language=piece.route.language,
            tokens_before=piece.tokens_before,
            tokens_after=piece.tokens_after,
            lossless=piece.lossless,
            transforms_applied=piece.transforms,
            handles=piece.handles,
            warnings=piece.warnings,
        )

    def retrieve(self, handle: str, *, query: str | None = None) -> str:
        """The exact original behind ``handle``; with ``query``, its best-matching parts.

        ``handle`` may be written loosely, as models do (upper case, no ``headroom:``
        prefix, quoted, the whole marker line): see :func:`headroom.normalize_handle`.

        Raises:
            InvalidArgumentError: ``handle`` names no handle, or ``query`` is not a string.
            HandleExpiredError: it was stored, but expired or was evicted (says when).
            HandleNotFoundError: nothing is stored under it.
            StoreUnavailableError: the store cannot be reached (names it).
        """
        return retrieve_from(self.store, handle, query=query)

    def pruner(self, config: PrunerConfig | None = None, /, **options: Any) -> TextPruner:
        """A ``TextPruner`` that keeps its originals in this client's store and counts tokens
        as this client does, so :func:`headroom.retrieve` finds what it drops.

        Args:
            config: how to rank and keep sentences; defaults to ``PrunerConfig()``.
            **options: ``PrunerConfig`` options, replacing those of ``config``.

        Raises:
            InvalidArgumentError: an option is unknown or out of range, or names the store or
                counter (the client's are used).

        >>> hr = Headroom(store="memory")
        >>> result = hr.pruner(target_ratio=0.5).prune(
        ...     ["Paris is the capital of France. It has 2.1 million people. "
        ...      "The Seine flows through it. Paris hosts many museums.",
        ...      "Bananas are yellow. They grow in warm places. Monkeys eat them."],
        ...     query="capital of France")
        >>> hr.retrieve(result.handles[0]).startswith("Paris is the capital")
        True
        """
        _refuse_owned("pruner", options, ("store", "count_tokens"))
        return TextPruner(config, store=self.store, count_tokens=self._count, **options)

    def summarizer(self, budget_tokens: int | None = None, /, **options: Any) -> RollingSummarizer:
        """A ``RollingSummarizer`` whose summaries' originals go to this client's store, with
        this client's model and token counter.

        Args:
            budget_tokens: the whole list's token budget (or give ``max_messages``).
            **options: the other ``RollingSummarizer`` options (``max_messages``,
                ``keep_recent``, ``summarizer``, ``hysteresis``).

        Raises:
            InvalidArgumentError: an option is invalid, or names the store, model or counter
                (the client's are used).

        >>> hr = Headroom(store="memory")
        >>> out = hr.summarizer(max_messages=2, keep_recent=1).summarize([
        ...     {"role": "user", "content": "Book me a flight to Oslo."},
        ...     {"role": "assistant", "content": "Which day?"},
        ...     {"role": "user", "content": "Friday."},
        ... ])
        >>> [m["role"] for m in out.messages], out.summarized
        (['user', 'user'], 2)
        """
        _refuse_owned("summarizer", options, ("store", "model", "token_counter"))
        return RollingSummarizer(
            budget_tokens,
            **options,
            store=self.store,
            model=self.model,
            token_counter=self.config.token_counter,
        )

    @property
    def _count(self) -> Callable[[str], int]:
        return get_counter(self.model, counter=self.config.token_counter)

    @property
    def stats(self) -> HeadroomStats:
        """Token counts over every call made through this instance."""
        with self._lock:
            by_kind = dict(self._by_kind)
            return HeadroomStats(
                calls=self._calls,
                tokens_before=sum(b for b, _ in by_kind.values()),
                tokens_after=sum(a for _, a in by_kind.values()),
                by_kind=by_kind,
            )

    def close(self) -> None:
        """Write out the usage counts held back, and close the store."""
        self.usage.close()
        self.store.close()

    def _record(self, pieces: list[Piece]) -> list[str]:
        """Add ``pieces`` to the stats, and to the usage log with one record per
        kind (a write per piece cost ~0.4 ms each on SQLite, on every request); returns the
        warnings of a store that could not take them."""
        changed: dict[str, tuple[int, int]] = {}
        with self._lock:
            for piece in pieces:
                kind = piece.route.kind
                self._calls += 1
                b, a = self._by_kind.get(kind, (0, 0))
                self._by_kind[kind] = (b + piece.tokens_before, a + piece.tokens_after)
                if piece.transforms:
                    b, a = changed.get(kind, (0, 0))
                    changed[kind] = (b + piece.tokens_before, a + piece.tokens_after)
        warnings = []
        for name, (before, after) in changed.items():
            try:
                self.usage.record(name, before, after)
            except StoreError as error:  # bookkeeping must not fail the compression
                warnings.append(f"usage not recorded: {error}")
        return warnings


_clients_lock = threading.Lock()
_clients: OrderedDict[CompressConfig, Headroom] = OrderedDict()
_MAX_CLIENTS = 16
"""Module-level calls keep one client per config, the most recently used this many: each
holds a store and a result cache, and a program building a config per call would otherwise
grow without bound. A client that falls out is not closed (another thread may be using it);
its store closes when it is collected."""


def _client(config: CompressConfig | None) -> Headroom:
    key = config or CompressConfig()
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = Headroom(key)
            while len(_clients) > _MAX_CLIENTS:
                _clients.popitem(last=False)
        _clients.move_to_end(key)
        return client


def compress(
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str = DEFAULT_MODEL,
    config: CompressConfig | None = None,
    query: str | None = None,
) -> CompressResult:
    """Compress a chat message list; drop-in with headroom-ai's ``compress``.

    >>> from headroom import compress
    >>> result = compress([{"role": "user", "content": "hi"}], model="gpt-4o")
    >>> result.tokens_saved
    0
    """
    _check_config(config)
    return _client(config).compress(messages, model=model, query=query)


def compress_text(
    text: str,
    *,
    kind: str = "auto",
    query: str | None = None,
    model: str = DEFAULT_MODEL,
    config: CompressConfig | None = None,
    tool_name: str | None = None,
    path: str | None = None,
) -> TextResult:
    """Compress one string (what adapters call). See :meth:`Headroom.compress_text`."""
    _check_config(config)
    return _client(config).compress_text(
        text, kind=kind, query=query, model=model, tool_name=tool_name, path=path
    )


def count_tokens(
    content: str | Sequence[Mapping[str, Any]],
    *,
    model: str = DEFAULT_MODEL,
    token_counter: Callable[[str], int] | None = None,
) -> int:
    """Tokens ``content`` costs ``model``, counted the way compression results count them.

    A string is counted as text; a message list (OpenAI, Anthropic or Gemini shape) with the
    per-message framing of OpenAI's counting rules, so ``count_tokens(messages)`` equals the
    ``tokens_before`` of compressing them. Adapters use it to report what a model was sent.

    >>> count_tokens("The quick brown fox")
    4
    >>> count_tokens([{"role": "user", "content": "The quick brown fox"}])
    11

    Raises:
        InvalidMessageError: a message has the wrong shape.
        InvalidArgumentError: ``content`` is neither a string nor a list, ``model`` is not a
            string, or ``token_counter`` raised or returned something other than an int >= 0.
    """
    count = get_counter(DEFAULT_MODEL if model is None else model, counter=token_counter)
    if isinstance(content, str):
        return count(content)
    validate_messages(content, name="content", gemini=True)
    slots = find_slots(content, _COUNT_ONLY)
    return count_overhead(content, count) + sum(count(slot.text) for slot in slots)


_COUNT_ONLY = CompressConfig()


def retrieve(handle: str, *, query: str | None = None, client: Headroom | None = None) -> str:
    """The original behind ``handle`` from ``client``'s store, any store this process
    compressed into, or the default store; with ``query``, only its best-matching parts.

    ``client`` is for originals kept by a ``Headroom`` made directly (e.g. with
    ``store="memory"``), which the module-level functions do not know about.

    ``handle`` may be written loosely, as models do; see :func:`headroom.normalize_handle`.

    Raises:
        InvalidArgumentError: ``handle`` names no handle, or ``query`` or ``client`` has
            the wrong type.
        HandleExpiredError: it was stored, but expired or was evicted (says when).
        HandleNotFoundError: no store here has it.
        StoreUnavailableError: no store here has it, and one that might cannot be reached.
    """
    return retrieve_from(stores_for(client), handle, query=query)


def stores_for(client: Headroom | None = None) -> Iterator[Store]:
    """The stores :func:`retrieve` asks for a handle, in order: ``client``'s, those of the
    clients the module-level functions made, then the default store. Lazy: a store is
    opened only when the ones before it lack the handle (see
    :func:`headroom.retrieval.find_original`, which decides how they are asked).

    Raises:
        InvalidArgumentError: ``client`` is not a ``Headroom`` or None.
    """
    if client is not None and not isinstance(client, Headroom):
        raise InvalidArgumentError(
            f"client: expected a Headroom instance or None, got {type(client).__name__}"
        )
    return _stores_for(client)


def _stores_for(client: Headroom | None) -> Iterator[Store]:
    if client is not None:
        yield client.store
    with _clients_lock:
        stores = [known.store for known in _clients.values()]
    yield from (store for store in stores if client is None or store is not client.store)
    default = _client(None).store
    if default not in stores:
        yield default


def _check_optional_str(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidArgumentError(f"{name}: expected str or None, got {type(value).__name__}")


def _path_hint(path: object) -> str | None:
    """``path`` as a string: a str, an ``os.PathLike`` naming one, or None."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if path is not None and not isinstance(path, str):
        raise InvalidArgumentError(
            f"path: expected str, os.PathLike or None, got {type(path).__name__}"
        )
    return path


def _refuse_owned(factory: str, options: Mapping[str, Any], owned: Sequence[str]) -> None:
    """A factory's options may not name what the client owns (its store, model, counter)."""
    named = [name for name in owned if name in options]
    if named:
        raise InvalidArgumentError(
            f"{factory}: {', '.join(named)} come from the client; "
            "make a Headroom with the ones you want"
        )


def _check_config(config: object) -> None:
    if config is not None and not isinstance(config, CompressConfig):
        raise InvalidArgumentError(
            f"config: expected CompressConfig or None, got {type(config).__name__}"
            + (" (build one: CompressConfig(**options))" if isinstance(config, Mapping) else "")
        )


def _check_client_args(model: object, registry: object) -> None:
    if not isinstance(model, str):
        raise InvalidArgumentError(f"model: expected str, got {type(model).__name__}")
    if registry is not None and not isinstance(registry, Registry):
        raise InvalidArgumentError(
            f"registry: expected a Registry or None, got {type(registry).__name__}"
        )
