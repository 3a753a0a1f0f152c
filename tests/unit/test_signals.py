"""One signal vocabulary (headroom.signals) read by the router, logs, JSON and the summarizer.

Each case below takes its words from headroom.signals, so a word added there is checked
against all four readers: widening what counts as an error in one place reaches them all.
"""

from __future__ import annotations

import re

import pytest

from headroom import signals
from headroom.compressors.json.signals import error_reason
from headroom.compressors.logs.prefix import is_signal, severity
from headroom.conversation.facts import ERROR_RE as FACTS_ERROR_RE
from headroom.router import LEVEL_RE

ERRORS = signals.ERROR_WORDS
WARNINGS = signals.WARNING_WORDS


@pytest.mark.parametrize("word", ERRORS)
def test_an_error_word_is_an_error_to_every_reader(word: str) -> None:
    line = f"request 7: {word} while reading /srv/data"
    assert is_signal(None, line)  # logs: a line without a level
    assert is_signal(None, line.upper())
    assert FACTS_ERROR_RE.search(line)  # the summarizer quotes it
    assert error_reason({"id": 7, "status": word}) == "status"  # JSON keeps the record
    assert error_reason({"id": 7, "state": word.upper().replace(" ", "-")}) == "status"


@pytest.mark.parametrize("word", WARNINGS)
def test_a_warning_word_is_signal_but_not_an_error(word: str) -> None:
    line = f"disk 3 {word}: 91% full"
    assert is_signal(None, line)
    assert error_reason({"id": 3, "status": word}) == "status"
    assert FACTS_ERROR_RE.search(line) is None


@pytest.mark.parametrize("text", ["all 12 checks passed", "terrific", "errand", "timeouts"])
def test_words_are_matched_whole(text: str) -> None:
    assert not is_signal(None, text)
    assert FACTS_ERROR_RE.search(text) is None
    assert error_reason({"status": text}) is None


@pytest.mark.parametrize("level", sorted(signals.SEVERITY))
def test_levels_are_ranked_once(level: str) -> None:
    assert severity(level) == signals.SEVERITY[level]
    line = f"2024-01-01 10:00:00 {level} worker: started"
    assert (LEVEL_RE.search(line) is not None) == (level in signals.SPELLED_LEVELS)


def test_spelled_levels_are_levels() -> None:
    assert signals.SPELLED_LEVELS.issubset(signals.SEVERITY)


@pytest.mark.parametrize("word", (*ERRORS, *WARNINGS))
def test_the_substring_precheck_never_hides_a_word(word: str) -> None:
    # The log compressor runs SIGNAL_RE only on lines holding a hint: a word no hint is in
    # would never be found.
    for spelled in (word, word.upper(), word.title()):
        match = signals.SIGNAL_RE.search(f"x {spelled} y")
        assert match is not None
        assert any(hint in match.group().lower() for hint in signals.SIGNAL_HINTS)


def test_words_re_escapes_and_prefers_the_longest() -> None:
    pattern = signals.words_re(["time out", "time", "break-in"])
    assert pattern.findall("a time out, a break-in, some time") == ["time out", "break-in", "time"]
    assert re.compile(pattern.pattern).search("timeout") is None
