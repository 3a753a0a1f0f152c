"""Import the ``mcp`` extra's SDK, or say what to install."""

from __future__ import annotations

try:
    import mcp  # noqa: F401
    from mcp.server.mcpserver import MCPServer  # noqa: F401  (the 2.x API, not FastMCP)
except ImportError as error:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        f"the Headroom MCP server needs the MCP Python SDK 2.x ({error}): "
        'pip install "headroom-ctx[mcp]"'
    ) from error
