"""Fixtures: the recording upstream and the proxy, each served on its own loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from headroom import Headroom
from headroom.proxy import ProxySettings, create_app
from tests.proxy.upstream import Served, Upstream


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    recorder = Upstream()
    with Served(recorder.app()) as served:
        recorder.url = served.url
        yield recorder


@pytest.fixture
def start_proxy(upstream: Upstream) -> Iterator[Callable[..., Served]]:
    """Start a proxy in front of ``upstream`` (options: ProxySettings fields)."""
    started: list[Served] = []

    def start(**options: Any) -> Served:
        options.setdefault("openai_upstream", upstream.url)
        options.setdefault("anthropic_upstream", upstream.url)
        options.setdefault("timeout", 10.0)
        client = options.pop("client", None) or Headroom(store="memory")
        served = Served(create_app(ProxySettings(**options), client=client))
        served.__enter__()
        started.append(served)
        return served

    yield start
    for served in started:
        served.__exit__()


@pytest.fixture
def proxy(start_proxy: Callable[..., Served]) -> Served:
    return start_proxy()
