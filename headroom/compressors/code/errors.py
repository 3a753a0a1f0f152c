"""Where a syntax tree has parse errors, and whether there are few enough to work around.

Real C and C++ is full of macros a grammar cannot expand (``PyObject_HEAD`` in a struct,
``Py_BEGIN_ALLOW_THREADS``): tree-sitter recovers with a few small ``ERROR`` or ``MISSING``
nodes and parses the rest of the file correctly. Such input is compressed around its errors;
input whose errors are spread all over (another language, prose) is not. Content detection
uses the same measure to tell code from text.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

__all__ = ["error_spans", "localized", "loose_bytes", "overlaps"]

# Errors count as localized while they cover at most this share of the bytes …
_MAX_ERROR_SHARE = 0.02
# … and number at most one per this many lines (plus a few for any file).
_LINES_PER_ERROR = 50
_FREE_ERRORS = 4


def error_spans(tree: Tree) -> list[tuple[int, int]]:
    """Byte ranges of the tree's ``ERROR`` and ``MISSING`` nodes, sorted; a ``MISSING`` node
    (zero width) counts as the byte where it is missing."""
    spans: list[tuple[int, int]] = []
    # Only subtrees flagged `has_error` are entered: a clean file costs one check.
    stack: list[Node] = [tree.root_node] if tree.root_node.has_error else []
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            spans.append((node.start_byte, max(node.end_byte, node.start_byte + 1)))
            continue
        stack.extend(child for child in node.children if child.has_error)
    spans.sort()
    return spans


def loose_bytes(tree: Tree) -> int:
    """Bytes of the tokens no rule could take: the leaves directly under ``ERROR`` nodes (not
    comments, which may stand anywhere), plus one per ``MISSING`` node.

    Unlike :func:`error_spans` this does not count what an ``ERROR`` node wraps but parsed
    fine: a sample cut before an include guard's ``#endif`` or the end of a wrapping function
    is one ``ERROR`` over the whole text, around well-formed definitions.
    """
    total = 0
    stack: list[Node] = [tree.root_node] if tree.root_node.has_error else []
    while stack:
        node = stack.pop()
        if node.is_missing:
            total += 1
            continue
        for child in node.children:
            if child.is_missing or child.is_error or child.has_error:
                stack.append(child)
            elif node.is_error and child.child_count == 0 and "comment" not in child.type:
                total += child.end_byte - child.start_byte
    return total


def localized(spans: Sequence[tuple[int, int]], size: int, lines: int) -> bool:
    """Whether errors this many and this wide still leave a file worth reading as code."""
    if not spans:
        return True
    covered = sum(end - start for start, end in spans)
    return (
        covered <= _MAX_ERROR_SHARE * size and len(spans) <= _FREE_ERRORS + lines / _LINES_PER_ERROR
    )


def overlaps(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether some span in ``spans`` (from :func:`error_spans`) meets ``[start, end)``."""
    # The spans are disjoint (the walk stops at an error node), so their ends are sorted
    # too: the last span starting before `end` is the only one that can reach `start`.
    at = bisect_left(spans, (end, -1)) - 1
    return at >= 0 and spans[at][1] > start
