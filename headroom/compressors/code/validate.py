"""Does the skeleton parse? It is only returned when the answer is yes.

Python output goes through ``ast.parse``, CPython's own parser and stricter than any
grammar; the other languages are parsed again by tree-sitter. A fresh parse of the (much
shorter) output measured faster than an incremental re-parse of the edited original tree.

Input that already had parse errors (macros tree-sitter cannot expand) cannot give an output
without any: there the rule is "no new errors". Every error in the output must lie in text
copied from the input, at a place where the input had an error too; an error touching a
marker, or in kept text that parsed cleanly before, means the edits broke something.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from headroom.compressors.code.errors import error_spans, overlaps

if TYPE_CHECKING:
    from tree_sitter import Parser

    from headroom.compressors.code.skeleton import Edit

__all__ = ["parses"]


def parses(
    output: bytes,
    parser: Parser,
    *,
    python: bool,
    edits: Sequence[Edit] = (),
    errors: Sequence[tuple[int, int]] = (),
) -> bool:
    """Whether ``output`` parses with no error the input did not have.

    Args:
        output: the input with ``edits`` made.
        parser: the grammar's parser (not used for Python: ``ast.parse`` is).
        python: check with ``ast.parse``, which must succeed outright.
        edits: the sorted ``(start, end, replacement)`` edits made to the input.
        errors: the input's error spans (:func:`~.errors.error_spans`); with none, the
            output may have no error at all.
    """
    if python:
        return _python_parses(output)
    found = error_spans(parser.parse(output))
    if not found or not errors:
        return not found
    return all(_inherited(start, end, edits, errors) for start, end in found)


def _inherited(
    start: int, end: int, edits: Sequence[Edit], errors: Sequence[tuple[int, int]]
) -> bool:
    """Whether the output error ``[start, end)`` lies in copied text, where the input had one."""
    shift = 0  # input offset minus output offset, before the current edit
    for edit_start, edit_end, replacement in edits:
        out_start = edit_start - shift
        if out_start >= end:
            break
        if out_start + len(replacement) > start:
            return False  # it touches a replacement
        shift += (edit_end - edit_start) - len(replacement)
    return overlaps(errors, start + shift, end + shift)


def _python_parses(output: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences in the user's file are theirs, not news for us.
            warnings.simplefilter("ignore")
            ast.parse(output)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True
