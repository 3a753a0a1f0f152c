"""The proxy's counters: one snapshot feeds both ``/stats`` (JSON) and ``/metrics``
(Prometheus text), so the two always agree.

Counts are kept per process; with ``--workers N`` each worker publishes its raw counts
(:meth:`ProxyStats.counts`) for the others (:mod:`headroom.proxy.workers`), and the one
answering sums them (:func:`merge_counts`), so ``/stats`` covers every worker.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from headroom.client import Headroom
from headroom.pricing import ModelTally, PriceTable, load_prices, report

log = logging.getLogger("headroom.proxy")

__all__ = ["ProxyStats", "StatsCollector", "merge_counts"]


class ProxyStats:
    """Thread-safe counters of what the proxy did (requests, tokens, faults)."""

    def __init__(
        self,
        prices: PriceTable | None = None,
        *,
        today: Callable[[], datetime.date] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.prices = prices or load_prices()
        self._today = today or (lambda: datetime.datetime.now(datetime.timezone.utc).date())
        # Savings ledgers: model -> [before, after, {kind: [before, after]}], in total and
        # since midnight UTC of ``_day``.
        self._total: dict[str, _Tally] = {}
        self._day = self._today()
        self._day_tally: dict[str, _Tally] = {}
        # What upstream responses said they billed: model -> [responses, input, cached].
        self.billed: dict[str, list[int]] = {}
        self.requests: dict[str, int] = {}
        self.outcomes: dict[str, int] = {}
        self.by_model: dict[str, tuple[int, int]] = {}
        self.warnings = 0
        self.upstream_errors: dict[str, int] = {}
        # Counts of clients no longer held (evicted per-request configs): counters must
        # never go down.
        self._retired_kinds: dict[str, list[int]] = {}
        self._retired_cache = [0, 0]
        self._changes = 0

    def request(self, route: str) -> None:
        with self._lock:
            self._changes += 1
            self.requests[route] = self.requests.get(route, 0) + 1

    def outcome(self, status: str) -> None:
        """``compressed``, ``unchanged``, ``skipped``, ``failed``, ``bypassed``, ``too_large``."""
        with self._lock:
            self._changes += 1
            self.outcomes[status] = self.outcomes.get(status, 0) + 1

    def tokens(
        self,
        model: str | None,
        before: int,
        after: int,
        by_kind: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        """Count one compressed request (``by_kind``: its pieces' tokens, by content kind)."""
        name = model or "unknown"
        with self._lock:
            self._changes += 1
            b, a = self.by_model.get(name, (0, 0))
            self.by_model[name] = (b + before, a + after)
            self._roll()
            for ledger in (self._total, self._day_tally):
                ledger.setdefault(name, _Tally()).add(before, after, by_kind or {})

    def billed_usage(self, model: str | None, input_tokens: int, cached_tokens: int) -> None:
        """Count what an upstream response said it billed: its input tokens and, of those,
        the ones served from the provider's prompt cache."""
        with self._lock:
            self._changes += 1
            row = self.billed.setdefault(model or "unknown", [0, 0, 0])
            row[0] += 1
            row[1] += input_tokens
            row[2] += cached_tokens

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self._day_tally = today, {}

    def warn(self, n: int = 1) -> None:
        with self._lock:
            self._changes += 1
            self.warnings += n

    def upstream_error(self, kind: str) -> None:
        with self._lock:
            self._changes += 1
            self.upstream_errors[kind] = self.upstream_errors.get(kind, 0) + 1

    def retire(self, client: Headroom) -> None:
        """Keep the counts of a client that is being dropped."""
        with self._lock:
            self._changes += 1
            for kind, (b, a) in client.stats.by_kind.items():
                pair = self._retired_kinds.setdefault(kind, [0, 0])
                pair[0] += b
                pair[1] += a
            self._retired_cache[0] += client.engine.cache.hits
            self._retired_cache[1] += client.engine.cache.misses

    @property
    def changes(self) -> int:
        """How many times a counter moved: a worker publishes its counts when this did."""
        return self._changes

    def counts(self, clients: Iterable[Headroom]) -> dict[str, Any]:
        """The raw counters as plain JSON data, the form one worker hands the others (see
        :mod:`headroom.proxy.workers`) and :func:`merge_counts` sums; ``clients`` give
        tokens by kind and cache hits."""
        with self._lock:
            by_kind = {kind: list(pair) for kind, pair in self._retired_kinds.items()}
            hits, misses = self._retired_cache
        entries = 0
        for client in clients:
            for kind, (b, a) in client.stats.by_kind.items():
                pair = by_kind.setdefault(kind, [0, 0])
                pair[0] += b
                pair[1] += a
            hits += client.engine.cache.hits
            misses += client.engine.cache.misses
            entries += len(client.engine.cache)
        with self._lock:
            self._roll()
            return {
                "workers": 1,
                "requests": dict(self.requests),
                "outcomes": dict(self.outcomes),
                "by_model": {m: list(pair) for m, pair in self.by_model.items()},
                "by_kind": by_kind,
                "cache": [hits, misses, entries],
                "warnings": self.warnings,
                "upstream_errors": dict(self.upstream_errors),
                "billed": {m: list(row) for m, row in self.billed.items()},
                "total": {m: t.counts() for m, t in self._total.items()},
                "day": self._day.isoformat(),
                "day_tally": {m: t.counts() for m, t in self._day_tally.items()},
            }

    def snapshot(
        self, clients: Iterable[Headroom], peers: Iterable[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        """Everything ``/stats`` shows: this process's counts, plus ``peers`` (the other
        workers' :meth:`counts`) summed in; ``clients`` give tokens by kind and cache hits."""
        counts = merge_counts([self.counts(clients), *peers])
        by_model = sorted(counts["by_model"].items())
        before = sum(b for _, (b, _) in by_model)
        after = sum(a for _, (_, a) in by_model)
        hits, misses, entries = counts["cache"]
        return {
            "workers": counts["workers"],
            "requests": {
                "total": sum(counts["requests"].values()),
                "by_route": dict(sorted(counts["requests"].items())),
            },
            "outcomes": dict(sorted(counts["outcomes"].items())),
            "tokens": {"before": before, "after": after, "saved": before - after},
            "by_model": {m: {"before": b, "after": a} for m, (b, a) in by_model},
            "by_kind": {
                k: {"before": b, "after": a} for k, (b, a) in sorted(counts["by_kind"].items())
            },
            "cache": {"hits": hits, "misses": misses, "entries": entries},
            "warnings": counts["warnings"],
            "upstream_errors": dict(sorted(counts["upstream_errors"].items())),
            "savings": {
                "prices": self.prices.meta(),
                "total": report(_tallies(counts["total"]), self.prices),
                "today": {
                    "date": counts["day"],
                    **report(_tallies(counts["day_tally"]), self.prices),
                },
            },
            "billed": {
                m: {"responses": r, "input_tokens": i, "cached_tokens": c}
                for m, (r, i, c) in sorted(counts["billed"].items())
            },
        }


def merge_counts(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum :meth:`ProxyStats.counts` of several workers; the first part's day is today's,
    and a part's ``day_tally`` counts only when it is of that day.

    >>> a = {"workers": 1, "requests": {"chat": 2}, "cache": [1, 0, 1], "day": "2026-12-05",
    ...      "day_tally": {"gpt-4o": [10, 4, {"log": [8, 2]}]}}
    >>> b = {**a, "requests": {"chat": 1, "compress": 1}, "day": "2026-12-04"}
    >>> m = merge_counts([a, b])
    >>> m["workers"], m["requests"], m["cache"], m["day_tally"]
    (2, {'chat': 3, 'compress': 1}, [2, 0, 2], {'gpt-4o': [10, 4, {'log': [8, 2]}]})
    """
    day = parts[0]["day"]
    out: dict[str, Any] = {"day": day}
    for part in parts:
        try:
            merged = dict(out)
            for key, value in part.items():
                if key == "day" or (key == "day_tally" and part.get("day") != day):
                    continue
                merged[key] = _add(merged.get(key), value)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            # Another worker's file of the wrong shape (an older version, a partial write
            # read as valid JSON) must not fail /stats: it is left out, and said so.
            log.warning("worker counts of an unexpected shape left out: %s", error)
            continue
        out = merged
    out.setdefault("day_tally", {})
    return out


def _add(a: Any, b: Any) -> Any:
    """``a + b`` through nested dicts and same-length lists of numbers (``a`` may be None)."""
    if a is None:
        return json.loads(json.dumps(b))  # a copy: the parts are never changed
    if isinstance(b, dict):
        merged = dict(a)
        for key, value in b.items():
            merged[key] = _add(merged.get(key), value)
        return merged
    if isinstance(b, list):
        return [_add(x, y) for x, y in zip(a, b, strict=True)]
    return a + b


class _Tally:
    """One model's savings: request tokens before/after, and its pieces' by kind."""

    def __init__(self) -> None:
        self.before = 0
        self.after = 0
        self.kinds: dict[str, tuple[int, int]] = {}

    def add(self, before: int, after: int, by_kind: Mapping[str, tuple[int, int]]) -> None:
        self.before += before
        self.after += after
        for kind, (b, a) in by_kind.items():
            old_b, old_a = self.kinds.get(kind, (0, 0))
            self.kinds[kind] = (old_b + b, old_a + a)

    def counts(self) -> list[Any]:
        return [self.before, self.after, {k: list(pair) for k, pair in self.kinds.items()}]


def _tallies(ledger: Mapping[str, Sequence[Any]]) -> dict[str, ModelTally]:
    return {
        model: ModelTally(before, after, {k: (b, a) for k, (b, a) in kinds.items()})
        for model, (before, after, kinds) in ledger.items()
    }


class StatsCollector(Collector):
    """Prometheus metrics read from the same snapshot as ``/stats``."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot()
        workers = GaugeMetricFamily(
            "headroom_proxy_workers", "Worker processes whose counts are summed here"
        )
        workers.add_metric([], s["workers"])
        yield workers
        requests = CounterMetricFamily(
            "headroom_proxy_requests", "Requests received, by route", labels=["route"]
        )
        for route, n in sorted(s["requests"]["by_route"].items()):
            requests.add_metric([route], n)
        yield requests
        outcomes = CounterMetricFamily(
            "headroom_proxy_outcomes", "What compression did to a request", labels=["outcome"]
        )
        for outcome, n in sorted(s["outcomes"].items()):
            outcomes.add_metric([outcome], n)
        yield outcomes
        for side in ("before", "after"):
            total = CounterMetricFamily(
                f"headroom_proxy_tokens_{side}", f"Tokens of compressed requests, {side}"
            )
            total.add_metric([], s["tokens"][side])
            yield total
            model = CounterMetricFamily(
                f"headroom_proxy_model_tokens_{side}", f"Tokens {side}, by model", labels=["model"]
            )
            for name, pair in s["by_model"].items():
                model.add_metric([name], pair[side])
            yield model
            kind = CounterMetricFamily(
                f"headroom_proxy_kind_tokens_{side}",
                f"Tokens of compressed pieces {side}, by content kind",
                labels=["kind"],
            )
            for name, pair in s["by_kind"].items():
                kind.add_metric([name], pair[side])
            yield kind
        hits = CounterMetricFamily(
            "headroom_proxy_cache_hits", "Pieces sent again with their first bytes"
        )
        hits.add_metric([], s["cache"]["hits"])
        yield hits
        misses = CounterMetricFamily("headroom_proxy_cache_misses", "Pieces compressed anew")
        misses.add_metric([], s["cache"]["misses"])
        yield misses
        entries = GaugeMetricFamily("headroom_proxy_cache_entries", "Pieces remembered")
        entries.add_metric([], s["cache"]["entries"])
        yield entries
        warnings = CounterMetricFamily(
            "headroom_proxy_warnings", "Compression failures and compressor warnings"
        )
        warnings.add_metric([], s["warnings"])
        yield warnings
        errors = CounterMetricFamily(
            "headroom_proxy_upstream_errors", "Upstream unreachable or timed out", labels=["kind"]
        )
        for kind_name, n in sorted(s["upstream_errors"].items()):
            errors.add_metric([kind_name], n)
        yield errors
        yield from _savings_metrics(s["savings"])
        yield from _billed_metrics(s["billed"])


def _savings_metrics(savings: dict[str, Any]) -> Iterator[Metric]:
    """Tokens saved and dollars, by period (``total``, ``today``), model and kind."""
    tokens = GaugeMetricFamily(
        "headroom_proxy_saved_tokens",
        "Request tokens saved, by period and model",
        labels=["period", "model"],
    )
    kinds = GaugeMetricFamily(
        "headroom_proxy_saved_piece_tokens",
        "Tokens of compressed pieces before/after, by period, model and kind",
        labels=["period", "model", "kind", "side"],
    )
    usd = GaugeMetricFamily(
        "headroom_proxy_saved_usd",
        "Estimated USD saved at list input prices, by period",
        labels=["period"],
    )
    cached = GaugeMetricFamily(
        "headroom_proxy_saved_usd_at_cached_rate",
        "USD saved valued at cached-input prices (a lower bound), by period",
        labels=["period"],
    )
    model_usd = GaugeMetricFamily(
        "headroom_proxy_model_saved_usd",
        "Estimated USD saved, by period and priced model",
        labels=["period", "model"],
    )
    for period in ("total", "today"):
        part = savings[period]
        usd.add_metric([period], part["usd"])
        cached.add_metric([period], part["usd_at_cached_rate"])
        for model, entry in part["by_model"].items():
            tokens.add_metric([period, model], entry["tokens_saved"])
            if entry["usd"] is not None:
                model_usd.add_metric([period, model], entry["usd"])
            for kind, pair in entry["by_kind"].items():
                for side in ("before", "after"):
                    kinds.add_metric([period, model, kind, side], pair[side])
    yield from (tokens, kinds, usd, cached, model_usd)


def _billed_metrics(billed: dict[str, Any]) -> Iterator[Metric]:
    """What upstream responses said they billed, cached-prefix tokens apart."""
    names = {
        "responses": "Upstream responses that reported usage",
        "input_tokens": "Input tokens upstream responses reported",
        "cached_tokens": "Of those, tokens read from the provider's prompt cache",
    }
    for field, help_text in names.items():
        family = CounterMetricFamily(f"headroom_proxy_billed_{field}", help_text, labels=["model"])
        for model, row in billed.items():
            family.add_metric([model], row[field])
        yield family
