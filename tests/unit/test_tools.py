"""headroom.tools: the retrieve tool, path hints, default model and client every door shares."""

from __future__ import annotations

import pytest

import headroom
from headroom import CompressConfig, Headroom, InvalidArgumentError
from headroom.proxy.retrieve import tool_definition
from headroom.tools import (
    DEFAULT_MODEL,
    RETRIEVE_TOOL_DESCRIPTION,
    RETRIEVE_TOOL_NAME,
    RETRIEVE_TOOL_PARAMETERS,
    answer,
    client_for,
    path_hint,
)

LOG = "\n".join(f"2024-01-01 10:00:{i % 60:02d} INFO worker {i} done" for i in range(400))


def test_answer_gives_the_original_or_a_message_never_an_exception() -> None:
    hr = Headroom(store="memory")
    handle = hr.compress_text(LOG).handles[0]
    assert answer(handle.upper(), client=hr) == LOG
    assert answer(f"`{handle}`.", "worker 7 done", client=hr).startswith("2024-01-01")
    assert answer("3f9a").startswith("Cannot retrieve: handle: '3f9a' is not a Headroom handle")
    assert answer("headroom:000000000000").startswith(
        "No original is stored under 'headroom:000000000000'"
    )
    wrong = answer(handle, client="memory")  # type: ignore[arg-type]
    assert wrong.startswith("Cannot retrieve: client: expected a Headroom instance")


def test_retrieve_answer_is_the_same_function() -> None:
    assert headroom.retrieve_answer is answer


@pytest.mark.parametrize(
    ("arguments", "want"),
    [
        ({"path": "src/app.py"}, "src/app.py"),
        ({"file_path": "a/b.rs"}, "a/b.rs"),
        ({"target_file": "x.ts"}, "x.ts"),
        ('{"filename": "notes.md"}', "notes.md"),
        ({"command": "cd repo && sed -n '1,80p' lib/util.go"}, "lib/util.go"),
        ({"command": "cat setup.py | grep version"}, None),
        ({"path": ""}, None),
        ({"query": "status"}, None),
        ("not json", None),
        (None, None),
    ],
)
def test_path_hint_reads_arguments_as_compress_does(arguments: object, want: str | None) -> None:
    assert path_hint(arguments) == want


def test_client_for_returns_the_given_client_or_makes_one() -> None:
    given = Headroom(store="memory")
    assert client_for(given, store="sqlite", model="gpt-4") is given
    made = client_for(config=CompressConfig(lossy=False), store="memory")
    assert (made.model, made.config.lossy) == (DEFAULT_MODEL, False)
    with pytest.raises(InvalidArgumentError, match="headroom: expected a Headroom"):
        client_for("memory")  # type: ignore[arg-type]


def test_every_door_offers_the_same_retrieve_tool() -> None:
    chat = tool_definition("chat")["function"]
    assert (chat["name"], chat["description"]) == (RETRIEVE_TOOL_NAME, RETRIEVE_TOOL_DESCRIPTION)
    assert chat["parameters"] == RETRIEVE_TOOL_PARAMETERS
    assert chat["parameters"] is not RETRIEVE_TOOL_PARAMETERS  # callers get a copy
    anthropic = tool_definition("anthropic")
    assert anthropic["input_schema"] == RETRIEVE_TOOL_PARAMETERS
