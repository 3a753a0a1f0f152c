"""Does the skeleton parse? It is only returned when the answer is yes.

Python output goes through ``ast.parse``, CPython's own parser and stricter than any
grammar; the other languages are parsed again by tree-sitter. A fresh parse of the (much
shorter) output measured faster than an incremental re-parse of the edited original tree.
"""

from __future__ import annotations

import ast
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Parser

__all__ = ["parses"]


def parses(output: bytes, parser: Parser, *, python: bool) -> bool:
    """Whether ``output`` parses without error (``ast.parse`` for Python, else tree-sitter)."""
    if not python:
        return not parser.parse(output).root_node.has_error
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences in the user's file are theirs, not news for us.
            warnings.simplefilter("ignore")
            ast.parse(output)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True
