"""Tool-side adapters: a wrapper that compresses a tool's output, and the retrieve tool."""

from __future__ import annotations

import asyncio
from typing import Any

from headroom import CompressConfig, Headroom, Store
from headroom.tools import (
    DEFAULT_MODEL,
    RETRIEVE_TOOL_DESCRIPTION,
    RETRIEVE_TOOL_NAME,
    answer,
    client_for,
    path_hint,
)
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import ConfigDict, PrivateAttr

from langchain_headroom._common import compress_tool_message

__all__ = ["RETRIEVE_TOOL_NAME", "HeadroomTool", "compress_tool", "make_retrieve_tool"]


def make_retrieve_tool(headroom: Headroom | None = None) -> BaseTool:
    """The ``headroom_retrieve`` tool, through which the model gets originals back.

    Args:
        headroom: the client whose store to read first; any store this process compressed
            into, and the default store, are tried after it.

    Returns:
        A tool taking ``handle`` and an optional ``query``. A handle written loosely (no
        ``headroom:`` prefix, upper case, quoted, with the marker's ``]``, or the whole
        marker line) is normalised; one that cannot be, or is unknown or expired, is
        answered with a message rather than an exception, so the model can recover and
        the agent run goes on.

    Example:
        >>> from headroom import Headroom
        >>> hr = Headroom(store="memory")
        >>> text = "\\n".join(f"2024-01-01 INFO worker {i} done" for i in range(400))
        >>> handle = hr.compress_text(text).handles[0]
        >>> make_retrieve_tool(hr).invoke({"handle": handle.upper()}) == text
        True
        >>> make_retrieve_tool(hr).invoke({"handle": "3f9a"})[:44]
        "Cannot retrieve: handle: '3f9a' is not a Hea"
    """

    def headroom_retrieve(handle: str, query: str | None = None) -> str:
        return answer(handle, query, client=headroom)

    return StructuredTool.from_function(
        headroom_retrieve, name=RETRIEVE_TOOL_NAME, description=RETRIEVE_TOOL_DESCRIPTION
    )


class HeadroomTool(BaseTool):
    """A tool whose output is compressed before anyone sees it.

    Name, description and argument schema are the wrapped tool's, so a model sees the same
    tool. Invoked with a tool call it returns a ``ToolMessage`` whose compressed text is
    marked in ``response_metadata["headroom"]`` (so agent middleware will not compress it
    again); invoked with plain arguments it returns the compressed string. Non-string
    outputs pass through unchanged, as do error results.

    Use :func:`compress_tool` to build one.

    Example:
        >>> from langchain_core.tools import tool
        >>> @tool
        ... def get_rows(n: int) -> str:
        ...     '''Return n rows as JSON.'''
        ...     import json
        ...     return json.dumps([{"id": i, "ok": True} for i in range(n)], indent=2)
        >>> wrapped = compress_tool(get_rows, store="memory")
        >>> (wrapped.name, wrapped.args == get_rows.args)
        ('get_rows', True)
        >>> msg = wrapped.invoke(
        ...     {"name": "get_rows", "args": {"n": 60}, "id": "c1", "type": "tool_call"}
        ... )
        >>> msg.response_metadata["headroom"]["tokens_after"] < len(get_rows.invoke({"n": 60}))
        True
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tool: BaseTool
    """The wrapped tool."""
    original_as_artifact: bool = False
    """Keep the uncompressed output in the ``ToolMessage``: as its ``artifact`` (never sent
    to the model, but available to the application and kept by checkpointers), or, when
    the tool returned an artifact of its own (which is left as it is), in
    ``response_metadata["headroom"]["original"]``."""
    query: str | None = None
    """What the output is for; query-aware compressors keep what matches it."""

    _headroom: Headroom = PrivateAttr()

    def __init__(self, *, tool: BaseTool, headroom: Headroom, **kwargs: Any) -> None:
        super().__init__(
            tool=tool,
            name=tool.name,
            description=tool.description,
            args_schema=tool.args_schema,
            return_direct=tool.return_direct,
            **kwargs,
        )
        self._headroom = headroom

    @property
    def headroom(self) -> Headroom:
        """The client that compresses this tool's output (and holds the originals)."""
        return self._headroom

    # The wrapped tool validates its own input and reports its own callback run, so
    # invoke delegates whole instead of going through BaseTool.run a second time.
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._compress(self.tool.invoke(input, config, **kwargs), input)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        output = await self.tool.ainvoke(input, config, **kwargs)
        return await asyncio.to_thread(self._compress, output, input)  # off the event loop

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("run_manager", None)
        return self._compress(self.tool.invoke(args[0] if args else kwargs), kwargs)

    async def _arun(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("run_manager", None)
        output = await self.tool.ainvoke(args[0] if args else kwargs)
        return await asyncio.to_thread(self._compress, output, kwargs)

    def _compress(self, output: Any, tool_input: Any) -> Any:
        args = tool_input.get("args", tool_input) if isinstance(tool_input, dict) else None
        path = path_hint(args if isinstance(args, dict) else None)
        if isinstance(output, ToolMessage):
            return compress_tool_message(
                self._headroom,
                output,
                query=self.query,
                tool_name=self.name,
                path=path,
                keep_original_as_artifact=self.original_as_artifact,
            )
        if isinstance(output, str):
            return self._headroom.compress_text(
                output, query=self.query, tool_name=self.name, path=path
            ).text
        return output


def compress_tool(
    tool: BaseTool,
    *,
    headroom: Headroom | None = None,
    config: CompressConfig | None = None,
    store: Store | str | None = None,
    model: str = DEFAULT_MODEL,
    query: str | None = None,
    original_as_artifact: bool = False,
) -> HeadroomTool:
    """Wrap ``tool`` so its output is compressed; same name, description and args schema.

    Args:
        tool: any LangChain tool (``@tool`` function, ``StructuredTool``, ``BaseTool``).
        headroom: the client to compress with; otherwise one is made from the options below.
        config: what may be compressed and how.
        store: where originals go (``"memory"``, ``"sqlite"``, a path or a ``Store``).
        model: whose tokenizer counts tokens.
        query: what the output is for, for query-aware compression.
        original_as_artifact: keep the uncompressed output in the ``ToolMessage``: its
            ``artifact``, or ``response_metadata["headroom"]["original"]`` when the tool has
            an artifact of its own.

    Returns:
        A :class:`HeadroomTool`.

    Example:
        >>> from langchain_core.tools import tool
        >>> @tool
        ... def read_log(path: str) -> str:
        ...     '''Read a log file.'''
        ...     return "\\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO job {i} ok"
        ...                       for i in range(300))
        >>> small = compress_tool(read_log, store="memory")
        >>> len(small.invoke({"path": "app.log"})) < len(read_log.invoke({"path": "app.log"}))
        True
    """
    hr = client_for(headroom, config=config, store=store, model=model)
    return HeadroomTool(
        tool=tool, headroom=hr, query=query, original_as_artifact=original_as_artifact
    )
