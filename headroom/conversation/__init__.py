"""Long conversations: condense old turns (RollingSummarizer), keep the prefix cacheable
(CacheAligner).

>>> from headroom.conversation import RollingSummarizer
>>> RollingSummarizer(budget_tokens=10_000, store="memory").summarize([]).messages
[]
"""

from headroom.conversation.aligner import AlignResult, CacheAligner, VolatileValue
from headroom.conversation.extractive import extractive_summary
from headroom.conversation.rolling import (
    OPEN_EXCHANGE,
    SUMMARY_HEADER,
    ConversationResult,
    RollingSummarizer,
    is_summary,
)

__all__ = [
    "OPEN_EXCHANGE",
    "SUMMARY_HEADER",
    "AlignResult",
    "CacheAligner",
    "ConversationResult",
    "RollingSummarizer",
    "VolatileValue",
    "extractive_summary",
    "is_summary",
]
