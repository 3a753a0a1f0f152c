"""Is a piece of text source code, and in which language? Read from the content alone.

Two steps, so that prose, logs and the like pay only for the first:

1. Cheap line patterns (``def``, ``func``, ``#include``, ``impl`` …, indented or not) name
   the candidate languages; with fewer than ``_MIN_HITS`` lines of any, it is not code.
2. Each candidate's tree-sitter grammar (at most ``_MAX_PARSES`` of them) parses a small
   probe, then a bounded sample (``_PARSE_CHARS``), both cut where a top-level statement
   starts. A language fits when the parse has few loose error bytes
   (:func:`~.errors.loose_bytes`, at most ``_MAX_LOOSE`` of the sample) and at least
   ``_MIN_STRUCTURE`` definitions or imports: prose, markdown paragraphs and stack traces
   break any grammar all over, and YAML or ``key = value`` lines that happen to parse as
   Python define nothing. The fit with the fewest loose bytes wins. Text that is not code
   is slow to parse (error recovery costs ~3-5 ms per KiB), hence the probe.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Final

from headroom._regex import compile_possessive
from headroom.compressors.code.errors import loose_bytes
from headroom.compressors.code.languages import new_parser

if TYPE_CHECKING:
    from tree_sitter import Node, Query

__all__ = ["code_language"]

_PARSE_CHARS: Final = 12_288
# Probe size and the loose bytes it may have, per language. Real Python and JavaScript read
# cleanly from the first lines (3 KiB probes: at most 3% loose), so a small probe with a tight
# bound turns markdown and prose (7% to 90%) away cheaply. C, C++ and Rust open with macros
# and `#if` chains that a cut leaves open (up to 18%): a larger probe, a looser bound.
_PROBES: Final[dict[str, tuple[int, float]]] = {
    "python": (1_536, 0.06),
    "javascript": (1_536, 0.06),
}
_PROBE_OTHERS: Final = (3_072, 0.2)
_MAX_PARSES: Final = 3
_MIN_HITS: Final = 3
_HEAD_CHARS: Final = 200
_MIN_STRUCTURE: Final = 2
_MAX_LOOSE: Final = 0.03  # share of the sample's bytes

# Lines only source code starts with; leading indentation allowed (methods, nested code).
# Each pattern names its own language's habits, not what the C family shares (`}` lines).
_PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    "python": re.compile(
        r"^\s*(?:(?:async )?def \w+\(|class \w+[(:]|import \w[\w.]*(?: as \w+)?$|"
        r"from \.*[\w.]* import |@[\w.]+(?:\(|$)|if __name__ == |self\.\w+ = |"
        r"(?:(?:el)?if|for|while|with|try|except|else|finally)\b[^{;]*:$)"
    ),
    "javascript": re.compile(
        r"^\s*(?:import .+ from ['\"]|export (?:default |const |function |class |\{)|"
        r"(?:const|let|var) [\w{}\[\], ]+ = |(?:async )?function\*? ?\w*\(|module\.exports|"
        r"\w+ = require\(|\}\);$)"
    ),
    "typescript": re.compile(
        r"^\s*(?:export )?(?:(?:declare )?(?:interface|namespace) \w+|type \w+(?:<.+>)? = |"
        r"(?:const )?enum \w+ \{)|^\s*(?:(?:private|public|protected|readonly) )+\w+\??:|"
        r"\w+\??: (?:string|number|boolean|any|unknown)\b"
    ),
    "go": re.compile(
        r"^(?:package \w+$|func |import \(|type \w+ (?:struct|interface) \{)|"
        r"^\s*(?:if err != nil \{|\w+(?:, \w+)* := |defer |go func)"
    ),
    "rust": re.compile(
        r"^\s*(?:pub(?:\([\w:]+\))? )?(?:(?:async |const |unsafe )*fn \w+|struct \w+|"
        r"enum \w+|impl\b|trait \w+|mod \w+|use [\w:{}]+)|^\s*#!?\[\w+|^\s*let (?:mut )?\w+"
    ),
    "java": compile_possessive(
        r"^(?:package [\w.]+;|import (?:static )?[\w.]+(?:\.\*)?;)|"
        r"^\s*(?:(?:public|private|protected|static|final|abstract|synchronized) )++"
        r"(?:class |interface |enum |record |@interface |[\w<>\[\], ?]+ \w+\()|^\s*@Override$"
    ),
    "c": re.compile(
        r"^(?:#\s*(?:include [<\"]|define |ifn?def |if |endif|pragma )|typedef |"
        r"(?:static |extern |inline |const |unsigned |struct )*\w+[\s*]+\**\w+\([^;]*\)\s*\{?$)"
    ),
    "cpp": re.compile(
        r"^\s*(?:namespace \w+|template ?<|(?:class|struct) \w+(?: final)? ?[:{]|"
        r"using (?:namespace )?[\w:]+|(?:public|private|protected):$|\w+::\w+\()"
    ),
}
# C is read as C++ too and JavaScript as TypeScript: each superset's grammar takes the other.
# TypeScript comes before TSX: a file that parses either way is TypeScript (JSX-like text in
# comments is common), and real JSX leaves loose bytes under the TypeScript grammar.
_FAMILIES: Final[dict[str, tuple[str, ...]]] = {
    "c": ("c", "cpp"),
    "cpp": ("cpp", "c"),
    "javascript": ("javascript", "typescript", "tsx"),
    "typescript": ("typescript", "tsx", "javascript"),
}
# Definitions and imports: what code has and text that merely parses (YAML, `a = b`) lacks.
_STRUCTURE: Final[dict[str, str]] = {
    "python": "function_definition class_definition import_statement import_from_statement",
    "javascript": "function_declaration class_declaration method_definition arrow_function "
    "import_statement export_statement lexical_declaration",
    "go": "package_clause function_declaration method_declaration type_declaration "
    "import_declaration",
    "rust": "function_item struct_item enum_item impl_item trait_item use_declaration mod_item "
    "macro_definition",
    "java": "class_declaration interface_declaration method_declaration import_declaration "
    "package_declaration enum_declaration",
    "c": "function_definition preproc_include preproc_def preproc_function_def type_definition "
    "struct_specifier",
}
_STRUCTURE["typescript"] = _STRUCTURE["tsx"] = (
    _STRUCTURE["javascript"] + " interface_declaration type_alias_declaration enum_declaration"
)
_STRUCTURE["cpp"] = (
    _STRUCTURE["c"] + " class_specifier namespace_definition template_declaration using_declaration"
)
# A blank line, then a line starting at column 0 (`[ \t]`, not `\s`: a run of newlines must
# not be rescanned from every one of them).
_TOP_LEVEL_RE: Final = re.compile(r"\n[ \t]*\n(?=[^\s#@)}\]])")


def code_language(sample: str, lines: list[str]) -> str | None:
    """The language of source code in ``sample`` (its non-blank ``lines`` given), or ``None``.

    >>> import inspect, json.decoder
    >>> source = inspect.getsource(json.decoder)
    >>> code_language(source, source.splitlines())
    'python'
    """
    candidates = _candidates(sample, lines)
    if not candidates:
        return None
    source = _bounded(sample, _PARSE_CHARS).encode("utf-8", "surrogatepass")
    best: tuple[int, str] | None = None
    for language in candidates:
        # Text that is not this language is slow to parse (error recovery, ~3 ms/KiB): a
        # small probe turns most of it away before the whole sample is parsed.
        size, bound = _PROBES.get(language, _PROBE_OTHERS)
        probe = _bounded(sample, size).encode("utf-8", "surrogatepass")
        fit = _fit(language, probe)
        if fit is None or fit[0] > bound * len(probe):
            continue
        whole = _fit(language, source) if len(source) > len(probe) else fit
        if whole is None:
            continue
        loose, structure = whole
        # A parse without a single loose byte needs less evidence: one definition or import.
        if loose > _MAX_LOOSE * len(source) or structure < (_MIN_STRUCTURE if loose else 1):
            continue
        if best is None or loose < best[0]:
            best = (loose, language)
        if not loose:
            break
    return best[1] if best else None


def _fit(language: str, source: bytes) -> tuple[int, int] | None:
    """Loose bytes (:func:`~.errors.loose_bytes`) and definitions in ``source`` read as
    ``language``, or ``None`` without a grammar."""
    parser = new_parser(language)
    query = _structure(language)
    if parser is None or query is None:
        return None
    tree = parser.parse(source)
    return loose_bytes(tree), _count(query, tree.root_node)


def _candidates(sample: str, lines: list[str]) -> list[str]:
    # What a line starts with decides; a bounded prefix keeps any backtracking bounded too.
    heads = [line[:_HEAD_CHARS] for line in lines]
    scores = {
        language: sum(1 for head in heads if pattern.match(head))
        for language, pattern in _PATTERNS.items()
    }
    if scores["typescript"] and scores["javascript"]:
        scores["typescript"] += scores["javascript"]
    if scores["cpp"] and scores["c"]:
        scores["cpp"] += scores["c"]
    ranked = sorted(
        (language for language, score in scores.items() if score >= _MIN_HITS),
        key=lambda language: -scores[language],
    )
    # The two best-ranked languages first, then their supersets and subsets.
    families = [_FAMILIES.get(language, (language,)) for language in ranked[:2]]
    order = [family[0] for family in families]
    for family in families:
        order.extend(f for f in family[1:] if f not in order)
    return order[:_MAX_PARSES]


def _bounded(sample: str, limit: int) -> str:
    """At most ``limit`` characters of ``sample``, cut before a top-level line when there is
    one, and never inside a block comment or a triple-quoted string (a cut inside either
    reads as garbage up to the end)."""
    if len(sample) <= limit:
        return sample
    head = sample[:limit]
    cuts = [m.start() for m in _TOP_LEVEL_RE.finditer(head, limit // 2)]
    head = head[: cuts[-1] + 1] if cuts else head[: head.rfind("\n") + 1] or head
    opened = head.rfind("/*")
    if opened > head.rfind("*/"):
        head = head[: head.rfind("\n", 0, opened) + 1] or head
    for quotes in ('"""', "'''"):
        if head.count(quotes) % 2:
            head = head[: head.rfind("\n", 0, head.rfind(quotes)) + 1] or head
    return head


@cache
def _structure(language: str) -> Query | None:
    parser = new_parser(language)
    if parser is None or parser.language is None:
        return None
    from tree_sitter import Query

    grammar = parser.language
    # Node names differ between grammar versions: a name this grammar lacks is left out.
    names = [n for n in _STRUCTURE[language].split() if grammar.id_for_node_kind(n, True)]
    return Query(grammar, "[" + " ".join(f"({n})" for n in names) + "] @s") if names else None


def _count(query: Query, root: Node) -> int:
    from tree_sitter import QueryCursor

    cursor = QueryCursor(query, match_limit=256)
    return sum(len(nodes) for nodes in cursor.captures(root).values())
