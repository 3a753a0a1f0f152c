"""``headroom wrap`` and ``headroom unwrap``: their options and the glue to
:mod:`headroom.proxy.launch` and :mod:`headroom.proxy.agent_config`.

Nothing here imports the proxy extra: ``wrap`` checks for it before starting anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import Any

from headroom._cli_errors import CommandError
from headroom.proxy.agent_config import PERSISTABLE, ConfigError, persist, unpersist
from headroom.proxy.launch import AGENT_PROVIDERS, EXIT_NOT_FOUND, ProxyStartError, run_wrapped
from headroom.proxy.settings import ENV, ProxySettings

__all__ = ["add_parsers", "run_unwrap", "run_wrap"]


def add_parsers(verbs: Any) -> None:
    """Add the ``wrap`` and ``unwrap`` verbs to the ``headroom`` command's subparsers."""
    w: argparse.ArgumentParser = verbs.add_parser(
        "wrap",
        help="run a coding agent through the proxy (claude, codex, aider, ...)",
        description="Run AGENT with its API calls going through a Headroom proxy: a running "
        "one is reused, else one is started on a free loopback port and stopped when the "
        "agent exits. claude gets ANTHROPIC_BASE_URL; codex, aider and any other agent get "
        "OPENAI_BASE_URL and OPENAI_API_BASE. The agent's exit code is returned (127: not "
        "found). Options go before AGENT; everything after it (or after --) is the agent's.",
    )
    w.add_argument(
        "--provider",
        choices=["openai", "anthropic", "both"],
        default=None,
        help="which base-URL variables to set (default: by agent; "
        + ", ".join(f"{a}: {p}" for a, p in AGENT_PROVIDERS.items())
        + "; others: openai)",
    )
    w.add_argument(
        "--port",
        type=int,
        default=None,
        help="use the proxy on this port, or start one on it (default: a proxy another "
        "wrap started, else a free port; with --persist: "
        f"{ENV['port']} or {ProxySettings().port})",
    )
    w.add_argument(
        "--startup-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for a started proxy's /health (default: %(default)g)",
    )
    w.add_argument(
        "--persist",
        action="store_true",
        help=f"edit the agent's config file ({', '.join(PERSISTABLE)}) to use the proxy at "
        "--port, keeping a backup, instead of running it; `headroom unwrap` restores it",
    )
    w.add_argument("agent", metavar="AGENT", help="the agent's command, looked up on PATH")
    w.add_argument("args", nargs=argparse.REMAINDER, metavar="-- ARGS", help="the agent's args")

    u: argparse.ArgumentParser = verbs.add_parser(
        "unwrap",
        help="restore an agent config file that wrap --persist edited",
        description="Put back, byte for byte, the config file `headroom wrap --persist "
        "AGENT` edited.",
    )
    u.add_argument("agent", metavar="AGENT", choices=PERSISTABLE)


def run_wrap(args: argparse.Namespace) -> int:
    agent_args = list(args.args)
    if agent_args[:1] == ["--"]:  # argparse keeps a "--" that follows an option
        agent_args = agent_args[1:]
    if args.persist:
        return _persist(args)
    if shutil.which(args.agent) is None:  # said here in the one-line form of every error
        raise CommandError(
            f"{args.agent}: command not found on PATH (install it, or give its path)",
            status=EXIT_NOT_FOUND,
        )
    try:
        return run_wrapped(
            args.agent,
            agent_args,
            provider=args.provider,
            port=args.port,
            store=args.store,
            timeout=args.startup_timeout,
        )
    except ProxyStartError as error:
        raise CommandError(str(error)) from error


def _persist(args: argparse.Namespace) -> int:
    port = args.port
    if port is None:
        try:
            port = ProxySettings.from_env().port
        except ValueError as error:
            raise CommandError(str(error), status=2) from error
    try:
        done = persist(os.path.basename(args.agent), f"http://127.0.0.1:{port}")
    except ConfigError as error:
        raise CommandError(str(error)) from error
    kept = f"the original is in {done.backup}" if done.backup else "it did not exist before"
    print(
        f"headroom wrap: {done.path} now points {args.agent} at http://127.0.0.1:{port}/v1 "
        f"({kept}). Keep `headroom proxy --port {port}` running while you use it; "
        f"`headroom unwrap {args.agent}` restores the file.",
        file=sys.stderr,
    )
    return 0


def run_unwrap(args: argparse.Namespace) -> int:
    try:
        path = unpersist(args.agent)
    except ConfigError as error:
        raise CommandError(str(error)) from error
    print(f"headroom unwrap: {path} restored", file=sys.stderr)
    return 0
