"""The proxy's side of ``headroom_retrieve``: answer the model's calls and go on upstream.

A request that was offered the tool (see :mod:`headroom.proxy.retrieve`) is sent upstream
and its response read whole. While the model's turn calls ``headroom_retrieve`` and nothing
else, the proxy answers each call from the CCR store (:func:`headroom.tools.answer`,
which never raises: a bad or unknown handle gets a message the model can act on), appends
the model's turn and the answers to the message list, and calls upstream again, at most
:data:`MAX_ROUNDS` times. The client gets the last response, as one ordinary response.

The continuation turns exist only inside this round trip: the client never sees them, so
its next request does not carry them, and a retrieved original reaches the model once.

``usage`` in the response the client gets is the sum over the rounds (every integer field,
nested ones too): the client is billed for all of them.

What the client gets is the upstream's status, headers and body, except that the body is
given decoded (``content-encoding`` and ``content-length`` dropped; Starlette sets the
length again): the proxy had to read it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Final

import anyio
import httpx
from starlette.responses import Response

from headroom import tools
from headroom.client import Headroom
from headroom.proxy.forward import build_request, failure, relay_headers
from headroom.proxy.retrieve import Call, continuation, retrieve_calls
from headroom.proxy.wire import Format, dump, messages_key

__all__ = ["MAX_ROUNDS", "answer", "run", "summed"]

log = logging.getLogger("headroom.proxy")

MAX_ROUNDS: Final = 3
"""How many times the proxy answers ``headroom_retrieve`` calls and calls upstream again
for one client request; a model still calling it after that gets its response returned."""

_DROPPED: Final = frozenset({b"content-encoding", b"content-length"})
"""Headers of a relayed response whose body the proxy decoded (or wrote) itself."""


async def run(
    http: httpx.AsyncClient,
    client: Headroom,
    url: str,
    headers: list[tuple[bytes, bytes]],
    body: dict[str, Any],
    fmt: Format,
    *,
    upstream: str,
    on_error: Callable[[str], None],
) -> Response:
    """Send ``body`` (the tool offered) upstream and resolve the retrieve calls.

    ``on_error`` is told ``timeout`` or ``unreachable`` when the upstream fails.
    """
    key = messages_key(fmt)
    messages: list[Any] = list(body[key])
    usages: list[Any] = []
    for round_ in range(MAX_ROUNDS + 1):
        # Written as compressed bodies are (wire.dump), so the first round's bytes are the
        # ones a cached prefix was made of.
        payload = await anyio.to_thread.run_sync(dump, {**body, key: messages})
        try:
            response = await http.send(build_request(http, "POST", url, headers, payload))
        except httpx.HTTPError as error:
            on_error("timeout" if isinstance(error, httpx.TimeoutException) else "unreachable")
            return failure(error, upstream)
        if response.status_code != 200:
            return _relay(response, response.content)
        try:
            data = json.loads(response.content)
        except ValueError:
            return _relay(response, response.content)
        usages.append(data.get("usage") if isinstance(data, dict) else None)
        calls = retrieve_calls(data, fmt) if round_ < MAX_ROUNDS else None
        if calls is None:
            if round_ == 0:  # one round: the upstream's bytes as they came
                return _relay(response, response.content)
            if not isinstance(data, dict):
                return _relay(response, response.content)
            if isinstance(data.get("usage"), dict):
                data["usage"] = summed(usages)
            return _relay(response, dump(data))
        answers = await anyio.to_thread.run_sync(answer, client, calls)
        turns = continuation(data, calls, answers, fmt, body_store=body.get("store"))
        messages = [*messages, *turns]
    raise AssertionError("unreachable: the last round returns")  # pragma: no cover


def answer(client: Headroom, calls: list[Call]) -> list[str]:
    """What the model is told for each call (blocking: the store is read)."""
    return [tools.answer(call.handle, query=call.query, client=client) for call in calls]


def _relay(response: httpx.Response, content: bytes) -> Response:
    headers = [(k, v) for k, v in relay_headers(response.headers) if k.lower() not in _DROPPED]
    out = Response(content, status_code=response.status_code)
    # Starlette set content-length from ``content``; every other header is the upstream's.
    out.raw_headers = [*headers, *[(k, v) for k, v in out.raw_headers if k == b"content-length"]]
    return out


def summed(usages: list[Any]) -> dict[str, Any]:
    """The last round's usage with every integer field summed over the rounds."""
    last = usages[-1]
    assert isinstance(last, dict)
    total: dict[str, Any] = {}
    for name, value in last.items():
        values = [u.get(name) for u in usages if isinstance(u, dict)]
        if isinstance(value, bool):
            total[name] = value
        elif isinstance(value, int):
            total[name] = sum(v for v in values if isinstance(v, int) and not isinstance(v, bool))
        elif isinstance(value, dict):
            total[name] = summed([v for v in values if isinstance(v, dict)])
        else:
            total[name] = value
    return total
