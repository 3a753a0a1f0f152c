"""What Headroom must never do: open network connections, or import heavy frameworks."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import BENCH_DATA

_NO_NETWORK = """
import socket
calls = []
def refuse(*args, **kwargs):
    calls.append(args)
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
"""


def test_compression_opens_no_network_connection() -> None:
    code = (
        _NO_NETWORK
        + f"""
import json, pathlib
from headroom import Headroom, compress
hr = Headroom(store="memory")
data = pathlib.Path({str(BENCH_DATA)!r})
files = sorted(p for p in data.rglob("*") if p.is_file() and p.stat().st_size < 3_000_000) \\
    if data.is_dir() else []
for path in files:
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    result = hr.compress_text(text, query="error")
    for handle in result.handles:
        hr.retrieve(handle, query="error")
big = json.dumps(list(range(500)), indent=2)
hr.compress([{{"role": "user", "content": "hi"}},
             {{"role": "tool", "tool_call_id": "1", "content": big}}])
assert not calls, calls
print("ok", len(files))
"""
    )
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "TIKTOKEN_CACHE_DIR": cache, "HEADROOM_HOME": home}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_import_headroom_stays_light() -> None:
    code = (
        "import sys, headroom\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "{'langchain', 'langchain_core', 'llama_index', 'torch', 'numpy', "
        "'sentence_transformers', 'transformers', 'redis', "
        # The proxy's server stack (the proxy extra) loads only with headroom.proxy.app.
        "'starlette', 'uvicorn', 'httpx', 'prometheus_client', "
        # The MCP SDK (the mcp extra) loads only with headroom.mcpserver.server.
        "'mcp', 'mcp_types'}]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_one_version_everywhere() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib

    import headroom
    from headroom import _core

    cargo = tomllib.loads((Path(__file__).parents[2] / "native" / "Cargo.toml").read_text())
    version = cargo["package"]["version"]
    assert headroom.__version__ == version
    if _core.NATIVE_AVAILABLE:
        assert _core.native_version() == version
