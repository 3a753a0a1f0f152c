"""Grammar loading and the per-language node-type tables the skeleton walks.

Grammars come from the ``tree-sitter-<language>`` wheels and are imported only when code is
first compressed, so ``import headroom`` stays light.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Parser

__all__ = ["LANGUAGES", "LanguageSpec", "new_parser", "spec_for"]


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """How to read one language's syntax tree.

    Attributes:
        name: the router's language name.
        module: the grammar wheel's import name.
        function: the ``language_*`` callable in ``module`` returning the grammar pointer.
        functions: node types whose ``body`` field is a function body.
        bodies: body node types that may be elided (an arrow function's expression body may not).
        declarations: named type-like declarations (classes, structs, traits …) listed as symbols.
        python: bodies are indented blocks, replaced by a comment and ``...``.
    """

    name: str
    module: str
    function: str
    functions: frozenset[str]
    bodies: frozenset[str]
    declarations: frozenset[str]
    python: bool = False


_JS_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "generator_function_declaration",
        "generator_function",
        "arrow_function",
        "method_definition",
    }
)
_JS_DECLARATIONS = frozenset({"class_declaration", "class"})
_TS_DECLARATIONS = _JS_DECLARATIONS | {
    "abstract_class_declaration",
    "interface_declaration",
    "type_alias_declaration",
    "enum_declaration",
}
_C_DECLARATIONS = frozenset({"struct_specifier", "union_specifier", "enum_specifier"})

LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec(
            "python",
            "tree_sitter_python",
            "language",
            frozenset({"function_definition"}),
            frozenset({"block"}),
            frozenset({"class_definition"}),
            python=True,
        ),
        LanguageSpec(
            "javascript",
            "tree_sitter_javascript",
            "language",
            _JS_FUNCTIONS,
            frozenset({"statement_block"}),
            _JS_DECLARATIONS,
        ),
        LanguageSpec(
            "typescript",
            "tree_sitter_typescript",
            "language_typescript",
            _JS_FUNCTIONS,
            frozenset({"statement_block"}),
            _TS_DECLARATIONS,
        ),
        LanguageSpec(
            "tsx",
            "tree_sitter_typescript",
            "language_tsx",
            _JS_FUNCTIONS,
            frozenset({"statement_block"}),
            _TS_DECLARATIONS,
        ),
        LanguageSpec(
            "go",
            "tree_sitter_go",
            "language",
            frozenset({"function_declaration", "method_declaration", "func_literal"}),
            frozenset({"block"}),
            frozenset({"type_spec"}),
        ),
        LanguageSpec(
            "rust",
            "tree_sitter_rust",
            "language",
            frozenset({"function_item", "closure_expression"}),
            frozenset({"block"}),
            frozenset(
                {"struct_item", "enum_item", "trait_item", "union_item", "type_item", "mod_item"}
            ),
        ),
        LanguageSpec(
            "java",
            "tree_sitter_java",
            "language",
            frozenset(
                {
                    "method_declaration",
                    "constructor_declaration",
                    "compact_constructor_declaration",
                    "lambda_expression",
                }
            ),
            frozenset({"block", "constructor_body"}),
            frozenset(
                {
                    "class_declaration",
                    "interface_declaration",
                    "enum_declaration",
                    "record_declaration",
                    "annotation_type_declaration",
                }
            ),
        ),
        LanguageSpec(
            "c",
            "tree_sitter_c",
            "language",
            frozenset({"function_definition"}),
            frozenset({"compound_statement"}),
            _C_DECLARATIONS,
        ),
        LanguageSpec(
            "cpp",
            "tree_sitter_cpp",
            "language",
            frozenset({"function_definition", "lambda_expression"}),
            frozenset({"compound_statement"}),
            _C_DECLARATIONS | {"class_specifier", "namespace_definition"},
        ),
    )
}


def spec_for(language: str | None) -> LanguageSpec | None:
    """The table for ``language``, or ``None`` when it has no grammar here."""
    return LANGUAGES.get(language) if language else None


@cache
def _grammar(name: str) -> Language | None:
    # Imported on first use: tree-sitter is a compiled extension that `import headroom` must
    # not pay for, and a missing grammar wheel means "pass through", not an error.
    spec = LANGUAGES[name]
    try:
        from tree_sitter import Language

        module = importlib.import_module(spec.module)
        return Language(getattr(module, spec.function)())
    except (ImportError, AttributeError, ValueError, TypeError):
        return None


def new_parser(name: str) -> Parser | None:
    """A fresh parser for ``name`` (parsers are not shared: they are not thread-safe)."""
    grammar = _grammar(name)
    if grammar is None:
        return None
    from tree_sitter import Parser

    return Parser(grammar)
