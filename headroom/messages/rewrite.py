"""Put compressed text back into a message list without touching the caller's objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["replace_texts"]

Path = tuple[int | str, ...]


def replace_texts(
    messages: Sequence[Mapping[str, Any]], replacements: dict[Path, str]
) -> list[Any]:
    """A new message list with the strings at ``replacements``' paths replaced.

    Containers on a replaced path are shallow-copied (once each); everything else, such as
    image data, is shared with the input, which is never mutated.
    """
    out: list[Any] = list(messages)
    copied: set[int] = {id(out)}
    for path, text in replacements.items():
        container: Any = out
        for key in path[:-1]:
            child = container[key]
            if id(child) not in copied:
                child = dict(child) if isinstance(child, Mapping) else list(child)
                copied.add(id(child))
                container[key] = child
            container = child
        container[path[-1]] = text
    return out
