"""TextPruner: keep the sentences of retrieved text that answer the query, drop the rest.

The engine behind prose compression (the ``text.prune`` compressor) and the framework
adapters' document compressors. Rules, in the order they apply:

1. **Duplicates first.** Chunks whose text repeats an earlier chunk exactly or nearly
   (SimHash, :mod:`headroom.relevance.dedup`) are dropped. Without a query this is all that
   happens by default: nothing else is lossy without a question to be relevant to, unless the
   caller opts in with ``no_query="salience"``, which keeps the most salient sentences up to
   the budget (position, headings, information density, identifiers and numbers:
   :mod:`headroom.relevance.salience`), the lead sentence always among them.
2. **Scoring.** Every sentence (:mod:`headroom.relevance.segment`) is scored against the query
   with BM25 (``rank_bm25.BM25Okapi``'s formula, native kernel), a neural scorer, or their
   reciprocal-rank fusion; each chunk is also scored as a whole, and a sentence's score is its
   own plus a share of its chunk's, so that an answer sentence with few query words still wins
   when it sits in the passage that is about the question.
3. **Selection.** Sentences are taken best first until the token budget (``token_budget``, or
   ``target_ratio`` of the input) is spent. Sentences that hold most of the query's terms
   *and* a number or a name come first; each of the few top hits brings its neighbours
   (``context_window`` sentences either side), because the answer is often the sentence after
   the one that names the subject. Chunks whose best score is near zero are dropped whole.
   The best sentence and its neighbours are kept even when they exceed the budget, and when
   nothing matches the query the lead (first sentences up to the budget, at least one) is
   kept: pruning for a query never leaves only the marker.
4. **Output.** Kept sentences in their original order and spacing; chunk ids, titles and
   metadata kept; JSON-shaped retrieval results (a list of ``{"title", "text", ...}``) are
   pruned inside their text fields, never replaced by pointers. The original goes to the CCR
   store *before* the result is returned, and the output carries one marker with its handle.
   If the result is not smaller in tokens the input comes back unchanged.

Example:
    >>> from headroom.compressors.text.pruner import TextPruner
    >>> docs = [
    ...     {"id": "a", "text": "Paris is the capital of France. It has 2.1 million people. "
    ...                         "The Seine flows through it. Paris hosts many museums."},
    ...     {"id": "b", "text": "Bananas are yellow. They grow in warm places. Monkeys eat "
    ...                         "them. Plantains are cooked. Farmers ship them far away."},
    ... ]
    >>> result = TextPruner(target_ratio=0.5).prune(docs, query="capital of France")
    >>> [c.id for c in result.chunks]
    ['a']
    >>> result.chunks[0].text  # the best sentence and its neighbour (context_window=1)
    'Paris is the capital of France. It has 2.1 million people.'
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from headroom import _core
from headroom.config import NoQuery, PrunerConfig, Scorer
from headroom.errors import InvalidArgumentError
from headroom.handles import format_marker
from headroom.relevance import dedup, salience
from headroom.relevance.bm25 import okapi_scores, query_terms, tokenize, tokenize_many
from headroom.relevance.segment import Segment, segment
from headroom.store import Store, open_store
from headroom.tokens import get_counter

__all__ = ["Chunk", "PruneResult", "PrunedChunk", "Scorer", "TextPruner"]


_TEXT_KEYS = ("text", "page_content", "content", "body", "snippet")
_TITLE_KEYS = ("title", "name")
_ENTITY_RE = re.compile(r"\d|(?<=[^.!?:\s]\s)[A-Z][\w'-]+")
_RRF_K = 60
_MARKER_SAMPLE = "\n\n[999 sentences omitted · retrieve: headroom:0123456789ab]"


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrieved chunk or document.

    Attributes:
        text: its text.
        id: the caller's id, if any.
        title: its title, if any (titles are kept and count as part of the chunk's text for
            scoring).
        metadata: anything else, passed through untouched.
    """

    text: str
    id: str | None = None
    title: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PrunedChunk:
    """A chunk after pruning.

    Attributes:
        text: the kept sentences, in order, with their original spacing ("" if dropped).
        id, title, metadata: as given.
        index: position of the chunk in the input.
        kept: number of sentences kept.
        total: number of sentences in the input chunk.
        duplicate_of: index of the earlier chunk this one duplicates, if dropped as such.
    """

    text: str
    id: str | None
    title: str | None
    metadata: Mapping[str, Any]
    index: int
    kept: int
    total: int
    duplicate_of: int | None = None


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What :meth:`TextPruner.prune` returns.

    Attributes:
        chunks: the chunks that kept at least one sentence, in input order.
        dropped: the chunks dropped whole (duplicates or irrelevant), in input order.
        text: the rendered output: kept chunks separated by blank lines, JSON input as JSON,
            followed by one marker when anything was omitted.
        data: for JSON-shaped input, the pruned structure (``text`` is its JSON); else None.
        tokens_before: tokens of the input as rendered.
        tokens_after: tokens of ``text``.
        handles: CCR handles ``text`` refers to.
        lead: True when nothing in the input matched the query and the lead (the first
            sentences up to the budget) was kept instead.
    """

    chunks: tuple[PrunedChunk, ...]
    dropped: tuple[PrunedChunk, ...]
    text: str
    data: Any
    tokens_before: int
    tokens_after: int
    handles: tuple[str, ...]
    lead: bool = False

    @property
    def tokens_saved(self) -> int:
        """``tokens_before - tokens_after``."""
        return self.tokens_before - self.tokens_after


class TextPruner:
    """Query-aware pruning of retrieved text (rules in :mod:`headroom.compressors.text.pruner`).

    ``Headroom(...).pruner(config)`` makes one that keeps its originals in that client's
    store and counts tokens as the client does.

    Args:
        config: how to rank and keep sentences (a :class:`headroom.PrunerConfig`: scorer,
            target_ratio, token_budget, context_window, chunk_weight, dedup, max_distance,
            model, cross_encoder_model, device, batch_size, no_query).
        store: where dropped text goes (default: the default store, the one
            :func:`headroom.retrieve` reads, opened when something is first dropped).
        count_tokens: token counter (default: tiktoken ``o200k_base``).
        **options: ``PrunerConfig`` options as keywords, replacing those of ``config``
            (``TextPruner(target_ratio=0.5)``).

    Raises:
        InvalidArgumentError: an option is unknown or out of range, or ``config`` is not a
            ``PrunerConfig``.
    """

    def __init__(
        self,
        config: PrunerConfig | None = None,
        /,
        *,
        store: Store | None = None,
        count_tokens: Callable[[str], int] | None = None,
        **options: Any,
    ) -> None:
        if config is not None and not isinstance(config, PrunerConfig):
            raise InvalidArgumentError(
                f"config: expected PrunerConfig or None, got {type(config).__name__}"
            )
        config = config or PrunerConfig()
        if options:
            config = dataclasses.replace(config, **options)
        self.config = config
        self.scorer: Scorer = config.scorer
        self.target_ratio = config.target_ratio
        self.token_budget = config.token_budget
        self.context_window = config.context_window
        self.chunk_weight = config.chunk_weight
        self.dedup = config.dedup
        self.max_distance = config.max_distance
        self._store = store
        self._count = count_tokens if count_tokens is not None else get_counter()
        self._model = config.model
        self._cross_model = config.cross_encoder_model
        self._device = config.device
        self._batch_size = config.batch_size
        self._neural: Any = None
        self.no_query: NoQuery = config.no_query

    @property
    def store(self) -> Store:
        """Where dropped text goes."""
        if self._store is None:
            self._store = open_store(None, degrade=True)
        return self._store

    @store.setter
    def store(self, store: Store) -> None:
        self._store = store

    # -- public -------------------------------------------------------------------------------

    def prune(
        self,
        documents: str | Sequence[str | Chunk | Mapping[str, Any]],
        query: str | None = None,
        *,
        stash: Callable[[str], str] | None = None,
    ) -> PruneResult:
        """Prune ``documents`` for ``query``.

        Args:
            documents: one text (plain, or a JSON list of ``{"title", "text", ...}``), or a
                list of texts, :class:`Chunk` objects or mappings with a text field
                (``text``, ``page_content``, ``content``, ``body`` or ``snippet``).
            query: the question; ``None`` or blank means duplicate removal only (and, with
                ``no_query="salience"``, selection by salience).
            stash: stores the original (the documents as rendered) and returns its handle;
                called before the marker naming the handle is written, and only when
                something is dropped. Default: this pruner's ``store``. Compressors pass
                their context's, so the handle gives back the piece as the caller sent it.

        Returns:
            A :class:`PruneResult`.
        """
        shape, items, chunks = _normalise(documents)
        original = (
            documents
            if isinstance(documents, str)
            else _render(shape, items, [c.text for c in chunks], chunks, keep=None)
        )
        before = self._count(original)
        segments = [segment(c.text) for c in chunks]
        duplicates: list[int | None] = [None] * len(chunks)
        if self.dedup and len(chunks) > 1:
            duplicates = dedup.duplicate_of(
                [c.text for c in chunks], max_distance=self.max_distance
            )
        keep: list[list[bool]] = [
            [d is None] * len(s) for s, d in zip(segments, duplicates, strict=True)
        ]
        lead = False
        if query is not None and query.strip() and any(segments):
            lead = self._select(query, chunks, segments, duplicates, keep, before)
        elif self.no_query == "salience" and any(segments):
            self._select_salient(segments, duplicates, keep, before)
        texts = [_join(segs, flags) for segs, flags in zip(segments, keep, strict=True)]
        # A chunk with no sentences (blank) is kept as it was.
        alive = [
            d is None and (any(flags) or not segs)
            for segs, flags, d in zip(segments, keep, duplicates, strict=True)
        ]
        omitted = sum(flags.count(False) for flags in keep)
        if omitted == 0 and all(alive):
            return self._unchanged(shape, items, chunks, segments, original, before)
        body = _render(shape, items, texts, chunks, keep=alive)
        handle = stash(original) if stash is not None else self.store.put(original, kind="text")
        unit = "sentences" if omitted != 1 else "sentence"
        marker = format_marker(omitted, unit, handle)
        text = _attach(shape, body, marker)
        after = self._count(text)
        if after >= before:
            return self._unchanged(shape, items, chunks, segments, original, before)
        pruned = [
            PrunedChunk(
                texts[i] if alive[i] else "",
                c.id,
                c.title,
                c.metadata,
                i,
                sum(keep[i]),
                len(segments[i]),
                duplicates[i],
            )
            for i, c in enumerate(chunks)
        ]
        data = json.loads(body) if shape == "json" else None
        return PruneResult(
            tuple(p for p, a in zip(pruned, alive, strict=True) if a),
            tuple(p for p, a in zip(pruned, alive, strict=True) if not a),
            text,
            data,
            before,
            after,
            (handle,),
            lead,
        )

    def score(self, query: str, sentences: Sequence[str]) -> list[float]:
        """Relevance of each sentence to ``query`` with this pruner's scorer (higher is better).

        >>> TextPruner().score("red apple", ["an apple", "a car", "red apple"])[1]
        0.0
        """
        if not sentences:
            return []
        return self._score(query, sentences, None)

    def _score(
        self, query: str, sentences: Sequence[str], tokens: list[list[str]] | None
    ) -> list[float]:
        if not sentences:
            return []
        if self.scorer == "bm25":
            return _bm25(query, sentences, tokens)
        neural = self._neural_scorer()
        scores: list[float] = neural.score(query, list(sentences))
        if self.scorer != "hybrid":
            return scores
        return _rrf(_bm25(query, sentences, tokens), scores)

    # -- internals ------------------------------------------------------------------------------

    def _neural_scorer(self) -> Any:
        if self._neural is None:
            from headroom.relevance import neural  # torch only when asked

            if self.scorer == "cross-encoder":
                self._neural = neural.CrossEncoderScorer(
                    self._cross_model or self._model,
                    device=self._device,
                    batch_size=self._batch_size,
                )
            else:
                self._neural = neural.BiEncoderScorer(
                    self._model, device=self._device, batch_size=self._batch_size
                )
        return self._neural

    def _select(
        self,
        query: str,
        chunks: list[Chunk],
        segments: list[list[Segment]],
        duplicates: list[int | None],
        keep: list[list[bool]],
        before: int,
    ) -> bool:
        """Set ``keep``; True when nothing matched and the lead was kept."""
        flat: list[tuple[int, int]] = [
            (i, j)
            for i, segs in enumerate(segments)
            if duplicates[i] is None
            for j in range(len(segs))
        ]
        for flags in keep:
            for j in range(len(flags)):
                flags[j] = False
        if not flat:
            return False
        sentence_texts = [segments[i][j].text for i, j in flat]
        sentence_tokens = tokenize_many(sentence_texts)
        scores = self._score(query, sentence_texts, sentence_tokens)
        # Passages: the paragraphs of each live chunk, scored as wholes (title included).
        passages: dict[tuple[int, int], list[int]] = {}
        for k, (i, j) in enumerate(flat):
            passages.setdefault((i, segments[i][j].paragraph), []).append(k)
        keys = list(passages)
        passage_texts = [
            _with_title(
                Chunk(
                    " ".join(sentence_texts[k] for k in passages[key]), title=chunks[key[0]].title
                )
            )
            for key in keys
        ]
        passage_tokens = [
            [
                *tokenize(chunks[key[0]].title or ""),
                *(t for k in passages[key] for t in sentence_tokens[k]),
            ]
            for key in keys
        ]
        passage_scores = dict(
            zip(keys, self._score(query, passage_texts, passage_tokens), strict=True)
        )
        top = max(scores, default=0.0)
        top_passage = max(passage_scores.values(), default=0.0)
        budget = self.token_budget
        if budget is None:
            # The ratio is of the whole output, so the marker is paid for out of it.
            budget = int(before * self.target_ratio) - self._count(_MARKER_SAMPLE)
        if top <= 0 and top_passage <= 0:
            # Nothing is about the query ("summarise this page"): keep the lead, the first
            # sentences up to the budget and at least one, never a bare marker.
            spent = 0
            for n, (i, j) in enumerate(flat):
                lead_cost = self._count(segments[i][j].sep + segments[i][j].text)
                if n > 0 and spent + lead_cost > budget:
                    break
                keep[i][j] = True
                spent += lead_cost
            return True
        terms = set(query_terms(query))
        needed = max(1, math.ceil(len(terms) / 2)) if len(terms) > 1 else 1
        combined: list[float] = []
        signal: list[bool] = []
        chunk_best: dict[int, float] = {}
        for (i, j), text, toks, s in zip(
            flat, sentence_texts, sentence_tokens, scores, strict=True
        ):
            p = passage_scores[(i, segments[i][j].paragraph)]
            share = p / top_passage if top_passage > 0 else 0.0
            combined.append((s / top if top > 0 else 0.0) + self.chunk_weight * share)
            chunk_best[i] = max(chunk_best.get(i, 0.0), s, p)
            hits = terms.intersection(toks)
            signal.append(s > 0 and len(hits) >= needed and _ENTITY_RE.search(text) is not None)
        # Chunks where neither a sentence nor a passage matches at all are dropped whole.
        near_zero = {i for i, best in chunk_best.items() if best <= 0}
        spent = 0
        order = sorted(range(len(flat)), key=lambda k: (not signal[k], -combined[k], k))
        position = {ij: k for k, ij in enumerate(flat)}
        hits_done = 0
        costs: dict[int, int] = {}

        def cost(k: int) -> int:
            if k not in costs:
                i, j = flat[k]
                costs[k] = self._count(segments[i][j].sep + segments[i][j].text)
            return costs[k]

        def take(k: int, *, force: bool = False) -> bool:
            nonlocal spent
            i, j = flat[k]
            if keep[i][j]:
                return True
            if not force and (i in near_zero or spent + cost(k) > budget):
                return False
            keep[i][j] = True
            spent += cost(k)
            return True

        for rank, k in enumerate(order):
            if combined[k] <= 0 and not signal[k]:
                break
            # The best sentence and its neighbours are kept whatever the budget: a ratio too
            # small for them must not leave only the marker.
            best = rank == 0
            if not take(k, force=best):
                continue
            if hits_done < 3:
                hits_done += 1
                i, j = flat[k]
                for d in range(1, self.context_window + 1):
                    for jj in (j - d, j + d):
                        near = position.get((i, jj))
                        if (
                            near is not None
                            and segments[i][jj].paragraph == segments[i][j].paragraph
                        ):
                            take(near, force=best)
            if spent >= budget:
                break
        return False

    def _select_salient(
        self,
        segments: list[list[Segment]],
        duplicates: list[int | None],
        keep: list[list[bool]],
        before: int,
    ) -> None:
        flat = [
            (i, j)
            for i, segs in enumerate(segments)
            if duplicates[i] is None
            for j in range(len(segs))
        ]
        if not flat or (self.token_budget is None and self.target_ratio >= 1):
            return  # a ratio of 1 asks for everything, not for room for a marker
        budget = self.token_budget
        if budget is None:
            budget = int(before * self.target_ratio) - self._count(_MARKER_SAMPLE)

        def cost(k: int) -> int:
            i, j = flat[k]
            return self._count(segments[i][j].sep + segments[i][j].text)

        chosen = salience.select(
            [salience.Sentence(segments[i][j].text, i, segments[i][j].paragraph) for i, j in flat],
            cost,
            budget,
        )
        for (i, j), kept in zip(flat, chosen, strict=True):
            keep[i][j] = kept

    def _unchanged(
        self,
        shape: str,
        items: Any,
        chunks: list[Chunk],
        segments: list[list[Segment]],
        original: str,
        before: int,
    ) -> PruneResult:
        pruned = tuple(
            PrunedChunk(c.text, c.id, c.title, c.metadata, i, len(segments[i]), len(segments[i]))
            for i, c in enumerate(chunks)
        )
        data = json.loads(original) if shape == "json" else None
        return PruneResult(pruned, (), original, data, before, before, ())


def _bm25(query: str, texts: Sequence[str], tokens: list[list[str]] | None) -> list[float]:
    if tokens is None:
        return okapi_scores(query, texts)
    return _core.bm25_okapi(tokens, query_terms(query))


def _rrf(first: list[float], second: list[float]) -> list[float]:
    """Reciprocal-rank fusion of two score lists (ties share the better rank)."""
    fused = [0.0] * len(first)
    for scores in (first, second):
        ranked = sorted(range(len(scores)), key=lambda k: (-scores[k], k))
        rank = 0
        for position, k in enumerate(ranked):
            if position == 0 or scores[k] != scores[ranked[position - 1]]:
                rank = position
            fused[k] += 1.0 / (_RRF_K + rank + 1)
    return fused


def _with_title(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def _join(segments: list[Segment], flags: list[bool]) -> str:
    parts: list[str] = []
    previous = -1
    for j, (seg, kept) in enumerate(zip(segments, flags, strict=True)):
        if not kept:
            continue
        if parts:
            # Adjacent sentences keep their spacing; a gap takes the widest line break it
            # spans (a heading must not run into the next kept sentence), else the later
            # sentence's own separator, or a space when it started the chunk.
            parts.append(seg.sep if previous == j - 1 else _gap(segments[previous + 1 : j + 1]))
        parts.append(seg.text)
        previous = j
    return "".join(parts)


def _gap(skipped: list[Segment]) -> str:
    seps = [s.sep for s in skipped]
    if any("\n\n" in sep for sep in seps):
        return "\n\n"
    if any("\n" in sep for sep in seps):
        return "\n"
    return skipped[-1].sep or " "


def _text_of(item: Mapping[str, Any]) -> tuple[str | None, str]:
    for key in _TEXT_KEYS:
        value = item.get(key)
        if isinstance(value, str):
            return key, value
    return None, ""


def _chunk_of(item: str | Chunk | Mapping[str, Any]) -> Chunk:
    if isinstance(item, Chunk):
        return item
    if isinstance(item, str):
        return Chunk(item)
    if isinstance(item, Mapping):
        _key, text = _text_of(item)
        title = next((item[k] for k in _TITLE_KEYS if isinstance(item.get(k), str)), None)
        raw_id = item.get("id")
        metadata = item.get("metadata")
        return Chunk(
            text,
            None if raw_id is None else str(raw_id),
            title,
            metadata if isinstance(metadata, Mapping) else {},
        )
    raise TypeError(f"documents: expected str, Chunk or mapping items, got {type(item).__name__}")


def _normalise(
    documents: str | Sequence[str | Chunk | Mapping[str, Any]],
) -> tuple[str, Any, list[Chunk]]:
    """(shape, raw items, chunks): shape is ``text``, ``json`` or ``list``."""
    if isinstance(documents, str):
        stripped = documents.lstrip()
        if stripped.startswith("["):
            try:
                parsed = json.loads(documents)
            except ValueError:
                parsed = None
            if (
                isinstance(parsed, list)
                and parsed
                and all(isinstance(x, dict) and _text_of(x)[0] for x in parsed)
            ):
                return "json", parsed, [_chunk_of(x) for x in parsed]
        return "text", documents, [Chunk(documents)]
    if isinstance(documents, Sequence):
        items = list(documents)
        return "list", items, [_chunk_of(x) for x in items]
    raise TypeError(f"documents: expected a str or a sequence, got {type(documents).__name__}")


def _render(
    shape: str, items: Any, texts: list[str], chunks: list[Chunk], *, keep: list[bool] | None
) -> str:
    if shape == "text":
        return texts[0] if keep is None else (texts[0] if keep[0] else "")
    if shape == "json":
        if keep is None:
            return str(items) if not isinstance(items, list) else _dump(items)
        out = []
        for item, text, alive in zip(items, texts, keep, strict=True):
            if alive:
                key, _ = _text_of(item)
                out.append({**item, str(key): text})
        return _dump(out)
    chosen = [
        _with_title(Chunk(t, title=c.title))
        for t, c, a in zip(texts, chunks, keep or [True] * len(texts), strict=True)
        if a
    ]
    return "\n\n".join(chosen)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _attach(shape: str, body: str, marker: str) -> str:
    if shape == "json":
        return (
            body[:-1] + ("," if body != "[]" else "") + json.dumps(marker, ensure_ascii=False) + "]"
        )
    return f"{body}\n\n{marker}" if body else marker
