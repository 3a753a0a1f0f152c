"""Headroom: compress what goes into an LLM prompt, and get the originals back on demand.

>>> from headroom import compress
>>> messages = [
...     {"role": "user", "content": "What failed?"},
...     {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
...         "function": {"name": "get_status", "arguments": "{}"}}]},
...     {"role": "tool", "tool_call_id": "c1", "content": '{"ok": false}'},
... ]
>>> compress(messages, model="gpt-4o").messages[2]["role"]
'tool'
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from headroom.client import (
    Headroom,
    compress,
    compress_text,
    count_tokens,
    retrieve,
)
from headroom.compressors.text.pruner import TextPruner
from headroom.config import KINDS, CompressConfig, PrunerConfig
from headroom.conversation import AlignResult, CacheAligner, ConversationResult, RollingSummarizer
from headroom.errors import (
    HandleExpiredError,
    HandleNotFoundError,
    HeadroomError,
    InvalidArgumentError,
    InvalidMessageError,
    SharedKeyError,
    StoreError,
    StoreUnavailableError,
    UnknownKindError,
)
from headroom.results import CompressResult, HeadroomStats, PieceDiagnostic, TextResult
from headroom.retrieval import normalize_handle
from headroom.shared import SharedContext, SharedEntry
from headroom.store import MemoryStore, SQLiteStore, Store
from headroom.tools import answer as retrieve_answer

try:
    __version__ = version("headroom-ctx")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "KINDS",
    "AlignResult",
    "CacheAligner",
    "CompressConfig",
    "CompressResult",
    "ConversationResult",
    "HandleExpiredError",
    "HandleNotFoundError",
    "Headroom",
    "HeadroomError",
    "HeadroomStats",
    "InvalidArgumentError",
    "InvalidMessageError",
    "MemoryStore",
    "PieceDiagnostic",
    "PrunerConfig",
    "RollingSummarizer",
    "SQLiteStore",
    "SharedContext",
    "SharedEntry",
    "SharedKeyError",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "TextPruner",
    "TextResult",
    "UnknownKindError",
    "__version__",
    "compress",
    "compress_text",
    "count_tokens",
    "normalize_handle",
    "retrieve",
    "retrieve_answer",
    "wrap",
]

if TYPE_CHECKING:
    from headroom.proxy.inprocess import wrap


def __getattr__(name: str) -> object:
    # ``wrap`` needs the proxy extra (httpx, Starlette): imported on first use, never by
    # ``import headroom``.
    if name == "wrap":
        from headroom.proxy.inprocess import wrap

        return wrap
    raise AttributeError(f"module 'headroom' has no attribute {name!r}")
