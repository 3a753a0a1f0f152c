"""Offline token counting with the shipped vocabularies."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import tiktoken
import tiktoken_ext.openai_public as openai_public

from headroom import _core
from headroom.tokens import (
    TokenCounter,
    _chunks,
    _pooled_counter,
    count_tokens,
    encoding_for_model,
    get_counter,
    memoized,
)
from headroom.tokens.vocabularies import SHIPPED_ENCODINGS, _read_ranks, load_encoding, load_ranks
from tests.conftest import read_bench


@pytest.mark.parametrize("name", sorted(SHIPPED_ENCODINGS))
def test_shipped_vocabulary_matches_tiktokens_own_definition(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tiktoken's constructor, fed our file, must ask for exactly the hash we pin and
    produce the same pattern and special tokens we use."""
    spec = SHIPPED_ENCODINGS[name]
    asked: dict[str, Any] = {}

    def fake_load(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        asked["hash"] = expected_hash
        return _read_ranks(spec)

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
    definition = getattr(openai_public, name)()
    assert asked["hash"] == spec.sha256
    assert definition["pat_str"] == spec.pat_str
    assert definition["special_tokens"] == spec.special_tokens
    reference = tiktoken.Encoding(**definition)
    ours = load_encoding(name)
    text = inspect.getsource(inspect) + " <|endoftext|> naïve 東京 🙂"
    assert ours.encode_ordinary(text) == reference.encode_ordinary(text)


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo-0125", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("openai/gpt-4-0613", "cl100k_base"),
        ("claude-sonnet-4-5", "o200k_base"),
        ("gemini-2.5-pro", "o200k_base"),
        ("llama-3.1-70b", "o200k_base"),
        ("some-unknown-model", "o200k_base"),
    ],
)
def test_model_to_encoding(model: str, encoding: str) -> None:
    assert encoding_for_model(model) == encoding


def test_openai_models_agree_with_tiktoken_where_both_know_them() -> None:
    for model in ("gpt-4o", "gpt-4", "gpt-3.5-turbo", "gpt-4.1-mini", "o1-preview"):
        assert encoding_for_model(model) == tiktoken.encoding_name_for_model(model)


def test_counts_real_text_exactly(bench_data: Any) -> None:
    text = read_bench(bench_data / "loghub" / "Apache_2k.log")
    assert count_tokens(text) == len(load_encoding("o200k_base").encode_ordinary(text))
    assert count_tokens(text, model="gpt-4") == len(
        load_encoding("cl100k_base").encode_ordinary(text)
    )


def test_special_token_text_is_counted_as_plain_text() -> None:
    assert count_tokens("<|endoftext|>") > 1


def test_pathological_text_does_not_crash_the_tokenizer() -> None:
    # tiktoken alone panics (stack overflow) on a 1 MB run of spaces.
    assert 0 < count_tokens(" " * 1_000_000) < 20_000
    assert count_tokens("a\ud800b") == 3  # lone surrogate counted as U+FFFD


def test_long_text_counted_in_chunks_stays_exact_on_real_logs(bench_data: Any) -> None:
    text = read_bench(bench_data / "loghub" / "HDFS_2k.log") * 3
    assert len(text) > 65_536
    assert count_tokens(text) == len(load_encoding("o200k_base").encode_ordinary(text))


def test_custom_counter_is_used() -> None:
    counter = get_counter("gpt-4o", counter=lambda text: len(text.split()))
    assert counter("a b c") == 3
    assert counter.encoding == "custom"


def test_tiktoken_get_encoding_works_offline_after_loading() -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse\n"
        "from headroom.tokens import count_tokens\n"
        "count_tokens('x')\n"
        "import tiktoken\n"
        "print(tiktoken.get_encoding('o200k_base').encode('hello world'))\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as empty_cache:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"TIKTOKEN_CACHE_DIR": empty_cache, "PATH": "/usr/bin:/bin"},
        )
    assert out.stdout.strip() == "[24912, 2375]"


def _counter(kind: str) -> TokenCounter:
    """The shipped o200k_base counter: native (when built) or tiktoken's, on Python threads."""
    if kind == "native":
        if not _core.NATIVE_AVAILABLE:
            pytest.skip("native extension not built")
        return get_counter("gpt-4o")
    ranks = load_ranks("o200k_base")
    return _pooled_counter(load_encoding("o200k_base"), max(map(len, ranks)))


COUNTER_KINDS = ["native", "pooled"]


@pytest.mark.parametrize("kind", COUNTER_KINDS)
def test_a_count_started_in_the_background_is_the_count(bench_data: Any, kind: str) -> None:
    text = read_bench(bench_data / "loghub" / "HDFS_2k.log") * 3  # several chunks
    counter = _counter(kind)
    memo = memoized(counter)
    assert memo.start is not None
    wait = memo.start(text)
    chunks = _chunks(text)
    assert len(chunks) > 2
    expected = sum(len(load_encoding("o200k_base").encode_ordinary(c)) for c in chunks)
    assert memo(text) == wait() == counter(text) == expected


@pytest.mark.parametrize("kind", COUNTER_KINDS)
def test_many_counts_at_once_are_each_the_count(bench_data: Any, kind: str) -> None:
    """Background counts share the native extension's one background thread, and the
    threads that wait help: every count comes back, and each is its own text's."""
    texts = [read_bench(bench_data / "loghub" / name) for name in ("HDFS_2k.log", "BGL_2k.log")]
    texts = [text * times for text in texts for times in (1, 2, 3)]
    counter = _counter(kind)
    assert counter.start is not None
    waits = [counter.start(text) for text in texts]
    with ThreadPoolExecutor(3) as pool:  # waited for from several threads at once
        counts = list(pool.map(lambda wait: wait(), waits))
    assert counts == [counter(text) for text in texts]


@pytest.mark.parametrize("kind", COUNTER_KINDS)
def test_a_tally_is_the_count_or_a_part_of_it_above_the_bound(bench_data: Any, kind: str) -> None:
    text = read_bench(bench_data / "loghub" / "HDFS_2k.log") * 3  # several chunks
    counter = memoized(_counter(kind))
    assert counter.tally is not None
    total = counter(text)
    assert counter.tally(text).at_least(total) == (total, True)
    assert counter.tally(text).at_least(10**9) == (total, True)
    part, exact = counter.tally(text).at_least(1_000)
    assert not exact and 1_000 < part < total  # stopped after the first chunk or two


@pytest.mark.parametrize("kind", COUNTER_KINDS)
def test_a_text_a_tally_counted_whole_is_not_counted_again(bench_data: Any, kind: str) -> None:
    text = read_bench(bench_data / "loghub" / "HDFS_2k.log") * 3
    plain = _counter(kind)
    asked: list[str] = []

    def count(piece: str) -> int:
        asked.append(piece)
        return plain.count(piece)

    memo = memoized(
        TokenCounter(plain.encoding, count, plain.start, plain.longest_token, plain.tally)
    )
    assert memo.tally is not None
    whole, exact = memo.tally(text).at_least(10**9)
    assert exact and memo(text) == whole == plain(text) and asked == []


@pytest.mark.parametrize("encoding", sorted(SHIPPED_ENCODINGS))
def test_no_token_covers_more_characters_than_longest_token(encoding: str) -> None:
    # The pipeline skips counting below min_tokens on this bound: a text of n characters
    # has at least n / longest_token tokens, even one character repeated.
    counter = get_counter("gpt-4" if encoding == "cl100k_base" else "gpt-4o")
    assert counter.longest_token == 128  # bytes of the longest token of either vocabulary
    for text in (" " * 100_000, "a" * 100_000, "=" * 100_000, "\n" * 100_000, "0" * 10_000):
        assert counter(text) >= len(text) / counter.longest_token


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_counts_in_the_background(bench_data: Any) -> None:
    """A child has none of its parent's threads (a pre-forking server's workers): its
    background counts get a thread of their own, and the count is the parent's."""
    text = read_bench(bench_data / "loghub" / "HDFS_2k.log") * 3
    counter = get_counter("gpt-4o")
    assert counter.start is not None
    expected = counter.start(text)()  # the parent's background thread is running
    code = (
        "import os, sys\n"
        "from headroom.tokens import get_counter\n"
        f"text = open({str(bench_data / 'loghub' / 'HDFS_2k.log')!r}, 'rb').read().decode() * 3\n"
        "counter = get_counter('gpt-4o')\n"
        "counter.start(text)()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0 if counter.start(text)() == int(sys.argv[1]) else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(expected)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_a_native_tally_asked_again_after_it_stopped_counts_on(bench_data: Any) -> None:
    """Asking a stopped tally again (or after it answered with a part) must not wait for
    chunks nobody will count: the thread that asks counts them."""
    text = read_bench(bench_data / "loghub" / "HDFS_2k.log") * 8  # many chunks
    counter = _counter("native")
    assert counter.tally is not None
    answers: list[tuple[int, bool]] = []

    def ask() -> None:
        tally = counter.tally(text)
        answers.append(tally.at_least(10))
        answers.append(tally.at_least(10**9))
        stopped = counter.tally(text)
        stopped.stop()
        answers.append(stopped.at_least(10**9))

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(timeout=30)
    assert not asking.is_alive(), "a stopped tally waited for chunks nobody counts"
    total = counter(text)
    assert answers[0][1] is False and answers[0][0] > 10
    assert answers[1:] == [(total, True), (total, True)]
