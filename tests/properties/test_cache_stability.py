"""Contract 8 as a property: a message list plus new turns keeps every earlier piece's bytes.

Conversations are drawn from real tool outputs (logs, JSON API responses, prose) cut at
random lengths, with random questions between them, random protection windows and an
explicit query now and then; each request is the conversation so far, as an agent sends it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom
from tests.conftest import BENCH_DATA, read_bench

_SOURCES = (
    "loghub/HDFS_2k.log",
    "loghub/OpenSSH_2k.log",
    "json/gh_issues_rails_admin.json",
    "json/s2_author_papers_page1.json",
    "loghub/Apache_README.md",
)


def _pieces() -> list[str]:
    if not BENCH_DATA.is_dir():
        return ["no bench data " * 200]
    return [read_bench(BENCH_DATA / name) for name in _SOURCES if (BENCH_DATA / name).exists()]


_PIECES = _pieces()
_QUESTIONS = st.sampled_from(
    [
        "Which requests failed?",
        "Find the errors about block replication.",
        "Who opened issues about export?",
        "Summarise the papers about graphs.",
        "Anything about authentication failures for root?",
    ]
) | st.text(min_size=1, max_size=60)


@st.composite
def _turns(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are an agent."}]
    for i in range(draw(st.integers(1, 5))):
        messages.append({"role": "user", "content": draw(_QUESTIONS)})
        source = draw(st.sampled_from(_PIECES))
        start = draw(st.integers(0, max(0, len(source) - 4000)))
        if source.lstrip().startswith(("[", "{")):
            start = 0  # a JSON document cut in the middle is another kind; keep it whole
        tool = draw(st.sampled_from(["bash", "http_get", "fetch"]))
        call = {"id": f"c{i}", "type": "function", "function": {"name": tool, "arguments": "{}"}}
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": source[start:]})
        if draw(st.booleans()):
            messages.append({"role": "assistant", "content": draw(st.sampled_from(_PIECES))})
    return messages


@settings(max_examples=20)
@given(conversation=_turns(), protect=st.integers(0, 4), explicit=st.booleans())
def test_earlier_pieces_keep_their_bytes(
    conversation: list[dict[str, Any]], protect: int, explicit: bool
) -> None:
    hr = Headroom(CompressConfig(protect_recent=protect), store="memory")
    query = "replication errors" if explicit else None
    sent: list[Any] = []
    for k in range(2, len(conversation) + 1):
        out = hr.compress(conversation[:k], query=query).messages
        assert json.dumps(out[: len(sent)]) == json.dumps(sent)
        sent = out


def test_the_sources_are_real_data() -> None:
    assert all(Path(BENCH_DATA / name).exists() for name in _SOURCES) or not BENCH_DATA.is_dir()
