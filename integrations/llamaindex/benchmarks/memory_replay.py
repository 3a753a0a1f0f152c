"""Replay a long tool-using conversation through chat memories and measure what is sent.

    cd integrations/llamaindex && HEADROOM_BENCH_DATA=../../../shared/bench-data \\
        ../../.venv/bin/python benchmarks/memory_replay.py [--turns 30] [--budget 20000]

Each turn puts a user question, an assistant tool call, the tool's output (the first 40,000
characters of a loghub log or GitHub API JSON file) and an answer into the memory, and
reads the memory after the question and after the tool output, as an agent does before
each LLM call (two views per turn). Reported per memory: tokens of all views (headroom's
count, gpt-4o tokenizer), the largest view, prefix-stable views (a view that starts with the
previous one, byte for byte), dollars at ``--model``'s input price from
``headroom/prices.json`` without and with cached-input pricing (a view's cached part is the
messages it shares from the start with the previous view, when at least 1,024 tokens), and
the time spent in ``get()``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ../conftest.py

from headroom import count_tokens
from headroom.pricing import load_prices
from llama_index.core.llms import ChatMessage
from llama_index.core.memory import ChatMemoryBuffer

from conftest import DATA  # the tests' data directory
from llama_index.memory.headroom import HeadroomMemory
from llama_index.utils.headroom.messages import to_dicts

SOURCES = [
    "loghub/HDFS_2k.log",
    "json/gh_issues_rails_admin.json",
    "loghub/Zookeeper_2k.log",
    "json/gh_pulls_octokit_rb.json",
    "loghub/OpenStack_2k.log",
    "json/gh_repo_events_rails_admin.json",
    "loghub/Hadoop_2k.log",
    "json/gh_search_issues.json",
    "loghub/BGL_2k.log",
    "loghub/Apache_2k.log",
]
CACHE_MIN = 1_024


def _turn(turn: int) -> list[ChatMessage]:
    path = SOURCES[turn % len(SOURCES)]
    name = "read_log" if path.startswith("loghub") else "fetch_json"
    call = {
        "id": f"c{turn}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps({"path": path})},
    }
    return [
        ChatMessage(role="user", content=f"Turn {turn}: look at {path}; what stands out?"),
        ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call]}),
        ChatMessage(
            role="tool",
            content=(DATA / path).read_text()[:40_000],
            additional_kwargs={"tool_call_id": f"c{turn}", "name": name},
        ),
        ChatMessage(role="assistant", content=f"Turn {turn}: {path} looks routine; noted."),
    ]


def _replay(memory: Any, turns: int) -> tuple[list[list[ChatMessage]], float]:
    views: list[list[ChatMessage]] = []
    spent = 0.0
    for turn in range(turns):
        question, call, result, answer = _turn(turn)
        for put in ([question], [call, result]):
            for message in put:
                memory.put(message)
            start = time.perf_counter()
            views.append(memory.get())
            spent += time.perf_counter() - start
        memory.put(answer)
    return views, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--budget", type=int, default=20_000)
    parser.add_argument("--model", default="gpt-4.1", help="whose prices to use")
    args = parser.parse_args()
    price = load_prices().price(args.model)
    if price is None:
        raise SystemExit(f"no price for {args.model} in headroom/prices.json")
    cached_price = price.cached_input if price.cached_input is not None else price.input
    memories = {
        f"ChatMemoryBuffer(token_limit={args.budget})": lambda: ChatMemoryBuffer.from_defaults(
            token_limit=args.budget
        ),
        "HeadroomMemory()": lambda: HeadroomMemory.from_defaults(store="memory"),
        f"HeadroomMemory(budget_tokens={args.budget})": lambda: HeadroomMemory.from_defaults(
            store="memory", budget_tokens=args.budget
        ),
    }
    print(f"{args.turns} turns, {2 * args.turns} views; prices of {args.model}")
    print(
        "| memory | tokens sent | largest view | prefix-stable views | $ | $ with cached "
        "input | get() s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, make in memories.items():
        views, spent = _replay(make(), args.turns)
        serial = [[m.model_dump_json() for m in v] for v in views]
        sent = [count_tokens(to_dicts(v)) for v in views]
        stable = 0
        full = cached_cost = 0.0
        for i, (view, tokens) in enumerate(zip(views, sent, strict=True)):
            shared = 0
            if i:
                previous = serial[i - 1]
                while (
                    shared < min(len(previous), len(view)) and previous[shared] == serial[i][shared]
                ):
                    shared += 1
                stable += shared == len(previous)
            cached = count_tokens(to_dicts(view[:shared])) if shared else 0
            cached = cached if cached >= CACHE_MIN else 0
            full += tokens * price.input
            cached_cost += (tokens - cached) * price.input + cached * cached_price
        print(
            f"| {name} | {sum(sent):,} | {max(sent):,} | {stable}/{len(views) - 1} | "
            f"{full / 1e6:.2f} | {cached_cost / 1e6:.2f} | {spent:.1f} |"
        )


if __name__ == "__main__":
    main()
