"""``headroom wrap <agent>`` as a user runs it: a real ``headroom`` process starts a real
proxy process, and a stand-in agent (``wrap_agent.py``, on PATH as ``claude`` / ``codex``)
makes real SDK calls through it to the recording upstream on loopback."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from headroom.proxy.launch import pid_alive, port_open
from tests.proxy.upstream import CHAT_TEXT, CLAUDE_TEXT, Recorded, Served, Upstream
from tests.proxy.wrap_agent import TOOL_RESULT

AGENT = Path(__file__).with_name("wrap_agent.py")
TIMEOUT = 120  # seconds for one wrap run: a proxy start is ~2 s, this only bounds a hang


@pytest.fixture
def env(tmp_path: Path, upstream: Upstream) -> dict[str, str]:
    """The environment wrap runs in: stand-in agents first on PATH, a HOME and
    HEADROOM_HOME of its own, and the upstreams pointing at the recording server."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("claude", "codex"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{AGENT}" {name} "$@"\n')
        script.chmod(0o755)
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_BASE_URL")
        and not k.startswith("HEADROOM_")
    }
    return {
        **base,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "HEADROOM_HOME": str(tmp_path / "headroom-home"),
        "HEADROOM_OPENAI_UPSTREAM": upstream.url,
        "HEADROOM_ANTHROPIC_UPSTREAM": upstream.url,
        "WRAP_TEST_REPORT": str(tmp_path / "report.json"),
        "PYTHONPATH": os.pathsep.join(sys.path),  # the stand-in imports the SDKs
    }


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts in the background; killed (and waited for) whatever happens."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def wrap(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headroom", "wrap", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def start_wrap(
    *args: str, env: dict[str, str], spawned: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "headroom", "wrap", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    spawned.append(process)
    return process


def wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(process.communicate()[1].decode())
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def report(env: dict[str, str], name: str = "report.json") -> dict[str, Any]:
    return json.loads(Path(env["WRAP_TEST_REPORT"]).with_name(name).read_text())


def received(upstream: Upstream, path: str, tag: str) -> Recorded:
    with upstream.lock:
        return next(r for r in upstream.requests if r.path == path and tag.encode() in r.body)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def assert_stopped(port: int, pid: int) -> None:
    deadline = time.monotonic() + 10
    while (port_open(port) or pid_alive(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not port_open(port), f"the proxy still listens on {port}"
    assert not pid_alive(pid), f"the proxy process {pid} is still running"


def test_claude_through_a_started_proxy(env: dict[str, str], upstream: Upstream) -> None:
    tag = uuid.uuid4().hex
    out = wrap("claude", "--", "--tag", tag, "--exit", "3", env=env)
    assert out.returncode == 3, out.stderr  # the agent's own exit code
    seen = report(env)
    url = seen["env"]["ANTHROPIC_BASE_URL"]
    assert url.startswith("http://127.0.0.1:") and seen["env"]["OPENAI_BASE_URL"] is None
    assert seen["argv"] == ["--tag", tag, "--exit", "3"]  # passed on as given
    assert seen["answer"] == "".join(CLAUDE_TEXT)  # the upstream's answer, through the proxy
    # The upstream got the request from the proxy, its tool result compressed and the
    # agent's key as sent.
    request = received(upstream, "/v1/messages", tag)
    tool = request.json()["messages"][2]["content"][0]["content"]
    assert len(tool) < len(TOOL_RESULT) / 2
    # (x-api-key, or a bearer token in newer SDK versions)
    auth = f"{request.header('x-api-key')} {request.header('authorization')}"
    assert "sk-ant-wrap-test" in auth
    # The proxy wrap started (it is in the state file the agent read) is gone.
    proxy = seen["state"]["proxy"]
    assert proxy["port"] == port_of(url)
    assert_stopped(proxy["port"], proxy["pid"])
    assert not (Path(env["HEADROOM_HOME"]) / "wrap-proxy.json").exists()


def test_codex_through_a_started_proxy(env: dict[str, str], upstream: Upstream) -> None:
    tag = uuid.uuid4().hex
    out = wrap("codex", "exec", "--tag", tag, env=env)
    assert out.returncode == 0, out.stderr
    seen = report(env)
    url = seen["env"]["OPENAI_BASE_URL"]
    assert url.endswith("/v1") and seen["env"]["OPENAI_API_BASE"] == url
    assert seen["env"]["ANTHROPIC_BASE_URL"] is None
    # Codex also gets the config override that wins over its config.toml.
    assert seen["argv"] == ["-c", f'openai_base_url="{url}"', "exec", "--tag", tag]
    assert seen["answer"] == "".join(CHAT_TEXT)
    request = received(upstream, "/v1/responses", tag)
    assert request.header("authorization") == "Bearer sk-wrap-test"
    body = request.json()
    assert len(body["input"][2]["output"]) < len(TOOL_RESULT) / 2
    assert_stopped(seen["state"]["proxy"]["port"], seen["state"]["proxy"]["pid"])


def test_a_running_proxy_is_reused_and_left_running(
    env: dict[str, str], proxy: Served, upstream: Upstream
) -> None:
    tag = uuid.uuid4().hex
    out = wrap("--port", str(proxy.port), "codex", "--tag", tag, "--exit", "5", env=env)
    assert out.returncode == 5, out.stderr
    assert report(env)["env"]["OPENAI_BASE_URL"] == f"{proxy.url}/v1"
    assert received(upstream, "/v1/responses", tag)
    assert httpx.get(f"{proxy.url}/health").json()["status"] == "ok"  # still serving
    assert not (Path(env["HEADROOM_HOME"]) / "wrap-proxy.json").exists()  # never recorded


def test_two_wraps_share_a_proxy_and_the_last_one_stops_it(
    env: dict[str, str], tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    gates = [tmp_path / "gate-a", tmp_path / "gate-b"]
    env_a = {**env, "WRAP_TEST_REPORT": str(tmp_path / "a.json")}
    env_b = {**env, "WRAP_TEST_REPORT": str(tmp_path / "b.json")}
    first = start_wrap("claude", "--wait-for", str(gates[0]), env=env_a, spawned=spawned)
    wait_for(tmp_path / "a.json", first)
    second = start_wrap("codex", "--wait-for", str(gates[1]), env=env_b, spawned=spawned)
    wait_for(tmp_path / "b.json", second)
    a, b = report(env, "a.json"), report(env, "b.json")
    proxy = a["state"]["proxy"]
    assert port_of(b["env"]["OPENAI_BASE_URL"]) == proxy["port"]  # the same proxy
    assert b["state"]["users"] == [first.pid, second.pid]
    # The wrap that started the proxy leaves first: the other still uses it.
    gates[0].write_text("")
    assert first.wait(TIMEOUT) == 0
    assert httpx.get(f"http://127.0.0.1:{proxy['port']}/health").json()["status"] == "ok"
    gates[1].write_text("")
    assert second.wait(TIMEOUT) == 0, second.communicate()[1].decode()
    assert_stopped(proxy["port"], proxy["pid"])


def test_a_stale_state_file_is_ignored(env: dict[str, str]) -> None:
    home = Path(env["HEADROOM_HOME"])
    home.mkdir()
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    exited = [sys.executable, "-c", "import os; print(os.getpid())"]
    dead = subprocess.run(exited, text=True, capture_output=True, timeout=60).stdout.strip()
    (home / "wrap-proxy.json").write_text(
        json.dumps({"proxy": {"pid": int(dead), "port": dead_port}, "users": [int(dead)]})
    )
    out = wrap("claude", env=env)
    assert out.returncode == 0, out.stderr
    seen = report(env)
    assert seen["state"]["proxy"]["port"] != dead_port
    assert seen["state"]["users"] != [int(dead)] and len(seen["state"]["users"]) == 1
    assert not (home / "wrap-proxy.json").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_reach_the_agent(
    env: dict[str, str],
    tmp_path: Path,
    spawned: list[subprocess.Popen[bytes]],
    signum: signal.Signals,
    upstream: Upstream,
) -> None:
    tag = uuid.uuid4().hex
    process = start_wrap("claude", "--sleep", "--tag", tag, env=env, spawned=spawned)
    wait_for(tmp_path / "report.ready", process)
    state = json.loads((Path(env["HEADROOM_HOME"]) / "wrap-proxy.json").read_text())
    process.send_signal(signum)  # to wrap only, as `kill` does: it must pass it on
    assert process.wait(TIMEOUT) == 7  # the agent's exit code after handling it
    assert report(env)["signals"] == [signum]
    assert received(upstream, "/v1/messages", tag)  # the proxy outlived the signal
    assert_stopped(state["proxy"]["port"], state["proxy"]["pid"])


def test_ctrl_c_in_a_terminal_reaches_the_agent_once(
    env: dict[str, str],
    tmp_path: Path,
    spawned: list[subprocess.Popen[bytes]],
    upstream: Upstream,
) -> None:
    # wrap in the foreground of a terminal of its own: Ctrl-C there goes to wrap and the
    # agent (one process group) but not to the proxy (its own session). wrap must not send
    # the agent a second one (Claude Code exits on a double Ctrl-C), and the proxy must
    # keep serving the interrupted agent.
    main, child = os.openpty()

    def controlling_terminal() -> None:  # runs after setsid: the pty becomes the terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [sys.executable, "-m", "headroom", "wrap", "claude", "--sleep", "--tag", tag],
        env=env,
        stdin=child,
        stdout=child,
        stderr=child,
        start_new_session=True,
        preexec_fn=controlling_terminal,
    )
    spawned.append(process)
    os.close(child)
    try:
        wait_for(tmp_path / "report.ready", process)
        state = json.loads((Path(env["HEADROOM_HOME"]) / "wrap-proxy.json").read_text())
        os.write(main, b"\x03")  # Ctrl-C typed in the terminal
        assert process.wait(TIMEOUT) == 7
    finally:
        os.close(main)
    assert report(env)["signals"] == [signal.SIGINT]
    assert received(upstream, "/v1/messages", tag)
    assert_stopped(state["proxy"]["port"], state["proxy"]["pid"])


def test_interrupted_while_the_proxy_starts(
    env: dict[str, str], spawned: list[subprocess.Popen[bytes]]
) -> None:
    # The proxy runs in its own session, so a Ctrl-C then reaches wrap alone: wrap must
    # stop the proxy it was waiting for, not leave it running with no one to stop it.
    process = start_wrap("claude", env=env, spawned=spawned)
    home = Path(env["HEADROOM_HOME"])
    deadline = time.monotonic() + TIMEOUT
    while not (home / "wrap-proxy.log").exists():  # made just before the proxy is started
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)  # the proxy is still importing: no /health yet
    assert process.wait(TIMEOUT) == 130
    assert "interrupted" in process.communicate()[1].decode()
    assert not Path(env["WRAP_TEST_REPORT"]).exists()  # the agent never ran
    # No process of this test's HEADROOM_HOME is left (the proxy had it in its environment).
    mine = f"HEADROOM_HOME={home}\0".encode()
    left = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError):
            if mine in environ.read_bytes():
                left.append(environ.parent.name)
    assert left == []


def test_agent_not_found(env: dict[str, str]) -> None:
    out = wrap("no-such-agent", "--", "-x", env=env)
    assert out.returncode == 127
    assert "no-such-agent: command not found" in out.stderr
    # No proxy was started for it: nothing recorded, no proxy log.
    home = Path(env["HEADROOM_HOME"])
    assert not (home / "wrap-proxy.log").exists() and not (home / "wrap-proxy.json").exists()


def test_a_proxy_that_cannot_start_is_named(env: dict[str, str]) -> None:
    # Something that is not a proxy holds the port asked for: the proxy child cannot bind.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        runs = [
            wrap("--port", str(port), "--startup-timeout", "30", "claude", env=env)
            for _ in range(2)
        ]
    for out in runs:
        assert out.returncode == 1
        assert re.search(
            rf"headroom proxy exited with code \d+ before serving on 127.0.0.1:{port};",
            out.stderr,
        )
        assert "address already in use" in out.stderr.lower()  # the log's tail says why
        # The second quotes its own run's lines from the shared log, not the first's too.
        assert out.stderr.count("address already in use") == 1
    assert not Path(env["WRAP_TEST_REPORT"]).exists()  # the agent never ran


def test_missing_extra_names_the_install(env: dict[str, str]) -> None:
    code = (
        "import sys\n"
        "sys.modules['uvicorn'] = None\n"
        "from headroom.cli import main\n"
        "sys.exit(main(['wrap', 'claude']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    assert 'pip install "headroom-ctx[proxy]"' in out.stderr
    assert not Path(env["WRAP_TEST_REPORT"]).exists()


def test_the_agents_own_base_url_becomes_the_upstream(
    env: dict[str, str], upstream: Upstream
) -> None:
    # A user whose OpenAI client already goes to a relay: the proxy wrap starts forwards
    # there, and the agent's variable is pointed at the proxy instead.
    del env["HEADROOM_OPENAI_UPSTREAM"]
    env["OPENAI_BASE_URL"] = f"{upstream.url}/v1"
    tag = uuid.uuid4().hex
    out = wrap("codex", "--tag", tag, env=env)
    assert out.returncode == 0, out.stderr
    assert report(env)["env"]["OPENAI_BASE_URL"] != f"{upstream.url}/v1"
    assert received(upstream, "/v1/responses", tag)  # reached the relay, through the proxy
