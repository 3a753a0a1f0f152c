"""``headroom wrap --persist codex`` and ``headroom unwrap codex``: Codex's config.toml
pointed at the proxy, with everything else in it unchanged, and put back byte for byte.
HOME (and CODEX_HOME) are temporary directories: the real home is never touched."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from headroom.cli import main
from headroom.proxy.agent_config import set_base_url

# A config as people write them: comments, a key wrap sets already present under a table
# (not the top-level one), CRLF line ends in one place, no newline at the end.
CONFIG = (
    b"# my codex settings\n"
    b'model = "gpt-5-codex"   # the default model\n'
    b'approval_policy = "on-request"\r\n'
    b"\n"
    b"[mcp_servers.docs]\n"
    b'command = "docs-mcp"\n'
    b'openai_base_url = "not the top-level key"\n'
    b"\n"
    b"[profiles.fast]\n"
    b'model = "gpt-5-mini"'
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.delenv("HEADROOM_PROXY_PORT", raising=False)
    return tmp_path


def test_persist_then_unwrap_restores_byte_for_byte(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_bytes(CONFIG)
    config.chmod(0o600)
    assert main(["wrap", "--persist", "--port", "9123", "codex"]) == 0
    assert "headroom proxy --port 9123" in capsys.readouterr().err
    edited = config.read_bytes()
    parsed = tomllib.loads(edited.decode())
    assert parsed["openai_base_url"] == "http://127.0.0.1:9123/v1"
    original = tomllib.loads(CONFIG.decode())
    assert {k: v for k, v in parsed.items() if k != "openai_base_url"} == original
    # One line added, just above the first table; every other byte where it was.
    assert edited == CONFIG.replace(
        b"[mcp_servers", b'openai_base_url = "http://127.0.0.1:9123/v1"\n[mcp_servers', 1
    )
    assert (config.parent / "config.toml.headroom-backup").read_bytes() == CONFIG
    assert config.stat().st_mode & 0o777 == 0o600  # its permissions kept
    # Wrapping again would overwrite the backup with the edited file: refused.
    assert main(["wrap", "--persist", "codex"]) == 1
    assert "already wrapped" in capsys.readouterr().err
    assert config.read_bytes() == edited
    assert main(["unwrap", "codex"]) == 0
    assert config.read_bytes() == CONFIG
    assert not (config.parent / "config.toml.headroom-backup").exists()
    # Nothing left to restore: refused, with the reason, and the file left alone.
    assert main(["unwrap", "codex"]) == 1
    err = capsys.readouterr().err
    assert "no config.toml.headroom-backup to restore" in err and str(config) in err
    assert config.read_bytes() == CONFIG


def test_an_existing_top_level_key_is_replaced_in_place(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codex_home = home / "elsewhere"  # CODEX_HOME moves the file, as it does for Codex
    codex_home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("HEADROOM_PROXY_PORT", "8801")  # the port `headroom proxy` will use
    before = b'openai_base_url = "https://relay.example/v1"\nmodel = "o3"\n'
    (codex_home / "config.toml").write_bytes(before)
    assert main(["wrap", "--persist", "codex"]) == 0
    assert (codex_home / "config.toml").read_bytes() == (
        b'openai_base_url = "http://127.0.0.1:8801/v1"\nmodel = "o3"\n'
    )
    assert not (home / ".codex").exists()
    assert main(["unwrap", "codex"]) == 0
    assert (codex_home / "config.toml").read_bytes() == before


def test_a_missing_file_is_created_and_unwrap_removes_it(home: Path) -> None:
    config = home / ".codex" / "config.toml"
    assert main(["wrap", "--persist", "--port", "9124", "codex"]) == 0
    assert tomllib.loads(config.read_text()) == {"openai_base_url": "http://127.0.0.1:9124/v1"}
    assert main(["unwrap", "codex"]) == 0
    assert not config.exists()
    assert list(config.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'model_provider = "relay"\n[model_providers.relay]\nbase_url = "x"\n', "'relay'"),
        (b"model = \n", "not valid TOML"),
    ],
)
def test_files_it_cannot_edit_are_left_alone(
    home: Path, text: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_bytes(text)
    assert main(["wrap", "--persist", "codex"]) == 1
    assert message in capsys.readouterr().err
    assert config.read_bytes() == text
    assert not (config.parent / "config.toml.headroom-backup").exists()


def test_agents_without_a_config_file_are_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["wrap", "--persist", "claude"]) == 1
    assert "headroom wrap claude" in capsys.readouterr().err
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    "text",
    [b"", b"model = 'o3'", b"model = 'o3'\n", b"[a]\nx = 1\n", b'openai_base_url = "a"\n'],
)
def test_set_base_url_is_idempotent_and_keeps_the_rest(text: bytes) -> None:
    once = set_base_url(text, "http://127.0.0.1:1/v1")
    assert set_base_url(once, "http://127.0.0.1:1/v1") == once
    parsed = tomllib.loads(once.decode())
    assert parsed.pop("openai_base_url") == "http://127.0.0.1:1/v1"
    expected = tomllib.loads(text.decode())
    expected.pop("openai_base_url", None)
    assert parsed == expected
