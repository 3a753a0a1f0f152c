"""Relevance pruning never answers with a bare marker (issue 15, item 6), on real data.

The best sentence and its neighbours are kept whatever the ratio; when nothing matches the
query the lead is kept; line-oriented text (logs, CSV) is cut at its lines, not into one
"sentence" larger than any budget.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from headroom import TextPruner, compress
from headroom.bench.rag import load_cases
from headroom.handles import find_markers
from headroom.relevance.segment import segment, sentences
from tests.conftest import read_bench

_MARKER_RE = re.compile(r"\[[^\[\]\n]*retrieve: headroom:[0-9a-f]+\]")

# The example every article about relevance pruning shows.
BENEFITS = [
    "The 401k plan allows employees to save for retirement. Early withdrawals before age 59 "
    "and a half incur a 10 percent penalty. Employer matching is up to 5 percent.",
    "Health insurance covers medical, dental and vision. Premiums are deducted from each "
    "paycheck. Open enrollment is in November.",
]


def _squad(bench_data: Path) -> list[dict[str, object]]:
    data = json.loads(read_bench(bench_data / "squad" / "dev-v2.0.json"))["data"]
    assert isinstance(data, list)
    return data


def _body(text: str) -> str:
    """The output without its marker."""
    assert len(find_markers(text)) == 1
    return _MARKER_RE.sub("", text).strip()


def test_the_401k_example_keeps_the_penalty_sentence() -> None:
    result = TextPruner().prune(
        BENEFITS, query="What is the penalty for early withdrawal from the 401k plan?"
    )
    assert [c.index for c in result.chunks] == [0]
    assert "10 percent penalty" in result.text
    assert result.tokens_after < result.tokens_before


@pytest.mark.parametrize("options", [{"target_ratio": 0.02}, {"token_budget": 0}])
def test_a_tiny_budget_still_keeps_the_best_sentence_on_squad(
    bench_data: Path, options: dict[str, float]
) -> None:
    cases = load_cases(bench_data / "squad" / "dev-v2.0.json", limit=400)[::8]
    pruner = TextPruner(**options)  # type: ignore[arg-type]
    answered = 0
    for case in cases:
        result = pruner.prune(list(case.chunks), query=case.question)
        kept = [s for c in result.chunks for s in sentences(c.text)]
        assert 1 <= len(kept) <= 3, (case.question, kept)  # the best one and its neighbours
        answered += any(a in result.text for a in case.answers)
    assert answered >= len(cases) // 2  # the floor is the best sentence, not any sentence


def test_compress_keeps_the_lead_when_the_request_shares_no_word(bench_data: Path) -> None:
    article = _squad(bench_data)[0]
    paragraphs = article["paragraphs"]  # type: ignore[index]
    page = "\n\n".join(p["context"] for p in paragraphs[:4])
    messages = [
        {"role": "user", "content": "Please fetch that page and give me a short summary."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "fetch", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": page},
    ]
    result = compress(messages)
    out = result.messages[2]["content"]
    assert result.tokens_after < result.tokens_before
    assert out.startswith(sentences(page)[0])  # the lead, not a bare marker
    assert len(_body(out)) > 200


def test_log_lines_are_segments_and_the_matching_lines_are_kept(bench_data: Path) -> None:
    lines = read_bench(bench_data / "loghub" / "HDFS_2k.log").splitlines(keepends=True)[:300]
    log = "".join(lines)
    assert [s.text for s in segment(log)] == [line.strip() for line in lines]
    result = TextPruner().prune(log, query="Which blocks did NameSystem.delete remove?")
    body = _body(result.text)
    assert body and result.tokens_after <= 0.4 * result.tokens_before
    assert set(body.splitlines()) <= {line.strip() for line in lines}  # whole lines (CRLF)
    assert "NameSystem.delete" in body


def test_csv_rows_are_segments_and_matching_rows_are_kept(bench_data: Path) -> None:
    rows = read_bench(bench_data / "loghub" / "Zookeeper_2k.log_structured.csv").splitlines()
    csv_text = "\n".join(rows[:200]) + "\n"
    result = TextPruner().prune([csv_text], query="When did the notification time out?")
    assert result.chunks, "the CSV came back empty"
    body = result.chunks[0].text
    assert body.splitlines() and set(body.splitlines()) <= set(rows)
    assert "Notification time out" in body
    assert result.tokens_after <= 0.4 * result.tokens_before


def test_hard_wrapped_prose_is_still_cut_at_sentences(bench_data: Path) -> None:
    for paragraph in _squad(bench_data)[1]["paragraphs"][:10]:  # type: ignore[index]
        prose = paragraph["context"]
        wrapped = textwrap.fill(prose, width=72)
        assert len(segment(wrapped)) == len(segment(prose)), wrapped
