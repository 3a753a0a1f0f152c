"""How ``headroom mcp`` is set up; no SDK needed to build or check these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from headroom.config import DEFAULT_MODEL
from headroom.errors import InvalidArgumentError

__all__ = ["DEFAULT_MAX_CONTENT_BYTES", "ServerOptions"]

DEFAULT_MAX_CONTENT_BYTES: Final = 16 * 1024 * 1024
"""The most content (UTF-8 bytes) one ``headroom_compress`` or ``headroom_read`` takes."""


@dataclass(frozen=True, kw_only=True)
class ServerOptions:
    """How the server is set up.

    Attributes:
        store: where originals go: ``None`` for ``HEADROOM_STORE`` or else the default SQLite
            file, ``"memory"``, a SQLite file path, or a ``redis://`` URL.
        allow_read: directories ``headroom_read`` may read under; empty turns it off.
        max_content_bytes: the largest content (UTF-8 bytes) a call may hand in.
        model: the model whose tokenizer counts tokens.

    Raises:
        InvalidArgumentError: ``max_content_bytes`` is not a positive int.

    Example:
        >>> ServerOptions(allow_read=("~/src",)).max_content_bytes
        16777216
        >>> ServerOptions(max_content_bytes=0)
        Traceback (most recent call last):
        ...
        headroom.errors.InvalidArgumentError: max_content_bytes: expected a positive number, got 0
    """

    store: str | None = None
    allow_read: tuple[str, ...] = ()
    max_content_bytes: int = DEFAULT_MAX_CONTENT_BYTES
    model: str = DEFAULT_MODEL

    def __post_init__(self) -> None:
        limit = self.max_content_bytes
        if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
            raise InvalidArgumentError(
                f"max_content_bytes: expected a positive number, got {limit!r}"
            )
