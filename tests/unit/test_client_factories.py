"""One owner of store, model and counter: the client, its pruner and summarizer factories,
the default store everywhere, and one error family for bad pruning options."""

from __future__ import annotations

import re

import pytest

import headroom
from headroom import (
    CompressConfig,
    Headroom,
    InvalidArgumentError,
    PrunerConfig,
    RollingSummarizer,
    TextPruner,
)
from headroom.store import MemoryStore

DOCS = [
    "Paris is the capital of France. It has 2.1 million people. The Seine flows through it. "
    "Paris hosts many museums, among them the Louvre and the Orsay.",
    "Bananas are yellow when ripe. They grow in tropical regions. Monkeys are said to like "
    "them. Plantains are a cooking variety. Farmers ship them far away in cold containers.",
]
QUERY = "What is the capital of France?"
CHAT = [
    {"role": "user", "content": "Book me a flight to Oslo, id omar_3817, never a red-eye."},
    {"role": "assistant", "content": "Which day would you like to fly?"},
    {"role": "user", "content": "Friday, in the morning."},
    {"role": "assistant", "content": "There is one at 08:15 or one at 10:40."},
    {"role": "user", "content": "The 08:15 one."},
]


def _words(text: str) -> int:
    return len(text.split())


def test_a_text_pruner_made_alone_keeps_originals_where_retrieve_looks() -> None:
    # Contract 5: its handles were in a private in-memory store no retrieve could reach.
    result = TextPruner(target_ratio=0.3).prune(DOCS, query=QUERY)
    assert result.handles, "nothing was dropped"
    original = headroom.retrieve(result.handles[0])
    assert original.startswith("Paris is the capital of France.")
    assert "Farmers ship them far away" in original


def test_the_clients_pruner_uses_its_store_model_and_counter() -> None:
    hr = Headroom(CompressConfig(token_counter=_words), store="memory")
    result = hr.pruner(target_ratio=0.3).prune(DOCS, query=QUERY)
    assert result.tokens_before == sum(_words(d) for d in DOCS)
    assert result.handles[0] in hr.store
    assert headroom.retrieve(result.handles[0], client=hr).startswith("Paris is the capital")


def test_pruner_options_come_as_one_config_object_or_as_keywords() -> None:
    hr = Headroom(store="memory")
    config = PrunerConfig(target_ratio=0.5, context_window=0)
    by_config = hr.pruner(config).prune(DOCS, query=QUERY)
    by_keywords = hr.pruner(target_ratio=0.5, context_window=0).prune(DOCS, query=QUERY)
    by_class = TextPruner(config, store=hr.store).prune(DOCS, query=QUERY)
    assert by_config.text == by_keywords.text == by_class.text
    # Keywords override the config's values.
    assert hr.pruner(config, target_ratio=1.0).config == PrunerConfig(
        target_ratio=1.0, context_window=0
    )


def test_old_text_pruner_keywords_still_work() -> None:
    store = MemoryStore()
    pruner = TextPruner(target_ratio=0.5, context_window=0, store=store, count_tokens=_words)
    assert (pruner.target_ratio, pruner.context_window) == (0.5, 0)
    result = pruner.prune(DOCS, query=QUERY)
    assert result.handles[0] in store
    assert result.tokens_before == sum(_words(d) for d in DOCS)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"target_ratio": 0}, "target_ratio"),
        ({"target_ratio": 1.5}, "target_ratio"),
        ({"scorer": "tfidf"}, "scorer"),
        ({"token_budget": -1}, "token_budget"),
        ({"context_window": -1}, "context_window"),
        ({"batch_size": 0}, "batch_size"),
        ({"no_query": "drop"}, "no_query"),
        ({"context_windw": 2}, "context_window"),  # a typo names the option meant
    ],
)
def test_bad_pruning_options_raise_invalid_argument_naming_the_option(
    options: dict[str, object], named: str
) -> None:
    for make in (
        lambda: TextPruner(**options),
        lambda: PrunerConfig(**options),
        lambda: Headroom(store="memory").pruner(**options),
    ):
        with pytest.raises(InvalidArgumentError, match=named) as caught:
            make()
        assert isinstance(caught.value, ValueError)  # what callers caught before


def test_pruner_refuses_a_config_of_the_wrong_type() -> None:
    with pytest.raises(InvalidArgumentError, match="PrunerConfig"):
        Headroom(store="memory").pruner({"target_ratio": 0.5})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="PrunerConfig"):
        TextPruner({"target_ratio": 0.5})  # type: ignore[arg-type]


def test_the_clients_summarizer_uses_its_store_model_and_counter() -> None:
    hr = Headroom(CompressConfig(token_counter=_words), store="memory", model="gpt-4o-mini")
    out = hr.summarizer(max_messages=3, keep_recent=1).summarize(CHAT)
    assert out.summarized > 0
    assert (
        out.tokens_before
        == RollingSummarizer(max_messages=3, store="memory", token_counter=_words)
        .summarize(CHAT)
        .tokens_before
    )
    [handle] = re.findall(r"headroom:[0-9a-f]{12}", out.summary or "")
    assert handle in hr.store
    assert "omar_3817" in hr.retrieve(handle)


def test_the_factories_refuse_what_the_client_owns() -> None:
    hr = Headroom(store="memory")
    with pytest.raises(InvalidArgumentError, match="count_tokens come from the client"):
        hr.pruner(count_tokens=_words)
    with pytest.raises(InvalidArgumentError, match="store"):
        hr.summarizer(max_messages=3, store="memory")
    with pytest.raises(InvalidArgumentError, match="budget_tokens or max_messages"):
        hr.summarizer()
