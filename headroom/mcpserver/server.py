"""The MCP server: Headroom's core as four tools, on the MCP Python SDK's ``MCPServer``.

Each tool is a typed function whose docstring is the description the model reads and whose
annotations are its input schema. A bad call raises ``ToolError``, which the SDK turns into
a tool result with ``isError`` set and the message as its text: the server answers the next
call as if nothing happened. Compression runs on the SDK's worker threads (the tools are
plain functions), never in the event loop.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Annotated, Any, Final, TypeVar

# isort: off
from headroom.mcpserver import _deps  # noqa: F401  (names the extra when it is missing)

# isort: on
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from headroom import __version__
from headroom._rawbytes import from_bytes
from headroom.client import Headroom
from headroom.config import KINDS
from headroom.errors import HeadroomError
from headroom.mcpserver.options import ServerOptions
from headroom.mcpserver.roots import ReadRoots
from headroom.results import TextResult
from headroom.store.usage import RECENT_DAYS, UsageTotals

__all__ = ["CompressOutput", "StatsOutput", "create_server"]

_T = TypeVar("_T")

_INSTRUCTIONS: Final = (
    "Headroom shrinks large content (logs, JSON API responses, search results, diffs, source "
    "files) before you read it. Whatever it leaves out is kept: each omission is marked with "
    "a handle (headroom:<12 hex digits>), and headroom_retrieve gives back the exact original "
    "or, with a query, the parts that match."
)


class CompressOutput(BaseModel):
    """What ``headroom_compress`` and ``headroom_read`` return."""

    text: str = Field(description="the compressed content, with a marker at each omission")
    kind: str = Field(description="the kind of content it was compressed as")
    language: str | None = Field(description="the programming language, for code")
    tokens_before: int = Field(description="tokens of the original")
    tokens_after: int = Field(description="tokens of the compressed text")
    tokens_saved: int
    lossless: bool = Field(description="true when nothing was left out")
    handles: list[str] = Field(description="handles of the stored originals")
    warnings: list[str] = Field(description="why something was left unchanged, if it was")
    path: str | None = Field(default=None, description="the file read (headroom_read)")


class Totals(BaseModel):
    """Token counts over a number of compression calls."""

    calls: int
    tokens_before: int
    tokens_after: int
    tokens_saved: int


class StatsOutput(BaseModel):
    """What ``headroom_stats`` returns."""

    store: str = Field(description="the store's backend: sqlite, redis, memory, ...")
    location: str | None = Field(description="its file or address")
    writable: bool
    originals: int = Field(description="originals held")
    bytes: int = Field(description="their size")
    session: Totals = Field(description="calls to this server since it started")
    total: Totals = Field(description="every recorded call that changed something, all processes")
    by_kind: dict[str, Totals] = Field(description="the total, per kind of content")
    by_day: dict[str, Totals] = Field(
        description=f"the total per UTC day (YYYY-MM-DD), the last {RECENT_DAYS} days, newest first"
    )


ContentArg = Annotated[
    str, Field(description="the text to compress: a tool output, log, JSON, code, ...")
]
KindArg = Annotated[
    str,
    Field(description=f"'auto' to detect, or one of: {', '.join(KINDS)}"),
]
QueryArg = Annotated[
    str | None,
    Field(description="what you are looking for; the parts that match it are kept"),
]
HandleArg = Annotated[str, Field(description="a handle from a marker, e.g. headroom:3f9a1c2e4b7d")]
RetrieveQueryArg = Annotated[
    str | None,
    Field(description="words to look for; only the matching parts come back. Omit for all"),
]
PathArg = Annotated[
    str, Field(description="the file to read: absolute, or relative to the server's directory")
]


def create_server(options: ServerOptions | None = None, *, client: Headroom | None = None) -> Any:
    """An ``MCPServer`` serving ``headroom_compress``, ``headroom_retrieve``,
    ``headroom_read`` and ``headroom_stats``.

    Args:
        options: the store, the readable roots, the size limit, the model.
        client: the ``Headroom`` to compress with (its store is the one used); by default
            one is opened on ``options.store``.

    Returns:
        The ``mcp.server.mcpserver.MCPServer`` (typed ``Any`` so that callers need not
        import the SDK); ``.run()`` serves it over stdio.

    Raises:
        ImportError: the ``mcp`` extra is not installed (names the ``pip install``).
        InvalidArgumentError: an ``allow_read`` root is not a directory.

    Example:
        >>> server = create_server(ServerOptions(store="memory"))
        >>> server.name
        'headroom'
    """
    options = options or ServerOptions()
    roots = ReadRoots(options.allow_read)
    hr = client or Headroom(store=options.store, model=options.model)
    limit = options.max_content_bytes
    server: MCPServer[Any] = MCPServer(
        "headroom", instructions=_INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    def tool(
        *, read_only: bool, structured: bool = True
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            server.add_tool(
                fn,
                description=inspect.cleandoc(fn.__doc__ or ""),
                annotations=ToolAnnotations(read_only_hint=read_only, open_world_hint=False),
                structured_output=structured,
            )
            return fn

        return register

    @tool(read_only=False)
    def headroom_compress(
        content: ContentArg, content_type: KindArg = "auto", query: QueryArg = None
    ) -> Annotated[CallToolResult, CompressOutput]:
        """Compress content before reading it: a large tool output, log, JSON API response,
        search result, diff or source file. Returns the compressed text (much shorter, the
        signal kept: errors, anomalies, identifiers, parts matching the query), its tokens
        before and after, and the handles of the originals. Every omission is marked in the
        text with a handle; call headroom_retrieve with it to get the original back.
        """
        _check_size("content", _utf8_size(content), limit)
        if content_type != "auto" and content_type not in KINDS:
            raise ToolError(
                f"content_type: unknown kind {content_type!r}; expected 'auto' or one of: "
                + ", ".join(KINDS)
            )
        return _compressed(_call(lambda: hr.compress_text(content, kind=content_type, query=query)))

    # Unstructured: the original is the text content; structured content would carry a
    # second copy of it (megabytes, for a large original).
    @tool(read_only=True, structured=False)
    def headroom_retrieve(handle: HandleArg, query: RetrieveQueryArg = None) -> str:
        """Get back the original behind a handle (headroom:<12 hex digits>) from a marker
        such as [187 rows omitted: ... retrieve: headroom:3f9a1c2e4b7d]. Without a query,
        the exact original; with one, only its parts that match.
        """
        return _wire_text(_call(lambda: hr.retrieve(handle, query=query)))

    @tool(read_only=True)
    def headroom_read(
        path: PathArg, query: QueryArg = None
    ) -> Annotated[CallToolResult, CompressOutput]:
        """Read a local file, compressed by its kind: source code as a skeleton of its
        definitions, logs as templates with counts, JSON as tables. Omissions are marked
        with handles for headroom_retrieve. Only files under the directories the server
        was started with (--allow-read) can be read.
        """
        real = _call(lambda: roots.resolve(path))
        try:
            fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as file:
                _check_size(f"file {path!r}", os.fstat(file.fileno()).st_size, limit)
                data = file.read(limit + 1)
        except OSError as error:
            raise ToolError(f"path {path!r}: cannot be read ({error.strerror})") from None
        _check_size(f"file {path!r}", len(data), limit)
        text = from_bytes(data)
        result = _call(lambda: hr.compress_text(text, query=query, path=str(real)))
        return _compressed(result, path=str(real))

    @tool(read_only=True)
    def headroom_stats() -> StatsOutput:
        """What Headroom's store holds and the tokens saved: by this server since it
        started, and in total across every process sharing the store.
        """
        stats = _call(hr.store.stats)
        session = hr.stats
        usage = _call(hr.usage.totals)  # every process sharing the store
        by_kind = {kind: Totals(**u.fields()) for kind, u in sorted(usage.items())}
        days = _call(lambda: hr.usage.by_day(RECENT_DAYS))
        by_day = {
            day: Totals(**UsageTotals.summed(kinds.values()).fields())
            for day, kinds in days.items()
        }
        return StatsOutput(
            store=stats.backend,
            location=stats.location,
            writable=stats.writable,
            originals=stats.items,
            bytes=stats.bytes,
            session=Totals(
                calls=session.calls,
                tokens_before=session.tokens_before,
                tokens_after=session.tokens_after,
                tokens_saved=session.tokens_saved,
            ),
            total=Totals(**UsageTotals.summed(usage.values()).fields()),
            by_kind=by_kind,
            by_day=by_day,
        )

    return server


def _call(work: Callable[[], _T]) -> _T:
    """Run ``work``; a Headroom error becomes a tool error with the same message."""
    try:
        return work()
    except HeadroomError as error:
        raise ToolError(str(error)) from None


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _check_size(what: str, size: int, limit: int) -> None:
    if size > limit:
        raise ToolError(
            f"{what} is {size:,} bytes, over the server's limit of {limit:,} bytes "
            "(--max-content-bytes)"
        )


def _wire_text(text: str) -> str:
    """``text`` as JSON-RPC can carry it: UTF-8 has no lone surrogates (bytes of the
    original that were not UTF-8), so those become U+FFFD on the wire."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _compressed(result: TextResult, *, path: str | None = None) -> CallToolResult:
    """The tool result: the compressed text first (what the model reads), a one-line
    summary second, and every field as structured content."""
    output = CompressOutput(
        text=_wire_text(result.text),
        kind=result.kind,
        language=result.language,
        tokens_before=result.tokens_before,
        tokens_after=result.tokens_after,
        tokens_saved=result.tokens_saved,
        lossless=result.lossless,
        handles=result.handles,
        warnings=result.warnings,
        path=path,
    )
    summary = (
        f"[headroom: {result.kind}, {result.tokens_before:,} -> {result.tokens_after:,} tokens"
        + (
            f"; originals: {', '.join(result.handles)} (headroom_retrieve)"
            if result.handles
            else ""
        )
        + "".join(f"; warning: {w}" for w in result.warnings)
        + "]"
    )
    return CallToolResult(
        content=[
            TextContent(type="text", text=output.text),
            TextContent(type="text", text=summary),
        ],
        structured_content=output.model_dump(mode="json"),
    )
