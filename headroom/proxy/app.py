"""The proxy's ASGI app: own endpoints, the three compressed wire formats, passthrough.

One :class:`~headroom.Headroom` client (one conversation engine, one CCR store) and one
``httpx.AsyncClient`` per app, the latter opened and closed by the lifespan. Compression
runs in a worker thread (``anyio.to_thread``), so a big request never stalls the others.
Request bodies and headers are never logged.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

# isort: off
from headroom.proxy import _deps  # noqa: F401  (first: names the extra when it is missing)

# isort: on
import anyio
import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

import headroom
from headroom._rawbytes import to_bytes
from headroom.client import Headroom
from headroom.config import CompressConfig
from headroom.errors import HandleNotFoundError, HeadroomError
from headroom.proxy.exchange import Incoming, State, exchange
from headroom.proxy.forward import upstream_url
from headroom.proxy.settings import ProxySettings
from headroom.proxy.stats import StatsCollector
from headroom.proxy.websocket import relay_websocket
from headroom.proxy.wire import tokens_by_kind
from headroom.proxy.workers import PUBLISH_SECONDS, WorkerBoard

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger("headroom.proxy")

_METHODS: Final = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
# What a /v1/compress caller may set per request; a store path, a tokenizer callable or a
# model directory are the operator's choice, not a remote caller's.
_REQUEST_CONFIG: Final = frozenset(
    {
        "compress_tool_results",
        "compress_user_messages",
        "compress_assistant_messages",
        "protect_recent",
        "min_tokens",
        "target_ratio",
        "lossy",
        "disabled_kinds",
    }
)
_MAX_CONFIGS: Final = 16


def create_app(
    settings: ProxySettings | None = None,
    *,
    client: Headroom | None = None,
    config: CompressConfig | None = None,
) -> Starlette:
    """The proxy as an ASGI app.

    Args:
        settings: upstreams, limits, key; from the environment when not given.
        client: the Headroom client to compress with (its store answers
            ``/v1/retrieve``); one is made from ``config`` and ``settings.store`` otherwise.
        config: the compression config of the client made here.

    >>> app = create_app(ProxySettings(), client=Headroom(store="memory"))
    >>> sorted(r.path for r in app.routes)[:3]
    ['/health', '/metrics', '/stats']
    """
    settings = settings or ProxySettings.from_env()
    owned = client is None  # a client made here is closed with the app
    state = State(settings, client or Headroom(config, store=settings.store))
    board = WorkerBoard.from_env()  # set by ``headroom proxy --workers N``: see workers.py

    async def peers() -> list[dict[str, Any]]:
        return await anyio.to_thread.run_sync(board.peers) if board else []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0))
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
        async with (
            httpx.AsyncClient(timeout=timeout, limits=limits) as http,
            anyio.create_task_group() as tasks,
        ):
            state.http = http
            if board:
                tasks.start_soon(_publish, state, board)
            yield
            tasks.cancel_scope.cancel()
        state.http = None
        if board:  # the last counts, so the sums keep them after this worker exits
            try:
                await anyio.to_thread.run_sync(board.publish, state.stats.counts(state.clients()))
            except OSError as error:  # the directory is gone: the proxy is stopping anyway
                log.warning("cannot publish this worker's last counts: %s", error)
        if owned:
            state.client.close()

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "version": headroom.__version__,
                "pid": os.getpid(),  # which worker answered (``--workers N``)
                "upstreams": {
                    "openai": settings.openai_upstream,
                    "anthropic": settings.anthropic_upstream,
                },
            }
        )

    # The snapshot is taken on the event loop, the only thread that adds per-request config
    # clients, which it walks; the other workers' files and the usage log are read in threads.
    async def stats(request: Request) -> Response:
        stored = await anyio.to_thread.run_sync(state.stored)  # the store's usage log: I/O
        return JSONResponse(state.snapshot(stored, await peers()))

    async def metrics(request: Request) -> Response:
        snapshot = state.snapshot(peers=await peers())
        registry = CollectorRegistry(auto_describe=True)
        registry.register(StatsCollector(lambda: snapshot))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def compress(request: Request) -> Response:
        state.stats.request("compress")
        return await _compress_endpoint(state, await request.body())

    async def retrieve(request: Request) -> Response:
        state.stats.request("retrieve")
        handle = request.path_params["handle"]
        query = request.query_params.get("query")
        try:
            original = await anyio.to_thread.run_sync(
                lambda: state.client.retrieve(handle, query=query)
            )
        except HandleNotFoundError as error:
            return _error(404, "not_found", str(error), handle=handle)
        except HeadroomError as error:
            return _error(400, "invalid_request", str(error), handle=handle)
        return Response(to_bytes(original), media_type="text/plain; charset=utf-8")

    async def proxy(request: Request) -> Response:
        return await _proxy(state, request)

    async def websocket(client: WebSocket) -> None:
        state.stats.request("websocket")
        base = _upstream_for(settings, client.url.path, client.headers)
        raw_path = client.scope.get("raw_path") or client.url.path.encode()
        url = upstream_url(base, raw_path, client.scope.get("query_string", b""))
        await relay_websocket(client, url, base, open_timeout=min(settings.timeout, 10.0))

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/v1/compress", compress, methods=["POST"]),
        Route("/v1/retrieve/{handle:path}", retrieve, methods=["GET"]),
        Route("/{path:path}", proxy, methods=_METHODS),
        WebSocketRoute("/{path:path}", websocket),  # passthrough: see websocket.py
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.headroom = state
    if settings.api_key:
        app.add_middleware(_RequireKey, key=settings.api_key)
    return app


def app_from_env() -> Starlette:
    """The app uvicorn's workers build (``headroom proxy`` passes its options by env)."""
    return create_app(ProxySettings.from_env())


async def _publish(state: State, board: WorkerBoard) -> None:
    """Write this worker's counts for the others whenever they moved (every
    ``PUBLISH_SECONDS`` at most); the counts are read on the event loop, as ``/stats`` does."""
    published = -1
    while True:
        changes = state.stats.changes
        if changes != published:
            counts = state.stats.counts(state.clients())
            try:
                await anyio.to_thread.run_sync(board.publish, counts)
                published = changes
            except OSError as error:  # a full disk must not stop the worker serving
                log.warning("cannot publish this worker's counts: %s", error)
        await anyio.sleep(PUBLISH_SECONDS)


class _RequireKey:
    """401 unless the request carries the proxy's key in ``x-headroom-key`` (``/health``
    stays open for liveness probes)."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"] != "/health":
            given = dict(scope["headers"]).get(b"x-headroom-key", b"")
            if not hmac.compare_digest(given, self.key):
                if scope["type"] == "websocket":  # refused before the handshake: HTTP 403
                    await WebSocket(scope, receive, send).close(1008)
                    return
                response = _error(
                    401, "unauthorized", "this proxy needs its key in the x-headroom-key header"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _proxy(state: State, request: Request) -> Response:
    settings = state.settings
    path = request.url.path
    headers = request.headers
    base = _upstream_for(settings, path, headers)
    # The path and query as the client wrote them (raw bytes, not decoded and re-encoded).
    raw_path = request.scope.get("raw_path") or path.encode()
    url = upstream_url(base, raw_path, request.scope.get("query_string", b""))
    incoming = Incoming(
        request.method, path, url, base, list(headers.raw), request.body, request.stream
    )
    return await exchange(state, incoming)


def _upstream_for(settings: ProxySettings, path: str, headers: Headers) -> str:
    """Anthropic for its paths and for requests carrying its headers; OpenAI otherwise."""
    anthropic = (
        path.startswith("/v1/messages") or "anthropic-version" in headers or "x-api-key" in headers
    )
    return settings.anthropic_upstream if anthropic else settings.openai_upstream


async def _compress_endpoint(state: State, raw: bytes) -> Response:
    try:
        body = json.loads(raw)
    except ValueError as error:
        return _error(400, "invalid_json", f"the body is not JSON: {error}")
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return _error(400, "invalid_request", 'expected {"messages": [...], "model": "..."}')
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        return _error(400, "invalid_request", f"model: expected str, got {type(model).__name__}")
    try:
        client = _client_for(state, body.get("config"))
    except (TypeError, ValueError) as error:
        return _error(400, "invalid_config", str(error))

    def run() -> dict[str, Any]:
        result = client.compress(body["messages"], model=model)
        state.stats.tokens(model, result.tokens_before, result.tokens_after, tokens_by_kind(result))
        if result.warnings:
            state.stats.warn(len(result.warnings))
        return {
            "messages": result.messages,
            "tokens_before": result.tokens_before,
            "tokens_after": result.tokens_after,
            "tokens_saved": result.tokens_saved,
            "compression_ratio": result.compression_ratio,
            "transforms_applied": result.transforms_applied,
            "handles": result.handles,
            "warnings": result.warnings,
        }

    try:
        return JSONResponse(await anyio.to_thread.run_sync(run))
    except HeadroomError as error:  # names the message index and field
        return _error(400, "invalid_request", str(error))


def _client_for(state: State, options: object) -> Headroom:
    """The app's client, or one for a per-request config sharing the app's store."""
    if options is None:
        return state.client
    if not isinstance(options, dict):
        raise TypeError(f"config: expected an object, got {type(options).__name__}")
    unknown = sorted(set(options) - _REQUEST_CONFIG)
    if unknown:
        raise ValueError(f"config: not settable per request: {', '.join(unknown)}")
    values = dict(options)
    if "disabled_kinds" in values:
        kinds = values["disabled_kinds"]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise TypeError("config.disabled_kinds: expected a list of kinds")
        values["disabled_kinds"] = frozenset(kinds)
    config = CompressConfig(**values)
    client = state.configs.get(config)
    if client is None:
        if len(state.configs) >= _MAX_CONFIGS:
            state.stats.retire(state.configs.pop(next(iter(state.configs))))
        client = Headroom(config, store=state.client.store)
        state.configs[config] = client
    return client


def _error(status: int, kind: str, message: str, **extra: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)
