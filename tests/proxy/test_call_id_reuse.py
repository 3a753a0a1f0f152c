"""A tool-call id used again later in a conversation (the tau-bench gpt-4o transcripts do)
must not change how an earlier tool result is hinted, keyed and compressed: its bytes on
the next request would differ and the provider's cached prefix would be lost."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headroom import CompressConfig, Headroom
from headroom.messages import find_slots

ROWS = json.dumps([{"id": i, "path": f"src/m{i}.py", "ok": i % 7 != 0} for i in range(300)])


def _chat(call: str, name: str, path: str) -> dict[str, Any]:
    function = {"name": name, "arguments": json.dumps({"path": path})}
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": call, "type": "function", "function": function}],
    }


def _anthropic(call: str, name: str, path: str) -> dict[str, Any]:
    block = {"type": "tool_use", "id": call, "name": name, "input": {"path": path}}
    return {"role": "assistant", "content": [block]}


def _responses(call: str, name: str, path: str) -> dict[str, Any]:
    args = json.dumps({"path": path})
    return {"type": "function_call", "call_id": call, "name": name, "arguments": args}


CASES = {
    "chat": (_chat, lambda c, text: {"role": "tool", "tool_call_id": c, "content": text}),
    "anthropic": (
        _anthropic,
        lambda c, text: {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": c, "content": text}],
        },
    ),
    "responses": (
        _responses,
        lambda c, text: {"type": "function_call_output", "call_id": c, "output": text},
    ),
}


@pytest.mark.parametrize("shape", sorted(CASES))
def test_a_reused_call_id_leaves_earlier_results_alone(shape: str) -> None:
    call, result = CASES[shape]
    user = {"role": "user", "content": "Which modules are not ok?"}
    if shape == "responses":
        user = {"type": "message", "role": "user", "content": "Which modules are not ok?"}
    first = [user, call("c1", "list_modules", "src/"), result("c1", ROWS)]
    later = [*first, call("c1", "read_file", "notes.md"), result("c1", "short")]
    slots = {s.path[0]: s for s in find_slots(later, CompressConfig()) if s.source == "tool"}
    assert slots[2].hints.tool_name == "list_modules"
    assert slots[4].hints.tool_name == "read_file"
    hr = Headroom(store="memory")
    before = hr.compress(first).messages[2]
    again = hr.compress(later).messages[2]
    assert json.dumps(again) == json.dumps(before)
    assert len(json.dumps(before)) < len(ROWS)
