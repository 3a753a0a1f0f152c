"""Replay a long agent conversation through ``create_agent`` and measure what it costs.

    cd integrations/langchain && HEADROOM_BENCH_DATA=../../../shared/bench-data \\
        ../../.venv/bin/python benchmarks/agent_replay.py [--turns 30] [--model gpt-4.1]

The replay is the tests' (``tests/replay.py``): each user turn asks about one loghub log or
GitHub JSON file (first 40,000 characters), the scripted model calls the tool that returns
it and then answers; ``--turns 30`` makes 60 model calls. Every configuration runs the same
script on a checkpointed thread. Reported per configuration:

* tokens sent over all calls (headroom's count for gpt-4o's tokenizer) and the largest call;
* prefix-stable calls: calls whose messages start with the previous call's messages, byte
  for byte (what a provider's prompt cache can reuse);
* dollars at ``--model``'s list input price from ``headroom/prices.json``, without and with
  cached-input pricing (a call's cached part is the messages it shares from the start with
  the previous call, when that is at least 1,024 tokens, as OpenAI caches);
* whether turn 1's facts (INC-4471, acme-corp) are still in the last call's text.

Then the per-call overhead of ``compress_messages`` against LangChain's ``trim_messages``
on the replay's final history (cold: first call; warm: the same history with one more
message, as the next turn sends it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import DATA  # the tests' data directory
from headroom import Headroom
from headroom.pricing import load_prices
from langchain.agents import create_agent
from langchain.agents.middleware import ContextEditingMiddleware, SummarizationMiddleware
from langchain_core.messages import BaseMessage, HumanMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.checkpoint.memory import InMemorySaver
from replay import replay_script, replay_tools, run_replay
from scripted import ScriptedChatModel

from langchain_headroom import HeadroomMiddleware, compress_messages, headroom_summarizer
from langchain_headroom._common import count_tokens, to_dicts

FACTS = ("INC-4471", "acme-corp")
CACHE_MIN = 1_024


def _configs(budget: int) -> dict[str, Callable[[], list[Any]]]:
    def summarization() -> Any:
        return SummarizationMiddleware(
            model=ScriptedChatModel(script=[]),
            trigger=("tokens", budget),
            keep=("messages", 6),
            summarizer=headroom_summarizer(store="memory"),
        )

    return {
        "no middleware": lambda: [],
        "HeadroomMiddleware()": lambda: [HeadroomMiddleware(store="memory")],
        f"HeadroomMiddleware(budget_tokens={budget})": lambda: [
            HeadroomMiddleware(store="memory", budget_tokens=budget)
        ],
        "ContextEditingMiddleware()": lambda: [ContextEditingMiddleware()],
        "ContextEditing + HeadroomMiddleware()": lambda: [
            ContextEditingMiddleware(),
            HeadroomMiddleware(store="memory"),
        ],
        f"Summarization({budget}, headroom_summarizer)": lambda: [summarization()],
    }


def _serial(request: Sequence[BaseMessage]) -> list[str]:
    return [json.dumps(m, sort_keys=True, default=str) for m in to_dicts(request)]


def _measure(received: list[list[BaseMessage]], price: Any) -> dict[str, Any]:
    sent = [count_tokens(r, model="gpt-4o") for r in received]
    stable = 0
    full = cached_cost = 0.0
    previous: list[str] = []
    for request, tokens in zip(received, sent, strict=True):
        serial = _serial(request)
        shared = 0
        while shared < min(len(previous), len(serial)) and previous[shared] == serial[shared]:
            shared += 1
        if previous and shared == len(previous):
            stable += 1
        cached = count_tokens(request[:shared], model="gpt-4o") if shared else 0
        cached = cached if cached >= CACHE_MIN else 0
        full += tokens * price.input
        cached_cost += (tokens - cached) * price.input + cached * (
            price.cached_input or price.input
        )
        previous = serial
    last = "\n".join(_serial(received[-1]))
    return {
        "calls": len(received),
        "tokens_sent": sum(sent),
        "largest_call": max(sent),
        "prefix_stable": f"{stable}/{len(received) - 1}",
        "usd": full / 1e6,
        "usd_cached": cached_cost / 1e6,
        "facts_in_last_call": all(f in last for f in FACTS),
    }


def _overhead(history: list[BaseMessage], repeats: int) -> dict[str, float]:
    def timed(fn: Callable[[], Any]) -> float:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - start) * 1000)
        return statistics.median(runs)

    grown = [*history, HumanMessage("One more question about the logs.")]
    compress = compress_messages(headroom=Headroom(store="memory"))
    cold = timed(lambda: compress_messages(headroom=Headroom(store="memory")).invoke(history))
    compress.invoke(history)
    warm = timed(lambda: compress.invoke(grown))

    def trim() -> Any:
        return trim_messages(
            grown, max_tokens=20_000, token_counter=count_tokens_approximately, strategy="last"
        )

    return {"compress_cold_ms": cold, "compress_warm_ms": warm, "trim_ms": timed(trim)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--budget", type=int, default=20_000)
    parser.add_argument("--model", default="gpt-4.1", help="whose prices to use")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    price = load_prices().price(args.model)
    if price is None:
        raise SystemExit(f"no price for {args.model} in headroom/prices.json")
    print(
        f"{args.turns} user turns, {2 * args.turns} model calls; prices of {args.model}: "
        f"${price.input}/M input, ${price.cached_input}/M cached"
    )
    print(
        "| configuration | tokens sent | largest call | prefix-stable calls | $ | $ with "
        "cached input | turn-1 facts in last call | wall s |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    final: list[BaseMessage] = []
    for name, make in _configs(args.budget).items():
        model = ScriptedChatModel(script=replay_script(args.turns))
        agent = create_agent(
            model, tools=replay_tools(DATA), middleware=make(), checkpointer=InMemorySaver()
        )
        start = time.perf_counter()
        history = run_replay(agent, args.turns)
        wall = time.perf_counter() - start
        if name == "no middleware":
            final = history
        m = _measure(model.received, price)
        print(
            f"| {name} | {m['tokens_sent']:,} | {m['largest_call']:,} | {m['prefix_stable']} "
            f"| {m['usd']:.2f} | {m['usd_cached']:.2f} | "
            f"{'yes' if m['facts_in_last_call'] else 'no'} | {wall:.1f} |"
        )
    o = _overhead(final[-40:], args.repeats)
    print(
        f"\nper-call overhead on the last 40 messages of the raw history "
        f"({count_tokens(final[-40:], model='gpt-4o'):,} tokens), median of {args.repeats}:"
    )
    print(
        f"compress_messages cold {o['compress_cold_ms']:.1f} ms, warm (one new message) "
        f"{o['compress_warm_ms']:.1f} ms; trim_messages {o['trim_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
