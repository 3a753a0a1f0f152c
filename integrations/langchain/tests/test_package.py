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
