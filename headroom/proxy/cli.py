"""``headroom proxy``: its options and the glue that starts uvicorn.

Options are handed to uvicorn's worker processes through the environment (see
:mod:`headroom.proxy.settings`), so one worker or many build the same app.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
from typing import Any

from headroom._cli_errors import CommandError, check_port_free
from headroom.errors import HeadroomError
from headroom.pricing import ENV as PRICES_ENV
from headroom.pricing import load_prices
from headroom.proxy.settings import ENV, ProxySettings
from headroom.proxy.workers import ENV as WORKERS_ENV

__all__ = ["add_parser", "run"]


def add_parser(verbs: Any) -> None:
    """Add the ``proxy`` verb to the ``headroom`` command's subparsers."""
    env = ProxySettings()  # defaults shown in --help; the environment is read by run()
    p: argparse.ArgumentParser = verbs.add_parser(
        "proxy",
        help="run the HTTP proxy (OpenAI and Anthropic APIs, compressed)",
        description="Serve an OpenAI- and Anthropic-compatible proxy that compresses "
        "requests before forwarding them. Point clients at it with "
        "OPENAI_BASE_URL=http://127.0.0.1:8787/v1 or ANTHROPIC_BASE_URL=http://127.0.0.1:8787. "
        "Every option also reads an environment variable (docs/proxy.md).",
    )
    p.add_argument(
        "--host", default=None, help=f"address to bind ({ENV['host']}; default {env.host})"
    )
    p.add_argument(
        "--port", type=int, default=None, help=f"port ({ENV['port']}; default {env.port})"
    )
    p.add_argument("--workers", type=int, default=None, help=f"worker processes ({ENV['workers']})")
    p.add_argument(
        "--openai-upstream",
        default=None,
        help=f"where OpenAI requests go ({ENV['openai_upstream']}; default {env.openai_upstream})",
    )
    p.add_argument(
        "--anthropic-upstream",
        default=None,
        help=f"where Anthropic requests go ({ENV['anthropic_upstream']}; "
        f"default {env.anthropic_upstream})",
    )
    p.add_argument(
        "--api-key",
        default=None,
        help=f"clients must send this in x-headroom-key ({ENV['api_key']})",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="allow a non-loopback host without --api-key",
    )
    p.add_argument(
        "--max-body-bytes",
        type=int,
        default=None,
        help=f"larger bodies pass through uncompressed ({ENV['max_body_bytes']}; "
        f"default {env.max_body_bytes})",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help=f"seconds to wait for the upstream ({ENV['timeout']}; default {env.timeout:g})",
    )
    p.add_argument(
        "--prices",
        default=None,
        metavar="FILE",
        help=f"a price file laid over the shipped one, for /stats dollars ({PRICES_ENV})",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted.

    A flag given wins over its environment variable, which wins over the default.

    Raises:
        CommandError: the options, environment or price file are refused (status 2), or
            the address cannot be listened on (status 1); before anything is served.
    """
    try:
        settings = ProxySettings.from_env()
    except ValueError as error:
        raise CommandError(str(error), status=2) from error
    given = {
        name: getattr(args, name)
        for name in (
            "host",
            "port",
            "workers",
            "openai_upstream",
            "anthropic_upstream",
            "api_key",
            "insecure",
            "max_body_bytes",
            "timeout",
            "store",
        )
        if getattr(args, name, None) is not None
    }
    settings = dataclasses.replace(settings, **given)
    problem = settings.problem()
    if problem is not None:
        raise CommandError(problem, status=2)
    if args.prices is not None:
        os.environ[PRICES_ENV] = args.prices  # read by every worker's app
    try:
        load_prices()  # a bad file is refused here, not by each worker
    except HeadroomError as error:
        raise CommandError(str(error), status=2) from error
    # isort: off
    from headroom.proxy import _deps  # noqa: F401  (names the extra when it is missing)

    # isort: on
    import uvicorn

    check_port_free(settings.host, settings.port)
    os.environ.update(settings.to_env())
    board = None
    if settings.workers > 1:  # each worker's counts, for /stats to sum (workers.py)
        board = tempfile.mkdtemp(prefix="headroom-proxy-stats-")
        os.environ[WORKERS_ENV] = board
    print(
        f"headroom proxy on http://{settings.host}:{settings.port} -> "
        f"OpenAI {settings.openai_upstream}, Anthropic {settings.anthropic_upstream}",
        file=sys.stderr,
    )
    try:
        uvicorn.run(
            "headroom.proxy.app:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            # The upstream's own Date and Server headers are relayed; uvicorn adding its
            # own would send them twice.
            server_header=False,
            date_header=False,
            log_level="info",
        )
    finally:
        if board is not None:
            shutil.rmtree(board, ignore_errors=True)
            os.environ.pop(WORKERS_ENV, None)
    return 0
