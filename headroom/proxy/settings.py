"""The proxy's options, from the command line or the environment.

Every option has an environment variable, read when the flag is not given (and by each
worker process, which is how ``--workers N`` passes the options on):

=============================  ===============================  ==========================
flag                           variable                         default
=============================  ===============================  ==========================
``--host``                     ``HEADROOM_PROXY_HOST``          ``127.0.0.1``
``--port``                     ``HEADROOM_PROXY_PORT``          ``8787``
``--workers``                  ``HEADROOM_PROXY_WORKERS``       ``1``
``--openai-upstream``          ``HEADROOM_OPENAI_UPSTREAM``     ``https://api.openai.com``
``--anthropic-upstream``       ``HEADROOM_ANTHROPIC_UPSTREAM``  ``https://api.anthropic.com``
``--api-key``                  ``HEADROOM_PROXY_API_KEY``       none
``--insecure``                 ``HEADROOM_PROXY_INSECURE=1``    off
``--max-body-bytes``           ``HEADROOM_PROXY_MAX_BODY_BYTES`` 33554432 (32 MiB)
``--timeout``                  ``HEADROOM_PROXY_TIMEOUT``       ``600`` seconds
``headroom --store``           ``HEADROOM_STORE``               SQLite under HEADROOM_HOME
=============================  ===============================  ==========================

The upstream variables are deliberately not ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``:
those point the clients at the proxy, and the proxy reading them would call itself.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ENV", "ProxySettings"]

DEFAULT_MAX_BODY_BYTES: Final = 32 * 1024 * 1024

ENV: Final = {
    "host": "HEADROOM_PROXY_HOST",
    "port": "HEADROOM_PROXY_PORT",
    "workers": "HEADROOM_PROXY_WORKERS",
    "openai_upstream": "HEADROOM_OPENAI_UPSTREAM",
    "anthropic_upstream": "HEADROOM_ANTHROPIC_UPSTREAM",
    "api_key": "HEADROOM_PROXY_API_KEY",
    "insecure": "HEADROOM_PROXY_INSECURE",
    "max_body_bytes": "HEADROOM_PROXY_MAX_BODY_BYTES",
    "timeout": "HEADROOM_PROXY_TIMEOUT",
    "store": "HEADROOM_STORE",
}
"""Setting name -> environment variable."""


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """What the proxy listens on, where it forwards, and its limits.

    >>> ProxySettings(host="0.0.0.0").problem()[:40]
    'binding 0.0.0.0 (not loopback) needs --a'
    >>> ProxySettings().problem() is None
    True
    """

    host: str = "127.0.0.1"
    port: int = 8787
    workers: int = 1
    openai_upstream: str = "https://api.openai.com"
    anthropic_upstream: str = "https://api.anthropic.com"
    api_key: str | None = None
    insecure: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout: float = 600.0
    store: str | None = None

    def problem(self) -> str | None:
        """Why these settings must not be served, or None."""
        if not is_loopback(self.host) and not self.api_key and not self.insecure:
            return (
                f"binding {self.host} (not loopback) needs --api-key (clients send it as "
                "x-headroom-key) or --insecure"
            )
        for name in ("openai_upstream", "anthropic_upstream"):
            url = urlsplit(getattr(self, name))
            if url.scheme not in ("http", "https") or not url.netloc:
                return f"{name}: expected an http(s) URL, got {getattr(self, name)!r}"
        if self.workers < 1:
            return f"workers: expected 1 or more, got {self.workers}"
        if self.max_body_bytes < 0:
            return f"max_body_bytes: expected 0 or more, got {self.max_body_bytes}"
        if self.timeout <= 0:
            return f"timeout: expected seconds > 0, got {self.timeout}"
        return None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ProxySettings:
        """Settings from ``HEADROOM_PROXY_*`` / ``HEADROOM_*_UPSTREAM`` variables.

        Raises:
            ValueError: a number variable does not hold a number.
        """
        env = os.environ if environ is None else environ
        default = cls()

        def get(name: str) -> str | None:
            value = env.get(ENV[name])
            return value if value else None

        def number(name: str, kind: type[int] | type[float]) -> int | float | None:
            value = get(name)
            if value is None:
                return None
            try:
                return kind(value)
            except ValueError:
                raise ValueError(f"{ENV[name]}: expected a number, got {value!r}") from None

        port = number("port", int)
        workers = number("workers", int)
        max_body = number("max_body_bytes", int)
        timeout = number("timeout", float)
        return cls(
            host=get("host") or default.host,
            port=default.port if port is None else int(port),
            workers=default.workers if workers is None else int(workers),
            openai_upstream=get("openai_upstream") or default.openai_upstream,
            anthropic_upstream=get("anthropic_upstream") or default.anthropic_upstream,
            api_key=get("api_key"),
            insecure=(get("insecure") or "").lower() in ("1", "true", "yes"),
            max_body_bytes=default.max_body_bytes if max_body is None else int(max_body),
            timeout=default.timeout if timeout is None else float(timeout),
            store=get("store"),
        )

    def to_env(self) -> dict[str, str]:
        """The variables :meth:`from_env` reads back as these settings."""
        out = {
            ENV["host"]: self.host,
            ENV["port"]: str(self.port),
            ENV["workers"]: str(self.workers),
            ENV["openai_upstream"]: self.openai_upstream,
            ENV["anthropic_upstream"]: self.anthropic_upstream,
            ENV["insecure"]: "1" if self.insecure else "",
            ENV["max_body_bytes"]: str(self.max_body_bytes),
            ENV["timeout"]: repr(self.timeout),
            ENV["api_key"]: self.api_key or "",
            ENV["store"]: self.store or "",
        }
        return out


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name other than localhost may resolve anywhere
        return False
