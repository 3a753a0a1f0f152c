"""Bad arguments to the public entry points raise a HeadroomError that names the argument.

Never a built-in TypeError, AttributeError or KeyError from deep inside: each case below
is one wrong value for one argument of ``compress``, ``compress_text``, ``count_tokens``,
``retrieve``, ``Headroom(...)``, ``CompressConfig(...)``, ``RollingSummarizer`` or
``CacheAligner``, and the error must say which argument it was. Valid edge values (empty
strings, empty lists) must not raise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headroom import (
    CacheAligner,
    CompressConfig,
    Headroom,
    HeadroomError,
    RollingSummarizer,
    compress,
    compress_text,
    count_tokens,
    retrieve,
)
from headroom.store import MemoryStore

MEM = CompressConfig(store="memory")
GOOD = [{"role": "user", "content": "hello"}]
HANDLE = "headroom:3f9a1c2e4b7d"

Call = Callable[[], object]
CASES: list[Any] = []


def case(argument: str, call: Call, label: str) -> None:
    """One bad-argument case: ``call()`` must raise a HeadroomError naming ``argument``."""
    CASES.append(pytest.param(call, argument, id=f"{label}-{len(CASES)}"))


def _raises(error: type[BaseException]) -> Callable[[str], int]:
    def counter(text: str) -> int:
        raise error("counter broke")

    return counter


def _returns(value: object) -> Callable[[str], Any]:
    return lambda text: value


# --- message lists: compress, count_tokens, RollingSummarizer.summarize, CacheAligner.align --

BAD_MESSAGES: list[object] = [
    None,
    "hello",
    b"hello",
    5,
    3.5,
    {"role": "user", "content": "x"},
    object(),
    [None],
    ["user"],
    [5],
    [[("role", "user"), ("content", "x")]],
    [{"content": "x"}],
    [{"role": 5, "content": "x"}],
    [{"role": ["user"], "content": "x"}],
    [{"role": {"user": 1}, "content": "x"}],
    [{"role": {"user"}, "content": "x"}],
    [{"role": b"user", "content": "x"}],
    [{"role": None, "content": "x"}],
    [{"role": "User", "content": "x"}],
    [{"role": "bot", "content": "x"}],
    [{"role": "user"}],
    [{"role": "user", "content": 5}],
    [{"role": "user", "content": b"x"}],
    [{"role": "user", "content": {"text": "x"}}],
    [{"role": "user", "content": [5]}],
    [{"role": "user", "content": [{"text": "x"}]}],
    [{"role": "user", "content": [{"type": 5}]}],
    [{"role": "user", "content": [{"type": ["text"], "text": "x"}]}],
    [{"role": "user", "content": [{"type": "text", "text": 5}]}],
    [{"role": "user", "content": [{"type": "text"}]}],
    [{"role": "user", "content": [{"type": "tool_result", "content": 5}]}],
    [{"role": "user", "content": [{"type": "tool_result", "content": [5]}]}],
    [{"role": "assistant", "content": "x", "tool_calls": "abc"}],
    [{"role": "assistant", "content": "x", "tool_calls": {"id": "1"}}],
]

for i, bad in enumerate(BAD_MESSAGES):
    case("messages", lambda bad=bad: compress(bad, config=MEM), f"compress-messages{i}")  # type: ignore[misc]
    if not isinstance(bad, str):  # count_tokens counts a string as text
        case("content", lambda bad=bad: count_tokens(bad), f"count_tokens-content{i}")  # type: ignore[misc]
    case(
        "messages",
        lambda bad=bad: RollingSummarizer(1000, store="memory").summarize(bad),  # type: ignore[misc]
        f"summarize-messages{i}",
    )
    case("messages", lambda bad=bad: CacheAligner().align(bad), f"align-messages{i}")  # type: ignore[misc]

# --- model, query, tool_name, path, kind, text ------------------------------------------------

NOT_STR: list[object] = [5, b"gpt-4o", ["gpt-4o"], 4.0, {"gpt-4o": 1}]
for i, bad in enumerate(NOT_STR):
    case("model", lambda bad=bad: compress(GOOD, model=bad, config=MEM), f"compress-model{i}")  # type: ignore[misc]
    case(
        "model",
        lambda bad=bad: compress_text("x", model=bad, config=MEM),  # type: ignore[misc]
        f"compress_text-model{i}",
    )
    case("model", lambda bad=bad: count_tokens("x", model=bad), f"count_tokens-model{i}")  # type: ignore[misc]
    case("model", lambda bad=bad: Headroom(store="memory", model=bad), f"Headroom-model{i}")  # type: ignore[misc]
    case(
        "model",
        lambda bad=bad: Headroom(store="memory").compress(GOOD, model=bad),  # type: ignore[misc]
        f"Headroom.compress-model{i}",
    )
    case(
        "model",
        lambda bad=bad: RollingSummarizer(1000, store="memory", model=bad),  # type: ignore[misc]
        f"RollingSummarizer-model{i}",
    )
    case("query", lambda bad=bad: compress(GOOD, query=bad, config=MEM), f"compress-query{i}")  # type: ignore[misc]
    case(
        "query",
        lambda bad=bad: compress_text("x", query=bad, config=MEM),  # type: ignore[misc]
        f"compress_text-query{i}",
    )
    case("query", lambda bad=bad: retrieve(HANDLE, query=bad), f"retrieve-query{i}")  # type: ignore[misc]
    case(
        "query",
        lambda bad=bad: Headroom(store="memory").retrieve(HANDLE, query=bad),  # type: ignore[misc]
        f"Headroom.retrieve-query{i}",
    )
    case(
        "tool_name",
        lambda bad=bad: compress_text("x", tool_name=bad, config=MEM),  # type: ignore[misc]
        f"compress_text-tool_name{i}",
    )
    case(
        "path",
        lambda bad=bad: compress_text("x", path=bad, config=MEM),  # type: ignore[misc]
        f"compress_text-path{i}",
    )
    case(
        "text",
        lambda bad=bad: compress_text(bad, config=MEM),  # type: ignore[misc]
        f"compress_text-text{i}",
    )
    case(
        "kind",
        lambda bad=bad: compress_text("x", kind=bad, config=MEM),  # type: ignore[misc]
        f"compress_text-kind{i}",
    )

case("model", lambda: Headroom(store="memory", model=None), "Headroom-model-None")  # type: ignore[arg-type]
case("text", lambda: compress_text(None, config=MEM), "compress_text-text-None")  # type: ignore[arg-type]
case("kind", lambda: compress_text("x", kind=None, config=MEM), "compress_text-kind-None")  # type: ignore[arg-type]
case("kind", lambda: compress_text("x", kind="JSON", config=MEM), "compress_text-kind-upper")
case("kind", lambda: compress_text("x", kind="", config=MEM), "compress_text-kind-empty")

# --- handles ---------------------------------------------------------------------------------

BAD_HANDLES: list[object] = [5, None, b"headroom:3f9a1c2e4b7d", [HANDLE], "", "not a handle"]
for i, bad in enumerate(BAD_HANDLES):
    case("handle", lambda bad=bad: retrieve(bad), f"retrieve-handle{i}")  # type: ignore[misc]
    case(
        "handle",
        lambda bad=bad: Headroom(store="memory").retrieve(bad),  # type: ignore[misc]
        f"Headroom.retrieve-handle{i}",
    )
for i, bad in enumerate(["memory", 5, object()]):
    case("client", lambda bad=bad: retrieve(HANDLE, client=bad), f"retrieve-client{i}")  # type: ignore[misc]

# --- config= and token counters --------------------------------------------------------------

BAD_CONFIGS: list[object] = [{}, {"lossy": False}, "memory", 5, CompressConfig, [MEM]]
for i, bad in enumerate(BAD_CONFIGS):
    case("config", lambda bad=bad: compress(GOOD, config=bad), f"compress-config{i}")  # type: ignore[misc]
    case("config", lambda bad=bad: compress_text("x", config=bad), f"compress_text-config{i}")  # type: ignore[misc]
    case("config", lambda bad=bad: Headroom(bad, store="memory"), f"Headroom-config{i}")  # type: ignore[misc]

BAD_COUNTERS: list[Callable[[str], Any]] = [
    _raises(ValueError),
    _raises(TypeError),
    _raises(KeyError),
    _returns("3"),
    _returns(3.0),
    _returns(None),
    _returns(-1),
    _returns(True),
    _returns([3]),
]
for i, bad in enumerate(BAD_COUNTERS):
    cfg = CompressConfig(store="memory", token_counter=bad)
    case("token_counter", lambda cfg=cfg: compress(GOOD, config=cfg), f"compress-counter{i}")  # type: ignore[misc]
    case(
        "token_counter",
        lambda cfg=cfg: compress_text("x", config=cfg),  # type: ignore[misc]
        f"compress_text-counter{i}",
    )
    case(
        "token_counter",
        lambda bad=bad: count_tokens("x", token_counter=bad),  # type: ignore[misc]
        f"count_tokens-counter{i}",
    )
    case(
        "token_counter",
        lambda bad=bad: RollingSummarizer(10, store="memory", token_counter=bad).summarize(GOOD),  # type: ignore[misc]
        f"summarize-counter{i}",
    )
for i, bad in enumerate([5, "len", [len]]):
    case(
        "token_counter",
        lambda bad=bad: count_tokens("x", token_counter=bad),  # type: ignore[misc]
        f"count_tokens-counter-type{i}",
    )
    case(
        "token_counter",
        lambda bad=bad: CompressConfig(token_counter=bad),  # type: ignore[misc]
        f"CompressConfig-counter-type{i}",
    )
    case(
        "token_counter",
        lambda bad=bad: RollingSummarizer(10, store="memory", token_counter=bad),  # type: ignore[misc]
        f"RollingSummarizer-counter-type{i}",
    )

# --- Headroom(...) ---------------------------------------------------------------------------

for i, bad in enumerate([5, "", "postgres://localhost", 1.5, ["memory"]]):
    case("store", lambda bad=bad: Headroom(store=bad), f"Headroom-store{i}")  # type: ignore[misc]
for i, bad in enumerate(["default", 5, [], object()]):
    case(
        "registry",
        lambda bad=bad: Headroom(store="memory", registry=bad),  # type: ignore[misc]
        f"Headroom-registry{i}",
    )

# --- CompressConfig(...) ---------------------------------------------------------------------

for name in ("compress_tool_results", "compress_user_messages", "compress_assistant_messages"):
    for i, bad in enumerate([1, "yes", None]):
        case(
            name,
            lambda name=name, bad=bad: CompressConfig(**{name: bad}),  # type: ignore[misc]
            f"CompressConfig-{name}{i}",
        )
for i, bad in enumerate([1, "false", None]):
    case("lossy", lambda bad=bad: CompressConfig(lossy=bad), f"CompressConfig-lossy{i}")  # type: ignore[misc]
for name in ("protect_recent", "min_tokens", "max_input_chars"):
    for i, bad in enumerate([-1, 1.5, "4", True, None]):
        case(
            name,
            lambda name=name, bad=bad: CompressConfig(**{name: bad}),  # type: ignore[misc]
            f"CompressConfig-{name}{i}",
        )
for i, bad in enumerate([0, 1.5, -0.1, "0.5", True, math.nan, math.inf]):
    case(
        "target_ratio",
        lambda bad=bad: CompressConfig(target_ratio=bad),  # type: ignore[misc]
        f"CompressConfig-target_ratio{i}",
    )
for i, bad in enumerate(["json", ["bogus"], {"json": 1}, [["json"]], [5, "x"], 5, [None]]):
    case(
        "disabled_kinds",
        lambda bad=bad: CompressConfig(disabled_kinds=bad),  # type: ignore[misc]
        f"CompressConfig-disabled_kinds{i}",
    )
for i, bad in enumerate([5, 1.5, ["memory"], {"a": 1}, b"memory"]):
    case("store", lambda bad=bad: CompressConfig(store=bad), f"CompressConfig-store{i}")  # type: ignore[misc]
# Not a path, a path that is not a directory, a directory that is not a model.
for i, bad in enumerate([5, 1.5, True, ["default"], b"/tmp", "/no/such/kompress-model", ""]):
    case(
        "kompress_model",
        lambda bad=bad: CompressConfig(kompress_model=bad),  # type: ignore[misc]
        f"CompressConfig-kompress_model{i}",
    )

# --- RollingSummarizer -----------------------------------------------------------------------

case("budget_tokens", lambda: RollingSummarizer(store="memory"), "RollingSummarizer-no-budget")
for i, bad in enumerate([0, -1, 1.5, "100", True, [100]]):
    case(
        "budget_tokens",
        lambda bad=bad: RollingSummarizer(bad, store="memory"),  # type: ignore[misc]
        f"RollingSummarizer-budget_tokens{i}",
    )
for i, bad in enumerate([0, 1.5, "3", True]):
    case(
        "max_messages",
        lambda bad=bad: RollingSummarizer(max_messages=bad, store="memory"),  # type: ignore[misc]
        f"RollingSummarizer-max_messages{i}",
    )
for i, bad in enumerate([-1, "4", None, True, 1.5]):
    case(
        "keep_recent",
        lambda bad=bad: RollingSummarizer(100, keep_recent=bad, store="memory"),  # type: ignore[misc]
        f"RollingSummarizer-keep_recent{i}",
    )
for i, bad in enumerate([5, "extractive", [len]]):
    case(
        "summarizer",
        lambda bad=bad: RollingSummarizer(100, summarizer=bad, store="memory"),  # type: ignore[misc]
        f"RollingSummarizer-summarizer{i}",
    )
for i, bad in enumerate([5, "", ["memory"]]):
    case("store", lambda bad=bad: RollingSummarizer(100, store=bad), f"RollingSummarizer-store{i}")  # type: ignore[misc]

LONG = [
    {"role": "system", "content": "You help."},
    *(
        {"role": "user" if k % 2 == 0 else "assistant", "content": f"Turn {k}: order ORD-{k}."}
        for k in range(8)
    ),
]
for i, bad in enumerate([None, 5, b"summary", ["a summary"], {"text": "x"}]):
    case(
        "summarizer",
        lambda bad=bad: RollingSummarizer(  # type: ignore[misc]
            max_messages=3, keep_recent=1, summarizer=_returns(bad), store="memory"
        ).summarize(LONG),
        f"summarize-summarizer-returns{i}",
    )

# --- CacheAligner ----------------------------------------------------------------------------

for i, bad in enumerate(["yes", 1, None, "false"]):
    case(
        "move_volatile",
        lambda bad=bad: CacheAligner(move_volatile=bad),  # type: ignore[misc]
        f"CacheAligner-move_volatile{i}",
    )
for i, bad in enumerate([-1, "1", 1.5, True, None]):
    case(
        "prefix_turns",
        lambda bad=bad: CacheAligner(prefix_turns=bad),  # type: ignore[misc]
        f"CacheAligner-prefix_turns{i}",
    )
for i, bad in enumerate(["tools", 5, {"type": "function"}, [5], ["x"], b"x"]):
    case("tools", lambda bad=bad: CacheAligner().align(GOOD, tools=bad), f"align-tools{i}")  # type: ignore[misc]


def test_there_are_at_least_150_cases() -> None:
    assert len(CASES) >= 150


@pytest.fixture(autouse=True, scope="module")
def _isolated_default_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """retrieve() falls back to the default SQLite store: keep it in a fresh directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEADROOM_HOME", str(tmp_path_factory.mktemp("home")))
        yield


@pytest.mark.parametrize(("call", "argument"), CASES)
def test_bad_argument_raises_a_headroom_error_naming_it(call: Call, argument: str) -> None:
    # pytest.raises(HeadroomError) lets any other exception type through, failing the case.
    with pytest.raises(HeadroomError) as info:
        call()
    assert argument in str(info.value), str(info.value)


# --- valid edge values -----------------------------------------------------------------------


def _stored() -> tuple[Headroom, str]:
    hr = Headroom(store=MemoryStore())
    return hr, hr.store.put("the original", kind="text")


VALID: list[Any] = [
    pytest.param(lambda: compress([], config=MEM), id="compress-empty-list"),
    pytest.param(lambda: compress((), config=MEM), id="compress-empty-tuple"),
    pytest.param(lambda: compress(GOOD, query="", config=MEM), id="compress-empty-query"),
    pytest.param(lambda: compress(GOOD, model="", config=MEM), id="compress-empty-model"),
    pytest.param(lambda: compress(GOOD, model=None, config=MEM), id="compress-model-None"),  # type: ignore[arg-type]
    pytest.param(
        lambda: compress([{"role": "user", "content": ""}], config=MEM), id="compress-empty-text"
    ),
    pytest.param(
        lambda: compress([{"role": "user", "content": []}], config=MEM), id="compress-no-parts"
    ),
    pytest.param(
        lambda: compress([{"role": "assistant", "content": None, "tool_calls": []}], config=MEM),
        id="compress-no-calls",
    ),
    pytest.param(lambda: compress_text("", config=MEM), id="compress_text-empty"),
    pytest.param(
        lambda: compress_text("x", query="", tool_name="", path="", model="", config=MEM),
        id="compress_text-empty-hints",
    ),
    pytest.param(
        lambda: compress_text("x", path=Path("notes.md"), config=MEM),  # type: ignore[arg-type]
        id="compress_text-pathlike",
    ),
    pytest.param(lambda: compress_text("x", kind="opaque", config=MEM), id="compress_text-opaque"),
    pytest.param(lambda: count_tokens(""), id="count_tokens-empty-str"),
    pytest.param(lambda: count_tokens([]), id="count_tokens-empty-list"),
    pytest.param(lambda: count_tokens("x", model=""), id="count_tokens-empty-model"),
    pytest.param(lambda: count_tokens("x", token_counter=len), id="count_tokens-len"),
    pytest.param(lambda: count_tokens("x", token_counter=lambda t: 0), id="count_tokens-zero"),
    pytest.param(lambda: _stored()[0].retrieve(_stored()[1], query=""), id="retrieve-empty-query"),
    pytest.param(lambda: CompressConfig(disabled_kinds=[]), id="CompressConfig-no-kinds"),
    pytest.param(lambda: CompressConfig(disabled_kinds=("json",)), id="CompressConfig-tuple"),
    pytest.param(lambda: CompressConfig(store=Path("x.sqlite3")), id="CompressConfig-pathlike"),
    pytest.param(lambda: CompressConfig(protect_recent=0, min_tokens=0), id="CompressConfig-zeros"),
    pytest.param(lambda: CompressConfig(target_ratio=1), id="CompressConfig-ratio-one"),
    pytest.param(
        lambda: CompressConfig(kompress_model="default"), id="CompressConfig-kompress-default"
    ),
    pytest.param(lambda: Headroom(store="memory", model=""), id="Headroom-empty-model"),
    pytest.param(lambda: RollingSummarizer(10, store="memory").summarize([]), id="summarize-empty"),
    pytest.param(
        lambda: RollingSummarizer(max_messages=3, keep_recent=0, store="memory").summarize(LONG),
        id="summarize-keep-none",
    ),
    pytest.param(
        lambda: RollingSummarizer(
            max_messages=3, keep_recent=1, summarizer=_returns(""), store="memory"
        ).summarize(LONG),
        id="summarize-summarizer-empty-string",
    ),
    pytest.param(lambda: CacheAligner().align([]), id="align-empty"),
    pytest.param(lambda: CacheAligner().align([], tools=[]), id="align-no-tools"),
    pytest.param(lambda: CacheAligner(prefix_turns=0, move_volatile=False), id="CacheAligner-off"),
]


@pytest.mark.parametrize("call", VALID)
def test_valid_edge_values_do_not_raise(call: Call) -> None:
    call()


def test_token_counter_error_says_what_it_returned_or_raised() -> None:
    with pytest.raises(HeadroomError, match=r"token_counter.*'3'"):
        count_tokens("x", token_counter=_returns("3"))
    with pytest.raises(HeadroomError, match=r"token_counter.*ValueError.*counter broke"):
        count_tokens("x", token_counter=_raises(ValueError))


def test_summarizer_error_says_what_it_returned() -> None:
    rs = RollingSummarizer(max_messages=3, keep_recent=1, summarizer=_returns(None), store="memory")
    with pytest.raises(HeadroomError, match=r"summarizer.*None"):
        rs.summarize(LONG)
