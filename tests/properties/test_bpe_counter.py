"""The native BPE counter against tiktoken itself: the same token ids, so the same counts.

tiktoken is the reference here (Headroom promises tiktoken's counts). The alphabets below
hold a character of each class the two patterns decide on: upper, title, modifier and other
letters, marks, three kinds of numbers, white space other than ``" "`` (``\\r``, ``\\n``,
tab, no-break space, line separator), apostrophes with the contraction letters (and ``ſ``,
which folds to ``s``), ``/`` (kept after punctuation by ``o200k_base``) and punctuation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from headroom import _core
from headroom.tokens import _chunks, get_counter
from headroom.tokens.vocabularies import SHIPPED_ENCODINGS, load_encoding, load_ranks
from tests.conftest import read_bench

pytestmark = pytest.mark.skipif(not _core.NATIVE_AVAILABLE, reason="native extension not built")

ENCODINGS = sorted(SHIPPED_ENCODINGS)
CLASSES = "aZsStTmMdDrRvVeElL'ſǅʰªé中\u0301\u0903٣Ⅻ½7 \t\r\n\u00a0\u2028\x0b\x85/.,;:!?{}[]\"_-🙂"


def native(name: str) -> Any:
    from headroom import _native

    return _native.BpeCounter(list(load_ranks(name).items()), name)


COUNTERS = {name: native(name) for name in ENCODINGS} if _core.NATIVE_AVAILABLE else {}


def assert_same(name: str, text: str) -> None:
    expected = load_encoding(name).encode_ordinary(text)
    counter = COUNTERS[name]
    assert counter.encode(text) == expected, counter.pieces(text)
    assert counter.count(text) == len(expected)
    assert "".join(counter.pieces(text)) == text


@pytest.mark.parametrize("name", ENCODINGS)
@given(text=st.text(alphabet=CLASSES, max_size=400))
def test_mixed_classes_make_tiktokens_tokens(name: str, text: str) -> None:
    assert_same(name, text)


@pytest.mark.parametrize("name", ENCODINGS)
@given(text=st.text(max_size=200))
def test_any_text_makes_tiktokens_tokens(name: str, text: str) -> None:
    text = text.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates: see below
    assert_same(name, text)


@pytest.mark.parametrize("name", ENCODINGS)
@given(word=st.text(alphabet="abcdefghéü中", min_size=90, max_size=3000))
def test_long_pieces_merge_as_tiktoken_does(name: str, word: str) -> None:
    """A run of letters is one piece: from 100 bytes on, tiktoken merges on a heap."""
    assert_same(name, word)


@pytest.mark.parametrize("name", ENCODINGS)
def test_every_code_point_is_classed_as_tiktoken_classes_it(name: str) -> None:
    """Each character between letters, numbers, white space and an apostrophe: a class
    table that differs from the regex crate's on any code point changes a piece. Planes 4
    to 13 hold no character yet and 15 and 16 only private use, so they are left out."""
    planes = [*range(0x40000), *range(0xE0000, 0xE1000)]
    points = (c for c in planes if not 0xD800 <= c <= 0xDFFF)
    text = "".join(f"a{c}b {c}{c}1'{c}\n{c}A" for c in map(chr, points))
    assert_same(name, text)


# Lines that start with each class, after newline runs, spaces and punctuation that a
# newline may end (``]\n/`` is one piece of o200k_base): where a count is cut into parts.
_LINES = st.lists(
    st.text(alphabet=CLASSES, max_size=12).map(lambda line: line + "\n"), max_size=40
).map("".join)
_LINE_ENDS = st.text(alphabet=".]/a \n\u00a0", max_size=30)


@pytest.mark.parametrize("name", ENCODINGS)
@given(text=_LINES | _LINE_ENDS | st.text(alphabet=CLASSES, max_size=400))
@example(text="x.\n/")  # one piece of o200k_base: no cut before "/"
@example(text="a\n \nb\n\u00a0c\n\nd")
def test_counting_in_parts_adds_up_to_the_count(name: str, text: str) -> None:
    # Parts of one byte or more: the text is cut at every place a part may end.
    counter = COUNTERS[name]
    expected = len(load_encoding(name).encode_ordinary(text))
    for part in (1, 7):
        assert counter.counting([text], 1, part).total() == expected
        assert counter.counting([text, text], 0, part).total() == 2 * expected


@pytest.mark.parametrize("name", ENCODINGS)
def test_real_text_makes_tiktokens_tokens(name: str, bench_data: Path) -> None:
    files = [p for p in sorted(bench_data.rglob("*")) if p.is_file() and p.suffix != ".gz"]
    assert len(files) > 20
    for path in files:
        assert_same(name, read_bench(path))


def test_the_counter_counts_with_the_native_counter_and_takes_every_str() -> None:
    count = get_counter("gpt-4o")
    encoding = load_encoding("o200k_base")
    text = "naïve <|endoftext|> 東京 don't " * 50
    assert count(text) == len(encoding.encode_ordinary(text))
    # Surrogates cannot reach native code: they are counted as tiktoken counts them (a pair
    # as its character, a lone one as U+FFFD), in a short text and in a long one counted in
    # chunks (cut where tiktoken's are).
    for text in ["a\ud800b", "\ud83d\ude00" * 50, '{"k": "\ud800"}', "x\udc80=1"]:
        assert count(text) == len(encoding.encode_ordinary(text))
    long = "word \ud800 \ud83d\ude00 line\n" * 20_000
    chunks = _chunks(long)
    assert len(chunks) > 2
    assert count(long) == sum(len(encoding.encode_ordinary(chunk)) for chunk in chunks)
    assert count.start is not None and count.start(long)() == count(long)


def test_an_unknown_pattern_is_named() -> None:
    from headroom import _native

    with pytest.raises(ValueError, match="p50k_base"):
        _native.BpeCounter([(b"a", 0)], "p50k_base")
