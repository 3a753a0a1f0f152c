"""Counting a long text's tokens only as far as a decision needs.

A compressor that compares a long candidate with a short one needs to know only that the
long one is longer: a :class:`Tally` counts the text chunk by chunk, in order, in the
background, and :meth:`Tally.at_least` stops as soon as the chunks counted so far pass a
bound. Their sum is then a lower bound of the count; when every chunk is counted it is the
count itself, the same number a full count gives (a full count sums the same chunks).

Two kinds: :class:`NativeTally` counts on threads of the native extension, which never wait
for the GIL (and the thread that asks helps); :class:`PooledTally` counts on Python worker
threads, with tiktoken, when the extension is not built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the extension's type, for annotations (only _core imports it)
    from headroom._core import Counting

__all__ = ["NativeTally", "PooledTally", "Tally"]


class Tally:
    """The tokens of one text, counted in order in the background until the text is counted
    or :meth:`at_least` has stopped it."""

    on_whole: Callable[[int], None] | None = None
    """Told the count when :meth:`at_least` counted the whole text (a memo's hook)."""

    def at_least(self, bound: int) -> tuple[int, bool]:
        """``(count, True)`` when the text has at most ``bound`` tokens (or was counted
        whole), else ``(part, False)`` with ``bound < part <= count``; counting stops there,
        so a tally answers once.

        Raises:
            Whatever counting a chunk raised (then counting stops).
        """
        total, whole = self._count_past(bound)
        if whole and self.on_whole is not None:
            self.on_whole(total)
        return total, whole

    def _count_past(self, bound: int) -> tuple[int, bool]:
        raise NotImplementedError

    def stop(self) -> None:
        """Count no further: chunks not started are dropped (idempotent; :meth:`at_least`
        is not to be asked after it)."""
        raise NotImplementedError


class NativeTally(Tally):
    """A tally counted by the native extension's own threads."""

    def __init__(self, counting: Counting) -> None:
        self._counting = counting

    def _count_past(self, bound: int) -> tuple[int, bool]:
        return self._counting.at_least(bound)

    def stop(self) -> None:
        self._counting.stop()


class PooledTally(Tally):
    """A tally counted on Python worker threads, in order, ``width`` chunks at a time.

    Counting starts when the tally is made and goes on in the background until the text is
    counted or :meth:`at_least` has stopped it.

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     tally = PooledTally(len, ["ab", "cde", "f"], pool, width=2)
    ...     tally.at_least(3), PooledTally(len, ["ab", "cde", "f"], pool).at_least(10)
    ((5, False), (6, True))
    """

    def __init__(
        self,
        count_piece: Callable[[str], int],
        chunks: Sequence[str],
        pool: ThreadPoolExecutor,
        *,
        width: int = 2,
    ) -> None:
        self._count_piece = count_piece
        self._chunks = chunks
        self._pool = pool
        self._lock = threading.Lock()
        self._futures: list[Future[int]] = []
        self._stopped = False
        for _ in range(max(1, width)):
            self._submit_next()

    def _submit_next(self, _done: object = None) -> None:
        with self._lock:
            if self._stopped or len(self._futures) == len(self._chunks):
                return
            future = self._pool.submit(self._count_piece, self._chunks[len(self._futures)])
            self._futures.append(future)
        # When a chunk is done, the next one starts (at once if it is done already).
        future.add_done_callback(self._submit_next)

    def _count_past(self, bound: int) -> tuple[int, bool]:
        total = 0
        for index in range(len(self._chunks)):
            with self._lock:
                missing = index == len(self._futures)
            if missing:  # its predecessor finished before its callback submitted it
                self._submit_next()
            try:
                total += self._futures[index].result()
            except BaseException:
                self.stop()
                raise
            if total > bound and index + 1 < len(self._chunks):
                self.stop()
                return total, False
        return total, True

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            futures = list(self._futures)
        for future in futures:
            future.cancel()
