"""``headroom mcp install`` / ``uninstall`` against a temporary HOME holding each client's
existing configuration: other servers and settings kept, a backup, idempotent, an exact
restore, dry runs, malformed files left untouched."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from headroom.cli import main
from headroom.mcpserver.install import BACKUP_SUFFIX, CREATED_SUFFIX

CLAUDE_CODE = {
    "numStartups": 41,
    "theme": "dark",
    "mcpServers": {
        "github": {"type": "stdio", "command": "npx", "args": ["-y", "@mcp/github"], "env": {}}
    },
    "projects": {"/src/app": {"allowedTools": [], "mcpServers": {}}},
}
DESKTOP = {"mcpServers": {"filesystem": {"command": "npx", "args": ["-y", "fs", "/tmp"]}}}
CODEX = """# my Codex settings
model = "o3"  # the default model
approval_policy = "on-request"

[mcp_servers.docs]
command = "npx"
args = ["-y", "@upstash/context7-mcp"]

[profiles.fast]
model = "gpt-4.1-mini"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME where all four clients have run; Cursor has no mcp.json yet."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude.json").write_text(json.dumps(CLAUDE_CODE, indent=2))
    desktop = home / ".config" / "Claude"
    desktop.mkdir(parents=True)
    (desktop / "claude_desktop_config.json").write_text(json.dumps(DESKTOP, indent=4) + "\n")
    (home / ".cursor").mkdir()
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").write_text(CODEX)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("CODEX_HOME", "XDG_CONFIG_HOME", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(project)
    return home


def _files(home: Path) -> dict[str, Path]:
    return {
        "claude-code": home / ".claude.json",
        "claude-desktop": home / ".config" / "Claude" / "claude_desktop_config.json",
        "cursor": home / ".cursor" / "mcp.json",
        "codex": home / ".codex" / "config.toml",
    }


def _snapshot(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def _servers(path: Path) -> dict[str, Any]:
    if path.suffix == ".toml":
        servers: dict[str, Any] = tomllib.loads(path.read_text())["mcp_servers"]
    else:
        servers = json.loads(path.read_text())["mcpServers"]
    return servers


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["mcp", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.skipif(sys.platform != "linux", reason="Claude Desktop's Linux path")
def test_install_every_client_found_then_uninstall_restores_each_file(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(home)
    code, out, err = _run(capsys, "install")
    assert code == 0, err
    script = str(Path(sys.executable).parent / "headroom")
    for name, path in _files(home).items():
        assert f"{name}: {path}: installed" in out
        entry = _servers(path)["headroom"]
        assert entry["command"] == script and entry["args"] == ["mcp"]
    assert _servers(_files(home)["claude-code"])["headroom"]["type"] == "stdio"
    # Everything else is as it was.
    claude = json.loads(_files(home)["claude-code"].read_text())
    assert claude["numStartups"] == 41 and claude["projects"] == CLAUDE_CODE["projects"]
    assert claude["mcpServers"]["github"] == CLAUDE_CODE["mcpServers"]["github"]
    assert (
        _servers(_files(home)["claude-desktop"])["filesystem"]
        == DESKTOP["mcpServers"]["filesystem"]
    )
    assert _files(home)["claude-desktop"].read_text().startswith('{\n    "mcpServers"')
    codex = _files(home)["codex"].read_text()
    assert codex.startswith(CODEX)  # comments and tables untouched; the entry appended
    assert tomllib.loads(codex)["profiles"] == {"fast": {"model": "gpt-4.1-mini"}}
    # Backups: the files as they were, and a marker for the one that did not exist.
    for name, path in _files(home).items():
        if name == "cursor":
            assert path.with_name(path.name + CREATED_SUFFIX).read_bytes() == b""
        else:
            backup = path.with_name(path.name + BACKUP_SUFFIX).read_bytes()
            assert backup == before[str(path.relative_to(home))]

    installed = _snapshot(home)
    code, out, _ = _run(capsys, "install")
    assert code == 0 and out.count("already installed") == 4
    assert _snapshot(home) == installed  # idempotent: not a byte changed

    code, out, err = _run(capsys, "uninstall")
    assert code == 0, err
    assert out.count("restored the file as it was") == 4
    assert _snapshot(home) == before  # byte for byte; mcp.json and the backups gone


def test_a_malformed_file_is_named_and_nothing_is_written(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cursor = _files(home)["cursor"]
    cursor.write_text('{"mcpServers": {"a": {"command": "x"},}')
    before = _snapshot(home)
    code, _, err = _run(capsys, "install")
    assert code == 1
    assert f"{cursor}: not valid JSON" in err and "line 1" in err and "left unchanged" in err
    assert _snapshot(home) == before  # not even the well-formed files were touched

    _files(home)["codex"].write_text('model = "o3"\n[mcp_servers\n')
    code, _, err = _run(capsys, "install", "--client", "codex")
    assert code == 1 and "not valid TOML" in err
    code, _, err = _run(capsys, "uninstall", "--client", "codex")
    assert code == 1 and "not valid TOML" in err
    assert _files(home)["codex"].read_text() == 'model = "o3"\n[mcp_servers\n'


@pytest.mark.parametrize(
    ("client", "text", "problem"),
    [
        ("claude-code", "[1, 2]", "expected a JSON object, got list"),
        ("claude-code", '{"mcpServers": []}', "'mcpServers' is list, expected an object"),
        ("codex", "mcp_servers = 3\n", "'mcp_servers' is int, expected a table"),
        ("codex", "mcp_servers.headroom.command = 'x'\n", "not written as a [mcp_servers"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str], client: str, text: str, problem: str
) -> None:
    path = _files(home)[client]
    path.write_text(text)
    code, _, err = _run(capsys, "install", "--client", client)
    assert code == 1 and problem in err
    assert path.read_text() == text


def test_dry_run_prints_the_change_and_writes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(home)
    code, out, _ = _run(capsys, "install", "--dry-run", "--client", "codex", "--client", "cursor")
    assert code == 0
    assert f"codex: {_files(home)['codex']}: would be installed" in out
    assert "+[mcp_servers.headroom]\n" in out and '+args = ["mcp"]\n' in out
    assert "--- /dev/null" in out and '+  "mcpServers": {\n' in out  # the new mcp.json
    assert _snapshot(home) == before

    assert _run(capsys, "install", "--client", "codex")[0] == 0
    code, out, _ = _run(capsys, "uninstall", "--dry-run", "--client", "codex")
    assert "would be restored the file as it was" in out and "-[mcp_servers.headroom]\n" in out
    assert "headroom" in _servers(_files(home)["codex"])


def test_uninstall_keeps_what_the_client_changed_since_install(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _files(home)["claude-code"]
    assert _run(capsys, "install", "--client", "claude-code")[0] == 0
    data = json.loads(path.read_text())
    data["numStartups"] = 42  # Claude Code rewrites its file all the time
    data["mcpServers"]["sentry"] = {"type": "http", "url": "https://mcp.sentry.dev/mcp"}
    path.write_text(json.dumps(data, indent=2))

    code, out, _ = _run(capsys, "uninstall", "--client", "claude-code")
    assert code == 0 and "removed the headroom entry (the file changed since install" in out
    after = json.loads(path.read_text())
    assert after["numStartups"] == 42
    assert set(after["mcpServers"]) == {"github", "sentry"}
    assert not path.with_name(path.name + BACKUP_SUFFIX).exists()
    code, out, _ = _run(capsys, "uninstall", "--client", "claude-code")
    assert code == 0 and "not installed" in out


def test_reinstall_with_options_updates_the_entry_and_keeps_the_first_backup(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _files(home)["codex"]
    assert _run(capsys, "install", "--client", "codex")[0] == 0
    docs = tmp_path / "docs"
    docs.mkdir()
    code, out, _ = _run(
        capsys, "install", "--client", "codex", "--allow-read", str(docs), "--store", "memory"
    )
    assert code == 0 and "updated" in out
    entry = _servers(path)["headroom"]
    assert entry["args"] == ["mcp", "--store", "memory", "--allow-read", str(docs)]
    assert path.read_text().count("[mcp_servers.headroom]") == 1
    assert path.with_name(path.name + BACKUP_SUFFIX).read_text() == CODEX
    assert _run(capsys, "uninstall", "--client", "codex")[0] == 0
    assert path.read_text() == CODEX


def test_project_scope_writes_the_project_files(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Path.cwd()
    code, out, err = _run(capsys, "install", "--scope", "project")
    assert code == 0, err
    assert "claude-desktop: skipped (Claude Desktop has no project configuration)" in out
    for path in (project / ".mcp.json", project / ".cursor" / "mcp.json"):
        assert _servers(path)["headroom"]["args"] == ["mcp"]
    assert _servers(project / ".codex" / "config.toml")["headroom"]["args"] == ["mcp"]
    code, _, err = _run(capsys, "install", "--scope", "project", "--client", "claude-desktop")
    assert code == 2 and "Claude Desktop has no project configuration" in err
    assert _run(capsys, "uninstall", "--scope", "project")[0] == 0
    assert sorted(p.name for p in project.rglob("*") if p.is_file()) == []


def test_codex_home_is_honoured(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    assert _run(capsys, "install", "--client", "codex")[0] == 0
    assert "headroom" in _servers(codex_home / "config.toml")
    assert _files(home)["codex"].read_text() == CODEX


def test_no_client_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    code, _, err = _run(capsys, "install")
    assert code == 1 and "no MCP client found" in err and "--client" in err
    assert list(tmp_path.iterdir()) == []


def test_the_installed_entry_starts_a_working_server(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("mcp")
    from mcp.client.stdio import StdioServerParameters

    from tests.mcp.conftest import session

    assert _run(capsys, "install", "--client", "cursor", "--store", "memory")[0] == 0
    entry = _servers(_files(home)["cursor"])["headroom"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"])

    async def work(client: Any) -> list[str]:
        return [tool.name for tool in (await client.list_tools()).tools]

    assert "headroom_compress" in session(params, work)


def test_a_symlinked_config_stays_a_link(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "codex.toml"
    target.write_text(CODEX)
    link = _files(home)["codex"]
    link.unlink()
    link.symlink_to(target)
    assert _run(capsys, "install", "--client", "codex")[0] == 0
    assert link.is_symlink() and link.resolve() == target
    assert "headroom" in _servers(target)
    assert _run(capsys, "uninstall", "--client", "codex")[0] == 0
    assert link.is_symlink() and target.read_text() == CODEX
