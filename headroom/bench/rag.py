"""RAG pruning benchmark on SQuAD 2.0 dev: tokens saved vs. gold-answer retention.

Each answerable question gets its gold paragraph mixed among same-article distractor
paragraphs (seeded, so every run builds the same contexts), as a list of chunks. Every method
keeps about the same share of tokens; a question counts as *retained* when one of its gold
answers is still a substring of the output. Methods: the TextPruner with BM25, the
bi-encoder and hybrid scorers (when the ``neural`` extra is installed), ``compress()`` (the
public API with the chunks as one tool result after the question, ``target_ratio`` = keep; 0.3
is its default), a naive BM25 top-sentences baseline, head truncation and random sentence drop.
``--distractors`` sets how many distractor paragraphs each context has (9).

    python -m headroom.bench.rag --data ../shared/bench-data/squad

``--no-query`` measures query-less shrinking instead (a ratio and no question, as
``CompressConfig(target_ratio=...)`` does to prose): each SQuAD paragraph, and each whole
article, is shrunk with no question; a question counts as retained when its answer survives.
Methods: the salience engine (``TextPruner(no_query="salience")``), the lead (first sentences
up to the same budget) and random sentences (seeded) up to the same budget.

    python -m headroom.bench.rag --data ../shared/bench-data/squad --no-query --ratios 0.5,0.3
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headroom.client import compress
from headroom.compressors.text.pruner import TextPruner
from headroom.config import CompressConfig
from headroom.relevance.bm25 import okapi_scores
from headroom.relevance.segment import sentences
from headroom.tokens import get_counter

__all__ = ["Case", "Passage", "load_cases", "load_passages", "main"]


@dataclass(frozen=True, slots=True)
class Case:
    """One question with its context chunks."""

    question: str
    answers: tuple[str, ...]
    chunks: tuple[str, ...]


def load_cases(path: Path, *, distractors: int = 9, limit: int | None = None) -> list[Case]:
    """The answerable questions of a SQuAD 2.0 file with their gold + distractor chunks."""
    data = json.loads(path.read_bytes().decode("utf-8"))["data"]
    cases: list[Case] = []
    for article in data:
        paragraphs = [p["context"] for p in article["paragraphs"]]
        for index, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                if qa.get("is_impossible") or not qa["answers"]:
                    continue
                rng = random.Random(qa["id"])
                others = [i for i in range(len(paragraphs)) if i != index]
                chosen = [*rng.sample(others, min(distractors, len(others))), index]
                rng.shuffle(chosen)
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                cases.append(Case(qa["question"], answers, tuple(paragraphs[i] for i in chosen)))
    return cases[:limit] if limit is not None else cases


@dataclass(frozen=True, slots=True)
class Passage:
    """A text with the answers of the questions asked about it (one tuple per question)."""

    text: str
    answers: tuple[tuple[str, ...], ...]


def load_passages(path: Path, *, unit: str = "paragraph") -> list[Passage]:
    """Each paragraph (``unit="paragraph"``) or article (``"article"``) of a SQuAD 2.0 file
    with the gold answers of its answerable questions."""
    data = json.loads(path.read_bytes().decode("utf-8"))["data"]
    passages: list[Passage] = []
    for article in data:
        parts = [
            Passage(
                p["context"],
                tuple(
                    tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                    for qa in p["qas"]
                    if not qa.get("is_impossible") and qa["answers"]
                ),
            )
            for p in article["paragraphs"]
        ]
        if unit == "article":
            parts = [
                Passage(
                    "\n\n".join(p.text for p in parts), tuple(a for p in parts for a in p.answers)
                )
            ]
        passages.extend(p for p in parts if p.answers)
    return passages


# Baselines drop text too, so they pay for a marker as the engine does: same budget, same cost.
_MARKER = "[9 sentences omitted · retrieve: headroom:0123456789ab]"


def _budgeted(text: str, ratio: float, order: Callable[[int], list[int]]) -> str:
    """The sentences of ``text`` taken in ``order`` up to ``ratio`` of its tokens, in place,
    and a marker."""
    count = get_counter()
    sents = sentences(text)
    budget = int(count(text) * ratio) - count("\n\n" + _MARKER)
    kept: set[int] = set()
    spent = 0
    for k in order(len(sents)):
        cost = count(sents[k]) + 1
        if spent + cost > budget and kept:
            continue
        kept.add(k)
        spent += cost
    return " ".join(sents[k] for k in sorted(kept)) + "\n\n" + _MARKER


def _no_query_methods() -> dict[str, Callable[[str, float], str]]:
    def salience(text: str, ratio: float) -> str:
        return TextPruner(target_ratio=ratio, no_query="salience").prune(text).text

    def lead(text: str, ratio: float) -> str:
        return _budgeted(text, ratio, lambda n: list(range(n)))

    def random_sentences(text: str, ratio: float) -> str:
        rng = random.Random(text)  # seeded by the passage: every run draws the same
        return _budgeted(text, ratio, lambda n: rng.sample(range(n), n))

    return {"salience": salience, "lead": lead, "random-sentences": random_sentences}


def _run_no_query(path: Path, ratios: list[float], every: int) -> None:
    count = get_counter()
    paragraphs = load_passages(path)[:: max(1, every)]
    print(
        f"SQuAD 2.0 dev, no query: {len(paragraphs)} paragraphs, "
        f"{sum(len(p.answers) for p in paragraphs)} answerable questions; a question is "
        "retained when one of its answers is still in the output"
    )
    print(
        f"{'unit':<11}{'method':<18}{'keep':>6}{'passages':>10}{'tokens before':>15}"
        f"{'tokens after':>14}{'saved':>8}{'answer kept':>13}"
    )
    for unit in ("paragraph", "article"):
        passages = load_passages(path, unit=unit)[:: max(1, every)]
        before = sum(count(p.text) for p in passages)
        questions = sum(len(p.answers) for p in passages)
        for ratio in ratios:
            for name, method in _no_query_methods().items():
                after = kept = 0
                for passage in passages:
                    out = method(passage.text, ratio)
                    after += count(out)
                    kept += sum(any(a in out for a in answers) for answers in passage.answers)
                print(
                    f"{unit:<11}{name:<18}{ratio:>6.2f}{len(passages):>10}{before:>15,}"
                    f"{after:>14,}{100 * (1 - after / before):>7.1f}%"
                    f"{100 * kept / questions:>12.1f}%"
                )


Method = Callable[[Case, float], str]


def _naive_bm25(case: Case, ratio: float) -> str:
    count = get_counter()
    sents = [s for c in case.chunks for s in sentences(c)]
    budget = int(count("\n\n".join(case.chunks)) * ratio)
    scores = okapi_scores(case.question, sents)
    order = sorted(range(len(sents)), key=lambda k: (-scores[k], k))
    kept: set[int] = set()
    spent = 0
    for k in order:
        cost = count(sents[k]) + 1
        if spent + cost <= budget:
            kept.add(k)
            spent += cost
    return " ".join(sents[k] for k in sorted(kept))


def _head(case: Case, ratio: float) -> str:
    text = "\n\n".join(case.chunks)
    return text[: int(len(text) * ratio)]


def _random_drop(case: Case, ratio: float) -> str:
    sents = [s for c in case.chunks for s in sentences(c)]
    rng = random.Random(case.question)
    return " ".join(s for s in sents if rng.random() < ratio)


def _compress(case: Case, ratio: float) -> str:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": case.question},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "\n\n".join(case.chunks)},
    ]
    result = compress(messages, config=CompressConfig(target_ratio=ratio, store="memory"))
    return str(result.messages[-1]["content"])


_PRUNERS: dict[str, TextPruner] = {}


def _pruner(name: str, pruner: TextPruner) -> Method:
    _PRUNERS[name] = pruner

    def run(case: Case, ratio: float) -> str:
        pruner.target_ratio = ratio
        return pruner.prune(list(case.chunks), query=case.question).text

    return run


def _pairs_scored(name: str) -> int:
    """Sentence/passage pairs a neural pruner has scored so far (0 for BM25 and baselines)."""
    pruner = _PRUNERS.get(name)
    neural = getattr(pruner, "_neural", None)
    return int(getattr(neural, "pairs_scored", 0))


def _methods(scorers: Sequence[str], *, baselines: bool = True) -> dict[str, Method]:
    methods: dict[str, Method] = {}
    for scorer in scorers:
        try:
            name = f"pruner-{scorer}"
            methods[name] = _pruner(name, TextPruner(scorer=scorer))
            if scorer != "bm25":
                methods[f"pruner-{scorer}"](Case("warm up", ("x",), ("warm up text.",)), 0.5)
        except (ImportError, FileNotFoundError, ValueError) as error:
            print(f"skipping {scorer}: {error}", file=sys.stderr)
            methods.pop(f"pruner-{scorer}", None)
    methods["compress()"] = _compress
    if not baselines:
        return methods
    methods["naive-bm25"] = _naive_bm25
    methods["head"] = _head
    methods["random-drop"] = _random_drop
    return methods


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print one table row per method and ratio."""
    parser = argparse.ArgumentParser(prog="python -m headroom.bench.rag", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the squad/ directory")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--every", type=int, default=1, help="only every N-th question")
    parser.add_argument("--ratios", default="0.2,0.3,0.4", help="token shares to keep")
    parser.add_argument(
        "--scorers", default="bm25,bi-encoder,hybrid", help="TextPruner scorers to run"
    )
    parser.add_argument(
        "--distractors", type=int, default=9, help="distractor paragraphs per context"
    )
    parser.add_argument(
        "--no-baselines", action="store_true", help="only the TextPruner and compress() rows"
    )
    parser.add_argument(
        "--no-query", action="store_true", help="query-less shrinking of paragraphs and articles"
    )
    args = parser.parse_args(argv)
    path = args.data / "dev-v2.0.json" if args.data.is_dir() else args.data
    if not path.is_file():
        print(f"no SQuAD file at {path}; skipping", file=sys.stderr)
        return 0
    if args.no_query:
        _run_no_query(path, [float(r) for r in args.ratios.split(",")], args.every)
        return 0
    cases = load_cases(path, distractors=args.distractors, limit=args.limit)[:: max(1, args.every)]
    count = get_counter()
    before_tokens = [count("\n\n".join(c.chunks)) for c in cases]
    total_before = sum(before_tokens)
    total_bytes = sum(len("\n\n".join(c.chunks).encode()) for c in cases)
    print(
        f"SQuAD 2.0 dev: {len(cases)} answerable questions, gold paragraph + "
        f"{args.distractors} same-article "
        f"distractors, {total_before / len(cases):.0f} tokens per context on average"
    )
    print(
        f"{'method':<22}{'keep':>6}{'tokens before':>15}{'tokens after':>14}"
        f"{'saved':>8}{'answer kept':>13}{'MB/s':>8}{'pairs/s':>9}"
    )
    methods = _methods(args.scorers.split(","), baselines=not args.no_baselines)
    for ratio in (float(r) for r in args.ratios.split(",")):
        for name, method in methods.items():
            kept = 0
            after = 0
            pairs = _pairs_scored(name)
            started = time.perf_counter()
            for case in cases:
                out = method(case, ratio)
                kept += any(a in out for a in case.answers)
                after += count(out)
            elapsed = time.perf_counter() - started
            pairs = _pairs_scored(name) - pairs
            rate = f"{pairs / elapsed:>9.0f}" if pairs else f"{'-':>9}"
            saved = 100 * (1 - after / total_before)
            print(
                f"{name:<22}{ratio:>6.2f}{total_before:>15,}{after:>14,}{saved:>7.1f}%"
                f"{100 * kept / len(cases):>12.1f}%{total_bytes / 1e6 / elapsed:>8.2f}{rate}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
