"""When the proxy offers ``headroom_retrieve`` and which responses it answers itself."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from headroom.handles import format_marker
from headroom.proxy.retrieve import (
    TOOL_NAME,
    continuation,
    offer,
    retrieve_calls,
    tool_definition,
)
from headroom.proxy.retrieve_loop import summed
from headroom.proxy.wire import dump, messages_key

MARKER = format_marker(40, "lines", "headroom:2cf24dba5fb0", summary="INFO ×40")


def _body(content: Any, **fields: Any) -> bytes:
    return dump({"model": "m", "messages": [{"role": "tool", "content": content}], **fields})


def test_offered_when_a_message_holds_a_marker() -> None:
    for content in (f"head\n{MARKER}\ntail", [{"type": "text", "text": MARKER}]):
        body = offer(_body(content, tools=[{"name": "read_file"}]), "anthropic")
        assert body is not None
        assert body["tools"] == [{"name": "read_file"}, tool_definition("anthropic")]
    for streamed in (False, True):
        body = offer(_body(MARKER, stream=streamed), "chat")
        assert body is not None and body["tools"] == [tool_definition("chat")]


def test_not_offered() -> None:
    assert offer(_body("no marker, but retrieve: headroom: is mentioned"), "chat") is None
    assert (
        offer(
            dump({"system": MARKER, "messages": [{"role": "user", "content": "hi"}]}), "anthropic"
        )
        is None
    )
    own = {"type": "function", "function": {"name": TOOL_NAME}}
    assert offer(_body(MARKER, tools=[own]), "chat") is None
    assert offer(_body(MARKER, tools="not a list"), "chat") is None
    assert offer(b'{"messages": [' + MARKER.encode(), "chat") is None  # not JSON
    # NaN is not JSON to the proxy: the body goes out as sent, not rewritten with null
    nan = _body(MARKER)[:-1] + b',"temperature":NaN}'
    assert offer(nan, "chat") is None


# The offered tool's bytes, per wire format (SHA-256, first 16 hex digits). Every request
# with a marker carries them, near the start of a provider's cached prefix: changing them
# costs every client its cache once, so a change here must be deliberate.
TOOL_DIGESTS = {
    "chat": "6f82247439bb6c05",
    "anthropic": "ce32cfae47dbe6c4",
    "responses": "7aa80558053ff725",
}


def test_the_tool_is_the_same_bytes_every_time() -> None:
    for fmt, digest in TOOL_DIGESTS.items():
        raw = dump({"model": "m", messages_key(fmt): [{"role": "user", "content": MARKER}]})
        offered = offer(raw, fmt)
        assert offered is not None
        tool = dump(offered["tools"][-1])
        assert hashlib.sha256(tool).hexdigest()[:16] == digest, fmt
        assert dump(offered).endswith(b'"tools":[' + tool + b"]}")
        # A caller editing the body it was given does not change the next request's tool.
        schema = (
            offered["tools"][-1].get("input_schema")
            or offered["tools"][-1].get("parameters")
            or offered["tools"][-1]["function"]["parameters"]
        )
        schema["properties"]["handle"]["description"] = "edited"
        schema["required"].append("query")
        again = offer(raw, fmt)
        assert again is not None and dump(again["tools"][-1]) == tool, fmt
    schema = tool_definition("anthropic")["input_schema"]
    assert schema["required"] == ["handle"] and set(schema["properties"]) == {"handle", "query"}


def _chat_response(*names: str, arguments: str = '{"handle": "headroom:2cf24dba5fb0"}') -> Any:
    calls = [
        {"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": arguments}}
        for i, n in enumerate(names)
    ]
    return {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": calls}}]}


def test_retrieve_calls_only_when_every_call_is_ours() -> None:
    calls = retrieve_calls(_chat_response(TOOL_NAME, TOOL_NAME), "chat")
    assert calls is not None and [c.id for c in calls] == ["c0", "c1"]
    assert calls[0].handle == "headroom:2cf24dba5fb0" and calls[0].query is None
    assert retrieve_calls(_chat_response(TOOL_NAME, "read_file"), "chat") is None
    assert retrieve_calls(_chat_response(), "chat") is None
    two = _chat_response(TOOL_NAME)
    two["choices"].append(two["choices"][0])  # n=2: not one turn to continue
    assert retrieve_calls(two, "chat") is None
    # Arguments a model got wrong still make a call, answered with a message.
    bad = retrieve_calls(_chat_response(TOOL_NAME, arguments="{not json"), "chat")
    assert bad is not None and bad[0].handle == ""
    query = json.dumps({"handle": 7, "query": "WARN"})
    odd = retrieve_calls(_chat_response(TOOL_NAME, arguments=query), "chat")
    assert odd is not None and (odd[0].handle, odd[0].query) == ("", "WARN")


def test_anthropic_retrieve_calls() -> None:
    use = {"type": "tool_use", "id": "t1", "name": TOOL_NAME, "input": {"handle": "h", "query": ""}}
    text = {"type": "text", "text": "Looking."}
    calls = retrieve_calls({"content": [text, use]}, "anthropic")
    assert calls is not None and (calls[0].id, calls[0].handle, calls[0].query) == ("t1", "h", None)
    other = {**use, "name": "read_file"}
    assert retrieve_calls({"content": [use, other]}, "anthropic") is None
    assert retrieve_calls({"content": [text]}, "anthropic") is None
    assert retrieve_calls({"type": "error"}, "anthropic") is None


def test_usage_summed_over_rounds() -> None:
    rounds = [
        {"input_tokens": 10, "output_tokens": 2, "service_tier": "standard"},
        {
            "input_tokens": 12,
            "output_tokens": 3,
            "cache_read_input_tokens": 8,
            "service_tier": "standard",
        },
    ]
    assert summed(rounds) == {
        "input_tokens": 22,
        "output_tokens": 5,
        "cache_read_input_tokens": 8,
        "service_tier": "standard",
    }
    nested = [
        {"prompt_tokens_details": {"cached_tokens": 3}},
        {"prompt_tokens_details": {"cached_tokens": 4}},
    ]
    assert summed(nested) == {"prompt_tokens_details": {"cached_tokens": 7}}


def test_responses_offer_and_calls() -> None:
    for streamed in (False, True):
        item = {"type": "function_call_output", "output": MARKER}
        body = offer(dump({"model": "m", "input": [item], "stream": streamed}), "responses")
        assert body is not None and body["tools"] == [tool_definition("responses")]
    assert tool_definition("responses")["strict"] is False  # query is optional
    call = {"type": "function_call", "call_id": "c1", "name": TOOL_NAME, "arguments": "{}"}
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": []}
    response = {"output": [reasoning, call]}
    calls = retrieve_calls(response, "responses")
    assert calls is not None and calls[0].id == "c1"
    assert retrieve_calls({"output": [call, {**call, "name": "read_file"}]}, "responses") is None
    # A reasoning item goes back unless the request was not stored and it has no
    # encrypted content (nothing upstream could resolve it).
    out = {"type": "function_call_output", "call_id": "c1", "output": "x"}
    assert continuation(response, calls, ["x"], "responses") == [reasoning, call, out]
    assert continuation(response, calls, ["x"], "responses", body_store=False) == [call, out]
    sealed = {**reasoning, "encrypted_content": "gAAA"}
    kept = continuation({"output": [sealed, call]}, calls, ["x"], "responses", body_store=False)
    assert kept == [sealed, call, out]


def test_a_stream_of_several_choices_is_not_continued() -> None:
    from headroom.proxy.retrieve_stream import _Round

    turn = _Round("chat")
    call = {"index": 0, "id": "c", "function": {"name": TOOL_NAME, "arguments": "{}"}}
    for index in (0, 1):  # n=2: both choices call the tool
        turn.read({"choices": [{"index": index, "delta": {"tool_calls": [call]}}]})
    assert retrieve_calls(turn.response(), "chat") is None
    one = _Round("chat")
    one.read({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
    assert retrieve_calls(one.response(), "chat") is not None


def test_a_body_read_once_is_offered_as_if_read_again() -> None:
    from headroom import Headroom
    from headroom.proxy.wire import compress_body

    rows = json.dumps([{"id": i, "status": "active", "note": f"row {i}"} for i in range(300)])
    tools = [{"role": "tool", "content": rows}, {"role": "tool", "content": MARKER}]
    raw = dump({"model": "gpt-4o", "messages": tools, "n": 1})
    cases = [("chat", raw, "compressed"), ("anthropic", _body(MARKER), "unchanged")]
    for fmt, body, status in cases:
        rewrite = compress_body(Headroom(store="memory"), body, fmt)
        assert rewrite.status == status
        assert rewrite.parsed is not None and json.loads(rewrite.body) == rewrite.parsed
        kept = json.loads(json.dumps(rewrite.parsed))
        offered = offer(rewrite.body, fmt, parsed=rewrite.parsed)
        assert offered is not None and offered == offer(rewrite.body, fmt)
        assert rewrite.parsed == kept  # the tool went into a copy
