"""Compress one piece of text: gate, route, run the kind's chain, check, fall back.

The contracts every compressor keeps are enforced here once: content below ``min_tokens``,
already compressed (:func:`headroom.router.already_compressed`), disabled or opaque passes
through; a lossy result is discarded when ``lossy=False``; a result that is not smaller in
tokens is discarded; an exception inside a compressor leaves the content as it was and
becomes a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from headroom.compressors import Context, Registry
from headroom.compressors.json.minify import json_layout, keeping_parsed
from headroom.config import KINDS, CompressConfig, Kind
from headroom.errors import UnknownKindError
from headroom.router import Hints, Route, already_compressed, detect
from headroom.store.base import Store
from headroom.tokens import TokenCounter, memoized

__all__ = ["Piece", "compress_piece", "missing_handles"]

_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


@dataclass(slots=True)
class Piece:
    """The outcome for one piece of text."""

    text: str
    route: Route
    tokens_before: int
    tokens_after: int
    lossless: bool = True
    transforms: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def compress_piece(
    text: str,
    *,
    config: CompressConfig,
    registry: Registry,
    store: Store,
    count: TokenCounter,
    query: str | None = None,
    kind: str = "auto",
    hints: Hints | None = None,
    where: str = "text",
) -> Piece:
    """Compress ``text``; never raises for content, only for a bad ``kind``."""
    # The chain counts the same texts again (the input, each result): once per text. The
    # router's parse of a JSON piece is handed to the compressor that needs it, once.
    with keeping_parsed():
        return _compress(
            text,
            config=config,
            registry=registry,
            store=store,
            count=memoized(count),
            query=query,
            kind=kind,
            hints=hints,
            where=where,
        )


def _compress(
    text: str,
    *,
    config: CompressConfig,
    registry: Registry,
    store: Store,
    count: TokenCounter,
    query: str | None,
    kind: str,
    hints: Hints | None,
    where: str,
) -> Piece:
    # A text this long has at least min_tokens tokens whatever its count: it is counted in
    # the background while it is routed and compressed (by the native counter's own thread,
    # or tiktoken on a worker thread, which releases the GIL). A shorter one is counted
    # here: with tiktoken a worker thread needs the GIL to start and to hand back its
    # count, which the main thread, routing in Python, yields only every few milliseconds
    # (sys.getswitchinterval), so the hand-over cost more than it saved on a conversation
    # of 10k-token pieces (wall +6 to +11 ms of ~100).
    longest = count.longest_token
    surely_large = longest is not None and len(text) >= config.min_tokens * longest
    if surely_large and count.start is not None:
        count.start(text)
    route, misfit = _route(text, kind, hints)
    piece = Piece(text, route, -1, -1)  # the counts are set when the outcome is known
    if misfit:
        piece.warnings.append(f"{where}: {misfit}")
    if (
        (not surely_large and count(text) < config.min_tokens)
        or len(text) > config.max_input_chars
        or not config.kind_enabled(route.kind)
        or already_compressed(text) is not None  # compressing again changes nothing
    ):
        piece.tokens_before = piece.tokens_after = count(text)
        return piece
    ctx = Context(route.kind, route.language, query, config, store, count, original=text)
    for compressor in registry.chain(route.kind):
        try:
            out = compressor.compress(piece.text, ctx)
        except BaseException as error:  # a compressor bug must not lose the request
            if isinstance(error, _FATAL):
                raise
            piece.warnings.append(
                f"{where}: {compressor.name} failed ({type(error).__name__}: {error}); "
                "skipped, the content is as the steps before it left it"
            )
            break
        if out is None or (not out.lossless and not config.lossy):
            continue
        piece.text = out.text
        piece.lossless = piece.lossless and out.lossless
        piece.transforms.append(out.transform)
        piece.handles.extend(h for h in out.handles if h not in piece.handles)
    if not piece.lossless and (missing := missing_handles(piece.handles, store)):
        # No way back: the best lossless result instead, as if lossy compression were off.
        lossless = _compress(
            text,
            config=replace(config, lossy=False),
            registry=registry,
            store=store,
            count=count,
            query=query,
            kind=kind,
            hints=hints,
            where=where,
        )
        lossless.warnings[:0] = [
            *piece.warnings,
            f"{where}: the store {store!r} no longer holds {', '.join(missing)} (evicted or "
            "not written: is max_bytes too small?); kept the lossless result",
        ]
        lossless.warnings = list(dict.fromkeys(lossless.warnings))
        return lossless
    before = count(text)
    if piece.text != text:
        piece.tokens_before = before
        piece.tokens_after = count(piece.text)
        if piece.tokens_after < before:
            return piece
    # Nothing changed, or the result was not smaller: the input, keeping any warnings.
    return Piece(text, route, before, before, warnings=piece.warnings)


def missing_handles(handles: list[str], store: Store) -> list[str]:
    """The handles ``store`` cannot give back (each a cheap existence check)."""
    missing = []
    for handle in handles:
        try:
            held = handle in store
        except Exception:  # an unreachable store holds nothing we can promise
            held = False
        if not held:
            missing.append(handle)
    return missing


def _route(text: str, kind: str, hints: Hints | None) -> tuple[Route, str | None]:
    """The route, and why the caller's kind was not used (``None`` when it was)."""
    if kind == "auto":
        return detect(text, hints), None
    if not isinstance(kind, str) or kind not in KINDS:
        raise UnknownKindError(f"kind: expected 'auto' or one of {list(KINDS)}, got {kind!r}")
    if kind == "json" and json_layout(text) is None:
        # Treating other text as JSON would strip the spaces between its words.
        detected = detect(text, hints)
        return detected, (
            f"kind='json' does not fit this content (it is not a JSON document or JSON "
            f"Lines); compressed as {detected.kind} ({detected.reason}) instead"
        )
    language = None
    if kind == "code":
        detected = detect(text, hints)
        language = detected.language if detected.kind == "code" else None
    known: Kind = kind  # type: ignore[assignment]  # checked against KINDS above
    return Route(known, language, "given by caller"), None
