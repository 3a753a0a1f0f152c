"""File listings (``ls -l``/``-la``/``-laR``, ``find``, ``tree``, ``git ls-files``, ``du -a``):
every path kept, columns folded, lossless when the folding can be undone.

Rules:

* **Every path and every error line stays.** Nothing is selected or dropped; the saving
  comes from stating things once.
* ``ls -l`` output keeps its lines (``dir:`` headers, ``total``, errors verbatim) under one
  first line stating the usual permission, link count, owner, group and date (per file
  type for the first two); an entry shows its size, its name (directories end in ``/``)
  and, before them, only the fields that differ (``links=3``, ``perms=-rwxr-xr-x``).
  A directory whose entries mostly share another date says so once (``same date=...``);
  when dates vary too much for that to pay, every entry shows its date.
  Sizes are always kept: they cost one or two tokens an entry and are what a reader most
  often wants after the name. Only derivable ones are folded: the usual directory size,
  a symlink's (the length of its target).
* Path lists (``find``, ``git ls-files``, ``du -a``) and ``tree`` are grouped by
  directory: a directory's path once, then its entries; directories with a single child
  are written as a relative path in their parent (``src/main/java/``) instead.
* Lossless when :func:`decode_listing` gives the input back byte for byte, which is
  checked on every call: GNU ``ls`` column alignment, ``find`` and ``git`` order and
  ``tree`` drawing are all recomputed. Otherwise (BSD ``ls`` spacing, ``find src/``, a
  name that reads as an error line) the same text is returned with the original in the
  CCR store and one marker at the end, saying that no path was omitted. A listing that
  names a path twice is left as it is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from headroom.compressors._lines import Lines, ends_with_marker
from headroom.compressors.base import Compressed, Context
from headroom.compressors.listing.parse import (
    DATE_RE,
    ERROR_RE,
    SIZE_RE,
    TREE_STYLES,
    LongEntry,
    Record,
    TreeListing,
    TreeStyle,
    parse_du,
    parse_long,
    parse_paths,
    parse_tree,
)
from headroom.handles import format_marker

__all__ = ["HEADER_PREFIX", "ListingCompressor", "decode_listing", "encode_listing"]

HEADER_PREFIX: Final = "[listing "
_LONG_TITLE: Final = "[listing ls -l · "
_TYPE_LABELS: Final = (("-", "files"), ("d", "dirs/"), ("l", "symlinks ->"))
_FIELDS: Final = ("perms", "links", "owner", "group", "size", "date")
_TAG_KEY_RE: Final = re.compile(r"(perms|links|owner|group|size|date)=")
_TAG_VALUE_RES: Final = {
    "perms": re.compile(r"(\S+) "),
    "owner": re.compile(r"(\S+) "),
    "group": re.compile(r"(\S+) "),
    "links": re.compile(r"(\d+) "),
    "size": re.compile(rf"({SIZE_RE.pattern}) "),
    "date": re.compile(rf"({DATE_RE.pattern}) "),
}
_TARGET_LENGTH: Final = "len(target)"  # a symlink's size: derived from its name
_HEADER_VALUE_RES: Final = {
    **{key: re.compile(p.pattern[:-1] + "(?: |$)") for key, p in _TAG_VALUE_RES.items()},
    "size": re.compile(rf"(len\(target\)|{SIZE_RE.pattern})(?: |$)"),
}
_SAME_DATE_RE: Final = re.compile(rf"same date=({DATE_RE.pattern})")
_SAME_DATE_GAIN: Final = 2  # a directory's own date pays when it saves this many date= tags
_GROUPED_TAIL: Final = (
    "grouped by directory: a directory's path, then its entries; subdirectories end in /]"
)


@dataclass(frozen=True, slots=True)
class _Grouped:
    """How a grouped form prints: sizes first (du), directories printed, after contents."""

    title: str
    sizes: bool = False
    dirs_printed: bool = False
    post: bool = False
    tree: TreeStyle | None = None

    @property
    def header(self) -> str:
        return f"{HEADER_PREFIX}{self.title} · {_GROUPED_TAIL}"


_PATHS: Final = _Grouped("paths")
_PATHS_DIRS: Final = _Grouped("paths and directories", dirs_printed=True)
_PATHS_DIRS_POST: Final = _Grouped(
    "paths and directories, each after its contents", dirs_printed=True, post=True
)
_DU: Final = _Grouped("du (size, path)", sizes=True, dirs_printed=True, post=True)
_TREES: Final = {s.name: _Grouped(s.name, dirs_printed=True, tree=s) for s in TREE_STYLES}
_GROUPED_BY_HEADER: Final = {
    g.header: g for g in (_PATHS, _PATHS_DIRS, _PATHS_DIRS_POST, _DU, *_TREES.values())
}


class ListingCompressor:
    """Folds file listings; keeps every path and every error line.

    Example:
        >>> from headroom import CompressConfig, Headroom
        >>> hr = Headroom(CompressConfig(min_tokens=0), store="memory")
        >>> row = "-rw-r--r-- 1 root root {:>3} Dec  4 20:22 {}\\n"
        >>> names = ["__init__.py", "_cmp.py", "_make.py", "converters.py", "filters.py"]
        >>> listing = "".join(row.format(100 * (i + 1), n) for i, n in enumerate(names))
        >>> print(hr.compress_text(listing).text)  # doctest: +ELLIPSIS
        [listing ls -l · all: owner=root group=root date=Dec  4 20:22 · files: ... size, name]
        100 __init__.py
        200 _cmp.py
        300 _make.py
        400 converters.py
        500 filters.py
        <BLANKLINE>
    """

    name = "listing.fold"
    kinds = frozenset({"listing"})

    def compress(self, text: str, ctx: Context) -> Compressed | None:
        if text.startswith(HEADER_PREFIX) or ends_with_marker(text):
            return None  # already folded
        encoded = encode_listing(text, ctx.count_tokens)
        if encoded is None or encoded == text:
            return None
        if _decodes_to(encoded, text):
            return Compressed(encoded, self.name, lossless=True)
        if not ctx.config.lossy or ctx.count_tokens(encoded) >= ctx.count_tokens(text):
            return None  # nothing stored for a result the pipeline would throw away
        handle = ctx.keep_original(text)
        what = (
            "permission, link, owner, group and date columns folded, column spacing dropped"
            if encoded.startswith(_LONG_TITLE)
            else "paths grouped by directory, the original order and layout dropped"
        )
        marker = format_marker(0, "paths", handle, summary=f"{what}; every path kept")
        lines = Lines.split(encoded)
        return Compressed(
            lines.join([*lines.items, marker]), self.name, lossless=False, handles=(handle,)
        )


def encode_listing(text: str, count: Callable[[str], int] | None = None) -> str | None:
    """The folded form of a listing, or ``None`` when ``text`` is not one this module folds.

    ``count`` (a token counter) picks, for ``ls -l``, whether dates are stated once with
    exceptions or on every entry; without it the choice is by characters. The result may
    not decode to ``text`` (see the module docstring): check with :func:`decode_listing`.
    """
    lines = Lines.split(text)
    items = lines.items
    long = parse_long(items)
    if long is not None:
        dated = [_encode_long(long, dates_on_entries) for dates_on_entries in (False, True)]
        measure = count or len
        return lines.join(min(dated, key=lambda out: measure("\n".join(out))))
    tree = parse_tree(items)
    if tree is not None:
        return _join_grouped(lines, _TREES[tree.style.name], *_tree_nodes(tree))
    du = parse_du(items)
    if du is not None:
        return _encode_paths(lines, du, sizes=True)
    paths = parse_paths(items)
    if paths is not None:
        return _encode_paths(lines, paths, sizes=False)
    return None


def decode_listing(text: str) -> str:
    """Undo :func:`encode_listing`: the listing as the tool printed it.

    Raises:
        ValueError: ``text`` is not a folded listing.

    >>> folded = "[listing ls -l · all: owner=root group=root date=Dec  4 20:22 · "
    >>> folded += "files: perms=-rw-r--r-- links=1 · each entry: fields that differ, size, name]"
    >>> print(decode_listing(folded + "\\n123 a.py\\nlinks=2 4567 b.py\\n"), end="")
    -rw-r--r-- 1 root root  123 Dec  4 20:22 a.py
    -rw-r--r-- 2 root root 4567 Dec  4 20:22 b.py
    """
    lines = Lines.split(text)
    if not lines.items:
        raise ValueError("empty text")
    header, body = lines.items[0], lines.items[1:]
    if header.startswith(_LONG_TITLE):
        return lines.join(_decode_long(_LongDefaults.parse(header), body))
    grouped = _GROUPED_BY_HEADER.get(header)
    if grouped is None:
        raise ValueError(f"not a folded listing header: {header[:80]!r}")
    return lines.join(_decode_grouped(grouped, body))


def _decodes_to(encoded: str, text: str) -> bool:
    try:
        return decode_listing(encoded) == text
    except ValueError:
        return False


# --- ls -l -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LongDefaults:
    """The first line of a folded ``ls -l``: usual values, overall and per file type."""

    common: dict[str, str]  # owner, group and (unless dates_on_entries) date
    types: dict[str, dict[str, str]]  # type letter -> perms, links and, for dirs, size
    dates_on_entries: bool

    @classmethod
    def of(cls, entries: list[LongEntry], dates_on_entries: bool) -> _LongDefaults:
        common = {"owner": _usual(e.owner for e in entries)[0]}
        common["group"] = _usual(e.group for e in entries)[0]
        if not dates_on_entries:
            common["date"] = _usual(e.date for e in entries)[0]
        types: dict[str, dict[str, str]] = {}
        for letter, _ in _TYPE_LABELS:
            group = [e for e in entries if e.type == letter]
            if not group:
                continue
            usual = types[letter] = {
                "perms": _usual(e.perms for e in group)[0],
                "links": _usual(e.links for e in group)[0],
            }
            size, share = _usual(e.size for e in group)
            if letter == "d" and share * 2 >= len(group):
                usual["size"] = size  # directories mostly share one size (4096)
            derived = sum(e.size == _target_length(e.name) for e in group)
            if letter == "l" and derived * 2 >= len(group):
                usual["size"] = _TARGET_LENGTH
        return cls(common, types, dates_on_entries)

    def render(self) -> str:
        parts = [_LONG_TITLE[1:].removesuffix(" · ")]
        parts.append("all: " + " ".join(f"{k}={v}" for k, v in self.common.items()))
        for letter, label in _TYPE_LABELS:
            if letter in self.types:
                usual = self.types[letter]
                parts.append(f"{label}: " + " ".join(f"{k}={v}" for k, v in usual.items()))
        shown = "size, date, name" if self.dates_on_entries else "size, name"
        parts.append(f"each entry: fields that differ, {shown}")
        return "[" + " · ".join(parts) + "]"

    @classmethod
    def parse(cls, header: str) -> _LongDefaults:
        if not header.endswith("]"):
            raise ValueError("unterminated ls -l header")
        common: dict[str, str] = {}
        types: dict[str, dict[str, str]] = {}
        dates_on_entries = None
        labels = {label: letter for letter, label in _TYPE_LABELS}
        for part in header[len(_LONG_TITLE) : -1].split(" · "):
            label, _, values = part.partition(": ")
            if label == "all":
                common = _header_values(values)
            elif label in labels:
                types[labels[label]] = _header_values(values)
            elif label == "each entry":
                dates_on_entries = values.endswith("size, date, name")
            else:
                raise ValueError(f"unknown part of the ls -l header: {part[:40]!r}")
        if dates_on_entries is None:
            raise ValueError("ls -l header without its entry layout")
        return cls(common, types, dates_on_entries)


def _header_values(values: str) -> dict[str, str]:
    found: dict[str, str] = {}
    at = 0
    while at < len(values):
        key = _TAG_KEY_RE.match(values, at)
        value = key and _HEADER_VALUE_RES[key[1]].match(values, key.end())
        if not key or not value:
            raise ValueError(f"bad value in the ls -l header: {values[at : at + 40]!r}")
        found[key[1]] = value[1]
        at = value.end()
    return found


def _usual(values: Iterable[str]) -> tuple[str, int]:
    """The most common value and how often it occurs (the first seen wins a tie)."""
    return Counter(values).most_common(1)[0]


def _inferred_type(rest: str) -> str:
    """The type a folded entry without ``perms=`` is read as."""
    return "d" if rest.endswith("/") else "l" if " -> " in rest else "-"


def _encode_long(items: list[LongEntry | str], dates_on_entries: bool) -> list[str]:
    entries = [item for item in items if isinstance(item, LongEntry)]
    usual = _LongDefaults.of(entries, dates_on_entries)
    out = [usual.render()]
    start = 0
    ends = [i for i, item in enumerate(items) if item == ""]
    for end in [*ends, len(items)]:
        block = items[start:end]  # one directory: GNU ls aligns its columns apart
        date = usual.common.get("date")
        local = [item for item in block if isinstance(item, LongEntry)]
        if local and date is not None:
            best, seen = _usual(e.date for e in local)
            if seen - sum(e.date == date for e in local) >= _SAME_DATE_GAIN:
                date = best
        for item in block:
            if isinstance(item, str):
                out.append(item)
                continue
            if item is local[0] and date != usual.common.get("date"):
                out.append(f"same date={date}")
            out.append(_long_line(item, usual, date))
        if end < len(items):
            out.append("")
        start = end + 1
    return out


def _target_length(name: str) -> str | None:
    """A symlink's size: the length in bytes of its target (``name -> target``)."""
    target = name.rpartition(" -> ")[2]
    try:
        return str(len(target.encode("utf-8", "surrogateescape")))
    except UnicodeEncodeError:
        return None


def _usual_size(usual: dict[str, str], name: str) -> str | None:
    size = usual.get("size")
    return _target_length(name) if size == _TARGET_LENGTH else size


def _long_line(entry: LongEntry, usual: _LongDefaults, date: str | None) -> str:
    name = entry.name + "/" if entry.type == "d" else entry.name
    tags: list[str] = []
    by_type = usual.types.get(_inferred_type(name))
    if by_type is None or by_type["perms"] != entry.perms:
        tags.append(f"perms={entry.perms}")
        by_type = usual.types.get(entry.type, {})
    if by_type.get("links") != entry.links:
        tags.append(f"links={entry.links}")
    for key in ("owner", "group"):
        if usual.common[key] != getattr(entry, key):
            tags.append(f"{key}={getattr(entry, key)}")
    shown: list[str] = []
    if "size" in by_type:
        if entry.size != _usual_size(by_type, name):
            tags.append(f"size={entry.size}")
    else:
        shown.append(entry.size)
    if usual.dates_on_entries:
        shown.append(entry.date)
    elif entry.date != date:
        tags.append(f"date={entry.date}")
    return " ".join([*tags, *shown, name])


def _decode_long(usual: _LongDefaults, body: list[str]) -> list[str]:
    out: list[str] = []
    block: list[tuple[int, LongEntry]] = []
    date = usual.common.get("date")
    for line in [*body, ""]:
        same = _SAME_DATE_RE.fullmatch(line)
        if same is not None and date == usual.common.get("date") and "date" in usual.common:
            date = same[1]  # this directory's usual date
            continue
        entry = _read_long_line(line, usual, date)
        if entry is not None:
            block.append((len(out), entry))
            out.append("")  # filled in when the block's column widths are known
            continue
        if not line and block:  # ls aligns columns per directory: blocks end at blank lines
            rendered = _render_long([e for _, e in block])
            for (at, _), text in zip(block, rendered, strict=True):
                out[at] = text
            block = []
        if not line:
            date = usual.common.get("date")
        out.append(line)
    out.pop()
    return out


def _read_long_line(line: str, usual: _LongDefaults, date: str | None) -> LongEntry | None:
    """The entry a folded line stands for, or ``None`` for a line kept verbatim."""
    tags: dict[str, str] = {}
    at = 0
    while (tag := _TAG_KEY_RE.match(line, at)) is not None:
        value = _TAG_VALUE_RES[tag[1]].match(line, tag.end())
        if value is None or tag[1] in tags:
            break
        tags[tag[1]] = value[1]
        at = value.end()
    rest = line[at:]
    perms = tags.get("perms")
    letter = perms[0] if perms else _inferred_type(rest)
    by_type = usual.types.get(letter, {})
    common = {**usual.common, "date": date}
    fields = {k: tags.get(k, by_type.get(k, common.get(k))) for k in _FIELDS}
    for key, shown in (("size", "size" not in by_type), ("date", usual.dates_on_entries)):
        if not shown:
            continue
        found = _TAG_VALUE_RES[key].match(rest)
        if key in tags or found is None:
            return None
        fields[key], rest = found[1], rest[found.end() :]
    if letter == "d":
        if not rest.endswith("/"):
            return None
        rest = rest[:-1]
    if "size" not in tags and by_type.get("size") == _TARGET_LENGTH:
        fields["size"] = _target_length(rest)
    values = [fields[k] for k in _FIELDS]
    if not rest or any(v is None for v in values):
        return None
    perms, links, owner, group, size, date = (v or "" for v in values)
    return LongEntry(perms, links, owner, group, size, date, rest)


def _render_long(entries: list[LongEntry]) -> list[str]:
    """GNU ls's long format: perms, owner and group left-aligned, links and sizes
    right-aligned, each to the widest in the block; a device's major and minor numbers
    aligned apart, inside the size column."""

    def width(values: Iterable[str]) -> int:
        return max((len(v) for v in values), default=0)

    devices = [e.size.split(", ") for e in entries if ", " in e.size]
    major_w, minor_w = width(d[0] for d in devices), width(d[1] for d in devices)
    device_w = major_w + 2 + minor_w if devices else 0
    size_w = max(width(e.size for e in entries if ", " not in e.size), device_w)
    perms_w, links_w = width(e.perms for e in entries), width(e.links for e in entries)
    owner_w, group_w = width(e.owner for e in entries), width(e.group for e in entries)
    out = []
    for e in entries:
        if ", " in e.size:
            major, minor = e.size.split(", ")
            size = f"{major:>{major_w + size_w - device_w}}, {minor:>{minor_w}}"
        else:
            size = f"{e.size:>{size_w}}"
        out.append(
            f"{e.perms:<{perms_w}} {e.links:>{links_w}} {e.owner:<{owner_w}} "
            f"{e.group:<{group_w}} {size} {e.date} {e.name}"
        )
    return out


# --- grouped forms: find, git ls-files, du, tree --------------------------------------------


@dataclass(eq=False, slots=True)
class _Node:
    """A path in the listing: printed (a line of its own) or only a parent of others."""

    key: str
    printed: bool = False
    size: str | None = None
    items: list[_Node | str] = field(default_factory=list)  # children and error lines
    children: dict[str, _Node] = field(default_factory=dict)


def _join(key: str | None, rel: str) -> str:
    return rel if key is None else f"{key}/{rel}"


def _components(path: str) -> list[str]:
    parts = path.split("/")
    if parts[0] == "" and len(parts) > 1:
        parts = ["/" + parts[1], *parts[2:]]  # an absolute path's first directory
    return [part for part in parts if part]


def _encode_paths(lines: Lines, items: list[Record | str], *, sizes: bool) -> str | None:
    top = _Node("")
    pending: list[str] = []
    after_contents = False
    for item in items:
        if isinstance(item, str):
            pending.append(item)
            continue
        node, key = top, None
        parts = _components(item.path)
        for i, part in enumerate(parts):
            key = _join(key, part)
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node(key)
                if i == len(parts) - 1:
                    node.items.extend(pending)  # an error line stays before the next path
                    pending.clear()
                node.items.append(child)
            node = child
        if node.printed or node is top:
            return None  # listed twice: the grouped form cannot say so
        after_contents = after_contents or bool(node.children)  # find -depth, du
        node.printed, node.size = True, item.size
        node.items.extend(pending)  # after the contents, before the directory's own line
        pending.clear()
    top.items.extend(pending)
    folders = [n for n in _walk(top) if n.children and n is not top]
    if not folders:
        return None  # nothing to group
    if sizes:
        grouped = _DU
    elif any(n.printed for n in folders):
        grouped = _PATHS_DIRS_POST if after_contents else _PATHS_DIRS
    else:
        grouped = _PATHS
    return _join_grouped(lines, grouped, top, None)


def _tree_nodes(tree: TreeListing) -> tuple[_Node, str | None]:
    top = _Node("")
    stack: list[_Node] = [top]
    for depth, name in tree.records:
        del stack[depth + 1 :]
        parent = stack[-1]
        node = _Node(_join(None if parent is top else parent.key, name), printed=True)
        parent.items.append(node)
        parent.children[f"{len(parent.children)}"] = node  # siblings may share a name
        stack.append(node)
    return top, tree.report


def _walk(top: _Node) -> Iterable[_Node]:
    stack = [top]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children.values()))


def _join_grouped(lines: Lines, grouped: _Grouped, top: _Node, report: str | None) -> str:
    """The grouped text: header, the top's entries, then one block per directory."""

    def own_section(node: _Node) -> bool:
        if grouped.tree is not None:
            return bool(node.children)  # a tree's names may hold "/": no relative paths
        return len(node.children) >= 2 and (node.printed or not grouped.dirs_printed)

    out = [grouped.header]
    sections: list[_Node] = [top]
    while sections:
        section = sections.pop()
        if section is not top:
            out.extend(("", section.key + ":"))
        prefix = 0 if section is top else len(section.key) + 1
        found: list[_Node] = []
        # Depth-first over the section's items, entering children that have no section.
        stack: list[tuple[list[_Node | str], int, _Node | None]] = [(section.items, 0, None)]
        while stack:
            items, at, owner = stack.pop()
            if at == len(items):
                if owner is not None and owner.printed and grouped.post:
                    out.append(_entry(grouped, owner, prefix, bool(owner.children)))
                continue
            stack.append((items, at + 1, owner))
            item = items[at]
            if isinstance(item, str):
                out.append(item)
            elif own_section(item):
                out.append(_entry(grouped, item, prefix, True))
                found.append(item)
            else:
                if item.printed and not grouped.post:
                    out.append(_entry(grouped, item, prefix, bool(item.children)))
                stack.append((item.items, 0, item))
        sections.extend(reversed(found))
    if report is not None:
        out.extend(("", report))
    return lines.join(out)


def _entry(grouped: _Grouped, node: _Node, prefix: int, is_dir: bool) -> str:
    name = node.key[prefix:]
    if is_dir or name.endswith("/"):
        name += "/"
    return f"{node.size} {name}" if grouped.sizes else name


@dataclass(slots=True)
class _Frame:
    key: str | None
    entries: list[str]
    depth: int
    after: str | None = None  # a directory's own line, printed after its contents
    at: int = 0


def _decode_grouped(grouped: _Grouped, body: list[str]) -> list[str]:
    blocks: list[list[str]] = [[]]
    for line in body:
        if line:
            blocks[-1].append(line)
        else:
            blocks.append([])
    report = None
    last = blocks[-1]
    if grouped.tree is not None and len(blocks) > 1 and len(last) == 1 and last[0][-1] != ":":
        report = blocks.pop()[0]  # tree's "N directories, M files"
    sections: dict[str, list[str]] = {}
    for block in blocks[1:]:
        if not block or not block[0].endswith(":") or block[0][:-1] in sections:
            raise ValueError(f"not a directory block: {block[:1]!r}")
        sections[block[0][:-1]] = block[1:]
    out: list[str] = []
    drawn: list[tuple[int, str, bool]] = []
    frames = [_Frame(None, blocks[0], 0)]
    while frames:
        frame = frames[-1]
        if frame.at == len(frame.entries):
            frames.pop()
            if frame.after is not None:
                out.append(frame.after)
            continue
        line = frame.entries[frame.at]
        frame.at += 1
        if grouped.tree is None and ERROR_RE.match(line):
            out.append(line)
            continue
        size, rel = None, line
        if grouped.sizes:
            size, space, rel = line.partition(" ")
            if not space:
                raise ValueError(f"no size: {line[:80]!r}")
        is_dir = rel.endswith("/")
        rel = rel[:-1] if is_dir else rel
        if not rel:
            raise ValueError("an empty entry")
        full = _join(frame.key, rel)
        own = f"{size}\t{full}" if grouped.sizes else full
        if grouped.tree is not None:
            drawn.append((frame.depth, rel, frame.at == len(frame.entries)))
        section = sections.pop(full, None) if is_dir else None
        if is_dir and section is None and not grouped.dirs_printed:
            raise ValueError(f"no block for directory {full[:80]!r}")
        printed = not is_dir or grouped.dirs_printed
        later = is_dir and grouped.post and section is not None
        if printed and not later and grouped.tree is None:
            out.append(own)
        if section is not None:
            after = own if later and printed else None
            frames.append(_Frame(full, section, frame.depth + 1, after))
    if sections:
        raise ValueError(f"a block no directory refers to: {next(iter(sections))[:80]!r}")
    if grouped.tree is not None:
        out = _draw_tree(grouped.tree, drawn)
        if report is not None:
            out.extend(("", report))
    return out


def _draw_tree(style: TreeStyle, drawn: list[tuple[int, str, bool]]) -> list[str]:
    out = []
    more: list[bool] = []  # per ancestor below the root: whether siblings follow it
    for depth, name, last in drawn:
        if depth == 0:
            out.append(name)
            more.clear()
            continue
        del more[depth - 1 :]
        bars = "".join(style.vertical if m else style.blank for m in more)
        out.append(bars + (style.corner if last else style.tee) + name)
        more.append(not last)
    return out
