"""The proxy's counters: one snapshot feeds both ``/stats`` (JSON) and ``/metrics``
(Prometheus text), so the two always agree.

Counts are per process: with ``--workers N`` each worker answers with its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from headroom.client import Headroom

__all__ = ["ProxyStats", "StatsCollector"]


class ProxyStats:
    """Thread-safe counters of what the proxy did (requests, tokens, faults)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.outcomes: dict[str, int] = {}
        self.by_model: dict[str, tuple[int, int]] = {}
        self.warnings = 0
        self.upstream_errors: dict[str, int] = {}
        # Counts of clients no longer held (evicted per-request configs): counters must
        # never go down.
        self._retired_kinds: dict[str, list[int]] = {}
        self._retired_cache = [0, 0]

    def request(self, route: str) -> None:
        with self._lock:
            self.requests[route] = self.requests.get(route, 0) + 1

    def outcome(self, status: str) -> None:
        """``compressed``, ``unchanged``, ``skipped``, ``failed``, ``bypassed``, ``too_large``."""
        with self._lock:
            self.outcomes[status] = self.outcomes.get(status, 0) + 1

    def tokens(self, model: str | None, before: int, after: int) -> None:
        with self._lock:
            b, a = self.by_model.get(model or "unknown", (0, 0))
            self.by_model[model or "unknown"] = (b + before, a + after)

    def warn(self, n: int = 1) -> None:
        with self._lock:
            self.warnings += n

    def upstream_error(self, kind: str) -> None:
        with self._lock:
            self.upstream_errors[kind] = self.upstream_errors.get(kind, 0) + 1

    def retire(self, client: Headroom) -> None:
        """Keep the counts of a client that is being dropped."""
        with self._lock:
            for kind, (b, a) in client.stats.by_kind.items():
                pair = self._retired_kinds.setdefault(kind, [0, 0])
                pair[0] += b
                pair[1] += a
            self._retired_cache[0] += client.engine.cache.hits
            self._retired_cache[1] += client.engine.cache.misses

    def snapshot(self, clients: Iterable[Headroom]) -> dict[str, Any]:
        """Everything ``/stats`` shows; ``clients`` give tokens by kind and cache hits."""
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
            by_model = sorted(self.by_model.items())
            before = sum(b for _, (b, _) in by_model)
            after = sum(a for _, (_, a) in by_model)
            return {
                "requests": {"total": sum(self.requests.values()), "by_route": dict(self.requests)},
                "outcomes": dict(self.outcomes),
                "tokens": {"before": before, "after": after, "saved": before - after},
                "by_model": {m: {"before": b, "after": a} for m, (b, a) in by_model},
                "by_kind": {k: {"before": b, "after": a} for k, (b, a) in sorted(by_kind.items())},
                "cache": {"hits": hits, "misses": misses, "entries": entries},
                "warnings": self.warnings,
                "upstream_errors": dict(self.upstream_errors),
            }


class StatsCollector(Collector):
    """Prometheus metrics read from the same snapshot as ``/stats``."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot()
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
