"""``/metrics`` parsed with prometheus_client's own parser, back into the shape of ``/stats``,
so a test can assert that the two carry the same numbers."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["savings_numbers", "stats_from_metrics"]


def stats_from_metrics(text: str) -> dict[str, Any]:
    """The /stats document rebuilt from the Prometheus exposition."""
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value

    def labelled(name: str, label: str) -> dict[str, int]:
        return {dict(k)[label]: int(v) for k, v in samples.get(name, {}).items()}

    def single(name: str) -> int:
        return int(samples[name][()])

    before = single("headroom_proxy_tokens_before_total")
    after = single("headroom_proxy_tokens_after_total")
    by_route = labelled("headroom_proxy_requests_total", "route")
    models = labelled("headroom_proxy_model_tokens_before_total", "model")
    kinds = labelled("headroom_proxy_kind_tokens_before_total", "kind")
    after_models = labelled("headroom_proxy_model_tokens_after_total", "model")
    after_kinds = labelled("headroom_proxy_kind_tokens_after_total", "kind")
    return {
        "workers": single("headroom_proxy_workers"),
        "requests": {"total": sum(by_route.values()), "by_route": by_route},
        "outcomes": labelled("headroom_proxy_outcomes_total", "outcome"),
        "tokens": {"before": before, "after": after, "saved": before - after},
        "by_model": {m: {"before": b, "after": after_models[m]} for m, b in models.items()},
        "by_kind": {k: {"before": b, "after": after_kinds[k]} for k, b in kinds.items()},
        "cache": {
            "hits": single("headroom_proxy_cache_hits_total"),
            "misses": single("headroom_proxy_cache_misses_total"),
            "entries": single("headroom_proxy_cache_entries"),
        },
        "warnings": single("headroom_proxy_warnings_total"),
        "upstream_errors": labelled("headroom_proxy_upstream_errors_total", "kind"),
        "savings": _savings_from_samples(samples),
        "billed": {
            model: {
                field: int(samples[f"headroom_proxy_billed_{field}_total"][key])
                for field in ("responses", "input_tokens", "cached_tokens")
            }
            for key, model in (
                (k, dict(k)["model"])
                for k in samples.get("headroom_proxy_billed_responses_total", {})
            )
        },
    }


def _savings_from_samples(samples: dict[str, dict[Any, float]]) -> dict[str, Any]:
    """The numbers of /stats' savings section that /metrics carries, by period."""
    out: dict[str, Any] = {}
    for period in ("total", "today"):
        models: dict[str, Any] = {}
        for key, value in samples.get("headroom_proxy_saved_tokens", {}).items():
            labels = dict(key)
            if labels["period"] == period:
                models[labels["model"]] = {"tokens_saved": int(value), "by_kind": {}}
        for key, value in samples.get("headroom_proxy_model_saved_usd", {}).items():
            labels = dict(key)
            if labels["period"] == period:
                models[labels["model"]]["usd"] = value
        for key, value in samples.get("headroom_proxy_saved_piece_tokens", {}).items():
            labels = dict(key)
            if labels["period"] == period:
                kinds = models[labels["model"]]["by_kind"]
                kinds.setdefault(labels["kind"], {})[labels["side"]] = int(value)
        out[period] = {
            "usd": samples["headroom_proxy_saved_usd"][(("period", period),)],
            "usd_at_cached_rate": samples["headroom_proxy_saved_usd_at_cached_rate"][
                (("period", period),)
            ],
            "by_model": models,
        }
    return out


def savings_numbers(savings: dict[str, Any]) -> dict[str, Any]:
    """The same projection of /stats' savings section."""
    return {
        period: {
            "usd": savings[period]["usd"],
            "usd_at_cached_rate": savings[period]["usd_at_cached_rate"],
            "by_model": {
                model: {
                    "tokens_saved": entry["tokens_saved"],
                    "by_kind": entry["by_kind"],
                    **({} if entry["usd"] is None else {"usd": entry["usd"]}),
                }
                for model, entry in savings[period]["by_model"].items()
            },
        }
        for period in ("total", "today")
    }
