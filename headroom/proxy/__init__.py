"""The HTTP proxy: point an OpenAI or Anthropic client at it and every request goes out smaller.

Start it with ``headroom proxy`` and set ``OPENAI_BASE_URL=http://127.0.0.1:8787/v1`` or
``ANTHROPIC_BASE_URL=http://127.0.0.1:8787``. The server stack (Starlette, uvicorn, httpx,
prometheus-client) is the ``proxy`` extra, imported only by :func:`create_app` and the
``headroom proxy`` command, never by ``import headroom``. See ``docs/proxy.md``.

Modules: ``settings`` (options and their environment variables), ``wire`` (which request
shapes are compressed and how their JSON is rewritten), ``forward`` (upstream calls and the
streaming relay), ``stats`` (counters for ``/stats`` and ``/metrics``), ``app`` (the ASGI
app), ``cli`` (the ``headroom proxy`` command), ``launch`` (``headroom wrap``: starting,
sharing and stopping a proxy process, running an agent through it), ``agent_config``
(``wrap --persist`` / ``unwrap``: an agent's config file), ``wrap_cli`` (their options).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headroom.proxy.settings import ProxySettings

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["ProxySettings", "create_app"]


def create_app(settings: ProxySettings | None = None, **options: Any) -> Starlette:
    """The proxy's ASGI app (see :func:`headroom.proxy.app.create_app`).

    Raises:
        ImportError: the ``proxy`` extra is not installed (names the ``pip install``).
    """
    from headroom.proxy.app import create_app as create

    return create(settings, **options)
