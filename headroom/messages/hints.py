"""Hints about a tool result that its tool call gives: the file a path argument names."""

from __future__ import annotations

import json
from collections.abc import Mapping

__all__ = ["path_argument"]

_PATH_KEYS = ("path", "file_path", "filepath", "file", "filename", "target_file", "url")


def path_argument(arguments: object) -> str | None:
    """The path a tool call's arguments name (a JSON object string or a mapping), if any."""
    if isinstance(arguments, str):
        # Arguments are model-written and untrusted: only an object can name a path, and
        # JSON nested deeper than the recursion limit raises RecursionError, not ValueError.
        if not arguments.lstrip().startswith("{"):
            return None
        try:
            arguments = json.loads(arguments)
        except (ValueError, RecursionError):
            return None
    if isinstance(arguments, Mapping):
        for key in _PATH_KEYS:
            value = arguments.get(key)
            if isinstance(value, str):
                return value
    return None
