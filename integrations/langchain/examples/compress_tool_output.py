"""A tool's large log output, compressed before a chat model sees it; the original retrieved.

Runs offline with langchain-core alone (no `agents` extra, no API key): a scripted chat
model from langchain_core stands in for a real one, and originals live in memory.

    python examples/compress_tool_output.py
"""

from __future__ import annotations

from headroom import Headroom, count_tokens
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolCall, ToolMessage
from langchain_core.tools import tool

from langchain_headroom import HeadroomCallbackHandler, compress_tool, make_retrieve_tool


@tool
def read_log(service: str) -> str:
    """Read a service's log."""
    lines = []
    for i in range(1500):
        ts = f"2024-05-01T12:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
        if i == 1234:
            lines.append(
                f"{ts} ERROR [{service}-{i % 4}] OrderService: connection to db-7:5432 "
                "refused (errno 111); retry 3/3 failed"
            )
        else:
            lines.append(
                f"{ts} INFO [{service}-{i % 4}] OrderService: order o-{i:05d} placed for "
                f"customer c-{i * 7 % 311} total={19.99 + i % 50:.2f} USD"
            )
    return "\n".join(lines)


def main() -> None:
    """Compress one tool call's output, send it to a chat model, and retrieve the original."""
    headroom = Headroom(store="memory")  # originals kept in this process
    compressed_tool = compress_tool(read_log, headroom=headroom, query="database errors")
    args = {"service": "checkout"}
    call = ToolCall(type="tool_call", id="call-1", name="read_log", args=args)
    raw = read_log.invoke(args)
    result = compressed_tool.invoke(call)
    assert isinstance(result, ToolMessage)
    meta = result.response_metadata["headroom"]
    print(f"tool output: {count_tokens(raw)} tokens raw, {count_tokens(result.text)} sent")
    print(f"  ({meta['tokens_before']} -> {meta['tokens_after']} tokens, kind={meta['kind']})")

    stats = HeadroomCallbackHandler()
    model = FakeListChatModel(responses=["checkout could not reach db-7 (connection refused)."])
    request = [
        HumanMessage("Why did checkout fail?"),
        AIMessage("", tool_calls=[{"id": "call-1", "name": "read_log", "args": args}]),
        result,
    ]
    answer = model.invoke(request, config={"callbacks": [stats]})
    print(f"model answer: {answer.content}")
    print(
        f"chat-model calls: {stats.total.calls}, tokens sent: {stats.total.tokens_sent}, "
        f"tokens saved: {stats.total.tokens_saved}"
    )

    retrieve = make_retrieve_tool(headroom)
    handle = meta["handles"][0]
    original = retrieve.invoke({"handle": handle})
    print(f"headroom_retrieve({handle!r}) gives back the original: {original == raw}")


if __name__ == "__main__":
    main()
