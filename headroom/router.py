"""Decide what kind of content a piece of text is, and whether Headroom already compressed it.

``detect`` looks at a bounded sample (the first 64 KiB, at most 400 lines) except for JSON
and JSON Lines, which must parse whole to count as JSON. Hints (a tool name, a file path)
steer the choice when the content fits more than one kind; a file extension of a source
language is trusted.

:func:`already_compressed` is the one answer to "is this our own output?": the router routes
a table document by it, and the pipeline passes through whatever it says is compressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from headroom import _core
from headroom._regex import compile_possessive
from headroom.compressors.code.detect import code_language
from headroom.compressors.json.minify import json_layout
from headroom.compressors.markdown import looks_like_markdown
from headroom.config import Kind
from headroom.handles import find_markers
from headroom.jsontables import is_table_document
from headroom.signals import SPELLED_LEVELS, words_re

__all__ = ["LEVEL_RE", "Hints", "Route", "already_compressed", "detect"]

_SAMPLE_CHARS: Final = 65_536
_SAMPLE_LINES: Final = 400
_MIN_CHARS: Final = 16

EXTENSION_LANGUAGES: Final[dict[str, str]] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".rb": "ruby",
    ".php": "php",
    ".sh": "bash",
    ".bash": "bash",
    ".kt": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".cs": "csharp",
    ".lua": "lua",
}
_EXTENSION_KINDS: Final[dict[str, Kind]] = {
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".geojson": "json",
    ".log": "log",
    ".diff": "diff",
    ".patch": "diff",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
    ".txt": "text",
    ".rst": "text",
    ".html": "html",
    ".htm": "html",
}
_SHEBANGS: Final = {"python": "python", "node": "javascript", "bash": "bash", "sh": "bash"}


@dataclass(frozen=True, slots=True)
class Hints:
    """What is known about content besides its text: the tool that produced it and the
    file it came from."""

    tool_name: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """The detected kind, the language for code, and why."""

    kind: Kind
    language: str | None = None
    reason: str = ""


def detect(text: str, hints: Hints | None = None) -> Route:
    """Detect the kind of ``text``.

    >>> detect('{"id": 1, "name": "x", "tags": ["a", "b"]}').kind
    'json'
    >>> detect("def f(x):\\n    return x\\n", Hints(path="util.py")).language
    'python'
    """
    hints = hints or Hints()
    stripped = text.strip()
    if len(stripped) < _MIN_CHARS:
        return Route("opaque", reason="too small")
    sample = text[:_SAMPLE_CHARS]
    if _looks_binary(sample):
        return Route("opaque", reason="binary")
    if _looks_base64_blob(stripped[:_SAMPLE_CHARS], len(stripped)):
        return Route("opaque", reason="base64 blob")

    extension = PurePosixPath(hints.path).suffix.lower() if hints.path else ""
    if is_table_document(stripped):
        return Route("json", reason=f"{TABLE_DOCUMENT} (already compressed)")
    layout = json_layout(text)  # the minifier asks again for this text: a cache hit
    if layout == "document":
        return Route("json", reason="parses as JSON")
    if layout == "lines":
        return Route("json", reason="parses as JSON Lines")

    lines = [line for line in sample.splitlines()[:_SAMPLE_LINES] if line.strip()]
    if extension in EXTENSION_LANGUAGES:
        return Route("code", EXTENSION_LANGUAGES[extension], f"file extension {extension}")
    if _is_html(sample):
        return Route("html", reason="HTML document or dense HTML markup")
    if looks_like_markdown(sample):
        return Route("markdown", reason="markdown: headings, fences, links or tables around prose")
    if _is_diff(lines):
        return Route("diff", reason="unified diff headers")
    if _is_test_output(lines):
        return Route("test-output", reason="test runner lines")
    if _is_search(lines, hints.tool_name):
        return Route("search", reason="path:line: matches")
    if _is_listing(lines):
        return Route("listing", reason="ls -l, tree, du or one path per line")
    if _is_log(lines):
        return Route("log", reason="timestamps/levels on most lines")
    if extension in _EXTENSION_KINDS:
        return Route(_EXTENSION_KINDS[extension], reason=f"file extension {extension}")
    language = _code_language(sample, lines)
    if language:
        return Route("code", language, "source code structure")
    return Route("text", reason="prose or unrecognised text")


# C0 control characters other than \t \n \v \f \r and ESC (colour codes in terminal output).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def _looks_binary(sample: str) -> bool:
    if "\x00" in sample:
        return True
    # A regex, not a per-character loop: detect() runs on every piece of content.
    controls = len(_CONTROL_RE.findall(sample))
    replacement = sample.count("\ufffd")
    return (controls + replacement) > 0.05 * len(sample)


_BASE64_RE = re.compile(r"[A-Za-z0-9+/_\-]+={0,2}")


def _looks_base64_blob(head: str, total: int) -> bool:
    if total < 200:
        return False
    if head.startswith("data:") and ";base64," in head[:200]:
        return True
    compact = "".join(head.split())
    return (
        len(compact) >= 0.97 * len(head)
        and _BASE64_RE.fullmatch(compact) is not None
        and any(c.isdigit() for c in compact)
        and any(c.isupper() for c in compact)
        and any(c.islower() for c in compact)
    )


_DIFF_RE = re.compile(r"^(diff --git |--- \S|\+\+\+ \S|@@ -\d+(,\d+)? \+\d+(,\d+)? @@)")


def _is_diff(lines: list[str]) -> bool:
    heads = {m.group(1)[:3] for line in lines[:200] if (m := _DIFF_RE.match(line))}
    return "dif" in heads or {"---", "+++", "@@ "} <= heads


_TEST_PATTERNS: Final = [
    compile_possessive(p)
    for p in (
        r"^=+ test session starts =+$",  # pytest
        r"^=+ (short test summary info|FAILURES|ERRORS) =+$",
        r"^=+ .*\b\d+ (passed|failed|error)",
        # "path::test STATUS", tried only where a token starts: "::\S+ " tried from every
        # "::" rescans the rest of the token, quadratic on a long run of colons.
        r"(?<!\S)(?=\S*::\S)\S++ (PASSED|FAILED|ERROR|SKIPPED|XFAIL)",
        r"^(PASSED|FAILED|ERROR) \S+::",
        r"^Ran \d+ tests? in [\d.]+s$",  # unittest
        r"^(OK|FAILED \((failures|errors)=\d+)",
        r"^\s*(PASS|FAIL) +\S+\.(test|spec)\.[jt]sx?",  # jest / vitest
        r"^(Tests|Test Suites|Test Files):\s+\d+",
        r"^\s*[✔✖﹣] .+ \([\d.]+m?s\)",  # node --test, spec reporter
        r"^ℹ (tests|pass|fail) \d+$",
        r"^(=== RUN|--- (PASS|FAIL|SKIP):)",  # go test
        r"^(ok|FAIL)\s+\S+\s+[\d.]+s$",
        r"^running \d+ tests?$",  # cargo test
        r"^test \S+ \.\.\. (ok|FAILED|ignored)$",
        r"^test result: (ok|FAILED)\. \d+ passed",
        r"<testsuite\b|<testcase\b",  # JUnit XML
        r"^\[(INFO|ERROR)\] Tests run: \d+",  # Maven surefire
        r"^\[INFO\]  T E S T S$|<<< (FAILURE|ERROR)!$",
    )
]


# Most lines of most content match none of the patterns; twenty searches per line made this
# the slowest check of routing. A line can match only if the patterns anchored at its start
# match there (one alternation, tried at one position) or it holds the literal text every
# other pattern needs.
_TEST_LINE_START: Final = re.compile(
    "|".join(f"(?:{p.pattern})" for p in _TEST_PATTERNS if p.pattern.startswith("^"))
)
_TEST_LINE_LITERALS: Final = ("::", "<test", "<<< ")


def _may_be_test_line(line: str) -> bool:
    return bool(_TEST_LINE_START.match(line)) or any(s in line for s in _TEST_LINE_LITERALS)


def _is_test_output(lines: list[str]) -> bool:
    kinds_seen = set()
    matched = 0
    for line in lines:
        if not _may_be_test_line(line):
            continue
        for index, pattern in enumerate(_TEST_PATTERNS):
            if pattern.search(line):
                kinds_seen.add(index)
                matched += 1
                break
    return len(kinds_seen) >= 2 or (len(lines) > 0 and matched >= max(3, 0.3 * len(lines)))


# A path is a run of [^\s:] holding a "/" or "."; the patterns take the run possessively
# (what follows it cannot be part of it) and check for the "/" or "." apart, since
# "[^\s:]*[./][^\s:]*" backtracks quadratically over a long run of slashes or dots.
# grep -rn / rg --no-heading: "path:line:" or "path:line-" (context), path with / or .
_SEARCH_RE = compile_possessive(
    r"^(?:\./)?(?=[^\s:]*[./])[^\s:]*+:\d+[:-](?!\d{2}[\s.,])"  # not HH:MM:SS
)
# grep -C: context lines "path-line-text" and "--" between groups; only counted beside matches.
# Here "-" belongs to the path's run, so the "-<line>-" is looked for after the first / or .
_SEARCH_CONTEXT_RE = compile_possessive(r"^(?:\./)?[^\s:./]*+[./][^\s:]*?-\d+-|^--$")
# rg --heading: a bare path line, then "line:" / "line-" lines under it. The search
# compressor's own grouped form adds "(N matches)" to the path and merges repeated lines
# as "12,40:text"; it must still read as search output.
_RG_PATH_RE = compile_possessive(
    r"^[^\s:./]*+[./][^\s:]*+(?: \(\d+ match(?:es)?(?:, \d+ shown)?\))?$"
)
_RG_LINE_RE = re.compile(r"^\d+(?:,\d+)*[:-](?!\d)")
_SEARCH_TOOLS = ("grep", "search", "rg", "ripgrep", "find_in", "ag")


def _is_search(lines: list[str], tool_name: str | None) -> bool:
    if len(lines) < 2:
        return False
    hits = sum(1 for line in lines if _SEARCH_RE.match(line))
    if hits:
        hits += sum(1 for line in lines if _SEARCH_CONTEXT_RE.match(line))
    paths = sum(1 for line in lines if _RG_PATH_RE.match(line))
    numbered = sum(1 for line in lines if _RG_LINE_RE.match(line))
    headed = paths + numbered if paths and numbered >= paths else 0
    share = max(hits, headed) / len(lines)
    tool = (tool_name or "").lower()
    from_search_tool = any(t in tool for t in _SEARCH_TOOLS)
    return share >= (0.4 if from_search_tool else 0.6)


_TIMESTAMP_RE = re.compile(
    r"^(?:"
    r"\[?\d{4}[-/.]\d{2}[-/.]\d{2}[ T_-]?\d{2}[:.]\d{2}[:.]\d{2}"  # ISO-like, BGL
    r"|[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}"  # syslog
    r"|\d{6} \d{6} "  # HDFS
    r"|\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} "  # Apache error log
    r"|\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}"  # Android logcat
    r"|[IWEF]\d{4} \d{2}:\d{2}:\d{2}"  # klog
    r"|\d{2}:\d{2}:\d{2}"  # time only
    r"|\S+ \S+ \S+ \[\d{2}/[A-Z][a-z]{2}/\d{4}[: ]"  # access log
    r"|- \d{10} \d{4}\.\d{2}\.\d{2}"  # BGL
    r"|\S+\.log\.\d{4}-\d{2}-\d{2}"  # OpenStack file prefix
    r")"
)
TABLE_DOCUMENT: Final = "Headroom table document"
OWN_MARKER: Final = "carries a Headroom marker"


def already_compressed(text: str) -> str | None:
    """Why ``text`` is Headroom's own output (:data:`TABLE_DOCUMENT` or :data:`OWN_MARKER`),
    or ``None``: compressing it again would change nothing (contract 3).

    A marker quoted as inline code (between backticks, as a README explaining handles quotes
    one) is a mention, not an omission: no compressor writes a backtick on both sides of its
    marker. Markers in fenced blocks still count, since the
    markdown compressor writes code skeletons, markers included, inside fences.

    >>> already_compressed("[headroom-json/1 · x]\\n[1,2]")
    'Headroom table document'
    >>> already_compressed("a\\n[2 rows omitted · retrieve: headroom:2cf24dba5fb0]")
    'carries a Headroom marker'
    >>> already_compressed("e.g. `[2 rows omitted · retrieve: headroom:2cf24dba5fb0]`") is None
    True
    """
    if is_table_document(text.lstrip()):
        return TABLE_DOCUMENT
    at = 0
    for marker in find_markers(text):
        # The marker's own spelling; one whose summary the grammar reads differently than
        # format_marker writes it is not found, and counts as ours (the safe side).
        literal = str(marker)
        start = text.find(literal, at)
        if start < 0:
            return OWN_MARKER
        at = start + len(literal)
        if not (text[start - 1 : start] == "`" and text[at : at + 1] == "`"):
            return OWN_MARKER
    return None


LEVEL_RE = words_re(SPELLED_LEVELS, flags=0)
"""A level spelled out (:data:`headroom.signals.SPELLED_LEVELS`), upper case, as a word."""


def _is_log(lines: list[str]) -> bool:
    if len(lines) < 3:
        return False
    stamped = sum(1 for line in lines if _TIMESTAMP_RE.match(line))
    leveled = sum(1 for line in lines if LEVEL_RE.search(line[:160]))
    if max(stamped, leveled) >= 0.5 * len(lines):
        return True
    # Machine-written lines repeat a few templates with changing values; prose and code
    # rarely do. The template grouping is the native kernel's.
    _, templates = _core.group_templates(lines)
    return (
        len(lines) >= 10
        and len(templates) <= 0.3 * len(lines)
        and max(stamped, leveled) >= 0.2 * len(lines)
    )


def _code_language(sample: str, lines: list[str]) -> str | None:
    if lines and lines[0].startswith("#!"):
        for name, language in _SHEBANGS.items():
            if name in lines[0]:
                return language
    return code_language(sample, lines)


# File listings: ls -l lines ("perms links owner group size ..."), tree's branches, du's
# "size<TAB>path", or one path per line (find, git ls-files, ls -1). Headroom's own folded
# listing starts with "[listing ". Search, test output and diffs are ruled out before this
# runs; a log line has spaces in it, so it is never taken for a bare path.
_LS_LONG_RE = re.compile(r"^[-bcdlpsDCMnP?][-rwxsStTlL]{9}[.+@]? +\d+ +\S+ +\S+ +\d")
_LS_AUX_RE = re.compile(r"^(?:total \d\S*|(?:ls|find|du|tree): .+|\S[^\t]*:)$")
_TREE_RE = re.compile(r"^(?:(?:[│|][ \u00a0]{3}| {4})*)(?:[├└]──|\|--|`--) ")
_TREE_REPORT_RE = re.compile(r"^\d+ director(?:y|ies)(?:, \d+ files?)?$")
_DU_RE = re.compile(r"^\d+(?:[.,]\d+)?[kKMGTPEZY]?\t\S")
_NAME_EXTENSION_RE = re.compile(r"\.[A-Za-z][A-Za-z0-9_~-]{0,15}$")
_LISTING_ERROR_RE = re.compile(r"^(?:ls|find|du|tree|git|fd|rg|fatal): ")
_BARE_NAME_RE = re.compile(r"^[\w.@+~-]{1,255}$")
_SENTENCE_PUNCTUATION_RE = re.compile(r"[.,;:!?] |  ")


def _is_listing(lines: list[str]) -> bool:
    if lines and lines[0].startswith("[listing ") and lines[0].endswith("]"):
        return True
    if len(lines) < 3:
        return False
    total = len(lines)
    long = sum(1 for line in lines if _LS_LONG_RE.match(line))
    if long >= 2 and long >= 0.3 * total:
        aux = sum(1 for line in lines if not _LS_LONG_RE.match(line) and _LS_AUX_RE.match(line))
        if long + aux >= 0.8 * total:
            return True
    drawn = sum(1 for line in lines if _TREE_RE.match(line))
    report = any(_TREE_REPORT_RE.match(line) for line in lines[-1:])
    if drawn >= 2 and drawn + 1 + report >= 0.8 * total:  # + 1: the root's line
        return True
    errors = sum(1 for line in lines if _LISTING_ERROR_RE.match(line))
    sized = sum(1 for line in lines if _DU_RE.match(line))
    if sized and sized + errors >= 0.8 * total:
        return True
    # ls -1 prints directories without a "/": bare names count when enough have an extension.
    paths = [line for line in lines if _path_like(line) or _BARE_NAME_RE.match(line)]
    if len(paths) + errors < 0.9 * total:
        return False
    slashed = sum(1 for line in paths if "/" in line)
    named = sum(1 for line in paths if _NAME_EXTENSION_RE.search(line))
    return slashed >= 0.5 * len(paths) or named >= 0.3 * len(paths)


def _path_like(line: str) -> bool:
    """A path or a file name: no URL, no grep "path:12:"; spaces only in a path with a "/"
    and no punctuation a sentence would have."""
    if len(line) > 1024 or line != line.strip() or "\t" in line or "://" in line:
        return False
    if " " in line:
        return "/" in line and _SENTENCE_PUNCTUATION_RE.search(line) is None
    if re.search(r":\d", line):
        return False
    return "/" in line or _NAME_EXTENSION_RE.search(line) is not None or line in (".", "..")


# Elements of HTML that XML dialects (JUnit, SVG, RSS) and markdown prose rarely write. Tag
# names are read with one cheap pattern and looked up (an alternation of 40 names tried at
# every "<" is 100x slower on a run of "<").
_TAG_NAME_RE = re.compile(r"</?([A-Za-z][A-Za-z0-9]{0,9})(?=[\s/>])")
_A_HREF_RE = re.compile(r"<a\s[^<>]{0,2000}?href", re.I)
_HTML_TAG_NAMES: Final = (
    "div p span table tr td th ul ol li h1 h2 h3 h4 h5 h6 br img section article nav header "
    "footer body head meta link script style form input button strong em b i code pre "
    "blockquote dl dt dd main aside label select option tbody thead"
)
_HTML_TAGS: Final = frozenset(_HTML_TAG_NAMES.split())
_MARKDOWN_RE = re.compile(r"^(?:#{1,6} \S|```|~~~)|\]\((?:https?://|\.{0,2}/|#)", re.M)
_JSX_RE = compile_possessive(
    r"\bclassName=|=\{|^[ \t]*+(?:import\s.+\sfrom\s|export\s+(?:default\s+)?(?:const|function|"
    r"class|interface|type)\b|const\s+\w+\s*=|return[ \t]*\([ \t]*$)",
    re.M,
)


def _is_html(sample: str) -> bool:
    """An HTML document (doctype or ``<html>`` first) or markup dense in HTML elements.

    Not HTML: XML dialects (JUnit ``<testsuite>``, SVG), JSX/TSX source and markdown with
    some inline tags (READMEs with a badge table).
    """
    head = _skip_prolog(sample[:4096].lower())
    if head.startswith("<!doctype html") or re.match(r"<html[\s>]", head):
        return True
    if head.startswith(("<svg", "<!doctype svg", "<?xml", "<rss", "<feed")):
        return False
    text = _without_blocks(sample, ("script", "style", "pre"))
    names = _TAG_NAME_RE.findall(text)
    tags = sum(1 for name in names if name.lower() in _HTML_TAGS) + len(_A_HREF_RE.findall(text))
    lines = sum(1 for line in text.splitlines() if line.strip())
    if tags < 20 or tags < 0.25 * lines:
        return False
    markdown = len(_MARKDOWN_RE.findall(text))
    return markdown < max(3, tags / 10) and len(_JSX_RE.findall(text)) < 3


def _skip_prolog(head: str) -> str:
    """``head`` (lowercased) past a BOM, whitespace, an XML declaration and comments."""
    head = head.lstrip("\ufeff \t\r\n")
    for _ in range(16):
        if head.startswith("<?xml") and (end := head.find("?>")) >= 0:
            rest = head[end + 2 :].lstrip()
            if rest.startswith(("<!doctype html", "<html")):
                return rest
            return head  # an XML document: the caller sees "<?xml"
        if head.startswith("<!--") and (end := head.find("-->")) >= 0:
            head = head[end + 3 :].lstrip()
            continue
        break
    return head


def _without_blocks(text: str, tags: tuple[str, ...]) -> str:
    """``text`` without the contents of the given elements (each search goes forward only)."""
    for tag in tags:
        opening = re.compile(f"<{tag}", re.I)
        closing = re.compile(f"</{tag}", re.I)
        parts: list[str] = []
        pos = 0
        while (found := opening.search(text, pos)) is not None:
            parts.append(text[pos : found.start()])
            end = closing.search(text, found.end())
            pos = end.start() if end is not None else len(text)
        parts.append(text[pos:])
        text = "".join(parts)
    return text
