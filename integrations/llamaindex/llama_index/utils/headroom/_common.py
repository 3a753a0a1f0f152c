"""What every headroom component for LlamaIndex needs: its client, and message plumbing."""

from __future__ import annotations

from headroom import CompressConfig, Headroom, Store

__all__ = ["make_headroom"]


def make_headroom(
    headroom: Headroom | None,
    config: CompressConfig | None,
    store: Store | str | None,
    model: str,
) -> Headroom:
    """The client a component uses: the one given, or a new one from the options."""
    if headroom is not None:
        return headroom
    return Headroom(config, store=store, model=model)
