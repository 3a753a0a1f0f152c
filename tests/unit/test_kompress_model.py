"""kompress_model: a local LLMLingua-2-format token classifier, built on the fly, never fetched.

The tiny BERT below is untrained except for its classifier head, set by hand so that the test
knows what it should keep: the hidden state of a token is dominated by its word embedding,
and the head reads one embedding dimension that is high only for the chosen words.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from headroom import CompressConfig, Headroom, InvalidArgumentError
from headroom.handles import find_markers

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

TEXT = (
    "the quick brown fox jumps over the lazy dog near the river bank and the old mill\n"
    "the river bank is quiet and the fox runs home to the hill before the rain comes down\n"
) * 4
FAVOURED = {"fox", "river", "mill", "rain"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer BERT token classifier whose keep label (1) fires on the FAVOURED words."""
    path = tmp_path_factory.mktemp("kompress-model")
    words = sorted({w for w in TEXT.split()} | {"42", "run", "##_", "##job"})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # Positional: the argument is ``vocab_file`` in transformers 4 and ``vocab`` in 5.
    tokenizer = transformers.BertTokenizerFast(str(path / "vocab.txt"))
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        num_labels=2,
    )
    torch.manual_seed(0)
    model = transformers.BertForTokenClassification(config)
    with torch.no_grad():
        # Zero the encoder's updates so each output is the layer-normed word embedding.
        layer = model.bert.encoder.layer[0]
        for linear in (layer.attention.output.dense, layer.output.dense):
            linear.weight.zero_()
            linear.bias.zero_()
        model.bert.embeddings.position_embeddings.weight.zero_()
        model.bert.embeddings.token_type_embeddings.weight.zero_()
        embeddings = model.bert.embeddings.word_embeddings.weight
        embeddings.normal_(0, 0.02)
        embeddings[:, 0] = 0.0
        for word in FAVOURED:
            embeddings[vocab.index(word), 0] = 1.0
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        # Keep when dimension 0 is high: about 5.6 after layer norm for the favoured words
        # (1.0 among values of about 0.02), 0 for the others.
        model.classifier.weight[1, 0] = 10.0
        model.classifier.bias[1] = -20.0
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_the_model_keeps_what_it_ranks_first_in_order(model_dir: Path) -> None:
    from headroom.compressors.text.kompress import keep_probabilities

    words = TEXT.split()
    probs = keep_probabilities(words, model_dir)
    favoured = [p for w, p in zip(words, probs, strict=True) if w in FAVOURED]
    others = [p for w, p in zip(words, probs, strict=True) if w not in FAVOURED]
    assert min(favoured) > max(others)

    # 24 of the 140 words are favoured: ceil(0.17 * 140) = 24.
    config = CompressConfig(
        store="memory", min_tokens=0, target_ratio=0.17, kompress_model=model_dir
    )
    hr = Headroom(config=config)
    result = hr.compress_text(TEXT, kind="text")
    assert result.transforms_applied == ["text.kompress"]
    body = result.text.split("\n\n[")[0]
    kept = body.split()
    assert set(kept) == FAVOURED
    assert len(kept) == 24
    assert kept == [w for w in TEXT.split() if w in FAVOURED]  # original order
    (marker,) = find_markers(result.text)
    assert marker.unit == "words" and marker.count == len(TEXT.split()) - 24
    assert hr.retrieve(marker.handle) == TEXT
    assert Headroom(config=config).compress_text(TEXT, kind="text").text == result.text


def test_numbers_and_identifiers_are_kept_whatever_the_model_says(model_dir: Path) -> None:
    text = TEXT + "the dog ate 42 bones after run_job failed and the fox slept\n"
    config = CompressConfig(
        store="memory", min_tokens=0, target_ratio=0.2, kompress_model=str(model_dir)
    )
    result = Headroom(config=config).compress_text(text, kind="text")
    assert "42" in result.text.split() and "run_job" in result.text.split()
    assert "bones" not in result.text


def test_without_ratio_or_with_a_query_the_model_is_not_used(model_dir: Path) -> None:
    config = CompressConfig(store="memory", min_tokens=0, kompress_model=model_dir)
    assert Headroom(config=config).compress_text(TEXT, kind="text").text == TEXT
    hr = Headroom(
        config=CompressConfig(
            store="memory", min_tokens=0, target_ratio=0.2, kompress_model=model_dir
        )
    )
    result = hr.compress_text(TEXT, kind="text", query="Where does the fox run?")
    assert "text.kompress" not in result.transforms_applied


def test_bad_model_directories_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="no-such-model"):
        CompressConfig(kompress_model=tmp_path / "no-such-model")
    with pytest.raises(InvalidArgumentError, match=r"config\.json"):
        CompressConfig(kompress_model=str(tmp_path))
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    config = CompressConfig(store="memory", min_tokens=0, target_ratio=0.3, kompress_model=tmp_path)
    # A directory that is not a model fails when first used, and the compressor fails safe.
    result = Headroom(config=config).compress_text(TEXT, kind="text")
    assert result.text == TEXT


def test_missing_extra_names_the_install(model_dir: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['transformers'] = None\n"
        "from headroom import CompressConfig\n"
        "try:\n"
        f"    CompressConfig(kompress_model={str(model_dir)!r})\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "pip install 'headroom-ctx[neural]'" in out.stdout, out.stderr
