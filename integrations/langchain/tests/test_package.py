"""Package surface: the public names, import hygiene and the resolved framework versions."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

import langchain_headroom


def test_public_names_are_pinned():
    # isort-style order (constants, classes, functions), as ruff's RUF022 keeps it.
    assert langchain_headroom.__all__ == [
        "DEFAULT_PRICES",
        "RETRIEVE_TOOL_NAME",
        "TOOL_RESULT_EVENT",
        "HeadroomCallbackHandler",
        "HeadroomDocumentCompressor",
        "HeadroomMiddleware",
        "HeadroomTool",
        "ToolRecord",
        "Usage",
        "compress_messages",
        "compress_tool",
        "headroom_summarizer",
        "make_retrieve_tool",
    ]
    for name in langchain_headroom.__all__:
        assert getattr(langchain_headroom, name) is not None


def test_import_does_not_load_torch_or_other_frameworks():
    code = (
        "import sys, langchain_headroom; "
        "print(','.join(m for m in ('torch', 'sentence_transformers', 'llama_index') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# An old package index can silently resolve pre-1.0 LangChain, whose agent API differs.
# langchain-classic and langchain-tests come from the `test` extra (standard suites).
@pytest.mark.parametrize(
    "dist", ["langchain", "langchain-core", "langgraph", "langchain-classic", "langchain-tests"]
)
def test_resolved_langchain_versions_are_v1(dist):
    major = int(version(dist).split(".")[0])
    assert major == 1, f"{dist} {version(dist)}: langchain-headroom needs 1.x"


# A sys.meta_path finder that makes `langchain` and `langgraph` (and their submodules)
# impossible to import, as in an environment with langchain-core alone.
_BLOCK_AGENT_FRAMEWORKS = """
import importlib.abc, sys

class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("langchain", "langgraph"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, _Blocker())
"""


def _run_without_agent_frameworks(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK_AGENT_FRAMEWORKS + code],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_everything_but_the_middleware_works_with_langchain_core_alone():
    code = """
from langchain_core.documents import Document
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_headroom import (
    HeadroomCallbackHandler, HeadroomDocumentCompressor, compress_messages, compress_tool,
    make_retrieve_tool,
)
from langchain_core.tools import tool

@tool
def read_log(path: str) -> str:
    \"\"\"Read a log.\"\"\"
    return "\\n".join(f"2024-01-01 INFO worker {i} heartbeat ok" for i in range(400))

wrapped = compress_tool(read_log, store="memory")
out = wrapped.invoke({"type": "tool_call", "id": "c1", "name": "read_log",
                      "args": {"path": "x"}})
assert isinstance(out, ToolMessage) and len(out.content) < len(read_log.invoke({"path": "x"}))
docs = HeadroomDocumentCompressor(store="memory").compress_documents(
    [Document(page_content="The Normans settled in Normandy. " * 40)], "Normans")
assert docs and docs[0].metadata["headroom"]
HeadroomCallbackHandler(); compress_messages(store="memory"); make_retrieve_tool()
print(sorted(m for m in sys.modules if m.split(".")[0] in ("langchain", "langgraph")))
"""
    out = _run_without_agent_frameworks(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_star_import_works_with_langchain_core_alone():
    out = _run_without_agent_frameworks(
        "from langchain_headroom import *\n"
        "import langchain_headroom\n"
        "print(len(langchain_headroom.__all__), 'HeadroomMiddleware' in dir())\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["12", "False"]


@pytest.mark.parametrize(
    "statement",
    [
        "from langchain_headroom import HeadroomMiddleware",
        "import langchain_headroom.middleware",
    ],
)
def test_the_middleware_without_langchain_names_the_extra_to_install(statement):
    out = _run_without_agent_frameworks(statement)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: HeadroomMiddleware needs langchain and langgraph")
    assert 'pip install "langchain-headroom[agents]"' in last


def test_the_middleware_imports_lazily_from_the_package_when_langchain_is_installed():
    from langchain_headroom.middleware import HeadroomMiddleware

    assert langchain_headroom.HeadroomMiddleware is HeadroomMiddleware
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        _ = langchain_headroom.NoSuchThing


def test_version_is_the_installed_distributions():
    assert langchain_headroom.__version__ == version("langchain-headroom")
