"""``headroom.wrap(client)``: the proxy's logic inside an OpenAI or Anthropic SDK client.

The wrapped client is a copy of the client (``client.with_options(http_client=...)``)
whose HTTP client has a transport that hands every request to
:func:`headroom.proxy.exchange.exchange`, the function the HTTP proxy calls, and gives the
SDK back the response it returns. So every SDK method and streaming form
(``chat.completions.create``, ``responses.create``, ``messages.create``, with
``stream=True``, ``messages.stream()``, ``responses.stream()``, ``with_raw_response``...) is
compressed, offered ``headroom_retrieve`` and has its calls answered locally exactly as
through the proxy, with one implementation of each.

The upstream is the client's own ``base_url``; requests go out through an
``httpx.AsyncClient`` of this module with the client's timeout (a custom ``http_client``
the client was built with, its proxies or certificates, is not reused). A synchronous
client runs the logic on an event loop in one daemon thread, started on its first request
and stopped by ``client.close()``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterable, AsyncIterator, Coroutine, Iterator
from typing import Any, Final, TypeVar

# isort: off
from headroom.proxy import _deps  # noqa: F401  (first: names the extra when it is missing)

# isort: on
import httpx
from starlette.responses import Response, StreamingResponse

# The SDKs' side: openai and anthropic are built on httpx2 (anthropic accepts nothing else);
# older SDK releases on httpx.
try:
    import httpx2 as sdk_http
except ImportError:  # pragma: no cover - the SDKs in use bring httpx2
    import httpx as sdk_http  # type: ignore[no-redef]

from headroom.client import Headroom
from headroom.config import CompressConfig
from headroom.errors import InvalidArgumentError
from headroom.proxy.exchange import Incoming, State, exchange
from headroom.proxy.settings import ProxySettings

__all__ = ["stats", "wrap"]

ClientT = TypeVar("ClientT")
_R = TypeVar("_R")

# The end of an SDK request's URL path -> the API path that names its wire format. A base
# URL may carry a prefix (Azure's /openai/deployments/<name>, a gateway's route), so only
# the end is read.
_API_PATHS: Final = (
    ("/chat/completions", "/v1/chat/completions"),
    ("/responses", "/v1/responses"),
    ("/messages/count_tokens", "/v1/messages/count_tokens"),
    ("/messages", "/v1/messages"),
)
_SDKS: Final = (
    ("openai", "OpenAI", "AsyncOpenAI"),
    ("anthropic", "Anthropic", "AsyncAnthropic"),
)


def wrap(
    client: ClientT, *, headroom: Headroom | None = None, config: CompressConfig | None = None
) -> ClientT:
    """A copy of ``client`` whose requests are compressed in-process, as the proxy does.

    Args:
        client: an ``openai.OpenAI``, ``openai.AsyncOpenAI``, ``anthropic.Anthropic`` or
            ``anthropic.AsyncAnthropic`` (subclasses such as ``AzureOpenAI`` too).
        headroom: the Headroom client to compress with (its store answers
            ``headroom_retrieve``); one is made from ``config`` otherwise.
        config: the compression config of the client made here.

    Returns:
        A client of the same class, same key, base URL, headers and retries; ``client``
        itself is not changed.

    Raises:
        InvalidArgumentError: ``client`` is not one of the SDK clients above.
        ImportError: the ``proxy`` extra is not installed (names the ``pip install``).

    >>> import openai
    >>> wrapped = wrap(openai.OpenAI(api_key="sk-..."))
    >>> type(wrapped).__name__
    'OpenAI'
    """
    is_async = _is_async(client)
    sdk: Any = client
    base = str(sdk.base_url).rstrip("/")
    timeout = _timeout(sdk.timeout)
    state = State(ProxySettings(), headroom or Headroom(config))
    state.http = httpx.AsyncClient(
        timeout=timeout,
        limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
    )
    http: sdk_http.Client | sdk_http.AsyncClient
    sdk_timeout = sdk_http.Timeout(**timeout.as_dict())
    if is_async:
        http = sdk_http.AsyncClient(transport=AsyncTransport(state, base), timeout=sdk_timeout)
    else:
        http = sdk_http.Client(transport=SyncTransport(state, base), timeout=sdk_timeout)
    wrapped: ClientT = sdk.with_options(http_client=http)
    return wrapped


def stats(client: object) -> dict[str, Any]:
    """What a wrapped client's requests did: the snapshot the proxy's ``/stats`` shows.

    Raises:
        InvalidArgumentError: ``client`` was not made by :func:`wrap`.
    """
    transport = getattr(getattr(client, "_client", None), "_transport", None)
    if not isinstance(transport, (SyncTransport, AsyncTransport)):
        raise InvalidArgumentError(
            f"client: expected a client made by headroom.wrap, got {type(client).__name__}"
        )
    return transport.state.snapshot(transport.state.stored())


def _is_async(client: object) -> bool:
    for module_name, sync_name, async_name in _SDKS:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        if isinstance(client, getattr(module, async_name)):
            return True
        if isinstance(client, getattr(module, sync_name)):
            return False
    raise InvalidArgumentError(
        "client: expected openai.OpenAI, openai.AsyncOpenAI, anthropic.Anthropic or "
        f"anthropic.AsyncAnthropic, got {type(client).__module__}.{type(client).__name__}"
    )


def _timeout(value: object) -> httpx.Timeout:
    """The SDK's timeout (a number, None, or an httpx/httpx2 ``Timeout``) for httpx."""
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return httpx.Timeout(**as_dict())
    if value is None or isinstance(value, (int, float)):
        return httpx.Timeout(value)
    return httpx.Timeout(600.0)


def api_path(url_path: str) -> str:
    """The API path of a request whose URL path is ``url_path`` (itself when no wire format
    ends it).

    >>> api_path("/openai/deployments/gpt-4o/chat/completions")
    '/v1/chat/completions'
    >>> api_path("/v1/models")
    '/v1/models'
    """
    for end, path in _API_PATHS:
        if url_path.endswith(end):
            return path
    return url_path


def _incoming(request: sdk_http.Request, body: bytes, base: str) -> Incoming:
    async def read() -> bytes:
        return body

    async def stream() -> AsyncIterator[bytes]:
        yield body

    return Incoming(
        request.method,
        api_path(request.url.path),
        str(request.url),
        base,
        list(request.headers.raw),
        read,
        stream,
    )


def _chunk(value: str | bytes | memoryview) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


async def _release(response: StreamingResponse) -> None:
    """Close the body iterator and the upstream responses behind it."""
    iterator: Any = response.body_iterator
    if hasattr(iterator, "aclose"):
        await iterator.aclose()
    release = getattr(response, "release", None)
    if callable(release):
        await release()


class _AsyncBody(sdk_http.AsyncByteStream):
    def __init__(self, response: StreamingResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.body_iterator:
            yield _chunk(chunk)

    async def aclose(self) -> None:
        await _release(self._response)


class AsyncTransport(sdk_http.AsyncBaseTransport):
    """An httpx transport that sends each request through :func:`exchange`."""

    def __init__(self, state: State, base: str) -> None:
        self.state = state
        self.base = base

    async def handle_async_request(self, request: sdk_http.Request) -> sdk_http.Response:
        body = await request.aread()
        response = await exchange(self.state, _incoming(request, body, self.base))
        stream: sdk_http.AsyncByteStream
        if isinstance(response, StreamingResponse):
            stream = _AsyncBody(response)
        else:
            stream = sdk_http.ByteStream(bytes(response.body))
        return _response(response, stream, request)

    async def aclose(self) -> None:
        if self.state.http is not None:
            await self.state.http.aclose()


class _Loop:
    """An event loop in a daemon thread, for a synchronous client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="headroom-wrap", daemon=True
        )
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, _R]) -> _R:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class _SyncBody(sdk_http.SyncByteStream):
    def __init__(self, response: StreamingResponse, loop: _Loop) -> None:
        self._response = response
        self._loop = loop

    def __iter__(self) -> Iterator[bytes]:
        chunks = _chunks(self._response.body_iterator)
        while True:
            chunk = self._loop.run(_next(chunks))
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._loop.run(_release(self._response))


async def _chunks(iterable: AsyncIterable[str | bytes | memoryview]) -> AsyncIterator[bytes]:
    async for chunk in iterable:
        yield _chunk(chunk)


async def _next(chunks: AsyncIterator[bytes]) -> bytes | None:
    return await anext(chunks, None)


class SyncTransport(sdk_http.BaseTransport):
    """The synchronous form: :func:`exchange` runs on a loop in a daemon thread."""

    def __init__(self, state: State, base: str) -> None:
        self.state = state
        self.base = base
        self._loop: _Loop | None = None
        self._lock = threading.Lock()

    def _running(self) -> _Loop:
        with self._lock:
            if self._loop is None:
                self._loop = _Loop()
            return self._loop

    def handle_request(self, request: sdk_http.Request) -> sdk_http.Response:
        body = request.read()
        loop = self._running()
        response = loop.run(exchange(self.state, _incoming(request, body, self.base)))
        stream: sdk_http.SyncByteStream
        if isinstance(response, StreamingResponse):
            stream = _SyncBody(response, loop)
        else:
            stream = sdk_http.ByteStream(bytes(response.body))
        return _response(response, stream, request)

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return
        if self.state.http is not None:
            loop.run(self.state.http.aclose())
        loop.stop()


def _response(
    response: Response,
    stream: sdk_http.SyncByteStream | sdk_http.AsyncByteStream,
    request: sdk_http.Request,
) -> sdk_http.Response:
    return sdk_http.Response(
        response.status_code, headers=response.raw_headers, stream=stream, request=request
    )
