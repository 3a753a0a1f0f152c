"""Measure HeadroomNodePostprocessor in a real query engine over SQuAD (figures in docs).

    cd integrations/llamaindex && HEADROOM_BENCH_DATA=../../../shared/bench-data \\
        ../../.venv/bin/python benchmarks/query_engine.py [--articles 3] [--ratios 0.3,0.4]

Builds the same VectorStoreIndex as the tests (one node per paragraph of the first SQuAD
2.0 dev articles, the tests' hashed bag-of-words embedding), asks every answerable question
of those articles through ``as_query_engine(llm=MockLLM(), similarity_top_k=4)`` with and
without the postprocessor, and reports prompt tokens, how many gold answers the retriever
found and how many of those reached the LLM, and the postprocessor's time per query.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ../conftest.py

from headroom import count_tokens
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter

from conftest import DATA, HashingEmbedding  # the tests' embedding
from llama_index.postprocessor.headroom import HeadroomNodePostprocessor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=3)
    parser.add_argument("--ratios", default="0.3")
    args = parser.parse_args()
    data = json.loads((DATA / "squad" / "dev-v2.0.json").read_text())["data"][: args.articles]
    docs = [
        Document(text=p["context"], metadata={"title": a["title"]})
        for a in data
        for p in a["paragraphs"]
    ]
    index = VectorStoreIndex.from_documents(
        docs,
        embed_model=HashingEmbedding(),
        transformations=[SentenceSplitter(chunk_size=1024, chunk_overlap=0)],
    )
    questions = [
        (qa["question"], [x["text"] for x in qa["answers"]])
        for a in data
        for p in a["paragraphs"]
        for qa in p["qas"]
        if not qa["is_impossible"]
    ]
    retriever = index.as_retriever(similarity_top_k=4)
    plain = index.as_query_engine(llm=MockLLM(), similarity_top_k=4)
    print(f"{len(docs)} paragraphs, {len(questions)} answerable questions, top_k=4")
    print("| target_ratio | prompt tokens | saved | answers retrieved | reached the LLM | ms |")
    print("|---|---|---|---|---|---|")
    for ratio in (float(r) for r in args.ratios.split(",")):
        pp = HeadroomNodePostprocessor(target_ratio=ratio, store="memory")
        pruned = index.as_query_engine(llm=MockLLM(), similarity_top_k=4, node_postprocessors=[pp])
        before = after = found = kept = 0
        times: list[float] = []
        for question, answers in questions:
            full, short = str(plain.query(question)), str(pruned.query(question))
            before += count_tokens(full)
            after += count_tokens(short)
            if any(a in full for a in answers):
                found += 1
                kept += any(a in short for a in answers)
            nodes = retriever.retrieve(question)
            start = time.perf_counter()
            pp.postprocess_nodes(nodes, query_str=question)
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"| {ratio} | {before:,} → {after:,} | {1 - after / before:.1%} | {found} "
            f"| {kept} ({kept / found:.1%}) | {statistics.median(times):.2f} |"
        )


if __name__ == "__main__":
    main()
