"""Tool-side headroom for LlamaIndex: compress what tools return, and get originals back.

Three pieces:

* :func:`headroom_callback` — a ``FunctionTool`` callback that compresses the function's
  output (``FunctionTool.from_defaults(fn, callback=headroom_callback())``).
* :func:`compress_tool` / :class:`HeadroomTool` — wrap any LlamaIndex tool so the text of
  its ``ToolOutput`` is compressed; the agent sees the same name, description and schema.
* :func:`make_retrieve_tool` — the ``headroom_retrieve`` tool, through which the model gets
  back what the markers in compressed output point to.
"""

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from headroom import CompressConfig, Headroom, HeadroomError, Store, TextResult
from headroom.tools import (
    DEFAULT_MODEL,
    RETRIEVE_TOOL_DESCRIPTION,
    RETRIEVE_TOOL_NAME,
    answer,
    client_for,
    path_hint,
)
from llama_index.core.base.llms.types import (
    AudioBlock,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    VideoBlock,
)
from llama_index.core.schema import BaseNode
from llama_index.core.tools.function_tool import FunctionTool
from llama_index.core.tools.types import (
    AsyncBaseTool,
    BaseTool,
    ToolMetadata,
    ToolOutput,
    adapt_to_async_tool,
)

from llama_index.utils.headroom.events import (
    HeadroomCompressionEvent,
    emit,
    emit_result,
    record_saving,
)

__all__ = [
    "RETRIEVE_TOOL_NAME",
    "HeadroomTool",
    "compress_tool",
    "headroom_callback",
    "make_retrieve_tool",
]

logger = logging.getLogger(__name__)

# What FunctionTool turns into content blocks itself (never serialise these as JSON).
_BLOCKS_OR_NODES = (
    TextBlock,
    ImageBlock,
    AudioBlock,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    VideoBlock,
    BaseNode,
)


def headroom_callback(
    *,
    headroom: Headroom | None = None,
    config: CompressConfig | None = None,
    store: Store | str | None = None,
    model: str = DEFAULT_MODEL,
    tool_name: str | None = None,
    query: str | None = None,
) -> Callable[[Any], str | None]:
    """A ``FunctionTool`` callback that compresses the function's output.

    Pass it as ``callback=`` to ``FunctionTool.from_defaults``. A string output is compressed
    as it is; a ``dict`` or ``list`` output is first serialised as JSON (when it can be) and
    compressed as JSON. The callback returns the compressed text, which becomes the tool's
    content, or None when nothing was gained, so LlamaIndex keeps its default output. The
    function's own return value stays in ``ToolOutput.raw_output`` either way. A
    :class:`~llama_index.observability.headroom.HeadroomCompressionEvent` is emitted for every
    output it shortens.

    Args:
        headroom: the client to compress with; otherwise one is made from the options below.
        config: what may be compressed and how.
        store: where originals go (``"memory"``, ``"sqlite"``, a path or a ``Store``).
        model: whose tokenizer counts tokens.
        tool_name: the tool's name, a hint for content detection and the event's name.
        query: what the output is for, for query-aware compression.

    Returns:
        A callable taking the function's raw output and returning a string or None.

    Example:
        >>> from llama_index.core.tools import FunctionTool
        >>> def read_log(path: str) -> str:
        ...     '''Read a log file.'''
        ...     return "\\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO job {i} ok"
        ...                       for i in range(300))
        >>> tool = FunctionTool.from_defaults(
        ...     read_log, callback=headroom_callback(store="memory", tool_name="read_log")
        ... )
        >>> out = tool.call(path="app.log")
        >>> len(out.content) < len(out.raw_output), "retrieve: headroom:" in out.content
        (True, True)
    """
    hr = client_for(headroom, config=config, store=store, model=model)
    name = tool_name or "tool"

    def callback(output: Any) -> str | None:
        if isinstance(output, str):
            text, kind = output, "auto"
        elif isinstance(output, dict | list) and not _holds_blocks_or_nodes(output):
            try:
                text = json.dumps(output, ensure_ascii=False, indent=None, default=str)
            except (TypeError, ValueError):  # e.g. circular references
                return None
            kind = "json"
        else:
            return None
        result = _compress(hr, text, kind=kind, query=query, tool_name=tool_name, path=None)
        if result is None:
            return None
        emit_result("tool", name, result)
        return result.text

    return callback


class HeadroomTool(AsyncBaseTool):
    """A LlamaIndex tool whose output text is compressed before the model sees it.

    ``metadata`` (name, description, argument schema, ``return_direct``) is the wrapped
    tool's own, so an agent sees the same tool. ``call`` and ``acall`` run the wrapped tool,
    then compress each ``TextBlock`` of its ``ToolOutput``; other blocks (images, audio,
    documents) are kept as the same objects, and ``raw_output`` and ``raw_input`` are kept
    as they were, so the application still has the original. Error outputs
    (``is_error=True``) are returned untouched — errors are signal — and exceptions raised
    by the wrapped tool propagate unchanged. Arguments naming a file (``path``,
    ``file_path``, ``filename``, ...) are passed to headroom as a content hint. A
    :class:`~llama_index.observability.headroom.HeadroomCompressionEvent` is emitted per call that
    shortened something.

    Use :func:`compress_tool` to build one. For a ``FunctionTool`` that takes a workflow
    ``Context``, use :func:`headroom_callback` instead: agents hand the ``Context`` only to
    tools that are ``FunctionTool`` instances.

    Example:
        >>> import json
        >>> from headroom import Headroom
        >>> from llama_index.core.tools import FunctionTool
        >>> def get_rows(n: int) -> str:
        ...     '''Return n rows as JSON.'''
        ...     return json.dumps([{"id": i, "ok": True} for i in range(n)], indent=2)
        >>> rows = FunctionTool.from_defaults(get_rows)
        >>> wrapped = HeadroomTool(rows, headroom=Headroom(store="memory"))
        >>> wrapped.metadata is rows.metadata
        True
        >>> out = wrapped.call(n=60)
        >>> len(out.content) < len(out.raw_output)
        True
    """

    def __init__(self, tool: BaseTool, *, headroom: Headroom, query: str | None = None) -> None:
        """Wrap ``tool``; its outputs are compressed with ``headroom``.

        Args:
            tool: any LlamaIndex tool (sync ``BaseTool`` or ``AsyncBaseTool``).
            headroom: the client that compresses (and keeps the originals).
            query: what the output is for, for query-aware compression.
        """
        self._tool = tool
        self._async_tool = adapt_to_async_tool(tool)
        self._headroom = headroom
        self.query = query

    @property
    def metadata(self) -> ToolMetadata:
        """The wrapped tool's metadata (same object)."""
        return self._tool.metadata

    @property
    def tool(self) -> BaseTool:
        """The wrapped tool."""
        return self._tool

    @property
    def headroom(self) -> Headroom:
        """The client that compresses this tool's output (and holds the originals)."""
        return self._headroom

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Run the wrapped tool and return its output with the text compressed."""
        output: ToolOutput = self._tool(*args, **kwargs)
        return self._compress_output(output, args, kwargs)

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Async :meth:`call`; a sync-only tool runs in a worker thread."""
        output: ToolOutput
        if isinstance(self._tool, AsyncBaseTool) or (len(args) == 1 and not kwargs):
            output = await self._async_tool.acall(*args, **kwargs)
        else:
            # LlamaIndex's async adapter for sync tools passes one positional input only.
            output = await asyncio.to_thread(self._tool, *args, **kwargs)
        return self._compress_output(output, args, kwargs)

    def _compress_output(
        self, output: ToolOutput, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> ToolOutput:
        if not isinstance(output, ToolOutput) or output.is_error:
            return output  # errors are signal: they reach the model verbatim
        name = self.metadata.name or output.tool_name
        path = _path_hint(self.metadata, args, kwargs)
        results: list[TextResult] = []
        blocks = []
        for block in output.blocks:
            if isinstance(block, TextBlock) and block.text:
                result = _compress(
                    self._headroom,
                    block.text,
                    kind="auto",
                    query=self.query,
                    tool_name=name,
                    path=path,
                )
                if result is not None:
                    results.append(result)
                    block = block.model_copy(update={"text": result.text})
            blocks.append(block)
        if not results:
            return output
        # A shallow copy: raw_input, raw_output and the exception are the same objects.
        compressed = output.model_copy(update={"blocks": blocks})
        _emit(name, results)
        return compressed


def compress_tool(
    tool: BaseTool,
    *,
    headroom: Headroom | None = None,
    config: CompressConfig | None = None,
    store: Store | str | None = None,
    model: str = DEFAULT_MODEL,
    query: str | None = None,
) -> HeadroomTool:
    """Wrap ``tool`` so its output is compressed; same name, description and schema.

    Args:
        tool: any LlamaIndex tool (``FunctionTool``, ``QueryEngineTool``, a ``ToolSpec``
            tool, a custom ``BaseTool``), sync or async.
        headroom: the client to compress with; otherwise one is made from the options below.
        config: what may be compressed and how.
        store: where originals go (``"memory"``, ``"sqlite"``, a path or a ``Store``).
        model: whose tokenizer counts tokens.
        query: what the output is for, for query-aware compression.

    Returns:
        A :class:`HeadroomTool`; give it to an agent in place of ``tool``.

    Example:
        >>> from llama_index.core.tools import FunctionTool
        >>> def read_log(path: str) -> str:
        ...     '''Read a log file.'''
        ...     return "\\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO job {i} ok"
        ...                       for i in range(300))
        >>> small = compress_tool(FunctionTool.from_defaults(read_log), store="memory")
        >>> out = small.call(path="app.log")
        >>> len(out.content) < len(out.raw_output), out.raw_output == read_log("app.log")
        (True, True)
    """
    hr = client_for(headroom, config=config, store=store, model=model)
    return HeadroomTool(tool, headroom=hr, query=query)


def make_retrieve_tool(headroom: Headroom | None = None) -> FunctionTool:
    """The ``headroom_retrieve`` tool, through which the model gets originals back.

    Args:
        headroom: the client whose store to read first; any store this process compressed
            into, and the default store, are tried after it.

    Returns:
        A ``FunctionTool`` taking ``handle`` and an optional ``query``. A handle written
        loosely (no ``headroom:`` prefix, upper case, quoted, with the marker's ``]``, or
        the whole marker line) is normalised; one that cannot be, or is unknown or expired,
        is answered with a message rather than an exception (``is_error`` stays False), so
        the model can recover and the agent run goes on.

    Example:
        >>> from headroom import Headroom
        >>> hr = Headroom(store="memory")
        >>> text = "\\n".join(f"2024-01-01 INFO worker {i} done" for i in range(400))
        >>> handle = hr.compress_text(text).handles[0]
        >>> make_retrieve_tool(hr).call(handle=handle.upper()).content == text
        True
        >>> make_retrieve_tool(hr).call(handle="3f9a").content[:44]
        "Cannot retrieve: handle: '3f9a' is not a Hea"
    """

    def headroom_retrieve(handle: str, query: str | None = None) -> str:
        return answer(handle, query, client=headroom)

    return FunctionTool.from_defaults(
        headroom_retrieve, name=RETRIEVE_TOOL_NAME, description=RETRIEVE_TOOL_DESCRIPTION
    )


def _compress(
    hr: Headroom,
    text: str,
    *,
    kind: str,
    query: str | None,
    tool_name: str | None,
    path: str | None,
) -> TextResult | None:
    """The result of compressing ``text``, or None when it gained nothing or failed."""
    try:
        result = hr.compress_text(text, kind=kind, query=query, tool_name=tool_name, path=path)
    except HeadroomError as exc:
        # A tool's result must not be lost to the compressor: keep it as it was.
        logger.warning("headroom: tool output left uncompressed: %s", exc)
        return None
    if not result.changed or result.text == text:
        return None
    return result


def _emit(name: str, results: Sequence[TextResult]) -> None:
    """One event for one tool call, however many text blocks it compressed."""
    if len(results) == 1:
        emit_result("tool", name, results[0])
        return
    for result in results:
        record_saving(result.text, result.tokens_before - result.tokens_after, "tool")
    emit(
        HeadroomCompressionEvent(
            component="tool",
            name=name,
            tokens_before=sum(r.tokens_before for r in results),
            tokens_after=sum(r.tokens_after for r in results),
            handles=[h for r in results for h in r.handles],
            transforms=sorted({t for r in results for t in r.transforms_applied}),
            per_call=True,
        )
    )


def _holds_blocks_or_nodes(value: dict[Any, Any] | list[Any]) -> bool:
    """Whether a list is content blocks or nodes, which FunctionTool renders itself."""
    return isinstance(value, list) and any(isinstance(v, _BLOCKS_OR_NODES) for v in value)


def _path_hint(
    metadata: ToolMetadata, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> str | None:
    """The file a tool call names, if any (a routing hint, e.g. ``.py`` means code)."""
    named: dict[str, Any] = {}
    if len(args) == 1 and isinstance(args[0], Mapping):
        named.update(args[0])  # tools called with one dict input
    elif args and metadata.fn_schema is not None:
        named.update(zip(metadata.fn_schema.model_fields, args, strict=False))
    named.update(kwargs)
    return path_hint(named)
