"""``headroom perf``: what a running proxy saved, today and in total, in tokens and dollars.

Reads the proxy's ``/stats`` (standard library only: no proxy extra needed) and prints
tokens saved by model and by content kind (and, from the store's usage log, by kind and by
UTC day over every restart), the estimated dollars at list input prices (and
at cached-input prices, a lower bound), and what the upstream said it served from its
prompt cache. ``--prices FILE`` values the same tokens with another price table.

Counts are the proxy's since it started, over all of its workers (``--workers N``: the
answering worker sums the others' counts, see :mod:`headroom.proxy.workers`).
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from typing import Any

from headroom._cli_errors import CommandError
from headroom.errors import HeadroomError
from headroom.pricing import ENV as PRICES_ENV
from headroom.pricing import ModelTally, load_prices, report
from headroom.proxy.settings import ENV

__all__ = ["add_parser", "render", "reprice", "run"]


def add_parser(verbs: Any) -> None:
    """Add the ``perf`` verb to the ``headroom`` command's subparsers."""
    p: argparse.ArgumentParser = verbs.add_parser(
        "perf",
        help="tokens and dollars a running proxy saved",
        description="Show what a running Headroom proxy saved, today (UTC) and since it "
        "started: tokens by model and content kind, estimated dollars, and the prompt-cache "
        "tokens the upstream reported.",
    )
    p.add_argument(
        "--url",
        default=None,
        help=f"the proxy (default http://127.0.0.1:<{ENV['port']} or 8787>)",
    )
    p.add_argument(
        "--prices",
        default=None,
        metavar="FILE",
        help=f"value the tokens with this price file laid over the shipped one ({PRICES_ENV})",
    )
    p.add_argument("--json", action="store_true", help="print the savings as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the report.

    Raises:
        CommandError: no proxy answers at the URL, its ``/stats`` has no savings, or the
            price file is refused.
    """
    host = os.environ.get(ENV["host"]) or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    url = (args.url or f"http://{host}:{os.environ.get(ENV['port']) or 8787}").rstrip("/")
    request = urllib.request.Request(f"{url}/stats")
    key = os.environ.get(ENV["api_key"])
    if key:
        request.add_header("x-headroom-key", key)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            stats = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise CommandError(
            f"no proxy stats at {url}/stats: {error} (start one with `headroom proxy`, or "
            "give its address with --url)"
        ) from error
    savings = stats.get("savings")
    if not isinstance(savings, dict):
        raise CommandError(f"{url}/stats has no savings section (is it a Headroom proxy?)")
    if args.prices is not None or os.environ.get(PRICES_ENV):
        try:
            savings = reprice(savings, args.prices)
        except HeadroomError as error:
            raise CommandError(str(error)) from error
    billed = stats.get("billed", {})
    workers = stats.get("workers", 1)
    if args.json:
        print(json.dumps({"workers": workers, "savings": savings, "billed": billed}, indent=2))
    else:
        print(render(url, savings, billed, workers=workers))
    return 0


def reprice(savings: dict[str, Any], prices: str | None) -> dict[str, Any]:
    """``savings`` (from ``/stats``) valued with another price table.

    Raises:
        InvalidArgumentError: the price file is refused (names the file and field).
    """
    table = load_prices(prices)
    out: dict[str, Any] = {"prices": table.meta()}
    for period in ("total", "today"):
        part = savings[period]
        tallies = {
            model: ModelTally(
                entry["tokens_before"],
                entry["tokens_after"],
                {k: (v["before"], v["after"]) for k, v in entry["by_kind"].items()},
            )
            for model, entry in part["by_model"].items()
        }
        out[period] = report(tallies, table)
        if "date" in part:
            out[period] = {"date": part["date"], **out[period]}
    if "stored" in savings:  # tokens only: the usage log does not know the models
        out["stored"] = savings["stored"]
    return out


def render(url: str, savings: dict[str, Any], billed: dict[str, Any], *, workers: int = 1) -> str:
    """The report as text (``workers``: how many worker processes the counts cover)."""
    total, today = savings["total"], savings["today"]
    prices = savings["prices"]
    where = f", prices as of {prices['as_of']}" + (f" + {prices['file']}" if prices["file"] else "")
    lines = [
        f"Headroom proxy {url}" + (f" ({workers} workers)" if workers > 1 else "") + where,
        f"{'':24}{'today ' + today.get('date', ''):>22}{'total':>18}",
        f"{'tokens saved':24}{today['tokens_saved']:>22,}{total['tokens_saved']:>18,}",
        f"{'estimated USD saved':24}{_usd(today['usd']):>22}{_usd(total['usd']):>18}",
        f"{'  at cached-input rate':24}{_usd(today['usd_at_cached_rate']):>22}"
        f"{_usd(total['usd_at_cached_rate']):>18}",
    ]
    if total["by_model"]:
        lines.append("by model (total)")
        for model, entry in total["by_model"].items():
            usd = "unpriced" if entry["usd"] is None else _usd(entry["usd"])
            before = entry["tokens_before"]
            share = entry["tokens_saved"] / before if before else 0.0
            lines.append(f"  {model:22}{entry['tokens_saved']:>14,} saved ({share:.0%}){usd:>14}")
    if total["by_kind"]:
        lines.append("by content kind (total)")
        for kind, entry in total["by_kind"].items():
            lines.append(f"  {kind:22}{entry['tokens_saved']:>14,} saved{_usd(entry['usd']):>21}")
    if billed:
        lines.append("upstream-reported input tokens (cached prefix apart)")
        for model, row in billed.items():
            cached, given = row["cached_tokens"], row["input_tokens"]
            share = cached / given if given else 0.0
            lines.append(
                f"  {model:22}{given:>14,} input{cached:>14,} cached ({share:.0%}) "
                f"in {row['responses']:,} responses"
            )
    stored = savings.get("stored")
    if stored and (stored["by_kind"] or stored["error"]):
        lines.append("all time, from the store's usage log (every worker and restart)")
        if stored["error"]:
            lines.append(f"  not read: {stored['error']}")
        for kind, entry in stored["by_kind"].items():
            lines.append(
                f"  {kind:22}{entry['tokens_saved']:>14,} saved in {entry['calls']:,} calls"
            )
    days = (stored or {}).get("by_day") or {}  # absent from an older proxy's /stats
    if days:
        lines.append(f"by day (UTC), from the store's usage log, last {len(days)} with use")
        for day, kinds in days.items():
            saved = sum(entry["tokens_saved"] for entry in kinds.values())
            before = sum(entry["tokens_before"] for entry in kinds.values())
            calls = sum(entry["calls"] for entry in kinds.values())
            share = saved / before if before else 0.0
            lines.append(f"  {day:22}{saved:>14,} saved ({share:.0%}) in {calls:,} calls")
    if total["unpriced"]:
        lines.append(f"unpriced models (no dollar figure): {', '.join(total['unpriced'])}")
    return "\n".join(lines)


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"
