"""The one error a ``headroom`` verb raises to stop: :func:`headroom.cli.main` prints it as
``headroom: error: <what is wrong and what to do>`` and exits with its status (the
traceback only with ``--debug``). Kept apart from :mod:`headroom.cli` so the verbs that live
in :mod:`headroom.proxy` and :mod:`headroom.mcpserver` raise it without importing the CLI."""

from __future__ import annotations

import socket

from headroom.errors import HeadroomError

__all__ = ["CommandError", "check_port_free"]


class CommandError(HeadroomError):
    """A verb cannot do what was asked.

    Attributes:
        status: the exit status: 1 when it failed, 2 when its options or environment were
            refused before anything ran.

    Example:
        >>> error = CommandError("--port: expected 1-65535, got 0", status=2)
        >>> (str(error), error.status)
        ('--port: expected 1-65535, got 0', 2)
    """

    def __init__(self, message: str, *, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def check_port_free(host: str, port: int) -> None:
    """Fail now, in one line, when a server could not listen on ``host:port``.

    The servers (uvicorn) would log the bind error among their startup lines and exit;
    binding a probe socket first (with ``SO_REUSEADDR``, as they do) says it plainly. A
    port taken between this check and the server's bind still fails there.

    Raises:
        CommandError: the port is out of range (status 2), or the address cannot be bound
            (status 1), naming it and what to do.
    """
    if not 0 < port < 65536:
        raise CommandError(f"--port: expected 1-65535, got {port}", status=2)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            why = (error.strerror or str(error)).lower()
            raise CommandError(
                f"cannot listen on {host}:{port}: {why} (stop what uses it, or choose "
                "another port with --port)"
            ) from error
