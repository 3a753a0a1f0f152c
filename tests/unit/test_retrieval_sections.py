"""Retrieval with a query returns the matching sections of an original, by its kind."""

from __future__ import annotations

import json

from headroom.retrieval import retrieve_from
from headroom.store import MemoryStore


def test_a_summary_blocks_messages_are_searched_one_by_one() -> None:
    # A conversation summary's handle stores its messages as a JSON array (kind
    # "messages"): a query gives back the matching messages, not the whole array.
    store = MemoryStore()
    messages = [
        {"role": "user", "content": "Deploy the billing service to staging."},
        {"role": "assistant", "content": "Deploying now."},
        {"role": "tool", "tool_call_id": "c1", "content": "ERROR disk quota exceeded on /var"},
        {"role": "user", "content": "What about the invoices table migration?"},
    ]
    original = json.dumps(messages)
    handle = store.put(original, kind="messages")

    assert retrieve_from(store, handle) == original
    found = retrieve_from(store, handle, query="disk quota")
    assert "disk quota exceeded" in found
    assert "billing service" not in found and "invoices" not in found
    assert json.loads(found)["role"] == "tool"
