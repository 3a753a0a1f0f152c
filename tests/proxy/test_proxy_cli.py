"""``headroom proxy`` as a user runs it: a real process serving on loopback, options from
flags and from the environment, refusals, and the message when the extra is missing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from headroom.cli import main
from tests.proxy.upstream import MODELS_BODY, Upstream


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_headroom_proxy_serves(upstream: Upstream, tmp_path: Path, workers: int) -> None:
    port = _free_port()
    env = {**os.environ, "HEADROOM_OPENAI_UPSTREAM": upstream.url}
    cmd = [sys.executable, "-m", "headroom", "--store", str(tmp_path / "ccr.db"), "proxy"]
    process = subprocess.Popen(
        [
            *cmd,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--anthropic-upstream",
            upstream.url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/health", timeout=2).json()
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1].decode()
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.2)
        # The flag and the environment variable both took effect.
        assert health["upstreams"] == {"openai": upstream.url, "anthropic": upstream.url}
        assert httpx.get(f"{url}/v1/models").content == MODELS_BODY
        # Workers build the app from the environment the command set: compression works
        # in each (the engine, the SQLite store shared between processes).
        rows = [{"id": i, "state": "ok", "node": f"n{i % 3}"} for i in range(200)]
        tool = {"role": "tool", "tool_call_id": "c", "content": json.dumps(rows, indent=2)}
        for _ in range(workers * 2):
            out = httpx.post(f"{url}/v1/compress", json={"messages": [tool]}).json()
            assert out["tokens_after"] < out["tokens_before"] / 2
        # /stats counts every worker's requests and tokens (the SQLite store here; Redis in
        # test_proxy_workers.py), whichever worker answers. A worker publishes its counts as
        # they move, so a peer's request can show before its tokens do: both are waited for.
        wanted = (workers * 2, workers * 2 * out["tokens_before"])
        deadline = time.monotonic() + 15
        while (
            (stats := httpx.get(f"{url}/stats").json())["requests"]["by_route"].get("compress"),
            stats["tokens"]["before"],
        ) != wanted:
            assert time.monotonic() < deadline, (stats["requests"], stats["tokens"])
            time.sleep(0.2)
        assert stats["workers"] == workers
        # Keys and contents go through (and a failure to compress is logged) without
        # either appearing in the log.
        secret = {"authorization": "Bearer sk-SECRET-KEY", "x-api-key": "sk-ant-SECRET"}
        for role in ("user", "robot"):
            body = {"model": "gpt-4o", "messages": [{"role": role, "content": "BODY-SECRET"}]}
            httpx.post(f"{url}/v1/chat/completions", json=body, headers=secret)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    assert (tmp_path / "ccr.db").exists()  # the top-level --store is the proxy's store
    log = err + stdout
    assert b"SECRET" not in log, log.decode()
    assert b"compression failed" in log  # the failure was logged, by type and place only


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--host", "0.0.0.0"], {}, "needs --api-key"),
        (["--host", "10.1.2.3", "--openai-upstream", "ftp://x"], {}, "needs --api-key"),
        (["--openai-upstream", "api.openai.com"], {}, "expected an http(s) URL"),
        ([], {"HEADROOM_PROXY_PORT": "eighty"}, "HEADROOM_PROXY_PORT: expected a number"),
        ([], {"HEADROOM_PROXY_HOST": "0.0.0.0"}, "needs --api-key"),
    ],
)
def test_refused_options(
    argv: list[str],
    env: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["proxy", *argv]) == 2
    assert message in capsys.readouterr().err


def test_missing_extra_names_the_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['starlette'] = None\n"
        "from headroom.cli import main\n"
        "assert main(['proxy']) == 1\n"
        "from headroom.proxy import create_app\n"
        "try:\n"
        "    create_app()\n"
        "except ImportError as error:\n"
        "    print('raised', error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert 'pip install "headroom-ctx[proxy]"' in out.stderr  # the CLI's message
    assert out.stdout.startswith("raised the Headroom proxy needs starlette")
    assert 'pip install "headroom-ctx[proxy]"' in out.stdout
