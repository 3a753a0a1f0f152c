"""Provider message shapes in and out (OpenAI chat and Responses items, Anthropic blocks,
Gemini parts, plain dicts)."""

from headroom.messages.counting import count_overhead
from headroom.messages.rewrite import replace_texts
from headroom.messages.slots import (
    Slot,
    find_slots,
    last_user_text,
    latest_user_texts,
    validate_messages,
)
from headroom.messages.untrusted import untrusted_json, untrusted_text

__all__ = [
    "Slot",
    "count_overhead",
    "find_slots",
    "last_user_text",
    "latest_user_texts",
    "replace_texts",
    "untrusted_json",
    "untrusted_text",
    "validate_messages",
]
