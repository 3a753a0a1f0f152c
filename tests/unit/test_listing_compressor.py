"""ListingCompressor and the ``listing`` route on real ``ls``, ``find``, ``tree``, ``du`` and
``git ls-files`` output (``tests/fixtures/tools``, see its README)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

import headroom
from headroom import CompressConfig, Headroom
from headroom.compressors.listing.compressor import (
    ListingCompressor,
    decode_listing,
    encode_listing,
)
from headroom.handles import find_markers
from headroom.router import _is_listing, detect
from headroom.tokens import count_tokens
from tests.command_outputs import (
    DIFF_FIXTURES,
    PATHOLOGICAL,
    SEARCH_FIXTURES,
    TEST_OUTPUT_FIXTURES,
    context,
    tool_output,
)
from tests.conftest import read_bench
from tests.listings import (
    DATE,
    ERROR_RE,
    FOLDED,
    LISTINGS,
    LS_FIXTURES,
    PATH_FIXTURES,
    TREE_FIXTURES,
    folded_ls_names,
    grouped_paths,
    input_paths,
    ls_names,
)

COMPRESSOR = ListingCompressor()
HR = Headroom(CompressConfig(min_tokens=0), store="memory")
NOT_LISTINGS = SEARCH_FIXTURES + TEST_OUTPUT_FIXTURES + DIFF_FIXTURES

# --- routing --------------------------------------------------------------------------------


def sample_lines(text: str) -> list[str]:
    """What ``detect`` gives ``_is_listing``: non-blank lines of the first 64 KiB."""
    return [line for line in text[:65_536].splitlines()[:400] if line.strip()]


@pytest.mark.parametrize("name", LISTINGS)
def test_real_listings_are_detected_without_a_hint(name: str) -> None:
    assert detect(tool_output(name)).kind == "listing"


@pytest.mark.parametrize("name", NOT_LISTINGS)
def test_search_test_output_and_diffs_are_not_listings(name: str) -> None:
    text = tool_output(name)
    assert not _is_listing(sample_lines(text))
    assert detect(text).kind != "listing"


def test_logs_are_not_listings(bench_data: Path) -> None:
    logs = sorted((bench_data / "loghub").glob("*_2k.log"))
    assert len(logs) >= 8
    for path in logs:
        text = read_bench(path)
        assert not _is_listing(sample_lines(text)), path.name
        assert detect(text).kind == "log", path.name


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(Path(headroom.__file__).read_text(), id="python source"),
        pytest.param(Path(__file__).parents[2].joinpath("README.md").read_text(), id="readme"),
        pytest.param("apple\nbanana\ncherry\ndurian\nelderberry\n", id="a word list"),
        pytest.param("".join(f"https://example.com/a/{i}.html\n" for i in range(20)), id="urls"),
        pytest.param("src/app.py:12: error: x\nsrc/db.py:3: note: y\nsrc/z.py:9: e\n", id="mypy"),
    ],
)
def test_other_text_is_not_a_listing(text: str) -> None:
    assert detect(text).kind != "listing"


# --- every path and error line kept, lossless -----------------------------------------------


@pytest.mark.parametrize("name", LS_FIXTURES)
def test_ls_keeps_every_name_in_its_directory(name: str) -> None:
    text = tool_output(name)
    expected = ls_names(text)
    assert sum(expected.values()) >= 9
    result = HR.compress_text(text)
    assert result.kind == "listing"
    assert folded_ls_names(result.text) == expected


@pytest.mark.parametrize("name", PATH_FIXTURES + TREE_FIXTURES)
def test_paths_and_trees_keep_every_path(name: str) -> None:
    text = tool_output(name)
    expected = input_paths(name, text)
    assert len(expected) >= 20
    result = HR.compress_text(text)
    assert result.kind == "listing"
    shown = grouped_paths(result.text)
    assert set(expected) <= set(shown)
    # Only directories are added (the entries that stand for them in files-only lists).
    extra = set(shown) - set(expected)
    assert all(any(p.startswith(d + "/") for p in expected) for d in extra)


@pytest.mark.parametrize("name", FOLDED)
def test_folding_is_lossless_on_real_listings(name: str) -> None:
    text = tool_output(name)
    result = HR.compress_text(text)
    assert result.transforms_applied == ["listing.fold"]
    assert result.lossless and not result.handles and not find_markers(result.text)
    assert decode_listing(result.text) == text
    assert result.tokens_after < result.tokens_before


@pytest.mark.parametrize("name", ["ls_laR_errors_attr.txt", "find_errors_attr.txt"])
def test_error_lines_are_kept_verbatim(name: str) -> None:
    text = tool_output(name)
    errors = [line for line in text.split("\n") if ERROR_RE.match(line)]
    assert errors and any("Permission denied" in e for e in errors)
    output = HR.compress_text(text).text.split("\n")
    for error in errors:
        assert error in output


def test_tree_report_is_kept() -> None:
    text = tool_output("tree_hypothesis.txt")
    report = text.rstrip("\n").rsplit("\n", 1)[1]
    assert re.fullmatch(r"\d+ directories, \d+ files", report)
    assert HR.compress_text(text).text.rstrip("\n").endswith("\n\n" + report)


@pytest.mark.parametrize("name", [n for n in LS_FIXTURES if n.startswith("ls_laR_")])
def test_ls_laR_of_a_package_saves_at_least_40_percent(name: str) -> None:
    result = HR.compress_text(tool_output(name))
    assert result.tokens_after <= 0.6 * result.tokens_before


def test_uniform_columns_are_stated_once() -> None:
    text = tool_output("ls_laR_hypothesis.txt")
    folded = headroom.compress_text(text).text  # default config, no hint
    header, _, body = folded.partition("\n")
    assert header.startswith("[listing ls -l · all: owner=root group=root date=")
    assert "files: perms=-rw-r--r-- links=1" in header
    assert "dirs/: perms=drwxr-xr-x links=2 size=4096" in header
    assert "root" not in body and "-rw-r--r--" not in body
    # What differs is on its entry: the one executable, the directories' link counts.
    assert re.search(
        r"^perms=-rwxr-xr-x \d+ _native\.cpython-311-x86_64-linux-gnu\.so$", body, re.M
    )
    assert re.search(r"^links=\d+ strategies/$", body, re.M)


def test_sizes_are_kept_on_every_file() -> None:
    text = tool_output("ls_laR_pytest.txt")
    sizes = Counter(
        (m[1], m[2])
        for m in re.finditer(r"^-\S+ +\d+ \S+ +\S+ +(\d+) " + DATE + r" (.+)$", text, re.M)
    )
    folded = HR.compress_text(text).text
    shown = Counter(re.findall(r"^(?:\w+=\S+ )*(\d+) (\S.*)$", folded, re.M))
    assert sizes and sizes <= shown


def test_symlinks_keep_their_target_and_fold_their_size() -> None:
    text = tool_output("ls_la_usr_share_doc.txt")
    folded = HR.compress_text(text).text
    assert "symlinks ->: perms=lrwxrwxrwx links=1 size=len(target)" in folded.split("\n")[0]
    targets = re.findall(r" (\S+ -> \S+)$", text, re.M)
    assert len(targets) == 42
    for target in targets:
        assert re.search(rf"^(?:\w+=\S+ |date={DATE} )*{re.escape(target)}$", folded, re.M)


def test_devices_keep_major_and_minor_numbers() -> None:
    text = tool_output("ls_la_dev.txt")
    folded = HR.compress_text(text).text
    assert re.search(r"^perms=crw-rw-rw- (?:\w+=\S+ )*1, 3 null$", folded, re.M)
    assert decode_listing(folded) == text


# --- the public API, the bash tool, idempotence -----------------------------------------------


def test_compress_text_with_no_hint_on_the_default_store() -> None:
    text = tool_output("ls_laR_hypothesis.txt")
    result = headroom.compress_text(text)
    assert (result.kind, result.lossless) == ("listing", True)
    assert folded_ls_names(result.text) == ls_names(text)


@pytest.mark.parametrize(
    "name", ["ls_laR_pytest.txt", "find_hypothesis.txt", "tree_hypothesis.txt"]
)
def test_a_bash_tool_result_is_folded(name: str) -> None:
    listing = tool_output(name)
    command = {"ls": "ls -laR src", "fi": "find src", "tr": "tree src"}[name[:2]]
    messages = [
        {"role": "user", "content": "Which modules does the package have?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "bash", "arguments": json.dumps({"command": command})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": listing},
        {"role": "assistant", "content": "Here is the layout."},
        {"role": "user", "content": "Thanks."},
    ]
    result = Headroom(store="memory").compress(messages)
    folded = result.messages[2]["content"]
    assert "listing.fold" in result.transforms_applied
    assert folded.startswith("[listing ")
    assert decode_listing(folded) == listing
    assert result.messages[0] == messages[0] and result.messages[4] == messages[4]


def test_an_anthropic_tool_result_is_folded() -> None:
    listing = tool_output("ls_laR_errors_attr.txt")
    messages = [
        {"role": "user", "content": "List attr."},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "t1", "name": "bash", "input": {"command": "ls -laR"}}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": listing}],
        },
        {"role": "assistant", "content": "Done."},
    ]
    result = Headroom(CompressConfig(min_tokens=0), store="memory").compress(messages)
    folded = result.messages[2]["content"][0]["content"]
    assert "listing.fold" in result.transforms_applied
    assert "ls: cannot open directory 'attr/__pycache__': Permission denied" in folded
    assert decode_listing(folded) == listing


@pytest.mark.parametrize("name", LISTINGS)
def test_compressing_twice_changes_nothing(name: str) -> None:
    first = HR.compress_text(tool_output(name))
    second = HR.compress_text(first.text)
    assert second.text == first.text
    assert second.kind == "listing"
    assert COMPRESSOR.compress(first.text, context("listing")) is None


def test_ls_1_is_a_listing_left_as_it_is() -> None:
    text = tool_output("ls_1_hypothesis.txt")
    result = HR.compress_text(text)
    assert (result.kind, result.text) == ("listing", text)


# --- lossy when the folding cannot be undone ------------------------------------------------


def bsd_style(text: str) -> str:
    """``ls -l`` as BSD and macOS print it: two spaces between owner and group."""
    return re.sub(r"^(\S+ +\d+ \S+) ", r"\1  ", text, flags=re.M)


@pytest.mark.parametrize(
    ("name", "change", "what"),
    [
        ("ls_l_tiktoken.txt", bsd_style, "column spacing dropped"),
        # find hypothesis/ prints the start with its slash, the rest without a double one.
        (
            "find_hypothesis.txt",
            lambda t: "hypothesis/" + t[len("hypothesis") :],
            "original order and layout",
        ),
    ],
)
def test_a_listing_the_fold_cannot_reproduce_is_stored(
    name: str, change: Callable[[str], str], what: str
) -> None:
    text = change(tool_output(name))
    result = HR.compress_text(text)
    assert result.kind == "listing" and not result.lossless
    markers = find_markers(result.text)
    assert len(markers) == 1 and markers[0].count == 0 and markers[0].unit == "paths"
    assert what in (markers[0].summary or "") and "every path kept" in (markers[0].summary or "")
    assert result.text.rstrip("\n").endswith(str(markers[0]))
    assert HR.retrieve(markers[0].handle) == text
    assert result.handles == [markers[0].handle]
    if name.startswith("ls_"):
        assert folded_ls_names(result.text) == ls_names(text)
    else:
        assert set(input_paths(name, text)) - {"hypothesis/"} <= set(grouped_paths(result.text))
    assert HR.compress_text(result.text).text == result.text
    lossless_only = Headroom(CompressConfig(min_tokens=0, lossy=False), store="memory")
    assert lossless_only.compress_text(text).text == text


def test_a_path_listed_twice_is_left_alone() -> None:
    text = tool_output("find_errors_attr.txt")
    twice = text + text.replace("find: ", "").split("\n", 1)[1]
    assert COMPRESSOR.compress(twice, context("listing")) is None


# --- shapes the fixtures do not show ----------------------------------------------------------

ROUND_TRIPS = {
    "acl and human sizes": (
        "total 12K\n"
        "drwxr-xr-x+ 2 root root 4.0K Dec  4 20:22 .\n"
        "drwxr-xr-x  5 root root 4.0K Dec  4 20:22 ..\n"
        "-rw-r--r--  1 root root 1.1K Dec  4 20:22 a.py\n"
        "-rw-r--r--  1 root root  900 Dec  4 20:22 b.py\n"
        "-rwxr-xr-x  1 root root  12M Dec  4 20:22 run.sh\n"
    ),
    "long-iso dates, a file named like a symlink": (
        "-rw-r--r-- 1 dev staff 120 2024-01-02 10:00 a -> b\n"
        "-rw-r--r-- 1 dev staff 130 2024-01-02 10:00 c.txt\n"
        "-rw-r--r-- 1 dev staff 140 2024-01-02 10:00 d.txt\n"
        "-rw-r--r-- 1 dev staff 150 2023-12-31 09:59 e.txt\n"
    ),
    "names with spaces and colons, a symlink whose size is not its target's": (
        "x:\n"
        "total 8\n"
        "drwxr-xr-x 2 a b 4096 Jan  1  2020 my dir:\n"
        "-rw-r--r-- 1 a b   10 Jan  1  2020 notes 2020.txt\n"
        "lrwxrwxrwx 1 a b    3 Jan  1  2020 link -> ../target\n"
        "-rw-r--r-- 1 a b    7 Jan  1  2020 total 5\n"
    ),
    "find -depth": "a/x.py\na/y.py\na/b/z.py\na/b\na\nc.py\n",
    "absolute paths": "/usr/share/doc/git\n/usr/share/doc/git/a.txt\n/usr/share/doc/git/b.txt\n"
    "/usr/share/doc/git/contrib\n/usr/share/doc/git/contrib/c.el\n",
    "git ls-files, a deep chain and sorted order": (
        "README.md\nsrc/main/java/com/example/App.java\nsrc/main/java/com/example/Util.java\n"
        "src/main/java/com/example/io/Reader.java\nsrc/test/java/com/example/AppTest.java\n"
        "src/test/java/com/example/UtilTest.java\nsrc.txt\n"
    ),
    "find with an error first": (
        "find: ‘./secret’: Permission denied\n.\n./a.py\n./b\n./b/c.py\n./b/d.py\n"
    ),
    "tree -F, no report": "src/\n├── a/\n│   ├── b.py\n│   └── c.py\n└── d.py\n",
    "tree with two roots": (
        "a\n├── x.py\n└── y.py\nb\n└── z\n    └── w.py\n\n3 directories, 3 files\n"
    ),
    "du, no final newline": "4\t./a/x\n8\t./a/y\n16\t./a\n4\t./b\n24\t.",
}


@pytest.mark.parametrize("text", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_shapes_round_trip(text: str) -> None:
    folded = encode_listing(text, count_tokens)
    assert folded is not None and folded.startswith("[listing ")
    assert decode_listing(folded) == text
    assert COMPRESSOR.compress(folded, context("listing")) is None


@pytest.mark.parametrize("text", PATHOLOGICAL)
def test_pathological_inputs_never_raise(text: str) -> None:
    COMPRESSOR.compress(text, context("listing"))
    result = HR.compress_text(text, kind="listing")
    assert not result.warnings
    if result.lossless and result.text != text:
        assert decode_listing(result.text) == text


@pytest.mark.parametrize(
    "text",
    ["", "[listing ls -l · nonsense]\n1 a", "[listing paths · x]", "plain text\n"],
)
def test_decode_rejects_what_is_not_a_folded_listing(text: str) -> None:
    with pytest.raises(ValueError):
        decode_listing(text)
