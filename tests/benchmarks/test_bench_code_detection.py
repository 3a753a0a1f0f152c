"""Benchmarks of detection on content without a path hint: code found by content (line
patterns, then tree-sitter trial parses of a bounded sample) and the text that must not pay
much for it (prose, markdown, logs).

Off by default (the pytest config passes ``--benchmark-skip``). Run with::

    pytest tests/benchmarks/test_bench_code_detection.py --benchmark-only
"""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from headroom.router import detect
from tests.conftest import REPO_ROOT, read_bench

STDLIB = Path(sysconfig.get_paths()["stdlib"])
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "code"


def _squad(bench_data: Path) -> str:
    paragraphs = json.loads(read_bench(bench_data / "squad" / "dev-v2.0.json"))["data"][0]
    return "\n\n".join(p["context"] for p in paragraphs["paragraphs"])


CASES: dict[str, Any] = {
    "python argparse.py": lambda _: (STDLIB / "argparse.py").read_text(encoding="utf-8"),
    "c wrapt_wrappers.c": lambda _: (FIXTURES / "wrapt_wrappers.c").read_text(encoding="utf-8"),
    "rust tiktoken_lib.rs": lambda _: (FIXTURES / "tiktoken_lib.rs").read_text(encoding="utf-8"),
    "markdown docs/code.md": lambda _: (REPO_ROOT / "docs" / "code.md").read_text(encoding="utf-8"),
    "markdown README.md": lambda _: (REPO_ROOT / "README.md").read_text(encoding="utf-8"),
    "prose squad": _squad,
    "log HDFS": lambda data: read_bench(data / "loghub" / "HDFS_2k.log"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_detect_without_hint(benchmark: Any, bench_data: Path, case: str) -> None:
    text = CASES[case](bench_data)
    route = benchmark(detect, text)
    benchmark.extra_info["kind"] = f"{route.kind}/{route.language}"
    benchmark.extra_info["chars"] = len(text)
