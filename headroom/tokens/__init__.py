"""Token counting, offline.

Counts are tiktoken's, with vocabularies shipped inside the package. A native counter makes
them: it gives tiktoken's exact count without making the list of tokens, several times faster
(tiktoken itself counts when the extension is not built). OpenAI model families map to their
exact encoding; every other model (Claude, Gemini, Llama, Mistral, unknown names) is counted
with ``o200k_base`` as a documented approximation: savings ratios stay meaningful even where
absolute counts differ a few percent from the provider's own tokenizer.

A caller can inject any ``Callable[[str], int]`` as the counter instead. What it returns is
checked: an exception it raises, or a result that is not an int >= 0, becomes an
:class:`~headroom.InvalidArgumentError` naming ``token_counter`` and what went wrong.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from headroom import _core
from headroom.errors import InvalidArgumentError
from headroom.tokens.tally import NativeTally, PooledTally, Tally
from headroom.tokens.vocabularies import load_encoding, load_ranks

if TYPE_CHECKING:
    from tiktoken import Encoding

    from headroom._core import BpeCounter, Counting

__all__ = [
    "TokenCounter",
    "count_tokens",
    "encoding_for_model",
    "get_counter",
    "memoized",
]

# Per OpenAI's published counting rules for chat messages: each message costs 3 tokens of
# framing, a "name" field 1 more, and every reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3

_APPROXIMATED = "o200k_base"
_CL100K_PREFIXES = (
    "gpt-4-",
    "gpt-3.5",
    "gpt-35",
    "text-embedding-ada",
    "text-embedding-3",
    "davinci-002",
    "babbage-002",
    "ft:gpt-4:",
    "ft:gpt-3.5",
)
_CL100K_EXACT = frozenset({"gpt-4", "gpt-4-32k"})


def encoding_for_model(model: str) -> str:
    """Name of the shipped encoding used to count tokens for ``model``.

    >>> encoding_for_model("gpt-4o-mini"), encoding_for_model("gpt-4-turbo")
    ('o200k_base', 'cl100k_base')
    >>> encoding_for_model("claude-sonnet-4")  # approximation
    'o200k_base'

    Raises:
        InvalidArgumentError: ``model`` is not a string.
    """
    if not isinstance(model, str):
        raise InvalidArgumentError(f"model: expected str, got {type(model).__name__}")
    name = model.strip().lower()
    for prefix in ("openai/", "azure/"):
        name = name.removeprefix(prefix)
    if name in _CL100K_EXACT or name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return _APPROXIMATED


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """Counts tokens of text for one encoding (or with a user-supplied function).

    Attributes:
        encoding: the encoding's name (``"custom"`` for a user-supplied function).
        count: the counting function.
        start: for counters that can count in the background, a function that starts
            counting a text on the worker threads and returns a function that waits for the
            count (``None``: counting happens only when asked).
        longest_token: the most characters one token can cover, when known: a text of
            ``n`` characters has at least ``n / longest_token`` tokens.
        tally: for counters that count long text in chunks, a function that starts counting
            a text in the background as a :class:`~headroom.tokens.tally.Tally`, which can
            stop once a bound is passed (``None``: only whole counts).
    """

    encoding: str
    count: Callable[[str], int]
    start: Callable[[str], Callable[[], int]] | None = None
    longest_token: int | None = None
    tally: Callable[[str], Tally] | None = None

    def __call__(self, text: str) -> int:
        return self.count(text)


# Long text is counted in chunks cut just after a newline, on every core (tiktoken, the
# fallback, also overflows its stack on ~1 MB runs of whitespace); a cut can shift the count
# by a token or two per chunk, which is far below what any decision here depends on.
_CHUNK_CHARS = 65_536


def _chunks(text: str) -> list[str]:
    if len(text) <= _CHUNK_CHARS:
        return [text]
    pieces = []
    start = 0
    while start < len(text):
        end = min(start + _CHUNK_CHARS, len(text))
        if end < len(text):
            newline = text.rfind("\n", start + _CHUNK_CHARS // 2, end)
            if newline != -1:
                end = newline + 1
        pieces.append(text[start:end])
        start = end
    return pieces


@lru_cache(maxsize=8)
def _shipped_counter(encoding_name: str) -> TokenCounter:
    # Loaded either way: it registers the shipped encoding with tiktoken, so that
    # tiktoken.get_encoding() works offline in this process once Headroom has counted.
    encoding = load_encoding(encoding_name)
    ranks = load_ranks(encoding_name)
    # Every token of a BPE vocabulary covers at least one byte of UTF-8, and a character
    # is at least one byte: a token covers at most as many characters as its longest bytes.
    longest = max(map(len, ranks))
    native = _core.bpe_counter(ranks, encoding_name)
    if native is None:
        return _pooled_counter(encoding, longest)
    return _native_counter(native, encoding_name, longest)


def _replaced(text: str) -> str:
    # Surrogates cannot be encoded to UTF-8: as tiktoken's encode_ordinary does, a pair
    # becomes the character it stands for and a lone one U+FFFD (and so counts as tiktoken
    # counts it).
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _native_counter(native: BpeCounter, encoding_name: str, longest: int) -> TokenCounter:
    """Counts with the native extension: tiktoken's exact counts (``encode_ordinary``), made
    without the list of tokens, several times faster. A long text is counted by threads of
    the extension, which never wait for the GIL; the thread that asks for a count helps."""

    def counting(text: str, threads: int) -> Counting:
        chunks = _chunks(text)
        try:
            return native.counting(chunks, threads)
        except UnicodeEncodeError:  # cut where tiktoken's chunks are, then replaced
            return native.counting(list(map(_replaced, chunks)), threads)

    def count(text: str) -> int:
        if len(text) <= _CHUNK_CHARS:
            try:
                return native.count(text)
            except UnicodeEncodeError:
                return native.count(_replaced(text))
        return counting(text, _WORKERS - 1).total()

    # In the background, on the extension's one background thread (0): the thread that
    # started a count goes on with Python work, and more counting threads beside it would
    # leave it less than a core on two.
    def start(text: str) -> Callable[[], int]:
        return counting(text, 0).total

    def tally(text: str) -> Tally:
        return NativeTally(counting(text, 0))

    return TokenCounter(encoding_name, count, start, longest, tally)


def _pooled_counter(encoding: Encoding, longest: int) -> TokenCounter:
    """Counts with tiktoken, long text in chunks on Python worker threads (tiktoken
    releases the GIL while it encodes)."""

    def count_piece(piece: str) -> int:
        # encode_ordinary: text like "<|endoftext|>" inside a tool output is plain text,
        # not a special token, and must not raise (it replaces surrogates itself).
        return len(encoding.encode_ordinary(piece))

    def count(text: str) -> int:
        chunks = _chunks(text)
        if len(chunks) < _PARALLEL_CHUNKS or _WORKERS < 2:
            return sum(count_piece(piece) for piece in chunks)
        return sum(_pool().map(count_piece, chunks))

    def start(text: str) -> Callable[[], int]:
        futures = [_pool().submit(count_piece, piece) for piece in _chunks(text)]
        return lambda: sum(future.result() for future in futures)

    def tally(text: str) -> Tally:
        return PooledTally(count_piece, _chunks(text), _pool(), width=_WORKERS)

    return TokenCounter(encoding.name, count, start, longest, tally)


_WORKERS = min(8, os.cpu_count() or 1)
_PARALLEL_CHUNKS = 2  # one chunk (up to 64 KiB) is counted where it is asked
_pool_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _pool_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(_WORKERS, thread_name_prefix="headroom-count")
        return _executor


def memoized(counter: TokenCounter) -> TokenCounter:
    """``counter``, remembering each count it makes (for the life of the returned counter).

    A piece's text is counted by the pipeline, and often again by the compressors of its
    chain (the input's size, the result they compare against it): each distinct text is
    counted once. Strings cache their hash, so a repeated lookup of a long text is cheap.
    A text whose count was started in the background (``start``) is waited for when asked.

    >>> count = memoized(get_counter("gpt-4o"))
    >>> count("The quick brown fox"), count("The quick brown fox")
    (4, 4)
    >>> wait = count.start("jumps over the lazy dog")  # counts on the worker threads
    >>> count("jumps over the lazy dog"), wait()
    (6, 6)
    """
    known: dict[str, int] = {}
    pending: dict[str, Callable[[], int]] = {}

    def count(text: str) -> int:
        n = known.get(text)
        if n is None:
            waiting = pending.pop(text, None)
            n = known[text] = counter.count(text) if waiting is None else waiting()
        return n

    def start(text: str) -> Callable[[], int]:
        if text not in known and text not in pending and counter.start is not None:
            pending[text] = counter.start(text)
        return lambda: count(text)

    def tally(text: str) -> Tally:
        assert counter.tally is not None
        counting = counter.tally(text)

        def remember(n: int) -> None:  # counted whole: later asks of this text are free
            known.setdefault(text, n)

        counting.on_whole = remember
        return counting

    return TokenCounter(
        counter.encoding,
        count,
        start,
        counter.longest_token,
        None if counter.tally is None else tally,
    )


def get_counter(
    model: str = "gpt-4o", *, counter: Callable[[str], int] | None = None
) -> TokenCounter:
    """The token counter for ``model``, or wrap a user-supplied ``counter``.

    >>> get_counter("gpt-4o")("hello world")
    2
    >>> try:
    ...     get_counter(counter=lambda text: None)("hi")
    ... except InvalidArgumentError as error:
    ...     print(error)
    token_counter: <lambda> returned None (NoneType); expected an int >= 0

    Raises:
        InvalidArgumentError: ``model`` is not a string or ``counter`` is not callable
            (when called: ``counter`` raised, or returned something other than an int >= 0).
    """
    if counter is not None:
        if isinstance(counter, TokenCounter):
            return counter
        if not callable(counter):
            raise InvalidArgumentError(
                f"token_counter: expected a callable taking str and returning int, "
                f"got {type(counter).__name__}"
            )
        return TokenCounter("custom", _checked(counter))
    return _shipped_counter(encoding_for_model(model))


def _checked(counter: Callable[[str], int]) -> Callable[[str], int]:
    """``counter``, with what it raises or wrongly returns turned into InvalidArgumentError.

    User code fails in its own ways (a TypeError deep in a tokenizer, a float, ``None``);
    named here, the caller sees which argument to fix instead of a crash inside Headroom.
    """
    name = getattr(counter, "__qualname__", None) or type(counter).__qualname__

    def count(text: str) -> int:
        try:
            n = counter(text)
        except Exception as error:
            raise InvalidArgumentError(
                f"token_counter: {name} raised {type(error).__name__}: {error}"
            ) from error
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise InvalidArgumentError(
                f"token_counter: {name} returned {_short(n)} ({type(n).__name__}); "
                "expected an int >= 0"
            )
        return n

    return count


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__: the type name is said anyway
        text = "?"
    return text if len(text) <= 80 else text[:77] + "..."


def count_tokens(text: str, *, model: str = "gpt-4o") -> int:
    """Tokens in ``text`` for ``model``.

    >>> count_tokens("The quick brown fox")
    4
    """
    return get_counter(model)(text)
