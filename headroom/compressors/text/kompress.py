"""Kompress: word-level prose compression by a local token-classification model.

The slot other products call "Kompress" (``CompressConfig(kompress_model=...)``). ``None`` or
``"default"`` selects the offline salience engine (:mod:`headroom.relevance.salience`, no
model); a directory selects a model in the LLMLingua-2 format: a transformers
``AutoModelForTokenClassification`` whose label 1 means *keep this token*, with its
tokenizer, saved by ``save_pretrained``. It loads from that directory only
(``local_files_only=True``, the hub put offline), lazily and once per process, and needs
``pip install 'headroom-ctx[neural]'``; nothing here imports torch until a model is used.

Each word's keep-probability is the mean over its sub-word tokens; the words ranking in the
top ``target_ratio`` are kept in their original order, plus every word holding a digit or
looking like an identifier (``snake_case``, ``camelCase``, paths, URLs, ``--flags``): a
classifier trained on news does not know that ``max_retries`` matters. The output is lossy, so
the original is stashed first (the compressor's ``stash``: the CCR store) and the output ends
with one marker naming its handle.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headroom.errors import InvalidArgumentError
from headroom.handles import format_marker
from headroom.relevance.neural import INSTALL_HINT

__all__ = ["KompressResult", "check_model", "compress", "keep_probabilities"]

_WORD_RE = re.compile(r"\S+")
_FORCED_RE = re.compile(
    r"\d|\w_\w|[a-z][A-Z]|://|\w/\w|^[-(\"'`]*--?[A-Za-z]|`", re.ASCII
)  # numbers and identifiers: kept whatever the model says
# Words per model call: well under 512 sub-word tokens for prose (about 1.3 per word), and
# any the tokenizer truncates start the next window.
_WINDOW_WORDS = 256
_MODELS: dict[str, tuple[Any, Any]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class KompressResult:
    """What :func:`compress` returns.

    Attributes:
        text: the kept words, followed by a marker naming the original's handle.
        handles: the handle of the original.
        kept: words kept.
        total: words in the input.
    """

    text: str
    handles: tuple[str, ...]
    kept: int
    total: int


def check_model(model: object) -> str:
    """The model directory as a string, checked without loading anything heavy.

    Raises:
        InvalidArgumentError: ``model`` is not a path, or not a directory holding a
            ``config.json`` (the message names the path).
        ImportError: transformers or torch is missing (names the install command).
    """
    if not isinstance(model, str | os.PathLike) or not isinstance(os.fspath(model), str):
        raise InvalidArgumentError(
            "CompressConfig.kompress_model: expected None, 'default' or a model directory, "
            f"got {model!r}"
        )
    path = Path(os.fspath(model)).expanduser()
    if not path.is_dir():
        raise InvalidArgumentError(
            f"CompressConfig.kompress_model: no model directory at {str(path)!r} "
            "(None or 'default' is the offline engine; models are never downloaded)"
        )
    if not (path / "config.json").is_file():
        raise InvalidArgumentError(
            f"CompressConfig.kompress_model: {str(path)!r} has no config.json; expected a "
            "token-classification model saved with save_pretrained"
        )
    if (
        importlib.util.find_spec("transformers") is None
        or importlib.util.find_spec("torch") is None
    ):
        raise ImportError(f"kompress_model needs transformers and torch: {INSTALL_HINT}")
    return str(path)


def _load(path: str) -> tuple[Any, Any]:
    with _LOCK:
        if path not in _MODELS:
            try:
                from transformers import AutoModelForTokenClassification, AutoTokenizer
            except ImportError as error:
                raise ImportError(
                    f"kompress_model needs transformers and torch: {INSTALL_HINT}"
                ) from error
            # Loading must never reach the network (contract: no network at run time).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
                model = AutoModelForTokenClassification.from_pretrained(path, local_files_only=True)
            except (OSError, ValueError) as error:
                raise InvalidArgumentError(
                    f"CompressConfig.kompress_model: cannot load a token-classification model "
                    f"from {path!r}: {error}"
                ) from error
            if model.config.num_labels < 2:
                raise InvalidArgumentError(
                    f"CompressConfig.kompress_model: {path!r} has {model.config.num_labels} "
                    "label(s); expected drop (0) and keep (1)"
                )
            model.eval()
            _MODELS[path] = (tokenizer, model)
        return _MODELS[path]


def keep_probabilities(words: list[str], model: str | os.PathLike[str]) -> list[float]:
    """Each word's probability of label 1 (keep), the mean over its sub-word tokens.

    Rounded to 6 places so that last-bit differences between CPU kernels cannot reorder words
    (the output must be byte-stable).
    """
    import torch  # heavy: only when a model is used

    tokenizer, net = _load(check_model(model))
    limit = min(512, int(getattr(net.config, "max_position_embeddings", 512)))
    probs = [0.0] * len(words)
    start = 0
    while start < len(words):
        window = words[start : start + _WINDOW_WORDS]
        encoded = tokenizer(
            window, is_split_into_words=True, truncation=True, max_length=limit, return_tensors="pt"
        )
        with torch.no_grad():
            logits = net(**encoded).logits[0]
        keep = torch.softmax(logits.float(), dim=-1)[:, 1].tolist()
        sums = [0.0] * len(window)
        counts = [0] * len(window)
        covered = -1
        for position, word in enumerate(encoded.word_ids(0)):
            if word is not None:
                sums[word] += keep[position]
                counts[word] += 1
                covered = max(covered, word)
        for word in range(covered + 1):
            if counts[word]:
                probs[start + word] = round(sums[word] / counts[word], 6)
        start += max(covered + 1, 1)
    return probs


def compress(
    text: str,
    model: str | os.PathLike[str],
    *,
    target_ratio: float,
    stash: Callable[[str], str],
) -> KompressResult | None:
    """Keep about ``target_ratio`` of the words of ``text``, as the model ranks them.

    ``stash`` stores the original and returns its handle, before the marker naming it is
    written. Returns ``None`` when nothing would be dropped; whether the result is smaller
    is the pipeline's check, as for every compressor.
    """
    matches = list(_WORD_RE.finditer(text))
    if len(matches) < 2:
        return None
    words = [m.group() for m in matches]
    probs = keep_probabilities(words, model)
    keep = [_FORCED_RE.search(w) is not None for w in words]
    remaining = max(1, math.ceil(target_ratio * len(words))) - sum(keep)
    for k in sorted(range(len(words)), key=lambda k: (-probs[k], k)):
        if remaining <= 0:
            break
        if not keep[k]:
            keep[k] = True
            remaining -= 1
    kept = [k for k, flag in enumerate(keep) if flag]
    if len(kept) == len(words):
        return None
    handle = stash(text)
    body = _render(text, matches, kept)
    out = f"{body}\n\n{format_marker(len(words) - len(kept), 'words', handle)}"
    return KompressResult(out, (handle,), len(kept), len(words))


def _render(text: str, matches: list[re.Match[str]], kept: list[int]) -> str:
    parts: list[str] = []
    previous = -1
    for k in kept:
        if parts:
            gap = text[matches[previous].end() : matches[k].start()]
            if previous != k - 1:
                # Across dropped words only the line structure is kept.
                gap = "\n\n" if "\n\n" in gap else "\n" if "\n" in gap else " "
            parts.append(gap)
        parts.append(matches[k].group())
        previous = k
    return "".join(parts)
