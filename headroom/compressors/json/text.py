"""Shortening one long free-text string (a body, an abstract, a readme), lossily.

Rules:

- Only free text is shortened: longer than the limit, at least 10 words, not mostly
  base64/hex runs (40+ characters of ``[A-Za-z0-9+/=_-]``, even wrapped into lines), no
  omission marker already inside (so a second pass changes nothing), and not a JSON
  object or array written as a string. So ids, URLs, hashes and identifiers are never
  touched.
- What stays: the leading sentences (about a quarter of the limit, at least the first
  sentence, which is cut at a word boundary if it alone is very long), then every later
  sentence containing a query word (stop words aside) or naming an exception, a traceback
  or a panic (:data:`headroom.signals.EXCEPTION_RE`: signal is never dropped, contract 6),
  in order, gaps shown as ``…``. Error *words* alone do not keep a sentence: bug reports
  and abstracts are full of them ("fails when", "a critical review"), and keeping those
  doubled the tokens of a page of GitHub issues; an exception name is evidence.
- Then one inline marker, ``[N chars omitted · retrieve: headroom:…]``, whose handle
  stores the whole string. The string is never replaced by the bare marker.
- If that would keep more than three quarters of the string, it is left whole.

Sentences end at ``.``, ``!`` or ``?`` followed by white space, and at line breaks (so
Markdown lines and list items are sentences too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Final

from headroom.handles import format_marker, has_marker
from headroom.relevance import tokenize
from headroom.signals import EXCEPTION_HINTS, names_exception

__all__ = ["Kept", "query_words", "shorten", "shortened"]

# A run of white space after ".", "!" or "?" or holding a line break: the matches of
# r"(?<=[.!?。！？])\s+|\s*\n\s*", spelled to start with "\s" so that the scan skips
# every other character without trying the alternatives there.
_BOUNDARY_RE: Final = re.compile(r"\s(?:(?<=[.!?。！？]\s)|(?<=\n)|(?=\s*\n))\s*")
_WORD_RE: Final = re.compile(r"[A-Za-z0-9]+")
_MIN_WORDS: Final = 10
_BLOB_CHAR: Final = r"[A-Za-z0-9+/=_-]"
_BLOB_LENGTH: Final = 40
_BLOB_RE: Final = re.compile(f"{_BLOB_CHAR}{{{_BLOB_LENGTH},}}")
# Whether a text has such a run at all is one search in its UTF-8 bytes with the run's
# characters made "a" and every other byte " " (the characters are ASCII; any other
# character is bytes of 0x80 and above, so the runs are the same).
_BLOB_BYTES: Final = bytes(
    0x61 if re.fullmatch(_BLOB_CHAR, chr(byte)) else 0x20 for byte in range(256)
)
_BLOB_RUN: Final = b"a" * _BLOB_LENGTH
_MAX_KEPT_SHARE: Final = 0.75
_MIN_HEAD: Final = 80
_GAP: Final = " … "

# Words too common to say a sentence is about the query.
# fmt: off
_STOP_WORDS: Final = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do",
    "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it",
    "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "us", "was", "we", "were",
    "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
    "all", "any", "show", "find", "list", "get", "give", "tell", "about",
})
# fmt: on


def query_words(query: str | None) -> frozenset[str]:
    """The words of ``query`` that can mark a sentence as relevant (lower-cased).

    >>> sorted(query_words("Why did the Castaic quake fail?"))
    ['castaic', 'fail', 'quake']
    """
    if not query:
        return frozenset()
    return frozenset(
        word
        for word in (w.lower() for w in _WORD_RE.findall(query))
        if word not in _STOP_WORDS and (len(word) > 1 or word.isdigit())
    )


def shorten(
    text: str, *, words: frozenset[str], max_chars: int, stash: Callable[[str], str]
) -> str | None:
    """``text`` shortened (see module docs), or ``None`` when it is left whole.

    Args:
        text: the string.
        words: query words (:func:`query_words`); sentences holding one are kept.
        max_chars: strings up to this long are left whole.
        stash: stores the whole string and returns its handle.

    >>> text = "Fires shape savannas. " + "Rain varies by year. " * 20 + "Lightning starts most."
    >>> stash = lambda original: "headroom:" + "0" * 12
    >>> short = shorten(text, words=query_words("lightning"), max_chars=200, stash=stash)
    >>> print(short.replace(" [", "\\n["))
    Fires shape savannas. Rain varies by year. Rain varies by year. … Lightning starts most.
    [379 chars omitted · retrieve: headroom:000000000000]
    """
    kept = shortened(text, words=words, max_chars=max_chars)
    if kept is None:
        return None
    return kept.marked(stash(text))


@dataclass(frozen=True, slots=True)
class Kept:
    """What :func:`shortened` keeps of a string: ``text``, then ``omitted`` chars are left out."""

    text: str
    omitted: int

    def marked(self, handle: str) -> str:
        """The kept text and the marker naming what it leaves out (the original's ``handle``)."""
        return self.text + " " + format_marker(self.omitted, "chars", handle)


def shortened(text: str, *, words: frozenset[str], max_chars: int) -> Kept | None:
    """What :func:`shorten` keeps of ``text`` (before its marker), or ``None`` when it is
    left whole: a pure function of its arguments (nothing is stashed)."""
    if len(text) <= max_chars or not _is_free_text(text):
        return None
    spans = _sentences(text)
    first = next(spans, None)
    if first is None:
        return None
    head_target = max(_MIN_HEAD, max_chars // 4)
    head_end = first[1]
    if head_end > 2 * head_target:
        cut = text.rfind(" ", 0, 2 * head_target)
        head_end = cut if cut > 0 else 2 * head_target
    later = None
    for span in spans:
        if span[1] > head_target:
            later = span
            break
        head_end = span[1]
    pieces = [text[:head_end].rstrip()]
    kept = len(pieces[0])
    last_end = head_end
    relevant = _relevance_test(text, words)
    # Sentences after the head are read only when one of them can be kept.
    if later is not None and relevant is not None:
        for start, end in chain((later,), spans):
            if not relevant(text[start:end]):
                continue
            if text[last_end:start].strip():
                pieces.append(_GAP + text[start:end])
                kept += end - start
            else:  # adjacent to what is kept already: keep the original spacing
                pieces.append(text[last_end:end])
                kept += end - last_end
            last_end = end
    omitted = len(text) - kept
    if kept > _MAX_KEPT_SHARE * len(text) or omitted <= 0:
        return None
    return Kept("".join(pieces), omitted)


def _relevance_test(text: str, words: frozenset[str]) -> Callable[[str], bool] | None:
    """Whether a sentence of ``text`` holds one of ``words`` or names an exception, or
    ``None`` when no sentence of ``text`` can.

    Both are decided by substring tests first. An ASCII word is a token of a sentence
    only if it is in the lower-cased sentence (tokens are lower-cased runs of its
    characters; only "Σ" lower-cases by context, and never to ASCII), hence in the
    lower-cased text; :func:`~headroom.signals.names_exception` needs one of its hints.
    """
    hinted = any(hint in text for hint in EXCEPTION_HINTS)
    if all(word.isascii() for word in words):
        lowered = text.lower() if words else ""
        present = [word for word in words if word in lowered]
        if not present and not hinted:
            return None

        def relevant(sentence: str) -> bool:
            if present:
                folded = sentence.lower()
                if any(word in folded for word in present) and words.intersection(
                    tokenize(sentence)
                ):
                    return True
            return hinted and names_exception(sentence)

        return relevant

    def relevant_any(sentence: str) -> bool:
        return bool(words.intersection(tokenize(sentence))) or names_exception(sentence)

    return relevant_any


def _is_free_text(text: str) -> bool:
    if has_marker(text):
        return False
    if len(text.split(None, _MIN_WORDS)) <= _MIN_WORDS:
        return False
    # Base64 or hex wrapped into lines has "words" but is an opaque blob; stack traces and
    # paths have long tokens too, but broken by "." and ":" so they stay text.
    if _BLOB_RUN in text.encode("utf-8", "surrogatepass").translate(_BLOB_BYTES):
        opaque = sum(len(blob) for blob in _BLOB_RE.findall(text))
        if opaque * 2 > len(text) - text.count(" "):
            return False
    stripped = text.strip()
    if stripped[:1] in "[{":
        try:
            return not isinstance(json.loads(stripped), list | dict)
        except ValueError:
            return True
    return True


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """The ``(start, end)`` of each sentence, in order (made as they are read: the ones
    after the head are often not needed)."""
    start = 0
    for boundary in _BOUNDARY_RE.finditer(text):
        at, end = boundary.span()
        if at > start:
            yield start, at
        start = end
    if start < len(text):
        yield start, len(text)
