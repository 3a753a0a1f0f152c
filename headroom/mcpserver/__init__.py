"""The MCP server: Headroom's tools for agents that speak the Model Context Protocol.

``headroom mcp`` serves ``headroom_compress``, ``headroom_retrieve``, ``headroom_read`` and
``headroom_stats`` over stdio (Claude Code, Claude Desktop, Cursor, Codex start it as
``{"command": "headroom", "args": ["mcp"]}``); ``headroom mcp install`` writes that entry
into their configuration files. The MCP Python SDK is the ``mcp`` extra, imported only by
:func:`create_server` and ``headroom mcp`` serving, never by ``import headroom``. See
``docs/mcp.md``.

Modules: ``options`` (:class:`ServerOptions`), ``server`` (the tools on the SDK's
``MCPServer``), ``roots`` (which files
``headroom_read`` may open), ``clients`` (where each client keeps its configuration),
``install`` (adding and removing the entry, with a backup), ``cli`` (``headroom mcp``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headroom.mcpserver.options import DEFAULT_MAX_CONTENT_BYTES, ServerOptions

if TYPE_CHECKING:
    from headroom.client import Headroom

__all__ = ["DEFAULT_MAX_CONTENT_BYTES", "ServerOptions", "create_server"]


def create_server(options: ServerOptions | None = None, *, client: Headroom | None = None) -> Any:
    """The MCP server (see :func:`headroom.mcpserver.server.create_server`).

    Raises:
        ImportError: the ``mcp`` extra is not installed (names the ``pip install``).
    """
    from headroom.mcpserver.server import create_server as create

    return create(options, client=client)
