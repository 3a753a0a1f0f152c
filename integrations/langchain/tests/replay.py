"""A long agent conversation over real data, replayed through ``create_agent``.

Each user turn asks about one loghub log or GitHub JSON file; the scripted model calls
the matching tool (whose output is the real file) and then answers. ``turns`` user turns
make ``2 * turns`` model requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool, tool
from scripted import call

SOURCES = [
    ("loghub/HDFS_2k.log", "read_log"),
    ("json/gh_issues_rails_admin.json", "fetch_json"),
    ("loghub/Zookeeper_2k.log", "read_log"),
    ("json/gh_pulls_octokit_rb.json", "fetch_json"),
    ("loghub/OpenStack_2k.log", "read_log"),
    ("json/gh_repo_events_rails_admin.json", "fetch_json"),
    ("loghub/Hadoop_2k.log", "read_log"),
    ("json/gh_search_issues.json", "fetch_json"),
    ("loghub/BGL_2k.log", "read_log"),
    ("loghub/Apache_2k.log", "read_log"),
]


def replay_tools(data: Path, max_chars: int = 40_000) -> list[BaseTool]:
    """``read_log`` and ``fetch_json`` returning the first ``max_chars`` of a data file."""

    def load(path: str) -> str:
        return (data / path).read_text()[:max_chars]

    @tool
    def read_log(path: str) -> str:
        """Read a log file from the cluster."""
        return load(path)

    @tool
    def fetch_json(path: str) -> str:
        """Fetch a JSON document from an API."""
        return load(path)

    return [read_log, fetch_json]


def question(turn: int) -> str:
    """The user's question of ``turn`` (the first one states facts asked about at the end)."""
    if turn == 0:
        return "Incident INC-4471 for customer acme-corp: start with the HDFS log. What failed?"
    path = SOURCES[turn % len(SOURCES)][0]
    return f"Turn {turn}: look at {path} and tell me what stands out."


def replay_script(turns: int) -> list[AIMessage]:
    """The model's side: a tool call, then an answer, for each user turn."""
    script: list[AIMessage] = []
    for turn in range(turns):
        path, name = SOURCES[turn % len(SOURCES)]
        script.append(call(name, {"path": path}, f"call_{turn}"))
        script.append(AIMessage(f"Turn {turn}: {path} looks mostly routine; noted."))
    return script


def run_replay(agent: Any, turns: int, thread: str = "replay") -> list[Any]:
    """Invoke ``agent`` for ``turns`` user turns on one checkpointed thread."""
    from langchain_core.messages import HumanMessage

    config = {"configurable": {"thread_id": thread}}
    out: Any = None
    for turn in range(turns):
        out = agent.invoke({"messages": [HumanMessage(question(turn))]}, config)
    return list(out["messages"]) if out else []
