"""``headroom mcp`` as a command: the console script, refused options, the missing extra, and
``import headroom.cli`` staying free of the SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.mcp.conftest import session


def _headroom(*argv: str, code: str = "") -> subprocess.CompletedProcess[str]:
    script = f"import sys\n{code}\nfrom headroom.cli import main\nsys.exit(main({list(argv)!r}))"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )


def test_the_cli_does_not_import_the_sdk() -> None:
    code = (
        "import sys, headroom.cli\n"
        "headroom.cli._parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_without_the_extra_the_error_names_the_install() -> None:
    out = _headroom("mcp", "--store", "memory", code="sys.modules['mcp'] = None")
    assert out.returncode == 1
    assert 'pip install "headroom-ctx[mcp]"' in out.stderr
    # install / uninstall need no SDK
    out = _headroom(
        "mcp", "uninstall", "--client", "cursor", "--dry-run", code="sys.modules['mcp'] = None"
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--allow-read", "/nonexistent/dir"], "--allow-read /nonexistent/dir: not a directory"),
        (["--max-content-bytes", "0"], "max_content_bytes: expected a positive number"),
        (["--transport", "streamable-http", "--port", "70000"], "--port: expected 1-65535"),
        (["--store", "postgres://db/x"], "'postgres://db/x' is not a store"),
    ],
)
def test_refused_options_exit_2_before_serving(argv: list[str], problem: str) -> None:
    pytest.importorskip("mcp")
    out = _headroom("mcp", "--store", "memory", *argv)
    assert out.returncode == 2
    assert problem in out.stderr


def test_the_console_script_serves_with_serve_and_its_options(tmp_path: Path) -> None:
    pytest.importorskip("mcp")
    from mcp.client.stdio import StdioServerParameters

    script = Path(sys.executable).parent / "headroom"
    if not script.is_file():
        pytest.skip("the headroom console script is not installed next to this Python")
    (tmp_path / "notes.md").write_text("# Notes\n\nnothing much\n")
    params = StdioServerParameters(
        command=str(script),
        args=["mcp", "serve", "--store", "memory", "--allow-read", str(tmp_path)],
        env={"HEADROOM_HOME": str(tmp_path)},
    )

    async def work(client: Any) -> Any:
        return await client.call_tool("headroom_read", {"path": str(tmp_path / "notes.md")})

    result = session(params, work)
    assert not result.is_error
    assert result.structured_content["text"] == "# Notes\n\nnothing much\n"  # too small to shrink
