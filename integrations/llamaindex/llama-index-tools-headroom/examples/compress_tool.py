"""A LlamaIndex tool's large log output, compressed; the original retrieved by handle.

Runs offline (no LLM, no API key; originals kept in memory):

    python examples/compress_tool.py
"""

from __future__ import annotations

import re

from headroom import count_tokens
from llama_index.core.tools import FunctionTool

from llama_index.tools.headroom import compress_tool, make_retrieve_tool


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
    """Call the compressed tool as an agent would, then get the original back."""
    small_read_log = compress_tool(FunctionTool.from_defaults(read_log), store="memory")
    raw = read_log("checkout")
    output = small_read_log.call(service="checkout")
    print(
        f"tool {small_read_log.metadata.name!r}: {count_tokens(raw)} tokens raw, "
        f"{count_tokens(output.content)} sent to the LLM"
    )
    print("the error line is kept:", "db-7:5432 refused" in output.content)

    retrieve = make_retrieve_tool(small_read_log.headroom)
    # The compressed text says how to get the rest: a marker with a handle.
    match = re.search(r"headroom:[0-9a-f]+", output.content)
    assert match, "a lossy compression always leaves a handle"
    handle = match.group()
    original = retrieve.call(handle=handle).content
    print(f"headroom_retrieve({handle!r}) gives back the original: {original == raw}")


if __name__ == "__main__":
    main()
