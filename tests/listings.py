"""Shared by the listing tests: the real listings in ``tests/fixtures/tools`` (see its README)
and readers that take the paths out of an original listing and out of its folded form,
written apart from :mod:`headroom.compressors.listing` so that they can disagree with it."""

from __future__ import annotations

import re
from collections import Counter

from headroom.handles import find_markers

LS_FIXTURES = (
    "ls_laR_hypothesis.txt",
    "ls_laR_pytest.txt",
    "ls_laR_usr_share_doc_git.txt",
    "ls_laR_errors_attr.txt",
    "ls_la_usr_share_doc.txt",
    "ls_la_dev.txt",
    "ls_l_tiktoken.txt",
)
PATH_FIXTURES = (
    "find_hypothesis.txt",
    "find_type_f_pytest.txt",
    "find_errors_attr.txt",
    "ls_git_files_headroom.txt",
    "du_a_hypothesis.txt",
)
TREE_FIXTURES = ("tree_hypothesis.txt", "tree_ascii_attr.txt")
FOLDED = LS_FIXTURES + PATH_FIXTURES + TREE_FIXTURES
LISTINGS = (*FOLDED, "ls_1_hypothesis.txt")

DATE = r"(?:[A-Z][a-z]{2} [ \d]\d (?:\d\d:\d\d| \d{4}))"
ERROR_RE = re.compile(r"(?:ls|find|du): ")
_LS_ROW_RE = re.compile(
    r"[-bcdlps][-rwxsStT]{9}\S* +\d+ +\S+ +\S+ +(?:\d+, +)?\S+ " + DATE + r" (?P<name>.+)"
)
_TAGS_RE = re.compile(r"(?:(?:perms|links|owner|group|size)=\S+ |date=" + DATE + " )*")
_TREE_PREFIX_RE = re.compile(r"(?P<bars>(?:[│|][ \u00a0]{3}| {4})*)(?:[├└]── |[|`]-- )")


def ls_names(text: str) -> Counter[tuple[str, str]]:
    """(directory header, name) of every ``ls -l`` row of an original."""
    names: Counter[tuple[str, str]] = Counter()
    section = ""
    for line in text.split("\n"):
        row = _LS_ROW_RE.fullmatch(line)
        if row:
            names[(section, row["name"])] += 1
        elif line.endswith(":"):
            section = line[:-1]
    return names


def folded_ls_names(folded: str) -> Counter[tuple[str, str]]:
    """The same, read from the folded form: tags, then size (and date), then the name."""
    lines = folded.split("\n")
    header, body = lines[0], lines[1:]
    dated = header.endswith("size, date, name]")
    folded_sizes = {
        letter: bool(re.search(rf"· {label}: [^·]*size=", header))
        for letter, label in (("d", "dirs/"), ("l", "symlinks ->"))
    }
    names: Counter[tuple[str, str]] = Counter()
    section = ""
    for i, line in enumerate(body):
        if line.endswith(":") and (i == 0 or not body[i - 1] or ERROR_RE.match(body[i - 1])):
            section = line[:-1]
        elif line and not (
            re.fullmatch(r"total \d+|same date=.+", line)
            or ERROR_RE.match(line)
            or find_markers(line)
        ):
            tags = _TAGS_RE.match(line)
            rest = line[tags.end() :] if tags else line
            # The type: from perms= if given, else a trailing "/" or an arrow.
            perms = re.search(r"perms=(\S)", line[: tags.end()] if tags else "")
            letter = (
                perms[1] if perms else "d" if rest.endswith("/") else "l" if " -> " in rest else "-"
            )
            if not folded_sizes.get(letter):
                rest = re.sub(r"^\d+(?:, \d+)? ", "", rest)
            if dated:
                rest = re.sub(r"^" + DATE + " ", "", rest)
            names[(section, rest.removesuffix("/"))] += 1
    return names


def input_paths(name: str, text: str) -> list[str]:
    """Every path of a find / git ls-files / du / tree original (``name`` tells which)."""
    lines = [line for line in text.split("\n") if line and not ERROR_RE.match(line)]
    if name.startswith("du"):
        return [line.split("\t", 1)[1] for line in lines]
    if name.startswith("tree"):
        paths: list[str] = []
        stack: list[str] = []
        for line in lines:
            if re.fullmatch(r"\d+ director(?:y|ies), \d+ files?", line):
                continue
            drawn = _TREE_PREFIX_RE.match(line)
            depth = len(drawn["bars"]) // 4 + 1 if drawn else 0
            del stack[depth:]
            stack.append(line[drawn.end() :] if drawn else line)
            paths.append("/".join(stack))
        return paths
    return lines


def grouped_paths(folded: str) -> list[str]:
    """Every path the grouped form shows: a block's directory joined to each entry."""
    lines = folded.split("\n")
    du = lines[0].startswith("[listing du")
    paths: list[str] = []
    key = None
    heading = False
    for line in lines[1:]:
        if not line:
            heading = True
            continue
        if heading:
            heading = False
            if not line.endswith(":"):
                break  # tree's report
            key = line[:-1]
            continue
        if ERROR_RE.match(line) or find_markers(line):
            continue
        rel = line.split(" ", 1)[1] if du else line
        rel = rel.removesuffix("/")
        paths.append(rel if key is None else f"{key}/{rel}")
    return paths
