"""Where each MCP client keeps its server list, and whether it is on this machine.

| client | user scope | project scope | key |
|---|---|---|---|
| ``claude-code`` | ``~/.claude.json`` | ``./.mcp.json`` | ``mcpServers`` |
| ``claude-desktop`` | ``claude_desktop_config.json`` in its app data | none | ``mcpServers`` |
| ``cursor`` | ``~/.cursor/mcp.json`` | ``./.cursor/mcp.json`` | ``mcpServers`` |
| ``codex`` | ``$CODEX_HOME/config.toml`` | ``./.codex/config.toml`` | ``mcp_servers`` |

Codex's file is TOML (``CODEX_HOME`` defaults to ``~/.codex``), the others' JSON.

A client counts as found when its own directory exists (``~/.claude`` or ``~/.claude.json``,
Claude Desktop's app-data directory, ``~/.cursor``, ``$CODEX_HOME`` or ``~/.codex``): each
creates it the first time it runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

__all__ = ["CLIENTS", "Client", "Scope", "client_names"]

Scope = Literal["user", "project"]


@dataclass(frozen=True)
class Client:
    """One MCP client: its name on the command line and how its configuration is kept."""

    name: str
    label: str
    format: Literal["json", "toml"]

    def config_path(self, scope: Scope, env: Mapping[str, str], cwd: Path) -> Path | None:
        """The file holding this client's servers at ``scope``; None if it has no such scope."""
        home = _home(env)
        if self.name == "claude-code":
            return cwd / ".mcp.json" if scope == "project" else home / ".claude.json"
        if self.name == "cursor":
            return (cwd if scope == "project" else home) / ".cursor" / "mcp.json"
        if self.name == "codex":
            if scope == "project":
                return cwd / ".codex" / "config.toml"
            return _codex_home(env) / "config.toml"
        if scope == "project":  # Claude Desktop has one, per-user, configuration
            return None
        return _desktop_dir(env) / "claude_desktop_config.json"

    def found(self, env: Mapping[str, str]) -> bool:
        """Whether this client has run on this machine (its own directory exists)."""
        home = _home(env)
        if self.name == "claude-code":
            return (home / ".claude").is_dir() or (home / ".claude.json").is_file()
        if self.name == "cursor":
            return (home / ".cursor").is_dir()
        if self.name == "codex":
            return _codex_home(env).is_dir()
        return _desktop_dir(env).is_dir()

    def entry(self, command: str, args: list[str]) -> dict[str, object]:
        """The server entry this client reads for a stdio server."""
        if self.name == "claude-code":  # the shape `claude mcp add` writes
            return {"type": "stdio", "command": command, "args": args, "env": {}}
        return {"command": command, "args": args}


CLIENTS: Final = (
    Client("claude-code", "Claude Code", "json"),
    Client("claude-desktop", "Claude Desktop", "json"),
    Client("cursor", "Cursor", "json"),
    Client("codex", "Codex", "toml"),
)


def client_names() -> list[str]:
    """The names ``--client`` accepts."""
    return [client.name for client in CLIENTS]


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("USERPROFILE" if sys.platform == "win32" else "HOME")
    return Path(home) if home else Path.home()


def _codex_home(env: Mapping[str, str]) -> Path:
    return Path(env["CODEX_HOME"]).expanduser() if env.get("CODEX_HOME") else _home(env) / ".codex"


def _desktop_dir(env: Mapping[str, str]) -> Path:
    if sys.platform == "darwin":
        return _home(env) / "Library" / "Application Support" / "Claude"
    if sys.platform == "win32":
        appdata = env.get("APPDATA")
        return (Path(appdata) if appdata else _home(env) / "AppData" / "Roaming") / "Claude"
    xdg = env.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else _home(env) / ".config"
    return base / "Claude"
