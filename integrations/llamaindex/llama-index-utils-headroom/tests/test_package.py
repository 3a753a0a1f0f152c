"""The shared package: pinned names, one registry for every component, namespace imports."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from llama_index.core.base.llms.types import ChatMessage, MessageRole

import llama_index.utils.headroom as utils_pkg
from llama_index.utils.headroom import record_saving, saving_in, to_dicts


def test_public_names_are_pinned() -> None:
    assert utils_pkg.__all__ == [
        "Component",
        "HeadroomCompressionEvent",
        "emit",
        "emit_result",
        "record_saving",
        "saving_in",
        "to_dicts",
        "with_texts",
    ]
    assert utils_pkg.__version__ == version("llama-index-utils-headroom")


def test_savings_are_looked_up_by_text() -> None:
    text = "[headroom-log] 3 of 1200 lines kept (a test of the shared registry)"
    assert saving_in(text) == (0, None)
    record_saving(text, 1197, "tool")
    assert saving_in(text) == (1197, "tool")
    record_saving(text, -4, "memory")  # a later record for the same text wins
    assert saving_in(text) == (-4, "memory")


def test_messages_become_openai_shaped_dicts() -> None:
    messages = [
        ChatMessage(role=MessageRole.USER, content="Which blocks failed?"),
        ChatMessage(role=MessageRole.CHATBOT, content="Looking."),
    ]
    assert to_dicts(messages) == [
        {"role": "user", "content": "Which blocks failed?"},
        {"role": "assistant", "content": "Looking."},
    ]


def test_llamaindex_core_is_still_importable_next_to_the_namespace_leaves() -> None:
    code = (
        "import llama_index.core, llama_index.utils.headroom;"
        "from llama_index.core.postprocessor import SimilarityPostprocessor; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
