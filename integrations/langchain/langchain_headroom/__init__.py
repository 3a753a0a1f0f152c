"""LangChain integration for Headroom: compress what goes into an agent's prompts.

* :class:`HeadroomMiddleware` — ``create_agent`` middleware: compresses tool results as
  they are produced, optionally each request, condenses old history, adds
  ``headroom_retrieve``. It lives in :mod:`langchain_headroom.middleware` and needs
  ``langchain`` and ``langgraph`` (``pip install "langchain-headroom[agents]"``); it is
  imported from here on first use, so everything else works with ``langchain-core`` alone.
* :func:`compress_tool` / :class:`HeadroomTool` — compressed output for any tool.
* :class:`HeadroomCallbackHandler` — tokens sent and saved per model, run and in total.
* :class:`HeadroomDocumentCompressor` — query-aware pruning of retrieved documents.
* :func:`compress_messages` / :func:`headroom_summarizer` — compressed chat memory for
  LCEL chains and for LangChain's ``SummarizationMiddleware``.

>>> from langchain_headroom import HeadroomMiddleware
>>> HeadroomMiddleware(store="memory").tools[0].name
'headroom_retrieve'
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from langchain_headroom._common import TOOL_RESULT_EVENT
from langchain_headroom.callbacks import (
    DEFAULT_PRICES,
    HeadroomCallbackHandler,
    ToolRecord,
    Usage,
)
from langchain_headroom.documents import HeadroomDocumentCompressor
from langchain_headroom.memory import compress_messages, headroom_summarizer
from langchain_headroom.tools import (
    RETRIEVE_TOOL_NAME,
    HeadroomTool,
    compress_tool,
    make_retrieve_tool,
)

if TYPE_CHECKING:
    from langchain_headroom.middleware import HeadroomMiddleware

try:
    __version__ = _version("langchain-headroom")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_PRICES",
    "RETRIEVE_TOOL_NAME",
    "TOOL_RESULT_EVENT",
    "HeadroomCallbackHandler",
    "HeadroomDocumentCompressor",
    "HeadroomMiddleware",  # left out below when langchain or langgraph is not installed
    "HeadroomTool",
    "ToolRecord",
    "Usage",
    "compress_messages",
    "compress_tool",
    "headroom_summarizer",
    "make_retrieve_tool",
]


def _agents_installed() -> bool:
    """Whether the `agents` extra (langchain, langgraph) can be imported: looked up, not
    imported, so that `import langchain_headroom` stays light."""
    try:
        return all(find_spec(name) is not None for name in ("langchain", "langgraph"))
    except (ImportError, ValueError):
        return False


if not _agents_installed():
    # `from langchain_headroom import *` must work with langchain-core alone.
    __all__.remove("HeadroomMiddleware")


def __getattr__(name: str) -> Any:
    # HeadroomMiddleware is imported on first use: it needs langchain and langgraph (the
    # `agents` extra), and the rest of the package does not.
    if name == "HeadroomMiddleware":
        from langchain_headroom.middleware import HeadroomMiddleware

        return HeadroomMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
