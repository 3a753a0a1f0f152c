"""What every door offers the model and reads from it: the ``headroom_retrieve`` tool, the
path hint of a tool call, the default model, and the client an adapter compresses with.

The LangChain and LlamaIndex adapters, the CLI and the proxy take these from here, so the
tool's name, description, schema and answers, the argument names that count as a file, and
the model counted with by default are the same behind every door.

>>> RETRIEVE_TOOL_NAME, DEFAULT_MODEL
('headroom_retrieve', 'gpt-4o')
>>> path_hint({"file_path": "src/app.py"})
'src/app.py'
>>> answer("3f9a")[:44]
"Cannot retrieve: handle: '3f9a' is not a Hea"
"""

from __future__ import annotations

from typing import Any, Final

from headroom.client import Headroom, stores_for
from headroom.config import DEFAULT_MODEL, CompressConfig
from headroom.errors import InvalidArgumentError
from headroom.messages.hints import path_argument
from headroom.retrieval import answer_from
from headroom.store import Store

__all__ = [
    "DEFAULT_MODEL",
    "RETRIEVE_TOOL_DESCRIPTION",
    "RETRIEVE_TOOL_NAME",
    "RETRIEVE_TOOL_PARAMETERS",
    "answer",
    "client_for",
    "path_hint",
]

RETRIEVE_TOOL_NAME: Final = "headroom_retrieve"
"""The name every door gives the retrieve tool."""

RETRIEVE_TOOL_DESCRIPTION: Final = (
    "Get back content that was shortened. Compressed tool output contains markers such as "
    "'[187 rows omitted: ... · retrieve: headroom:3f9a1c2e4b7d]'. Call this tool with the "
    "handle from a marker (e.g. 'headroom:3f9a1c2e4b7d') to get the original content behind "
    "it; pass 'query' to get only the parts that match it."
)
"""What the model is told the retrieve tool does."""

RETRIEVE_TOOL_PARAMETERS: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "handle": {
            "type": "string",
            "description": "The handle after 'retrieve:' in a marker, e.g. headroom:3f9a1c2e4b7d",
        },
        "query": {
            "type": "string",
            "description": "Optional: words to look for; only the matching parts come back",
        },
    },
    "required": ["handle"],
}
"""The retrieve tool's arguments as JSON Schema (copy it before changing it)."""


def answer(handle: str, query: str | None = None, *, client: Headroom | None = None) -> str:
    """What the retrieve tool says to the model: the original behind ``handle`` (see
    :func:`headroom.retrieve`), or a message the model can act on; never an exception.

    A handle the model mistyped, one that expired, or a store that failed never aborts an
    agent run: the model reads why and can try again.

    Args:
        handle: the handle from a marker, written loosely or not (see
            :func:`headroom.normalize_handle`).
        query: only the parts of the original matching these words.
        client: the client whose store to read first; any store this process compressed
            into, and the default store, are tried after it.

    >>> answer("headroom:000000000000")[:38]
    "No original is stored under 'headroom:"
    """
    try:
        stores = stores_for(client)
    except InvalidArgumentError as error:
        return f"Cannot retrieve: {error}"
    return answer_from(stores, handle, query=query)


def path_hint(arguments: object) -> str | None:
    """The file a tool call's arguments name, if any: a routing hint (``.py`` means code).

    ``arguments`` is a mapping or a JSON object string. A path argument (``path``,
    ``file_path``, ``filepath``, ``file``, ``filename``, ``target_file``, ``url``) counts, and
    so does a shell ``command`` that only prints a file (``cat src/app.py``). The same
    reading :meth:`headroom.Headroom.compress` gives a tool call in a message list.

    >>> path_hint({"command": "cd repo && head -50 lib/util.rs"})
    'lib/util.rs'
    >>> path_hint({"query": "status"}) is None
    True
    """
    return path_argument(arguments) or None


def client_for(
    headroom: Headroom | None = None,
    *,
    config: CompressConfig | None = None,
    store: Store | str | None = None,
    model: str = DEFAULT_MODEL,
) -> Headroom:
    """The client an adapter compresses with: ``headroom`` when given, else a new one.

    Args:
        headroom: a ready client; the other arguments are then not used.
        config, store, model: what a new client is made with (see :class:`headroom.Headroom`).

    Raises:
        InvalidArgumentError: ``headroom`` is not a ``Headroom``, or an option is invalid.

    >>> client_for(store="memory").model
    'gpt-4o'
    """
    if headroom is None:
        return Headroom(config, store=store, model=model)
    if not isinstance(headroom, Headroom):
        raise InvalidArgumentError(
            f"headroom: expected a Headroom instance or None, got {type(headroom).__name__}"
        )
    return headroom
