"""Hypothesis properties of the listing compressor.

Directory trees are generated (names, file types, permissions, owners, sizes, dates, some
directories unreadable) and printed the way the real tools print them: ``ls -laR`` with GNU
column alignment, ``find`` (pre-order, ``-type f``, ``-depth``), ``tree``, ``du -a`` and
``git ls-files``. Every path must come out, the output must decode back byte for byte (or
be stored, when lossy), and compressing again must change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import event, given
from hypothesis import strategies as st

from headroom import CompressConfig, Headroom
from headroom.compressors.listing.compressor import ListingCompressor, decode_listing
from headroom.handles import find_markers
from headroom.router import detect
from tests.command_outputs import context
from tests.listings import folded_ls_names, grouped_paths, input_paths, ls_names

HR = Headroom(CompressConfig(min_tokens=0), store="memory")
COMPRESSOR = ListingCompressor()

# Names as file systems allow them, short of "/" and newlines; spaces, colons, dots and
# non-ASCII included, and " -> " only where a symlink puts it.
names = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789._-:é "), min_size=1, max_size=10
).filter(lambda name: name not in (".", "..") and name.strip() == name)
DATES = ("Dec  4 20:22", "Dec  4 20:22", "Dec  4 20:22", "May 31  2024", "Jan 14  2023")


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # "-", "d", "l" or "c"
    perms: str
    owner: str
    size: str
    date: str
    children: tuple[Entry, ...] = ()
    readable: bool = True


@st.composite
def entries(
    draw: st.DrawFn, depth: int = 0, named: st.SearchStrategy[str] = names
) -> tuple[Entry, ...]:
    chosen = draw(st.lists(named, min_size=1 if depth == 0 else 0, max_size=5, unique=True))
    out = []
    for name in chosen:
        kind = draw(st.sampled_from("---dddlc" if depth < 3 else "---lc"))
        owner = draw(st.sampled_from(("root", "root", "root", "www-data", "1000")))
        date = draw(st.sampled_from(DATES))
        if kind == "d":
            children = draw(entries(depth + 1, named))
            perms = draw(st.sampled_from(("drwxr-xr-x", "drwxr-xr-x", "drwx------")))
            size = draw(st.sampled_from(("4096", "4096", "12288")))
            readable = draw(st.integers(0, 9)) > 0
            out.append(Entry(name, kind, perms, owner, size, date, children, readable))
        elif kind == "l":
            target = draw(st.sampled_from(("../lib/x.so", "target", "/usr/bin/python3")))
            size = str(len(target)) if draw(st.integers(0, 4)) else "7"
            out.append(Entry(f"{name} -> {target}", kind, "lrwxrwxrwx", owner, size, date))
        elif kind == "c":
            major, minor = draw(st.integers(1, 300)), draw(st.integers(0, 1000))
            out.append(Entry(name, kind, "crw-rw-rw-", owner, f"{major}, {minor}", date))
        else:
            perms = draw(st.sampled_from(("-rw-r--r--", "-rw-r--r--", "-rwxr-xr-x")))
            size = str(draw(st.integers(0, 10**7)))
            out.append(Entry(name, kind, perms, owner, size, date))
    return tuple(out)


roots = st.sampled_from(("src", ".", "hypothesis", "/usr/share/doc/pkg"))


def _gnu_rows(rows: list[tuple[str, str, str, str, str, str, str]]) -> list[str]:
    """GNU ls -l alignment (coreutils ls.c): one block's widths, devices' numbers apart."""

    def width(column: int) -> int:
        return max(len(row[column]) for row in rows)

    devices = [row[4].split(", ") for row in rows if ", " in row[4]]
    major_w = max((len(d[0]) for d in devices), default=0)
    minor_w = max((len(d[1]) for d in devices), default=0)
    device_w = major_w + 2 + minor_w if devices else 0
    size_w = max([len(row[4]) for row in rows if ", " not in row[4]] + [device_w])
    out = []
    for perms, links, owner, group, size, date, name in rows:
        if ", " in size:
            major, minor = size.split(", ")
            size = f"{major:>{major_w + size_w - device_w}}, {minor:>{minor_w}}"
        out.append(
            f"{perms:<{width(0)}} {links:>{width(1)}} {owner:<{width(2)}} {group:<{width(3)}} "
            f"{size:>{size_w}} {date} {name}"
        )
    return out


def ls_laR(root: str, children: tuple[Entry, ...]) -> str:
    def row(e: Entry, name: str) -> tuple[str, str, str, str, str, str, str]:
        links = str(2 + sum(c.kind == "d" for c in e.children)) if e.kind == "d" else "1"
        return (e.perms, links, e.owner, "root", e.size, e.date, name)

    blocks = []
    todo = [(root, Entry(root, "d", "drwxr-xr-x", "root", "4096", DATES[0], children))]
    while todo:
        path, folder = todo.pop(0)
        if not folder.readable:
            blocks.append(f"ls: cannot open directory '{path}': Permission denied")
            continue
        rows = [row(folder, "."), ("drwxr-xr-x", "9", "root", "root", "4096", DATES[0], "..")]
        rows += [row(e, e.name) for e in folder.children]
        blocks.append("\n".join([f"{path}:", "total 8", *_gnu_rows(rows)]))
        subdirs = [(f"{path}/{e.name}", e) for e in folder.children if e.kind == "d"]
        todo[:0] = subdirs  # ls -R goes depth-first
    return "\n\n".join(blocks) + "\n"


def walk(
    path: str, children: tuple[Entry, ...], *, files_only: bool = False, post: bool = False
) -> list[tuple[str, Entry | None]]:
    """(path, entry) in find's order, and (error line, None) where a directory cannot be
    read; the start directory's entry is ``None`` too."""
    out: list[tuple[str, Entry | None]] = []

    def visit(here: str, entry: Entry | None, kids: tuple[Entry, ...], readable: bool) -> None:
        is_dir = entry is None or entry.kind == "d"
        if not post and not (files_only and is_dir):
            out.append((here, entry))
        if not readable:
            out.append((f"find: ‘{here}’: Permission denied", None))
        else:
            for child in kids:
                name = child.name.split(" -> ")[0]  # only ls -l and tree show a link's target
                visit(f"{here}/{name}", child, child.children, child.readable)
        if post and not (files_only and is_dir):
            out.append((here, entry))

    visit(path, None, children, True)
    return out


def find(root: str, children: tuple[Entry, ...], variant: str) -> str:
    found = walk(root, children, files_only=variant == "-type f", post=variant == "-depth")
    return "".join(f"{path}\n" for path, _ in found)


def du_a(root: str, children: tuple[Entry, ...]) -> str:
    lines = []
    for path, _ in walk(root, children, post=True):
        error = path.startswith("find: ")
        lines.append(f"du: cannot read directory{path[5:]}" if error else f"{len(path)}\t{path}")
    return "".join(line + "\n" for line in lines)


def git_ls_files(children: tuple[Entry, ...]) -> str:
    """Tracked files, sorted by path (code points sort as UTF-8 bytes do)."""

    def files(prefix: str, kids: tuple[Entry, ...]) -> Iterator[str]:
        for child in kids:
            if child.kind == "d":
                yield from files(f"{prefix}{child.name}/", child.children)
            else:
                yield prefix + child.name.split(" -> ")[0]

    return "".join(f"{path}\n" for path in sorted(files("", children)))


def tree(root: str, children: tuple[Entry, ...], utf8: bool) -> str:
    tee, corner, bar = ("├── ", "└── ", "│\u00a0\u00a0 ") if utf8 else ("|-- ", "`-- ", "|   ")
    lines = [root]
    counts = [0, 0]

    def draw(kids: tuple[Entry, ...], bars: str) -> None:
        for i, child in enumerate(kids):
            last = i == len(kids) - 1
            lines.append(bars + (corner if last else tee) + child.name)
            counts[child.kind != "d"] += 1
            if child.kind == "d":
                draw(child.children, bars + ("    " if last else bar))

    draw(children, "")
    return "\n".join(lines) + f"\n\n{counts[0]} directories, {counts[1]} files\n"


FORMS = ("ls -laR", "find", "find -type f", "find -depth", "tree", "tree ascii", "du -a", "git")


def render(form: str, root: str, children: tuple[Entry, ...]) -> str:
    if form == "ls -laR":
        return ls_laR(root, children)
    if form.startswith("find"):
        return find(root, children, form[5:])
    if form.startswith("tree"):
        return tree(root, children, utf8=form == "tree")
    if form == "du -a":
        return du_a(root, children)
    return git_ls_files(children)


def every_path_kept(form: str, text: str, output: str) -> None:
    if form == "ls -laR":
        assert folded_ls_names(output) == ls_names(text)
    else:
        paths = input_paths("du" if form == "du -a" else form, text)
        assert set(paths) <= set(grouped_paths(output))


@given(st.sampled_from(FORMS), roots, entries())
def test_every_path_kept_lossless_or_stored_and_idempotent(
    form: str, root: str, children: tuple[Entry, ...]
) -> None:
    text = render(form, root, children)
    result = COMPRESSOR.compress(text, context("listing"))
    event(
        f"{form}: {'unchanged' if result is None else 'lossless' if result.lossless else 'lossy'}"
    )
    if result is None:
        return
    every_path_kept(form, text, result.text)
    if result.lossless:
        assert decode_listing(result.text) == text
    else:
        (marker,) = find_markers(result.text)
        assert HR.retrieve(marker.handle) == text
    assert COMPRESSOR.compress(result.text, context("listing")) is None
    for line in text.split("\n"):
        if line.startswith(("ls: ", "find: ")):
            assert line in result.text.split("\n")


@given(st.sampled_from(FORMS), roots, entries())
def test_through_the_public_api_never_raises_and_never_grows(
    form: str, root: str, children: tuple[Entry, ...]
) -> None:
    text = render(form, root, children)
    result = HR.compress_text(text)
    assert not result.warnings
    assert result.tokens_after <= result.tokens_before
    if result.text != text:
        assert result.kind == "listing"
        every_path_kept(form, text, result.text)
        again = HR.compress_text(result.text)
        assert again.text == result.text
        if result.lossless:
            assert decode_listing(result.text) == text
        else:
            assert [HR.retrieve(m.handle) for m in find_markers(result.text)] == [text]


# Names as projects have them: the router's heuristics are meant to refuse ". " and ":1",
# which read as a sentence and as grep's "path:12:".
plain_names = st.from_regex(
    r"[a-z0-9_](?:[a-z0-9_.-]{0,8}[a-z0-9_])?(?: [a-z0-9_-]{1,6})?", fullmatch=True
)


@given(st.sampled_from(("ls -laR", "tree", "find", "du -a")), roots, entries(named=plain_names))
def test_listings_of_several_lines_are_detected(
    form: str, root: str, children: tuple[Entry, ...]
) -> None:
    text = render(form, root, children)
    if len(text.splitlines()) >= 5:
        assert detect(text).kind == "listing"
