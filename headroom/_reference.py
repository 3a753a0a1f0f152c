"""Pure-Python reference of the native kernels: the executable specification.

Every function here has a twin in the Rust crate under ``native/`` (exposed as
``headroom._native``). The two must return identical results for every input; the
differential property tests in ``tests/properties/test_native_vs_reference.py`` hold them to
it. When the specification changes, change it here first, then in Rust.

This module is also what Headroom runs when the extension is not built, and for the rare
strings Rust cannot receive (Python strings with lone surrogates, which are not valid
UTF-8). Import the kernels from :mod:`headroom._core`, which chooses between the two.

Per-line variable masking
-------------------------

- **Separators** are the ASCII whitespace characters ``' '``, ``'\\t'``, ``'\\n'``,
  ``'\\r'``, ``'\\x0b'``, ``'\\x0c'`` and the characters ``, ; = ( ) [ ] { } < > " ' |``.
- A **token** is a maximal run of non-separator characters; any other character (non-ASCII
  whitespace, non-ASCII digits, emoji, lone surrogates) belongs to tokens.
- A token is **variable** if it contains an ASCII digit ``0-9``, or if it starts with ``/``
  and contains at least two ``/`` (a path such as ``/usr/lib/x``).
- The **template** of a line is the line with every variable token replaced by ``<*>``;
  separators and other tokens are kept verbatim. The **values** are the replaced tokens,
  in order.

>>> mask_line("took 12ms reading /etc/hosts")
('took <*> reading <*>', ['12ms', '/etc/hosts'])
"""

from __future__ import annotations

import re

__all__ = ["WILDCARD", "group_templates", "mask_line", "mask_lines"]

WILDCARD = "<*>"
"""The placeholder that replaces each variable token in a template."""

# Character classes are spelled out in ASCII on purpose: ``\s`` and ``\d`` would also match
# Unicode whitespace and digits, which the specification treats as token characters.
_TOKEN_CHAR = r"""[^ \t\n\r\x0b\x0c,;=()\[\]{}<>"'|]"""

# Matches exactly the variable tokens. The negative look-behind anchors a match at the start
# of a token, and the trailing greedy run always extends it to the end of the token, so each
# match is a whole token. Each alternative backtracks at most once over its token, which keeps
# the scan linear in the length of the line.
_VARIABLE_TOKEN = re.compile(
    rf"(?<!{_TOKEN_CHAR})"
    rf"(?:{_TOKEN_CHAR}*[0-9]{_TOKEN_CHAR}*"
    rf"|/{_TOKEN_CHAR}*/{_TOKEN_CHAR}*)"
)


def mask_line(line: str) -> tuple[str, list[str]]:
    """Mask one line.

    Args:
        line: one line of text (it may contain newlines; they are separators).

    Returns:
        The template of the line and the variable tokens it replaced, in order.

    Example:
        >>> mask_line("uid=0 euid=0 tty=NODEVssh ruser=")
        ('uid=<*> euid=<*> tty=NODEVssh ruser=', ['0', '0'])
    """
    return _VARIABLE_TOKEN.sub(WILDCARD, line), _VARIABLE_TOKEN.findall(line)


def mask_lines(lines: list[str]) -> list[str]:
    """Mask many lines and return only their templates, in input order.

    Args:
        lines: the lines to mask.

    Returns:
        One template per line.

    Example:
        >>> mask_lines(["Received block blk_42 of size 67108864", "Verification succeeded"])
        ['Received block <*> of size <*>', 'Verification succeeded']
    """
    sub = _VARIABLE_TOKEN.sub
    return [sub(WILDCARD, line) for line in lines]


def group_templates(lines: list[str]) -> tuple[list[int], list[str]]:
    """Group lines by template.

    Args:
        lines: the lines to group.

    Returns:
        For each line the id of its template, and the distinct templates in id order. Ids are
        assigned ``0, 1, 2, ...`` in order of first appearance.

    Example:
        >>> group_templates(["a 1", "b", "a 2"])
        ([0, 1, 0], ['a <*>', 'b'])
    """
    ids: dict[str, int] = {}
    line_ids: list[int] = []
    sub = _VARIABLE_TOKEN.sub
    for line in lines:
        template = sub(WILDCARD, line)
        line_ids.append(ids.setdefault(template, len(ids)))
    return line_ids, list(ids)
