"""``headroom wrap --persist codex`` / ``headroom unwrap codex``: point an agent's own
config file at the proxy, and put the file back exactly as it was.

Codex reads ``$CODEX_HOME/config.toml`` (``~/.codex/config.toml`` by default); its top-level
``openai_base_url`` key is where the built-in ``openai`` provider sends requests (it
replaced the deprecated ``OPENAI_BASE_URL`` variable). The edit sets that one key, in the
text itself, so comments and layout stay as they were; the file as it was is kept next
to it (``config.toml.headroom-backup``) and ``unwrap`` copies it back byte for byte. A
file that did not exist is recorded by an empty ``config.toml.headroom-created`` marker
instead, and ``unwrap`` removes the file.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

__all__ = ["PERSISTABLE", "ConfigError", "config_path", "persist", "unpersist"]

PERSISTABLE: Final = ("codex",)
BACKUP_SUFFIX: Final = ".headroom-backup"
CREATED_SUFFIX: Final = ".headroom-created"

_KEY = "openai_base_url"
_KEY_LINE = re.compile(rb"^[ \t]*openai_base_url[ \t]*=.*$", re.MULTILINE)
_TABLE_LINE = re.compile(rb"^[ \t]*\[", re.MULTILINE)


class ConfigError(ValueError):
    """The file cannot be edited or restored (says why and what to do)."""


@dataclass(frozen=True)
class Persisted:
    path: Path
    backup: Path | None  # None: the file did not exist before


def config_path(agent: str, environ: Mapping[str, str] | None = None) -> Path:
    """The config file ``agent`` reads, honouring ``CODEX_HOME`` and ``HOME``."""
    env = os.environ if environ is None else environ
    if agent != "codex":
        raise ConfigError(
            f"{agent}: no config file to edit (wrap --persist knows {', '.join(PERSISTABLE)}); "
            f"run it as `headroom wrap {agent}`, which sets its base-URL variables"
        )
    home = env.get("CODEX_HOME") or str(Path(env.get("HOME") or Path.home()) / ".codex")
    return Path(home).expanduser() / "config.toml"


def set_base_url(text: bytes, url: str) -> bytes:
    """``text`` with the top-level ``openai_base_url`` set to ``url``; the rest unchanged.

    Raises:
        ConfigError: the file is not valid TOML, or it selects a provider other than the
            built-in ``openai`` one (whose base URL this key does not move).
    """
    try:
        parsed = tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"not valid TOML ({error}); left unchanged") from None
    provider = parsed.get("model_provider", "openai")
    if provider != "openai":
        raise ConfigError(
            f"it selects model_provider = {provider!r}, whose base_url openai_base_url does "
            f"not change; point that provider's base_url at the proxy yourself and start "
            f"`headroom proxy --openai-upstream <its current base_url>`"
        )
    line = f"{_KEY} = {_toml_string(url)}".encode()
    first_table = _TABLE_LINE.search(text)
    top = text[: first_table.start()] if first_table else text
    if _KEY_LINE.search(top):  # replace the top-level key where it is
        return _KEY_LINE.sub(lambda _: line, text, count=1)
    # Root keys must come before the first table: insert just above it (or append).
    if first_table is None:
        sep = b"" if not text or text.endswith(b"\n") else b"\n"
        return text + sep + line + b"\n"
    at = first_table.start()
    return text[:at] + line + b"\n" + text[at:]


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def persist(agent: str, proxy_url: str, environ: Mapping[str, str] | None = None) -> Persisted:
    """Point ``agent``'s config file at ``proxy_url`` (``…/v1`` for OpenAI), keeping a backup.

    Raises:
        ConfigError: already wrapped (a backup exists), or the file cannot be edited.
    """
    path = config_path(agent, environ)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    created = path.with_name(path.name + CREATED_SUFFIX)
    if backup.exists() or created.exists():
        raise ConfigError(
            f"{path} is already wrapped ({backup.name if backup.exists() else created.name} "
            f"exists); run `headroom unwrap {agent}` first"
        )
    url = f"{proxy_url.rstrip('/')}/v1"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        created.write_bytes(b"")  # the marker first: a crash after it still unwraps
        path.write_bytes(set_base_url(b"", url))
        return Persisted(path, None)
    original = path.read_bytes()
    try:
        edited = set_base_url(original, url)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    backup.write_bytes(original)  # the backup first: the original is never only in memory
    _write_atomic(path, edited)
    return Persisted(path, backup)


def unpersist(agent: str, environ: Mapping[str, str] | None = None) -> Path:
    """Restore ``agent``'s config file as it was before :func:`persist` (byte for byte).

    Raises:
        ConfigError: there is no backup to restore.
    """
    path = config_path(agent, environ)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    created = path.with_name(path.name + CREATED_SUFFIX)
    if backup.exists():
        _write_atomic(path, backup.read_bytes())
        backup.unlink()
        return path
    if created.exists():
        path.unlink(missing_ok=True)
        created.unlink()
        return path
    raise ConfigError(
        f"{path}: no {backup.name} to restore (it was not wrapped with "
        f"`headroom wrap --persist {agent}`, or was already unwrapped); left unchanged"
    )


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".headroom-tmp")
    tmp.write_bytes(data)
    with contextlib.suppress(OSError):  # keep the file's permissions
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)
