"""Compile patterns with possessive quantifiers (``*+``, ``++``, ``{m,n}+``) on Python 3.10 too.

Several of Headroom's patterns take a run of characters possessively so that a search never
backtracks into it (plain ``\\S*::`` tried from every position is quadratic on a long token).
The standard library's :mod:`re` reads possessive quantifiers and atomic groups from Python 3.11
on; on 3.10 the same pattern text is compiled by the ``regex`` package (a dependency of tiktoken,
declared for Python < 3.11 in pyproject.toml), which gives them the same meaning. The compiled
object has the methods of :class:`re.Pattern` (``match``, ``search``, ``finditer``, ``sub``,
``split``, ``findall``, ``fullmatch``); module-level :mod:`re` functions do not accept it, so
callers use its methods.

Example:
    >>> from headroom._regex import compile_possessive
    >>> compile_possessive(r"\\S++ PASSED").search("tests/a.py::t PASSED")[0]
    'tests/a.py::t PASSED'
"""

from __future__ import annotations

import re
import sys
from typing import AnyStr, cast

__all__ = ["compile_possessive"]

# A possessive quantifier ("*+", "++", "?+", "}+") or an atomic group: what 3.10's re lacks.
# An escaped "*" or "+" followed by "+" reads as one too and goes to the regex package, which
# gives it the same meaning; every other pattern stays with re.
_POSSESSIVE = re.compile(r"[*+?}]\+|\(\?>")


def compile_possessive(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """Compile ``pattern`` like :func:`re.compile`, possessive quantifiers included.

    Args:
        pattern: The regular expression (str or bytes), in :mod:`re` syntax.
        flags: :mod:`re` flags (``re.M``, ``re.I``, ...); the ``regex`` package uses the same
            values but for ``re.ASCII``, which is translated.

    Returns:
        The compiled pattern: :mod:`re`'s from Python 3.11 on, and on 3.10 for a pattern
        without possessive quantifiers or atomic groups; else the ``regex`` package's.
    """
    if sys.version_info >= (3, 11) or not _POSSESSIVE.search(
        pattern if isinstance(pattern, str) else pattern.decode("latin-1")
    ):
        return re.compile(pattern, flags)
    import regex

    # The flag values are the same but for ASCII: re.A is 256, which is regex.V1.
    if flags & re.ASCII:
        flags = (flags & ~re.ASCII) | regex.ASCII
    return cast("re.Pattern[AnyStr]", regex.compile(pattern, flags))
