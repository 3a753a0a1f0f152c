"""Native hot loops of Headroom, compiled from the Rust crate in ``native/``.

Import :mod:`headroom._core` instead of this module: it falls back to the pure-Python
reference (:mod:`headroom._reference`) when the extension is not built and for strings that
cannot be encoded as UTF-8.

Every function takes and returns plain data and runs with the GIL released.
"""

__all__ = ["group_templates", "mask_line", "mask_lines", "version"]

def version() -> str:
    """Return the version of the native crate (the single source of Headroom's version)."""

def mask_line(line: str) -> tuple[str, list[str]]:
    """Mask one line: return its template and the variable tokens it replaced, in order.

    Raises:
        UnicodeEncodeError: ``line`` contains a lone surrogate.
    """

def mask_lines(lines: list[str]) -> list[str]:
    """Mask many lines and return only their templates, in input order.

    Raises:
        UnicodeEncodeError: a line contains a lone surrogate.
        TypeError: ``lines`` is a ``str`` or holds something other than ``str``.
    """

def group_templates(lines: list[str]) -> tuple[list[int], list[str]]:
    """Group lines by template.

    Returns the template id of each line (ids assigned ``0, 1, 2, ...`` in order of first
    appearance) and the distinct templates in id order.

    Raises:
        UnicodeEncodeError: a line contains a lone surrogate.
        TypeError: ``lines`` is a ``str`` or holds something other than ``str``.
    """
