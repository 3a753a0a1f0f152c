"""``headroom mcp install`` / ``uninstall``: a ``headroom`` entry in an MCP client's config.

Only the ``headroom`` entry of the client's server list is added or removed; every other
key, server and (in TOML) comment stays as it was. Before the first change the file as it
was is kept next to it (``<file>.headroom-mcp-backup``; a file that did not exist is
recorded by an empty ``<file>.headroom-mcp-created`` instead). Installing the same entry
again changes nothing. Uninstalling puts the backup back byte for byte, or removes the file
Headroom created, when nothing but the entry changed since; if the client (or a person)
changed something else meanwhile, only the ``headroom`` entry is taken out, so that change
is not lost. A file that cannot be parsed is left untouched and named in the error.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from headroom.errors import InvalidArgumentError

__all__ = [
    "BACKUP_SUFFIX",
    "CREATED_SUFFIX",
    "SERVER_NAME",
    "Change",
    "ConfigError",
    "add_entry",
    "apply",
    "plan_install",
    "plan_uninstall",
    "remove_entry",
]

SERVER_NAME: Final = "headroom"
BACKUP_SUFFIX: Final = ".headroom-mcp-backup"
CREATED_SUFFIX: Final = ".headroom-mcp-created"

Format = Literal["json", "toml"]


class ConfigError(InvalidArgumentError):
    """A client's configuration file cannot be edited as asked (names the file and why)."""


@dataclass(frozen=True)
class Change:
    """What install or uninstall does to one file.

    Attributes:
        path: the configuration file.
        before: its bytes now (None: it does not exist).
        after: its bytes after the change (None: it is removed).
        backup: write this backup before the change (``BACKUP_SUFFIX`` holding ``before``,
            or a ``CREATED_SUFFIX`` marker); None to keep the backup there is.
        drop_backup: remove the backup after the change (uninstall).
        note: what happens, for the user.
    """

    path: Path
    before: bytes | None
    after: bytes | None
    backup: Path | None
    drop_backup: bool
    note: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """The change as a unified diff of the file's text."""
        old = (self.before or b"").decode("utf-8", "replace").splitlines(keepends=True)
        new = (self.after or b"").decode("utf-8", "replace").splitlines(keepends=True)
        lines = difflib.unified_diff(
            old,
            new,
            fromfile=str(self.path) if self.before is not None else "/dev/null",
            tofile=str(self.path) if self.after is not None else "/dev/null",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def plan_install(path: Path, fmt: Format, entry: dict[str, Any]) -> Change:
    """The change that puts ``entry`` under ``headroom`` in the file at ``path``.

    Raises:
        ConfigError: the file cannot be read or parsed, or its server list is not a table.
    """
    before = _read(path)
    after = add_entry(before or b"", fmt, entry, path=path)
    if after == before:
        return Change(path, before, before, None, False, "already installed")
    created, backup = _backups(path)
    if backup.exists() or created.exists():  # an earlier install's backup is the original
        return Change(path, before, after, None, False, "updated")
    return Change(path, before, after, created if before is None else backup, False, "installed")


def plan_uninstall(path: Path, fmt: Format) -> Change:
    """The change that takes the ``headroom`` entry out of the file at ``path``.

    Raises:
        ConfigError: the file cannot be read or parsed, or the entry is written in a form
            this command does not edit (a TOML inline table or dotted keys).
    """
    before = _read(path)
    created, backup = _backups(path)
    had_backup = created.exists() or backup.exists()
    if before is None:
        return Change(path, None, None, None, had_backup, "not installed (no file)")
    if not _has_entry(before, fmt, path):
        return Change(path, before, before, None, had_backup, "not installed")
    removed = remove_entry(before, fmt, path=path)
    if created.exists():
        original: bytes | None = None
    elif backup.exists():
        original = backup.read_bytes()
    else:
        return Change(path, before, removed, None, False, "removed the headroom entry")
    # Restore the original only if nothing but our entry changed since the install.
    try:
        same = _normal(removed, fmt, path) == _normal(
            remove_entry(original or b"", fmt, path=path), fmt, path
        )
    except ConfigError:  # a backup that no longer parses is not trusted
        same = False
    if same:
        return Change(path, before, original, None, True, "restored the file as it was")
    return Change(
        path,
        before,
        removed,
        None,
        True,
        "removed the headroom entry (the file changed since install, so the backup was "
        "not restored)",
    )


def apply(change: Change) -> None:
    """Write ``change``: the backup first, then the file (atomically), then drop the backup."""
    if change.backup is not None:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(change.backup, change.before or b"", like=change.path)
    if change.changed:
        if change.after is None:
            change.path.unlink(missing_ok=True)
        else:
            change.path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(change.path, change.after, like=change.path)
    if change.drop_backup:
        for marker in _backups(change.path):
            marker.unlink(missing_ok=True)


def add_entry(text: bytes, fmt: Format, entry: dict[str, Any], *, path: Path) -> bytes:
    """``text`` with ``entry`` as the ``headroom`` server; ``text`` itself if it is already.

    Raises:
        ConfigError: ``text`` does not parse, or its server list is not a table.

    Example:
        >>> entry = {"command": "headroom", "args": ["mcp"]}
        >>> toml = add_entry(b'model = "o3"\\n', "toml", entry, path=Path("config.toml"))
        >>> print(toml.decode(), end="")
        model = "o3"
        <BLANKLINE>
        [mcp_servers.headroom]
        command = "headroom"
        args = ["mcp"]
        >>> add_entry(toml, "toml", entry, path=Path("config.toml")) == toml
        True
        >>> remove_entry(toml, "toml", path=Path("config.toml"))
        b'model = "o3"\\n'
    """
    if fmt == "json":
        data = _json(text, path)
        servers = _json_servers(data, path, create=True)
        if servers.get(SERVER_NAME) == entry:
            return text
        servers[SERVER_NAME] = entry
        return _dump_json(data, text)
    servers = _toml_servers(_toml(text, path), path)
    if servers.get(SERVER_NAME) == entry:
        return text
    base = _cut_toml_entry(text, path) if SERVER_NAME in servers else text
    if base and not base.endswith(b"\n"):
        base += b"\n"
    if base.strip() and not base.endswith(b"\n\n"):
        base += b"\n"
    result = base + _toml_table(entry)
    if _toml_servers(_toml(result, path), path).get(SERVER_NAME) != entry:  # pragma: no cover
        raise ConfigError(f"{path}: could not add the headroom server; add it by hand")
    return result


def remove_entry(text: bytes, fmt: Format, *, path: Path) -> bytes:
    """``text`` without the ``headroom`` server; ``text`` itself if it has none.

    Raises:
        ConfigError: ``text`` does not parse, or (TOML) the entry is not a ``[table]``.
    """
    if fmt == "json":
        data = _json(text, path)
        servers = _json_servers(data, path, create=False)
        if SERVER_NAME not in servers:
            return text
        del servers[SERVER_NAME]
        return _dump_json(data, text)
    if SERVER_NAME not in _toml_servers(_toml(text, path), path):
        return text
    return _cut_toml_entry(text, path)


def _has_entry(text: bytes, fmt: Format, path: Path) -> bool:
    if fmt == "json":
        return SERVER_NAME in _json_servers(_json(text, path), path, create=False)
    return SERVER_NAME in _toml_servers(_toml(text, path), path)


def _normal(text: bytes, fmt: Format, path: Path) -> Any:
    """The parsed file, an empty server list counted as none (install may have added it)."""
    data = _json(text, path) if fmt == "json" else _toml(text, path)
    key = "mcpServers" if fmt == "json" else "mcp_servers"
    if data.get(key) == {}:
        del data[key]
    return data


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None


def _backups(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + CREATED_SUFFIX), path.with_name(path.name + BACKUP_SUFFIX)


def _write_atomic(path: Path, data: bytes, *, like: Path) -> None:
    """Write ``data`` to ``path`` through a temporary file, with ``like``'s permissions.

    A symlinked file (dotfiles kept in a repository) is written where the link points, so
    the link stays a link.
    """
    if path.is_symlink():
        path = path.resolve()
    try:
        mode = like.stat().st_mode & 0o777
    except OSError:
        mode = 0o600 if like.name == ".claude.json" else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# JSON: Claude Code, Claude Desktop, Cursor --------------------------------------------------


def _json(text: bytes, path: Path) -> Any:
    if not text.strip():
        return {}
    try:
        data = json.loads(text.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 ({error.reason}); left unchanged") from None
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno}); "
            "left unchanged"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a JSON object, got {type(data).__name__}; left unchanged"
        )
    return data


def _json_servers(data: dict[str, Any], path: Path, *, create: bool) -> dict[str, Any]:
    servers = data.setdefault("mcpServers", {}) if create else data.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise ConfigError(
            f"{path}: 'mcpServers' is {type(servers).__name__}, expected an object; left unchanged"
        )
    return servers


_INDENT = re.compile(rb"\n([ \t]+)\S")


def _dump_json(data: Any, original: bytes) -> bytes:
    """``data`` as JSON in the original's indentation (two spaces for a new file)."""
    match = _INDENT.search(original)
    indent: str | int = match.group(1).decode() if match else 2
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


# TOML: Codex ------------------------------------------------------------------------------

_TABLE_HEADER = re.compile(rb"^[ \t]*\[\[?[ \t]*([^\]\n]*?)[ \t]*\]\]?[ \t]*(?:#.*)?$", re.M)
_OUR_KEYS = {"mcp_servers.headroom", 'mcp_servers."headroom"', "mcp_servers.'headroom'"}


def _toml(text: bytes, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 ({error.reason}); left unchanged") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error}); left unchanged") from None


def _toml_servers(data: dict[str, Any], path: Path) -> dict[str, Any]:
    servers = data.get("mcp_servers", {})
    if not isinstance(servers, dict):
        raise ConfigError(
            f"{path}: 'mcp_servers' is {type(servers).__name__}, expected a table; left unchanged"
        )
    return servers


def _ours(header: bytes) -> bool:
    """Whether a table header names our server's table or one of its sub-tables."""
    key = re.sub(r"[ \t]*\.[ \t]*", ".", header.decode("utf-8", "replace"))
    return any(key == k or key.startswith(k + ".") for k in _OUR_KEYS)


def _cut_toml_entry(text: bytes, path: Path) -> bytes:
    """``text`` without the ``[mcp_servers.headroom]`` table and its sub-tables.

    Raises:
        ConfigError: the server is defined some other way (inline table, dotted keys).
    """
    headers = list(_TABLE_HEADER.finditer(text))
    spans = []
    for i, match in enumerate(headers):
        if _ours(match.group(1)):
            end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
            spans.append((match.start(), end))
    if not spans:
        raise ConfigError(
            f"{path}: mcp_servers.headroom is not written as a [mcp_servers.headroom] table, "
            "so it is not edited automatically; change or remove it by hand"
        )
    out = bytearray()
    last = 0
    for start, end in spans:
        kept = text[last:start]
        if kept.endswith(b"\n\n"):  # the blank line install put before the table
            kept = kept[:-1]
        out += kept
        last = end
    out += text[last:]
    result = bytes(out)
    if SERVER_NAME in _toml_servers(_toml(result, path), path):
        raise ConfigError(
            f"{path}: mcp_servers.headroom is also defined outside its table; "
            "change or remove it by hand"
        )
    return result


def _toml_table(entry: dict[str, Any]) -> bytes:
    lines = [f"[mcp_servers.{SERVER_NAME}]"]
    for key, value in entry.items():
        lines.append(f"{key} = {_toml_value(value)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _toml_value(value: Any) -> str:
    # A JSON string with ASCII escapes is a valid TOML basic string.
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(pairs) + " }"
    raise TypeError(f"no TOML spelling for {type(value).__name__}")  # pragma: no cover
