"""The ``headroom_retrieve`` tool the proxy offers, and the turns that answer its calls.

Pure functions on parsed JSON bodies (no I/O); :mod:`headroom.proxy.retrieve_loop` and
:mod:`headroom.proxy.retrieve_stream` run the upstream round trips. The loop is run for
OpenAI Chat Completions
(``chat``), Anthropic Messages (``anthropic``) and OpenAI Responses (``responses``),
streamed or not.

* :func:`offer` decides whether a request gets the tool: its message list holds at least
  one Headroom marker and the client's own ``tools`` do not already define
  ``headroom_retrieve``. The tool is appended at the end of ``tools``, always the same
  JSON, so a provider's cached prefix survives from one request to the next.
* :func:`retrieve_calls` reads an upstream response: the calls when the model called
  only ``headroom_retrieve``, ``None`` otherwise (a response that also calls the client's
  tools goes to the client as it came: the client can run its own tools but not ours).
* :func:`continuation` is the assistant turn and the tool results that go upstream next.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Final

from headroom.handles import has_marker
from headroom.proxy.wire import Format, loads, messages_key
from headroom.tools import RETRIEVE_TOOL_DESCRIPTION, RETRIEVE_TOOL_NAME, RETRIEVE_TOOL_PARAMETERS

__all__ = [
    "LOOP_FORMATS",
    "TOOL_NAME",
    "Call",
    "continuation",
    "offer",
    "retrieve_calls",
    "tool_definition",
]

TOOL_NAME: Final = RETRIEVE_TOOL_NAME
LOOP_FORMATS: Final = frozenset({"chat", "anthropic", "responses"})

# A cheap test on the raw bytes before any JSON is read: every marker holds this ASCII text,
# which no JSON writer escapes.
_MARKER_BYTES: Final = b" retrieve: headroom:"


def tool_definition(fmt: Format) -> dict[str, Any]:
    """The tool as the wire format declares one (a fresh copy: callers may not share it)."""
    schema = copy.deepcopy(RETRIEVE_TOOL_PARAMETERS)
    if fmt == "anthropic":
        return {"name": TOOL_NAME, "description": RETRIEVE_TOOL_DESCRIPTION, "input_schema": schema}
    if fmt == "responses":
        # Responses function tools are strict unless told otherwise, and a strict schema
        # may have no optional property (``query`` is optional).
        return {
            "type": "function",
            "name": TOOL_NAME,
            "description": RETRIEVE_TOOL_DESCRIPTION,
            "parameters": schema,
            "strict": False,
        }
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": RETRIEVE_TOOL_DESCRIPTION,
            "parameters": schema,
        },
    }


@dataclass(frozen=True, slots=True)
class Call:
    """One ``headroom_retrieve`` call the model made."""

    id: str
    handle: str
    query: str | None


def offer(
    raw: bytes, fmt: Format, *, parsed: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The body with the tool appended, or ``None`` when this request gets no tool.

    ``parsed`` is ``raw`` already read (it is not changed: the body returned is a copy).
    """
    if fmt not in LOOP_FORMATS or _MARKER_BYTES not in raw:
        return None
    try:
        # wire.loads, as the compression read it: NaN refused (dump would write null)
        body = dict(parsed) if parsed is not None else loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    messages = body.get(messages_key(fmt))
    if not isinstance(messages, list) or not _any_marker(messages):
        return None
    tools = body.get("tools")
    if tools is None:
        tools = []
    if not isinstance(tools, list) or any(_tool_name(tool) == TOOL_NAME for tool in tools):
        return None  # the client's own tool (it answers its calls), or a shape we don't know
    body["tools"] = [*tools, tool_definition(fmt)]
    return body


def retrieve_calls(response: object, fmt: Format) -> list[Call] | None:
    """The calls when the response's assistant turn calls ``headroom_retrieve`` and nothing
    else; ``None`` for any other response (text, the client's tools, several choices)."""
    if not isinstance(response, dict):
        return None
    if fmt == "anthropic":
        content = response.get("content")
        if not isinstance(content, list):
            return None
        uses = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_use"]
        if not uses or any(use.get("name") != TOOL_NAME for use in uses):
            return None
        return [_call(use.get("id"), use.get("input")) for use in uses]
    if fmt == "responses":
        output = response.get("output")
        if not isinstance(output, list):
            return None
        items = [i for i in output if isinstance(i, dict) and i.get("type") == "function_call"]
        if not items or any(item.get("name") != TOOL_NAME for item in items):
            return None
        return [_call(item.get("call_id"), _arguments(item.get("arguments"))) for item in items]
    choices = response.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    if not isinstance(calls, list) or not calls:
        return None
    functions = [c.get("function") if isinstance(c, dict) else None for c in calls]
    if any(not isinstance(f, dict) or f.get("name") != TOOL_NAME for f in functions):
        return None
    return [
        _call(call.get("id"), _arguments(function.get("arguments")))
        for call, function in zip(calls, functions, strict=True)
        if isinstance(function, dict)
    ]


def _arguments(text: object) -> object:
    try:
        return json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}  # answered with the message for a missing handle


def continuation(
    response: dict[str, Any],
    calls: list[Call],
    answers: list[str],
    fmt: Format,
    *,
    body_store: object = None,
) -> list[dict[str, Any]]:
    """The messages to append: the model's turn as it made it, then one answer per call.

    ``body_store`` is the request's ``store`` field (Responses only: see
    :func:`_replayable`).
    """
    if fmt == "anthropic":
        # The whole content goes back (text, thinking blocks and all): Anthropic wants a
        # thinking block returned with the tool use that followed it.
        return [
            {"role": "assistant", "content": response["content"]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": call.id, "content": answer}
                    for call, answer in zip(calls, answers, strict=True)
                ],
            },
        ]
    if fmt == "responses":
        return [
            *(item for item in response["output"] if _replayable(item, body_store)),
            *(
                {"type": "function_call_output", "call_id": call.id, "output": answer}
                for call, answer in zip(calls, answers, strict=True)
            ),
        ]
    message = response["choices"][0]["message"]
    # Only the fields a request message has (a response adds refusal, annotations...).
    turn = {
        "role": "assistant",
        "content": message.get("content"),
        "tool_calls": message["tool_calls"],
    }
    return [
        turn,
        *(
            {"role": "tool", "tool_call_id": call.id, "content": answer}
            for call, answer in zip(calls, answers, strict=True)
        ),
    ]


def _replayable(item: object, store: object) -> bool:
    """Whether a Responses output item can go back as input. A reasoning item of a request
    with ``store: false`` can only be replayed with its ``encrypted_content`` (the server
    kept nothing to look its id up in); without it the item is left out, as the model can
    go on without it."""
    if not isinstance(item, dict):
        return False
    if item.get("type") == "reasoning" and store is False:
        return bool(item.get("encrypted_content"))
    return True


def _call(call_id: object, arguments: object) -> Call:
    args = arguments if isinstance(arguments, dict) else {}
    handle = args.get("handle")
    query = args.get("query")
    return Call(
        id=call_id if isinstance(call_id, str) else "",
        # A handle that is not a string is answered as one that cannot be read.
        handle=handle if isinstance(handle, str) else "",
        query=query if isinstance(query, str) and query.strip() else None,
    )


def _tool_name(tool: object) -> object:
    if not isinstance(tool, dict):
        return None
    function = tool.get("function")
    if isinstance(function, dict):  # chat: {"type": "function", "function": {"name": ...}}
        return function.get("name")
    return tool.get("name")  # anthropic, and chat's custom tools


def _any_marker(value: object) -> bool:
    """Whether any string inside ``value`` (messages, blocks, parts) holds a marker."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_marker(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
