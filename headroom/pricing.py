"""What saved tokens are worth: input prices per model, and savings reports in dollars.

The package ships a dated table (``headroom/prices.json``: list input prices per million
tokens, and the cached-input price where the provider has one). A user file in the same
shape, named by ``HEADROOM_PRICES`` or passed as ``path``, is laid over it: its models
replace or add to the shipped ones.

A model is priced by its own name, or else by the longest table name it extends with a
dated or variant suffix (``gpt-4o-2024-08-06`` -> ``gpt-4o``, ``gpt-4o-mini-2024-07-18`` ->
``gpt-4o-mini``, ``claude-sonnet-4-20250514`` -> ``claude-sonnet-4``); a provider prefix
(``openai/gpt-4o``) is ignored. A model the table does not know is reported unpriced, never
guessed.

The dollars are an estimate at the list input price: tokens a provider would have served
from its prompt cache cost less (``cached_input``), so a report also gives the same
savings valued at the cached rate, a lower bound.

>>> table = load_prices(environ={})
>>> table.price("gpt-4o-2024-08-06").input
2.5
>>> report({"gpt-4o": ModelTally(3_000_000, 1_000_000, {"log": (2_500_000, 500_000)})}, table)[
...     "usd"]
5.0
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from headroom.errors import InvalidArgumentError

__all__ = ["ENV", "ModelTally", "Price", "PriceTable", "load_prices", "report"]

ENV: Final = "HEADROOM_PRICES"
"""The environment variable naming a user price file."""

_SEPARATORS: Final = ("-", ":", "@", ".")


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million input tokens; ``cached_input`` for tokens read from a prompt cache
    (``None``: the table does not say)."""

    input: float
    cached_input: float | None = None


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Prices by model name, with the date they were taken and where from."""

    as_of: str
    source: str
    prices: Mapping[str, Price]
    file: str | None = None  # the user file laid over the shipped table

    def price(self, model: str | None) -> Price | None:
        """The price of ``model`` (see the module docstring), or ``None``."""
        if not model:
            return None
        name = model.rsplit("/", 1)[-1].lower()
        if name in self.prices:
            return self.prices[name]
        best = max(
            (key for key in self.prices if name.startswith(key) and name[len(key)] in _SEPARATORS),
            key=len,
            default=None,
        )
        return None if best is None else self.prices[best]

    def meta(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "file": self.file}


@dataclass(frozen=True, slots=True)
class ModelTally:
    """One model's request tokens before and after compression, and its pieces' by kind."""

    tokens_before: int
    tokens_after: int
    by_kind: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def load_prices(
    path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> PriceTable:
    """The shipped table, with the user file (``path``, else ``$HEADROOM_PRICES``) over it.

    Raises:
        InvalidArgumentError: the user file cannot be read, is not JSON, or a price in it
            is not a number >= 0 (the message names the file and the field).
    """
    env = os.environ if environ is None else environ
    shipped_text = resources.files("headroom").joinpath("prices.json").read_text("utf-8")
    shipped = _parse(json.loads(shipped_text), "headroom/prices.json")
    chosen = str(path) if path is not None else env.get(ENV) or None
    if chosen is None:
        return shipped
    try:
        data = json.loads(Path(chosen).read_text("utf-8"))
    except OSError as error:
        raise InvalidArgumentError(f"prices file {chosen}: cannot be read: {error}") from None
    except ValueError as error:
        raise InvalidArgumentError(f"prices file {chosen}: not JSON: {error}") from None
    user = _parse(data, chosen)
    return PriceTable(
        as_of=user.as_of or shipped.as_of,
        source=user.source or shipped.source,
        prices={**shipped.prices, **user.prices},
        file=chosen,
    )


def _parse(data: object, where: str) -> PriceTable:
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise InvalidArgumentError(f'prices file {where}: expected {{"models": {{...}}}}')
    prices: dict[str, Price] = {}
    for name, entry in data["models"].items():
        if not isinstance(entry, dict):
            raise InvalidArgumentError(
                f'prices file {where}: models.{name}: expected {{"input": <USD per million>}}'
            )
        values: dict[str, float | None] = {}
        for key in ("input", "cached_input"):
            value = entry.get(key)
            if value is None and key == "cached_input":
                values[key] = None
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidArgumentError(
                    f"prices file {where}: models.{name}.{key}: expected a number >= 0 "
                    f"(USD per million tokens), got {value!r}"
                )
            values[key] = float(value)
        assert values["input"] is not None
        prices[str(name).lower()] = Price(values["input"], values["cached_input"])
    as_of = data.get("as_of")
    source = data.get("source")
    return PriceTable(
        as_of=as_of if isinstance(as_of, str) else "",
        source=source if isinstance(source, str) else "",
        prices=prices,
    )


def report(tallies: Mapping[str, ModelTally], table: PriceTable) -> dict[str, Any]:
    """Tokens saved and their estimated worth, in total, by model and by content kind.

    ``usd`` values saved tokens at the list input price; ``usd_at_cached_rate`` at the
    cached-input price where the table has one (a lower bound: what the savings are worth
    if every saved token would have been a prompt-cache read). Models the table does not
    price are listed in ``unpriced`` and count in no dollar figure.
    """
    by_model: dict[str, Any] = {}
    by_kind: dict[str, dict[str, Any]] = {}
    usd = cached_usd = 0.0
    unpriced = []
    for model, tally in sorted(tallies.items()):
        price = table.price(model)
        saved = tally.tokens_before - tally.tokens_after
        worth = None if price is None else saved * price.input / 1e6
        if price is None:
            unpriced.append(model)
        else:
            usd += saved * price.input / 1e6
            rate = price.cached_input if price.cached_input is not None else price.input
            cached_usd += saved * rate / 1e6
        by_model[model] = {
            "tokens_before": tally.tokens_before,
            "tokens_after": tally.tokens_after,
            "tokens_saved": saved,
            "usd": None if worth is None else round(worth, 6),
            "by_kind": {
                k: {"before": b, "after": a} for k, (b, a) in sorted(tally.by_kind.items())
            },
        }
        for kind, (before, after) in tally.by_kind.items():
            entry = by_kind.setdefault(kind, {"tokens_saved": 0, "usd": 0.0})
            entry["tokens_saved"] += before - after
            if price is not None:
                entry["usd"] += (before - after) * price.input / 1e6
    return {
        "tokens_saved": sum(m["tokens_saved"] for m in by_model.values()),
        "usd": round(usd, 6),
        "usd_at_cached_rate": round(cached_usd, 6),
        "by_model": by_model,
        "by_kind": {
            k: {"tokens_saved": v["tokens_saved"], "usd": round(v["usd"], 6)}
            for k, v in sorted(by_kind.items())
        },
        "unpriced": unpriced,
    }
