"""LangChain integration for Headroom: compress what goes into an agent's prompts.

* :class:`HeadroomMiddleware` — ``create_agent`` middleware: compresses tool results as
  they are produced, optionally each request, condenses old history, adds
  ``headroom_retrieve``.
* :func:`compress_tool` / :class:`HeadroomTool` — compressed output for any tool.
* :class:`HeadroomCallbackHandler` — tokens sent and saved per model, run and in total.
* :class:`HeadroomDocumentCompressor` — query-aware pruning of retrieved documents.
* :func:`compress_messages` / :func:`headroom_summarizer` — compressed chat memory for
  LCEL chains and for LangChain's ``SummarizationMiddleware``.

>>> from langchain_headroom import HeadroomMiddleware
>>> HeadroomMiddleware(store="memory").tools[0].name
'headroom_retrieve'
"""

from langchain_headroom._common import TOOL_RESULT_EVENT
from langchain_headroom.callbacks import (
    DEFAULT_PRICES,
    HeadroomCallbackHandler,
    ToolRecord,
    Usage,
)
from langchain_headroom.documents import HeadroomDocumentCompressor
from langchain_headroom.memory import compress_messages, headroom_summarizer
from langchain_headroom.middleware import HeadroomMiddleware
from langchain_headroom.tools import (
    RETRIEVE_TOOL_NAME,
    HeadroomTool,
    compress_tool,
    make_retrieve_tool,
)

__all__ = [
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
