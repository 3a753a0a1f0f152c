"""Benchmarks of CodeCompressor: one file per language, end to end, with no query.

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_code.py --benchmark-only

Timed is ``CodeCompressor.compress`` from text to skeleton (parse, walk, render, re-parse to
validate, stash in an in-memory CCR store), without token counting. MB/s is in ``extra_info``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headroom.compressors.base import Context
from headroom.compressors.code import CodeCompressor
from headroom.config import CompressConfig
from headroom.router import EXTENSION_LANGUAGES
from headroom.store.memory import MemoryStore
from headroom.tokens import get_counter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "code"
FILES = {
    "python": Path(json.__file__).resolve().parents[1] / "typing.py",
    "javascript": FIXTURES / "panel_tabulator.js",
    "typescript": FIXTURES / "panel_tabulator.ts",
    "go": FIXTURES / "go_http_server.go",
    "rust": FIXTURES / "tiktoken_lib.rs",
    "java": FIXTURES / "TypeManager.java",
    "c": FIXTURES / "tree_sitter_subtree.c",
    "cpp": FIXTURES / "greenlet_TGreenlet.cpp",
}


@pytest.mark.parametrize("language", sorted(FILES))
def test_code_skeleton(benchmark: Any, language: str) -> None:
    path = FILES[language]
    text = path.read_text(encoding="utf-8")
    assert EXTENSION_LANGUAGES[path.suffix] == language
    ctx = Context("code", language, None, CompressConfig(), MemoryStore(), get_counter())
    compressor = CodeCompressor()
    out = benchmark(compressor.compress, text, ctx)
    assert out is not None
    benchmark.extra_info["MB/s"] = round(len(text.encode()) / 1e6 / benchmark.stats["min"], 2)
