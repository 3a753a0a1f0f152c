"""``headroom wrap <agent>``: run a coding agent with its API calls going through the proxy.

A proxy already serving (one another wrap started, or a ``headroom proxy`` on the port asked
for) is reused; otherwise ``headroom proxy`` is started as a child process on a free loopback
port. The agent then runs as a child with its base-URL variables pointing at the proxy, and
its exit code is returned.

Proxies that wraps start are shared through a state file under ``HEADROOM_HOME``
(``wrap-proxy.json``: the proxy's pid and port and the pids of the wraps using it), read and
written under a lock. The last wrap to leave stops the proxy; a proxy a wrap did not start
(a ``headroom proxy`` the user runs) is never stopped.

Only the standard library runs in the wrapping process (``/health`` is read with urllib);
the server stack is imported by the proxy child, and checked for up front so a missing
extra is named before anything starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final, Literal

from headroom.store import default_home

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the state file is used without a lock
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "AGENT_PROVIDERS",
    "ProxyHandle",
    "ProxyStartError",
    "acquire_proxy",
    "agent_env",
    "release_proxy",
    "run_wrapped",
]

Provider = Literal["openai", "anthropic", "both"]

AGENT_PROVIDERS: Final[dict[str, Provider]] = {
    "claude": "anthropic",  # Claude Code reads ANTHROPIC_BASE_URL
    "codex": "openai",
    "aider": "openai",
}
"""Which API an agent speaks, by command name; any other agent is taken as OpenAI-style."""

STATE_FILE: Final = "wrap-proxy.json"
LOG_FILE: Final = "wrap-proxy.log"  # one file, appended: not one more per free port used
LOG_KEEP_BYTES: Final = 4 * 1024 * 1024  # a longer log is moved to wrap-proxy.log.1 first
EXIT_NOT_FOUND: Final = 127  # the shell's code for "command not found"
EXIT_NOT_EXECUTABLE: Final = 126


class ProxyStartError(RuntimeError):
    """The proxy child did not come up (it exited, or /health never answered)."""


@dataclass
class ProxyHandle:
    """A proxy this wrap uses; ``process`` is set when this wrap started it."""

    port: int
    pid: int | None
    owned: bool  # started by a wrap, so the last wrap using it stops it
    upstreams: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def health(port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    """The proxy's ``/health`` JSON on 127.0.0.1:port, or None when nothing proxy-like answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as r:
            body = json.loads(r.read())
    except (OSError, ValueError):  # refused, timed out, not HTTP, not JSON
        return None
    if isinstance(body, dict) and body.get("status") == "ok" and "upstreams" in body:
        return body
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


# --- the shared state file ------------------------------------------------------------


@contextlib.contextmanager
def _locked_state(home: Path) -> Iterator[dict[str, Any]]:
    """The state file's JSON, read and written back under an exclusive lock.

    A file that is not valid JSON (a crash mid-write, an edit) reads as empty: it only
    ever points at a proxy that is verified before use.
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / STATE_FILE
    with open(home / (STATE_FILE + ".lock"), "a+b") as lock:
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            try:
                state = json.loads(path.read_bytes())
                if not isinstance(state, dict):
                    state = {}
            except (OSError, ValueError):
                state = {}
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                if state:
                    tmp = path.with_suffix(".tmp")
                    tmp.write_text(json.dumps(state))
                    os.replace(tmp, path)  # readers never see half a file
                else:
                    path.unlink(missing_ok=True)
        finally:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


# --- starting, reusing and stopping the proxy -----------------------------------------


def start_proxy(
    port: int,
    *,
    env: Mapping[str, str],
    log_path: Path,
    store: str | None = None,
    timeout: float = 60.0,
) -> subprocess.Popen[bytes]:
    """Start ``headroom proxy`` on 127.0.0.1:port and wait until ``/health`` answers.

    Its output goes to ``log_path``, not to the terminal the agent draws on.

    Raises:
        ProxyStartError: the process exited, or did not answer within ``timeout`` seconds;
            the message names which, the port and the log's last lines.
    """
    cmd = [sys.executable, "-m", "headroom"]
    if store:
        cmd += ["--store", store]
    cmd += ["proxy", "--host", "127.0.0.1", "--port", str(port)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if log_path.stat().st_size > LOG_KEEP_BYTES:
            os.replace(log_path, log_path.with_name(log_path.name + ".1"))
    with open(log_path, "ab") as log, _deferred_interrupt() as interrupted:
        start = log.tell()  # an error quotes this run's lines only
        # Its own session: Ctrl-C in the agent's terminal reaches the agent, not the proxy,
        # which must keep serving until the agent has exited.
        process = subprocess.Popen(
            cmd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        if interrupted:
            raise KeyboardInterrupt
        _await_health(process, port, log_path, start, timeout)
    except BaseException:  # Ctrl-C while waiting too: the proxy's session does not get it
        _stop_process(process)
        raise
    return process


@contextlib.contextmanager
def _deferred_interrupt() -> Iterator[list[int]]:
    """Hold a Ctrl-C back until the block is done (the list says whether one came).

    A KeyboardInterrupt raised inside ``Popen`` would lose the process it had started.
    """
    came: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: came.append(signum))
    except ValueError:  # not the main thread: signals are not ours to handle
        yield came
        return
    try:
        yield came
    finally:
        signal.signal(signal.SIGINT, previous)


def _await_health(
    process: subprocess.Popen[bytes], port: int, log_path: Path, start: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ProxyStartError(
                f"headroom proxy exited with code {process.returncode} before serving on "
                f"127.0.0.1:{port}{_tail(log_path, start)}"
            )
        if health(port, timeout=1.0) is not None:
            return
        if time.monotonic() > deadline:
            raise ProxyStartError(
                f"headroom proxy did not answer GET http://127.0.0.1:{port}/health within "
                f"{timeout:g} s{_tail(log_path, start)}"
            )
        time.sleep(0.1)


def _tail(log_path: Path, start: int, lines: int = 15) -> str:
    try:
        with open(log_path, "rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return f"; its log ({log_path}) ends:\n" + "\n".join(text) if text else ""


def _stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(grace)


def _stop_pid(pid: int, port: int, grace: float = 10.0) -> None:
    """Stop a proxy another wrap started (not our child: polled, not waited for)."""
    if health(port) is None:
        return  # gone already, or the pid now belongs to something else: leave it alone
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def acquire_proxy(
    *,
    home: Path,
    env: Mapping[str, str],
    port: int | None = None,
    store: str | None = None,
    timeout: float = 60.0,
) -> ProxyHandle:
    """A proxy for this wrap: the one wraps share, one on ``port``, or a new child.

    This wrap's pid is added to the proxy's users in the state file, so another wrap
    leaving does not stop it.
    """
    me = os.getpid()
    with _locked_state(home) as state:
        shared = state.get("proxy")
        if isinstance(shared, dict) and (port is None or shared.get("port") == port):
            found = health(int(shared["port"]))
            if found is not None and pid_alive(int(shared["pid"])):
                users = [u for u in state.get("users", []) if pid_alive(u)]
                state["users"] = [*users, me]
                return ProxyHandle(
                    int(shared["port"]), int(shared["pid"]), True, found["upstreams"]
                )
            state.clear()  # stale: the proxy it names is gone
        if port is not None:
            found = health(port)
            if found is not None:  # someone's `headroom proxy`: used, never stopped
                return ProxyHandle(port, None, False, found["upstreams"])
        chosen = free_port() if port is None else port
        process = start_proxy(
            chosen, env=env, log_path=home / LOG_FILE, store=store, timeout=timeout
        )
        state["proxy"] = {"pid": process.pid, "port": chosen}
        state["users"] = [me]
        upstreams = (health(chosen) or {}).get("upstreams", {})
        return ProxyHandle(chosen, process.pid, True, upstreams, process)


def release_proxy(handle: ProxyHandle, *, home: Path) -> bool:
    """Leave the proxy; stop it if this was the last wrap using a wrap-started proxy.

    Returns whether it was stopped.
    """
    if not handle.owned:
        return False
    me = os.getpid()
    with _locked_state(home) as state:
        shared = state.get("proxy")
        if not isinstance(shared, dict) or shared.get("pid") != handle.pid:
            # The state no longer names it (cleared as stale): stop it only if it is ours.
            if handle.process is not None:
                _stop_process(handle.process)
                return True
            return False
        users = [u for u in state.get("users", []) if u != me and pid_alive(u)]
        if users:
            state["users"] = users
            return False
        state.clear()
        # Stopped under the lock: a wrap starting now waits, then starts a new proxy
        # instead of reusing this one as it goes away.
        if handle.process is not None:
            _stop_process(handle.process)
        elif handle.pid is not None:
            _stop_pid(handle.pid, handle.port)
        return True


# --- the agent ------------------------------------------------------------------------


def provider_for(agent: str, override: Provider | None = None) -> Provider:
    """The API an agent speaks: the override, else by its command's name, else OpenAI."""
    if override is not None:
        return override
    name = Path(agent).name.lower()
    name = name.removesuffix(".exe")
    return AGENT_PROVIDERS.get(name, "openai")


def agent_env(base: Mapping[str, str], proxy_url: str, provider: Provider) -> dict[str, str]:
    """The agent's environment: ``base`` with its base-URL variables pointing at the proxy.

    OpenAI-style tools read ``OPENAI_BASE_URL`` (the SDKs, Codex) or ``OPENAI_API_BASE``
    (aider, LiteLLM, older clients); both get the ``/v1`` URL. Anthropic clients add
    ``/v1/messages`` themselves, so ``ANTHROPIC_BASE_URL`` is the bare URL.
    """
    env = dict(base)
    if provider in ("openai", "both"):
        env["OPENAI_BASE_URL"] = env["OPENAI_API_BASE"] = f"{proxy_url}/v1"
    if provider in ("anthropic", "both"):
        env["ANTHROPIC_BASE_URL"] = proxy_url
    return env


def upstream_env(base: Mapping[str, str], provider: Provider) -> dict[str, str]:
    """The proxy child's environment.

    A client's own ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL`` (a relay, Azure, a gateway)
    is where its requests were going, so it becomes the proxy's upstream unless
    ``HEADROOM_*_UPSTREAM`` says otherwise; the agent's copy is then pointed at the proxy.
    """
    env = dict(base)
    if provider in ("openai", "both"):
        own = env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE")
        if own and not env.get("HEADROOM_OPENAI_UPSTREAM"):
            env["HEADROOM_OPENAI_UPSTREAM"] = own
    if provider in ("anthropic", "both"):
        own = env.get("ANTHROPIC_BASE_URL")
        if own and not env.get("HEADROOM_ANTHROPIC_UPSTREAM"):
            env["HEADROOM_ANTHROPIC_UPSTREAM"] = own
    return env


def agent_argv(agent: str, args: Sequence[str], proxy_url: str) -> list[str]:
    """The agent's command line: Codex also gets its ``openai_base_url`` config override.

    Codex deprecated ``OPENAI_BASE_URL`` for the ``openai_base_url`` config key, and a key
    in ``config.toml`` wins over the variable; ``-c`` wins over both.
    """
    if Path(agent).name.lower().removesuffix(".exe") == "codex":
        return [agent, "-c", f'openai_base_url="{proxy_url}/v1"', *args]
    return [agent, *args]


def _exit_code(returncode: int) -> int:
    """A child killed by signal N exits, as a shell reports it, with 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _forward_signals(process: subprocess.Popen[bytes]) -> dict[int, Any]:
    """Pass SIGTERM, SIGHUP and (when the terminal did not already) SIGINT to the agent.

    In a terminal, Ctrl-C goes to the whole foreground process group, the agent included;
    sending it again would make it two (Claude Code exits on a double Ctrl-C). So SIGINT is
    only forwarded when this process is not in the terminal's foreground group.
    """
    in_foreground = False
    with contextlib.suppress(OSError):
        in_foreground = os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()

    def forward(signum: int, frame: FrameType | None) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signum)

    previous: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        handler: Any = signal.SIG_IGN if name == "SIGINT" and in_foreground else forward
        previous[signum] = signal.signal(signum, handler)
    return previous


def run_wrapped(
    agent: str,
    args: Sequence[str],
    *,
    provider: Provider | None = None,
    port: int | None = None,
    store: str | None = None,
    timeout: float = 60.0,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> int:
    """Run ``agent args...`` through a proxy; return its exit code (127: not found).

    Raises:
        ImportError: the ``proxy`` extra is missing (names the ``pip install``).
        ProxyStartError: no proxy could be started.
    """
    from headroom.proxy import _deps  # noqa: F401  (names the extra before anything starts)

    base = dict(os.environ if environ is None else environ)
    home = default_home() if home is None else home
    api = provider_for(agent, provider)
    path = shutil.which(agent, path=base.get("PATH"))
    if path is None:  # before the proxy: nothing to start and stop for nothing
        print(f"headroom wrap: {agent}: command not found on PATH", file=sys.stderr)
        return EXIT_NOT_FOUND
    handle = acquire_proxy(
        home=home, env=upstream_env(base, api), port=port, store=store, timeout=timeout
    )
    try:
        _warn_if_upstream_differs(handle, base, api)
        print(f"headroom wrap: {agent} -> proxy {handle.url}", file=sys.stderr)
        try:
            process = subprocess.Popen(
                agent_argv(path, args, handle.url), env=agent_env(base, handle.url, api)
            )
        except FileNotFoundError:  # removed between the PATH lookup and now
            print(f"headroom wrap: {agent}: command not found", file=sys.stderr)
            return EXIT_NOT_FOUND
        except PermissionError:
            print(f"headroom wrap: {agent}: not executable", file=sys.stderr)
            return EXIT_NOT_EXECUTABLE
        previous = _forward_signals(process)
        try:
            return _exit_code(process.wait())
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    finally:
        release_proxy(handle, home=home)


def _warn_if_upstream_differs(handle: ProxyHandle, base: Mapping[str, str], api: Provider) -> None:
    """A reused proxy forwards where it was told; say so when the agent expected elsewhere."""
    if handle.process is not None:
        return
    wanted = upstream_env(base, api)
    for name, var in (
        ("openai", "HEADROOM_OPENAI_UPSTREAM"),
        ("anthropic", "HEADROOM_ANTHROPIC_UPSTREAM"),
    ):
        if api not in (name, "both") or not wanted.get(var):
            continue
        have = handle.upstreams.get(name, "").rstrip("/").removesuffix("/v1")
        if have != wanted[var].rstrip("/").removesuffix("/v1"):
            print(
                f"headroom wrap: warning: the running proxy sends {name} requests to "
                f"{handle.upstreams.get(name)}, not {wanted[var]}",
                file=sys.stderr,
            )
