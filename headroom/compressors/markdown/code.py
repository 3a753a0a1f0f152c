"""Fenced blocks of a supported language, skeletonised by the code compressor.

A fence's body goes through :class:`~headroom.compressors.code.CodeCompressor` with the
language its info string names, under the handle of the whole document: every marker of a
piece names one original (the caller's exact input), so the line numbers the code compressor
writes (``lines 12–40`` of the body) are shifted to lines of the document.
"""

from __future__ import annotations

import re
from typing import Final

from headroom.compressors.base import Context
from headroom.compressors.code import CodeCompressor
from headroom.compressors.code.languages import spec_for

__all__ = ["fence_language", "skeleton"]

# Info-string words people write for the languages the code compressor reads.
_ALIASES: Final[dict[str, str]] = {
    "py": "python",
    "py3": "python",
    "python3": "python",
    "js": "javascript",
    "node": "javascript",
    "jsx": "javascript",
    "mjs": "javascript",
    "ts": "typescript",
    "golang": "go",
    "rs": "rust",
    "h": "c",
    "c++": "cpp",
    "cc": "cpp",
    "cxx": "cpp",
    "hpp": "cpp",
}
_INFO_WORD_RE: Final = re.compile(r"[{.\s]*([\w+#-]+)")
_LINES_RE: Final = re.compile(r"(lines? )(\d+)(?:–(\d+))?")
_CODE: Final = CodeCompressor()


def fence_language(info: str) -> str | None:
    """The code compressor's name for a fence's language, when it reads it.

    >>> fence_language("py title='x.py'"), fence_language("{.rust}"), fence_language("text")
    ('python', 'rust', None)
    """
    m = _INFO_WORD_RE.match(info)
    if m is None:
        return None
    word = m.group(1).lower()
    language = _ALIASES.get(word, word)
    return language if spec_for(language) is not None else None


def skeleton(body: str, language: str, first_line: int, ctx: Context, document: str) -> str | None:
    """The skeleton of ``body`` (whose first line is line ``first_line`` of ``document``),
    its markers naming ``document``'s handle; ``None`` when the code compressor declines."""
    code_ctx = Context(
        ctx.kind,
        language,
        ctx.query,
        ctx.config,
        ctx.store,
        ctx.count_tokens,
        original=ctx.source(document),
    )
    out = _CODE.compress(body, code_ctx)
    if out is None:
        return None
    offset = first_line - 1

    def shift(m: re.Match[str]) -> str:
        start = int(m.group(2)) + offset
        end = f"–{int(m.group(3)) + offset}" if m.group(3) else ""
        return f"{m.group(1)}{start}{end}"

    # Only the summaries of markers carry line numbers; code text is left as it is.
    return re.sub(
        r"(omitted: )([^\]·]*)", lambda m: m.group(1) + _LINES_RE.sub(shift, m.group(2)), out.text
    )
