"""A stand-in coding agent for the ``headroom wrap`` tests, run as ``claude`` or ``codex``.

It does what the real agents do with the variables wrap sets: builds the real SDK client
with no base URL of its own (the SDKs read ``ANTHROPIC_BASE_URL`` / ``OPENAI_BASE_URL``),
sends one request carrying a large tool result, and exits with the code it was given.
What it saw (its argv, the base-URL variables, the wrap state file, the answer) goes to
the JSON file named by ``WRAP_TEST_REPORT``.

Arguments: ``--exit N``; ``--tag T`` (put in the user turn, to find the request upstream);
``--wait-for FILE`` (after the request, wait until FILE exists: keeps the agent, and so its
proxy, running while a test looks); ``--sleep`` (before the request, wait for SIGTERM or
SIGINT, list the signals received and exit 7 after the request).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

ROWS = [{"id": i, "state": "ok", "node": f"n{i % 3}", "latency_ms": 12} for i in range(300)]
TOOL_RESULT = json.dumps(ROWS, indent=2)


def main() -> int:
    name, args = sys.argv[1], sys.argv[2:]  # the bin/ script passes the name it was run as
    report_path = Path(os.environ["WRAP_TEST_REPORT"])
    state_file = Path(os.environ["HEADROOM_HOME"]) / "wrap-proxy.json"
    report = {
        "name": name,
        "argv": args,
        "pid": os.getpid(),
        "env": {
            k: os.environ.get(k)
            for k in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE")
        },
        "state": json.loads(state_file.read_text()) if state_file.exists() else None,
    }
    code = int(args[args.index("--exit") + 1]) if "--exit" in args else 0
    tag = args[args.index("--tag") + 1] if "--tag" in args else "untagged"
    if "--sleep" in args:
        # Wait for a signal; then wait a little for a second copy (there must be none),
        # and make the agent's request anyway, as an agent that was interrupted mid-turn
        # goes on working: the proxy must still be there.
        received: list[int] = []

        def note(signum: int, frame: object) -> None:
            received.append(signum)

        signal.signal(signal.SIGTERM, note)
        signal.signal(signal.SIGINT, note)
        report_path.with_suffix(".ready").write_text("")
        deadline = time.monotonic() + 60
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)
        report["signals"] = received
        code = 7 if received else 3
    if name == "claude":
        import anthropic

        claude = anthropic.Anthropic(api_key="sk-ant-wrap-test", max_retries=0, timeout=30)
        answer = claude.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=100,
            messages=[
                {"role": "user", "content": f"[{tag}] Which nodes are slow?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "toolu_1", "name": "nodes", "input": {}}
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": TOOL_RESULT}
                    ],
                },
            ],
        )
        report["answer"] = answer.content[0].text  # type: ignore[union-attr]
    else:
        import openai

        client = openai.OpenAI(api_key="sk-wrap-test", max_retries=0, timeout=30)
        response = client.responses.create(
            model="gpt-5-codex",
            input=[
                {"role": "user", "content": f"[{tag}] Which nodes are slow?"},
                {"type": "function_call", "call_id": "call_1", "name": "nodes", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "call_1", "output": TOOL_RESULT},
            ],
        )
        report["answer"] = response.output_text
    report_path.write_text(json.dumps(report))
    if "--wait-for" in args:
        gate = Path(args[args.index("--wait-for") + 1])
        deadline = time.monotonic() + 60
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return code


if __name__ == "__main__":
    sys.exit(main())
