"""``headroom mcp``: serve the MCP server, or install it into (and remove it from) MCP clients.

``headroom mcp`` and ``headroom mcp serve`` serve over stdio, what MCP clients start;
``--transport streamable-http --port N`` serves over HTTP on 127.0.0.1 instead.
``headroom mcp install`` / ``uninstall`` edit the clients' configuration files (see
:mod:`headroom.mcpserver.install`). The SDK is imported only to serve.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path
from typing import Any

from headroom._cli_errors import CommandError, check_port_free
from headroom.errors import HeadroomError, InvalidArgumentError
from headroom.mcpserver.clients import CLIENTS, Client, Scope, client_names
from headroom.mcpserver.install import Change, apply, plan_install, plan_uninstall
from headroom.mcpserver.options import DEFAULT_MAX_CONTENT_BYTES, ServerOptions

__all__ = ["add_parser", "run"]

DEFAULT_PORT = 8765
_HOST = "127.0.0.1"


def add_parser(verbs: Any) -> None:
    """Add the ``mcp`` verb (and its ``serve``, ``install``, ``uninstall``) to ``headroom``."""
    p: argparse.ArgumentParser = verbs.add_parser(
        "mcp",
        help="run the MCP server (Claude Code, Claude Desktop, Cursor, Codex), or install it",
        description="Serve Headroom's tools (headroom_compress, headroom_retrieve, "
        "headroom_read, headroom_stats) to MCP clients over stdio, or over HTTP with "
        "--transport streamable-http. `headroom mcp install` adds it to the clients' "
        "configurations (docs/mcp.md).",
    )
    _serve_options(p, inherited=False)
    actions = p.add_subparsers(dest="mcp_action", metavar="ACTION")
    serve = actions.add_parser(
        "serve", help="serve (the default)", description="Serve the MCP server."
    )
    _serve_options(serve, inherited=True)
    for name in ("install", "uninstall"):
        verb = "add the headroom server to" if name == "install" else "remove it from"
        a = actions.add_parser(
            name,
            help=f"{verb} MCP clients' configurations",
            description=f"{verb.capitalize()} each MCP client's configuration file; other "
            "entries are left as they are. Without --client, every client found on this "
            "machine. The file as it was is kept as <file>.headroom-mcp-backup, and "
            "`uninstall` restores it.",
        )
        a.add_argument(
            "--client",
            action="append",
            choices=client_names(),
            help="the client (repeatable; default: every one found)",
        )
        a.add_argument(
            "--scope",
            choices=["user", "project"],
            default="user",
            help="user: your configuration; project: the one in the current directory "
            "(Claude Code .mcp.json, Cursor .cursor/mcp.json, Codex .codex/config.toml)",
        )
        a.add_argument("--dry-run", action="store_true", help="print the change, write nothing")
        if name == "install":
            a.add_argument(
                "--allow-read",
                action="append",
                metavar="DIR",
                default=argparse.SUPPRESS,
                help="let the installed server read files under DIR (repeatable)",
            )
            a.add_argument(
                "--store",
                default=argparse.SUPPRESS,
                help="the store the installed server uses (default: HEADROOM_STORE or SQLite)",
            )


def _serve_options(p: argparse.ArgumentParser, *, inherited: bool) -> None:
    # On `serve` the defaults are suppressed, so that options given before the word
    # (`headroom mcp --port 9 serve`) are not reset by the subparser's defaults.
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if inherited else value

    p.add_argument(
        "--transport",
        choices=["stdio", "streamable-http"],
        default=default("stdio"),
        help="stdio (what clients start; default) or streamable-http on 127.0.0.1",
    )
    p.add_argument(
        "--port",
        type=int,
        default=default(DEFAULT_PORT),
        help=f"port for streamable-http (default {DEFAULT_PORT})",
    )
    p.add_argument(
        "--allow-read",
        action="append",
        metavar="DIR",
        default=default(None),
        help="let headroom_read read files under DIR (repeatable; default: reading is off)",
    )
    p.add_argument(
        "--max-content-bytes",
        type=int,
        default=default(None),
        help=f"largest content (bytes) one call may hand in (default {DEFAULT_MAX_CONTENT_BYTES})",
    )
    p.add_argument(
        "--store",
        default=argparse.SUPPRESS,
        help="where originals go: a SQLite file, 'memory' or a redis:// URL "
        "(default: HEADROOM_STORE, else the SQLite file under HEADROOM_HOME)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``headroom mcp``; the exit status (0 ok, 130 interrupted).

    Raises:
        CommandError: the options are refused (status 2), or the port is taken or a
            client's configuration cannot be edited (status 1).
    """
    action = args.mcp_action or "serve"
    if action == "serve":
        return _serve(args)
    try:
        return _edit(args, install=action == "install")
    except CommandError:
        raise
    except HeadroomError as error:
        raise CommandError(f"mcp {action}: {error}") from error


def _serve(args: argparse.Namespace) -> int:
    from headroom.client import Headroom
    from headroom.mcpserver.server import create_server

    if not 0 < args.port < 65536:
        raise CommandError(f"--port: expected 1-65535, got {args.port}", status=2)
    limit = DEFAULT_MAX_CONTENT_BYTES if args.max_content_bytes is None else args.max_content_bytes
    try:
        options = ServerOptions(
            store=getattr(args, "store", None),
            allow_read=tuple(args.allow_read or ()),
            max_content_bytes=limit,
        )
        client = Headroom(store=options.store, model=options.model)
    except HeadroomError as error:  # e.g. a store URL that is no store
        raise CommandError(str(error), status=2) from error
    try:
        server = create_server(options, client=client)
    except HeadroomError as error:  # an --allow-read that is not a directory
        client.close()
        raise CommandError(str(error), status=2) from error
    if args.transport != "stdio":
        try:
            check_port_free(_HOST, args.port)
        except CommandError:
            client.close()
            raise
    import anyio

    # The client is closed on the way out, so a usage log that holds counts back (Redis)
    # writes them before the process ends.
    try:
        if args.transport == "stdio":
            if sys.stdin.isatty():  # someone typed it: clients speak JSON-RPC on stdin
                print(
                    "headroom mcp: serving MCP over stdio; MCP clients start this command "
                    "(see `headroom mcp install`). Ctrl-C to stop.",
                    file=sys.stderr,
                )
            anyio.run(server.run_stdio_async)
        else:
            print(f"headroom mcp: serving on http://{_HOST}:{args.port}/mcp", file=sys.stderr)
            anyio.run(
                functools.partial(
                    server.run_streamable_http_async,
                    host=_HOST,
                    port=args.port,
                    # Plain JSON responses, not an SSE stream: the SDK's client refuses an
                    # SSE event over 1 MiB, and an original can be megabytes.
                    json_response=True,
                    # Room for the largest content a call may hand in, JSON-escaped (a
                    # control character takes six bytes): larger calls get the tool's
                    # own size error instead of a bare 413.
                    max_request_body_size=6 * limit + 65536,
                )
            )
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()
    return 0


def _edit(args: argparse.Namespace, *, install: bool) -> int:
    env = os.environ
    cwd = Path.cwd()
    scope: Scope = args.scope
    if args.client:
        chosen = [c for c in CLIENTS if c.name in args.client]
    else:
        chosen = [c for c in CLIENTS if c.found(env)]
        if not chosen:
            raise CommandError(
                "no MCP client found on this machine (looked for Claude Code, Claude "
                "Desktop, Cursor and Codex); name one with --client"
            )
    plans: list[tuple[Client, Change]] = []
    for client in chosen:
        path = client.config_path(scope, env, cwd)
        if path is None:
            if args.client:
                raise CommandError(
                    f"{client.label} has no {scope} configuration (use --scope user)", status=2
                )
            print(f"{client.name}: skipped ({client.label} has no {scope} configuration)")
            continue
        if install:
            entry = client.entry(*_command(args))
            plans.append((client, plan_install(path, client.format, entry)))
        else:
            plans.append((client, plan_uninstall(path, client.format)))
    # Every file is parsed before any is written: one malformed file stops the run, and
    # the others are not left half-done.
    for client, change in plans:
        if args.dry_run:
            print(f"{client.name}: {change.path}: would be {change.note}")
            sys.stdout.write(change.diff())
            continue
        apply(change)
        print(f"{client.name}: {change.path}: {change.note}")
    return 0


def _command(args: argparse.Namespace) -> tuple[str, list[str]]:
    """The command and arguments a client runs to start this server.

    The ``headroom`` script next to the running interpreter, by absolute path: a client
    started from a desktop launcher does not see the shell's PATH, nor an activated venv.
    """
    extra: list[str] = []
    if getattr(args, "store", None):
        store = args.store
        if "://" not in store and store != "memory":
            store = str(Path(store).expanduser().resolve())
        extra += ["--store", store]
    for root in getattr(args, "allow_read", None) or ():
        path = Path(root).expanduser()
        if not path.is_dir():
            raise InvalidArgumentError(f"--allow-read {root}: not a directory")
        extra += ["--allow-read", str(path.resolve())]
    script = Path(sys.executable).parent / ("headroom.exe" if os.name == "nt" else "headroom")
    if script.is_file():
        return str(script), ["mcp", *extra]
    return sys.executable, ["-m", "headroom", "mcp", *extra]
