"""HeadroomMemory and HeadroomMemoryBlock with real data, real Memory and a real FunctionAgent."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from headroom import Headroom, count_tokens
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms import MockLLM
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.memory import Memory
from llama_index.core.tools import FunctionTool

from llama_index.memory.headroom import HeadroomMemory, HeadroomMemoryBlock

HANDLE = re.compile(r"headroom:[0-9a-f]+")


def _tool_history(json_text: str, question: str = "which issues are open?") -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content="You triage GitHub issues."),
        ChatMessage(role="user", content="list the rails_admin issues"),
        ChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(
                    tool_call_id="c1", tool_name="list_issues", tool_kwargs={"repo": "rails_admin"}
                )
            ],
        ),
        ChatMessage(role="tool", content=json_text, additional_kwargs={"tool_call_id": "c1"}),
        ChatMessage(role="assistant", content="There are 30 issues."),
        ChatMessage(role="user", content=question),
    ]


def _orders(n: int) -> list[ChatMessage]:
    out = [ChatMessage(role="system", content="You track shipments.")]
    for i in range(n):
        out.append(ChatMessage(role="user", content=f"Where is order ORD-{1000 + i}?"))
        out.append(
            ChatMessage(
                role="assistant",
                content=f"Order ORD-{1000 + i} shipped on 2024-03-{i % 28 + 1:02d} via UPS, "
                f"tracking 1Z{i:04d}99; it arrives in {i % 5 + 2} days.",
            )
        )
    return out


def test_tool_outputs_are_compressed_in_what_is_sent_and_kept_whole_in_the_store(
    json_text: str,
) -> None:
    history = _tool_history(json_text)
    snapshot = [m.model_dump_json() for m in history]
    memory = HeadroomMemory.from_defaults(chat_history=history, store="memory")
    sent = memory.get()
    assert [m.role for m in sent] == [m.role for m in history]
    assert count_tokens(sent[3].content or "") < count_tokens(json_text) / 3
    assert sent[3].additional_kwargs == {"tool_call_id": "c1"}
    assert [m.content for i, m in enumerate(sent) if i != 3] == [
        m.content for i, m in enumerate(history) if i != 3
    ]
    assert sent[2].blocks == history[2].blocks  # tool calls travel unchanged
    # Stored messages are the originals, untouched.
    assert memory.get_all()[3].content == json_text
    assert [m.model_dump_json() for m in history] == snapshot
    for handle in HANDLE.findall(sent[3].content or ""):
        assert handle in memory.client.store


def test_the_view_does_not_depend_on_the_next_question(json_text: str) -> None:
    a = HeadroomMemory.from_defaults(chat_history=_tool_history(json_text), store="memory")
    b = HeadroomMemory.from_defaults(
        chat_history=_tool_history(json_text, "who opened the most recent issue?"),
        store="memory",
    )
    assert a.get()[3].content == b.get()[3].content
    assert a.get()[3].content == a.get()[3].content


def test_max_messages_rolls_old_turns_into_a_retrievable_summary() -> None:
    history = _orders(12)
    memory = HeadroomMemory.from_defaults(
        chat_history=history, max_messages=6, keep_recent=2, store="memory"
    )
    sent = memory.get()
    assert len(sent) <= 6
    assert sent[0].content == "You track shipments."
    summary = sent[1].content or ""
    assert "ORD-1000" in summary and "1Z000099" in summary
    assert [m.content for m in sent[-2:]] == [m.content for m in history[-2:]]
    [handle] = HANDLE.findall(summary)
    originals = memory.client.retrieve(handle)
    assert "Where is order ORD-1000?" in originals
    assert len(memory.get_all()) == len(history)


def test_budget_tokens_rolls_up_until_the_history_fits() -> None:
    history = _orders(40)
    memory = HeadroomMemory.from_defaults(chat_history=history, budget_tokens=900, store="memory")
    sent = memory.get()
    assert count_tokens([{"role": m.role.value, "content": m.content} for m in sent]) <= 900
    assert "ORD-1000" in (sent[1].content or "")


def test_an_llm_sets_the_budget_like_chat_memory_buffer() -> None:
    memory = HeadroomMemory.from_defaults(llm=MockLLM(), store="memory")
    assert memory.budget_tokens == int(MockLLM().metadata.context_window * 0.75)


def test_async_get_matches_get_and_events_are_emitted(json_text: str, events: Any) -> None:
    memory = HeadroomMemory.from_defaults(chat_history=_tool_history(json_text), store="memory")
    sent = asyncio.run(memory.aget())
    assert [m.content for m in sent] == [m.content for m in memory.get()]
    compressions = events.headroom
    assert len(compressions) == 1  # computed once per history
    assert compressions[0].component == "memory"
    assert compressions[0].tokens_after < compressions[0].tokens_before


def test_put_and_reset_work_like_any_chat_memory() -> None:
    memory = HeadroomMemory.from_defaults(store="memory")
    memory.put(ChatMessage(role="user", content="hi"))
    asyncio.run(memory.aput(ChatMessage(role="assistant", content="hello")))
    assert [m.content for m in memory.get()] == ["hi", "hello"]
    memory.reset()
    assert memory.get() == []


def test_invalid_options_are_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="budget_tokens"):
        HeadroomMemory(budget_tokens=0)
    with pytest.raises(ValueError, match="keep_recent"):
        HeadroomMemory(keep_recent=-1)


# -- a real agent over several runs ----------------------------------------------------------


@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
def test_function_agent_remembers_compressed_tool_output_and_rolls_up_old_runs(
    json_text: str,
) -> None:
    seen: list[list[ChatMessage]] = []

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        seen.append(list(messages))
        last = messages[-1]
        if last.role == MessageRole.USER and "issues" in (last.content or ""):
            return ChatMessage(
                role="assistant",
                blocks=[
                    ToolCallBlock(
                        tool_call_id=f"c{len(seen)}",
                        tool_name="list_issues",
                        tool_kwargs={"repo": "rails_admin"},
                    )
                ],
            )
        return ChatMessage(role="assistant", content=f"Answer {len(seen)}: issue #3392 is open.")

    def list_issues(repo: str) -> str:
        """List a GitHub repository's issues as JSON."""
        return json_text

    hr = Headroom(store="memory")
    memory = HeadroomMemory.from_defaults(max_messages=8, keep_recent=4, headroom=hr)
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(list_issues)],
        llm=MockFunctionCallingLLM(response_generator=respond),
    )

    async def ask(question: str) -> str:
        return str(await agent.run(user_msg=question, memory=memory))

    asyncio.run(ask("list the rails_admin issues"))
    # Within the run the agent sends the raw output (wrap the tool to compress it there);
    # from the next run on, the memory sends it compressed.
    first_run_tool = [m for m in seen[-1] if m.role == MessageRole.TOOL]
    assert first_run_tool[0].content == json_text
    asyncio.run(ask("which one is the oldest?"))
    history_tool = [m for m in seen[-1] if m.role == MessageRole.TOOL]
    assert count_tokens(history_tool[0].content or "") < count_tokens(json_text) / 3
    for q in ("and the newest?", "who filed it?", "any labels?", "thanks, summarize"):
        asyncio.run(ask(q))
    sent = seen[-1]
    assert len(sent) <= 9  # 8 from memory, plus nothing else in a plain answer step
    assert "list the rails_admin issues" in (sent[0].content or "")  # the summary cites it
    assert len(memory.get_all()) == 14
    assert memory.get_all()[2].content == json_text


# -- the memory block inside LlamaIndex's Memory -----------------------------------------------


def test_memory_block_condenses_flushed_turns_into_the_system_message() -> None:
    block = HeadroomMemoryBlock(store="memory")
    memory = Memory.from_defaults(
        session_id="orders",
        token_limit=2000,
        chat_history_token_ratio=0.25,
        token_flush_size=200,
        memory_blocks=[block],
    )
    history = _orders(20)[1:]
    memory.put_messages(history)
    sent = memory.get()
    system = sent[0]
    assert system.role == MessageRole.SYSTEM
    text = system.content or ""
    assert "<headroom_history>" in text and "ORD-1000" in text
    # Flushed turns left the chat history; the recent ones are there verbatim.
    assert "Where is order ORD-1000?" not in [m.content for m in sent[1:]]
    assert sent[-1].content == history[-1].content
    [handle] = HANDLE.findall(text)
    assert "Where is order ORD-1000?" in block.client.retrieve(handle)


def test_memory_block_budget_and_truncation_shed_by_salience_not_age() -> None:
    block = HeadroomMemoryBlock(store="memory")
    asyncio.run(block.aput(_orders(30)[1:]))
    full = asyncio.run(block.aget())
    assert "ORD-1000" in full and "ORD-1029" in full and "1Z000099" in full
    shorter = asyncio.run(block.atruncate(full, count_tokens(full) // 2))
    assert shorter is not None
    assert count_tokens(shorter) <= count_tokens(full) - count_tokens(full) // 2
    # What the user typed outlasts what the agent said, however old: every order the user
    # asked about is still there, while the agent's oldest tracking numbers went first.
    assert all(f"Where is order ORD-{1000 + i}?" in shorter for i in range(30))
    assert "1Z000099" not in shorter
    # The block's marker stays: its handle returns every original message.
    assert HANDLE.findall(shorter)[-1] == HANDLE.findall(full)[-1]
    assert asyncio.run(block.atruncate(full, count_tokens(full))) is None

    capped = HeadroomMemoryBlock(store="memory", budget_tokens=200)
    asyncio.run(capped.aput(_orders(30)[1:]))
    text = asyncio.run(capped.aget())
    assert count_tokens(text) <= 200 and HANDLE.search(text)


def test_memory_block_keeps_the_task_and_the_users_ids_of_a_real_session(
    bench_data: Path,
) -> None:
    # A recorded SWE-agent session (its text turns): the task, typed first, is the oldest
    # text in the block. Capped at a fifth of its summary, the block used to drop it first
    # (1 of the 8 identifiers the user typed left at 800 tokens); by salience it stays.
    from headroom.bench.conversation import load_transcript, user_identifiers

    messages = load_transcript(bench_data / "transcripts" / "sweagent_pydicom-1458_gpt4.traj.json")
    turns = [
        m
        for m in messages
        if m["role"] in ("user", "assistant") and isinstance(m.get("content"), str) and m["content"]
    ]
    assert len(user_identifiers(turns)) >= 8  # the premise: a URL, a transfer syntax UID, ...
    block = HeadroomMemoryBlock(store="memory", budget_tokens=800)
    memory = Memory.from_defaults(
        session_id="pydicom",
        token_limit=3000,
        chat_history_token_ratio=0.5,
        token_flush_size=500,
        memory_blocks=[block],
    )
    memory.put_messages([ChatMessage(role=m["role"], content=m["content"]) for m in turns])
    system = memory.get()[0]
    assert system.role == MessageRole.SYSTEM
    text = asyncio.run(block.aget())
    assert text and text in (system.content or "")
    assert count_tokens(text) <= 800
    # Memory flushed the oldest turns into the block: the task and what followed it.
    held = user_identifiers(block._messages)
    assert len(held) >= 8
    kept = [i for i in held if i in text]
    assert len(kept) >= 0.85 * len(held), sorted(held - set(kept))
    assert "[turn 1 user] " in text  # the task, quoted (compacted to its facts)


def test_memory_block_is_empty_until_something_is_flushed() -> None:
    assert asyncio.run(HeadroomMemoryBlock(store="memory").aget()) == ""


def test_json_round_trip_of_the_summary_handle() -> None:
    block = HeadroomMemoryBlock(store="memory")
    history = _orders(3)[1:]
    asyncio.run(block.aput(history))
    [handle] = HANDLE.findall(asyncio.run(block.aget()))
    stored = json.loads(block.client.retrieve(handle))
    assert [m["content"] for m in stored][: len(history)] == [m.content for m in history]


def test_chat_engines_accept_it_as_memory_and_it_leaves_room_for_their_prompt(
    json_text: str, squad_index: Any
) -> None:
    from llama_index.core.chat_engine import SimpleChatEngine

    memory = HeadroomMemory.from_defaults(
        chat_history=_tool_history(json_text)[1:5], budget_tokens=3000, store="memory"
    )
    llm = MockLLM()
    SimpleChatEngine.from_defaults(llm=llm, memory=memory).chat("which issues are open?")
    assert memory.get_all()[-1].role == MessageRole.ASSISTANT  # the engine stored its turn
    context = squad_index.as_chat_engine(chat_mode="context", llm=llm, memory=memory)
    assert str(context.chat("anything about Normans?"))
    # ChatMemoryBuffer's contract: what the caller already spends comes out of the budget.
    roomy = memory.get()
    tight = memory.get(initial_token_count=2500)
    # (Best effort: the last message always stays verbatim, so 500 may not be reachable.)
    assert memory._count(tight) < memory._count(roomy)
    assert len(tight) < len(roomy)
    with pytest.raises(ValueError, match="initial_token_count"):
        memory.get(initial_token_count=3000)


def test_memory_block_truncation_never_orphans_the_rows_of_a_quote() -> None:
    # A long user request is quoted over several "| " rows under its "[turn N user]" line;
    # shortening the summary must take the rows with their label, or the model reads words
    # with no speaker.
    task = "\n\n".join(
        f"Step {i}: move order ORD-{2000 + i} to the express queue and email the customer."
        for i in range(12)
    )
    block = HeadroomMemoryBlock(store="memory")
    opening = [
        ChatMessage(role=MessageRole.USER, content=task),  # the task: quoted whole, in rows
        ChatMessage(role=MessageRole.ASSISTANT, content="On it."),
    ]
    asyncio.run(block.aput([*opening, *_orders(20)[1:]]))
    full = asyncio.run(block.aget())
    assert "\n| " in full  # the premise: a quote that runs over rows
    for target in range(count_tokens(full) - 5, 40, -25):
        shorter = asyncio.run(block.atruncate(full, count_tokens(full) - target))
        if shorter is None:
            continue
        lines = shorter.split("\n")
        for above, row in pairwise(lines):
            if row.startswith("| "):
                assert above.startswith(("| ", "[turn")), (above, row)


_LOGS = ["HDFS", "Zookeeper", "OpenStack", "Hadoop", "BGL", "Apache", "Android", "OpenSSH"]


def _log_turn(data: Path, turn: int) -> list[ChatMessage]:
    name = _LOGS[turn % len(_LOGS)]
    path = data / "loghub" / f"{name}_2k.log"
    call = ToolCallBlock(tool_call_id=f"c{turn}", tool_name="read_log", tool_kwargs={"n": name})
    return [
        ChatMessage(role="user", content=f"Turn {turn}: incident INC-{4400 + turn}, check {name}."),
        ChatMessage(role="assistant", blocks=[call]),
        ChatMessage(
            role="tool",
            content=path.read_text()[:12_000],
            additional_kwargs={"tool_call_id": f"c{turn}", "name": "read_log"},
        ),
        ChatMessage(role="assistant", content=f"Turn {turn}: {name} looks routine."),
    ]


def test_roll_ups_append_blocks_and_keep_earlier_ones_byte_identical(
    bench_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before, every view summarized the whole stored history again from the start: the
    # first block's text changed at each roll-up, so the prompt prefix changed with it.
    hr = Headroom(store="memory")
    memory = HeadroomMemory.from_defaults(headroom=hr, budget_tokens=6_000)
    memory.put(ChatMessage(role="system", content="You are the on-call assistant."))
    views: list[list[ChatMessage]] = []
    for turn in range(12):
        for message in _log_turn(bench_data, turn):
            memory.put(message)
            if message.role == MessageRole.USER or message.role == MessageRole.TOOL:
                views.append(memory.get())

    def blocks(view: list[ChatMessage]) -> list[str]:
        return [str(m.content) for m in view if m.role == MessageRole.USER and _is_block(m)]

    with_blocks = [blocks(v) for v in views if blocks(v)]
    changed = [(a, b) for a, b in pairwise(with_blocks) if a != b]
    assert len(changed) > 3  # several roll-ups happened
    # Each roll-up appends a block after the ones already sent; only when those no longer
    # fit does the summarizer rebuild them (and says so).
    rewritten = sum(1 for a, b in changed if b[: len(a)] != a)
    assert rewritten <= caplog.text.count("summary rebuilt")
    assert rewritten < len(changed) / 2
    # Turn 0's incident id is still reachable through the first block's handle.
    handle = HANDLE.findall(with_blocks[-1][0])[-1]
    assert "INC-4400" in hr.retrieve(handle)


def _is_block(message: ChatMessage) -> bool:
    from headroom.conversation.rolling import is_summary

    return is_summary({"role": "user", "content": message.content})


def test_a_retrieved_original_is_for_the_turn_that_asked(log_text: str) -> None:
    # Before, the memory compressed the headroom_retrieve answer even in the turn that
    # asked for it: the model could never read the original it requested.
    from llama_index.tools.headroom import make_retrieve_tool

    hr = Headroom(store="memory")
    handle = hr.compress_text(log_text).handles[0]
    seen: list[list[ChatMessage]] = []

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        seen.append(list(messages))
        if messages[-1].role == MessageRole.USER and "whole" in str(messages[-1].content):
            call = ToolCallBlock(
                tool_call_id="r1", tool_name="headroom_retrieve", tool_kwargs={"handle": handle}
            )
            return ChatMessage(role="assistant", blocks=[call])
        return ChatMessage(role="assistant", content="Noted.")

    memory = HeadroomMemory.from_defaults(headroom=hr)
    agent = FunctionAgent(
        tools=[make_retrieve_tool(hr)], llm=MockFunctionCallingLLM(response_generator=respond)
    )

    async def run() -> None:
        for question in ["Show me the whole log.", "Thanks, anything else?", "Bye."]:
            await agent.run(user_msg=question, memory=memory)

    asyncio.run(run())

    def retrieved(messages: list[ChatMessage]) -> str:
        return next(str(m.content) for m in messages if m.role == MessageRole.TOOL)

    assert retrieved(seen[1]) == log_text  # the call right after the retrieval: whole
    later = [retrieved(seen[2]), retrieved(seen[3])]
    assert later[0] == later[1]  # compressed again, the same bytes on every later call
    assert handle in later[0] and len(later[0]) < len(log_text) / 10


def test_the_memory_sends_a_retrieve_answer_whole_only_in_its_turn(log_text: str) -> None:
    hr = Headroom(store="memory")
    handle = hr.compress_text(log_text).handles[0]
    memory = HeadroomMemory.from_defaults(headroom=hr)
    call = ToolCallBlock(
        tool_call_id="r1", tool_name="headroom_retrieve", tool_kwargs={"handle": handle}
    )
    memory.put_messages(
        [
            ChatMessage(role="user", content="Show me the whole log"),
            ChatMessage(role="assistant", blocks=[call]),
            ChatMessage(role="tool", content=log_text, additional_kwargs={"tool_call_id": "r1"}),
        ]
    )
    assert memory.get()[2].content == log_text  # before: compressed back to the marker
    memory.put_messages(
        [
            ChatMessage(role="assistant", content="It is routine."),
            ChatMessage(role="user", content="Anything else?"),
        ]
    )
    later = [memory.get()[2].content, memory.get(initial_token_count=0)[2].content]
    assert later[0] == later[1] and handle in str(later[0])
    assert len(str(later[0])) < len(log_text) / 10
