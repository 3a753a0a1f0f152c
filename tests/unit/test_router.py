"""Content-kind detection on real outputs: bench data and tools run on the spot."""

from __future__ import annotations

import base64
import inspect
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.router import Hints, detect
from tests.conftest import REPO_ROOT, read_bench


@pytest.mark.parametrize(
    "name",
    ["HDFS", "Hadoop", "Zookeeper", "OpenStack", "BGL", "Apache", "Android", "OpenSSH"],
)
def test_every_loghub_log_is_a_log(bench_data: Path, name: str) -> None:
    assert detect(read_bench(bench_data / "loghub" / f"{name}_2k.log")).kind == "log"


def test_every_bench_json_file_is_json(bench_data: Path) -> None:
    for path in sorted((bench_data / "json").glob("*.json*")):
        if path.name.endswith(".meta.json"):
            continue
        route = detect(read_bench(path))
        assert route.kind == ("json" if path.stat().st_size > 40 else "opaque"), path.name


def test_json_lines_are_json(bench_data: Path) -> None:
    route = detect(read_bench(bench_data / "json" / "flutter_provider_test_results.jsonl"))
    assert route.kind == "json" and "Lines" in route.reason


def test_squad_paragraph_is_text(bench_data: Path) -> None:
    data = json.loads(read_bench(bench_data / "squad" / "dev-v2.0.json"))
    paragraph = data["data"][0]["paragraphs"][0]["context"]
    assert detect(paragraph).kind == "text"


def test_real_pytest_output_is_test_output(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        "def test_ok():\n    assert 1\n\ndef test_bad():\n    assert 1 == 2, 'mismatch'\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert "1 failed, 1 passed" in out
    assert detect(out).kind == "test-output"


def test_real_unittest_output_is_test_output(tmp_path: Path) -> None:
    (tmp_path / "test_u.py").write_text(
        "import unittest\nclass T(unittest.TestCase):\n"
        "    def test_a(self): pass\n    def test_b(self): self.assertEqual(1, 2)\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "unittest", "-v", "test_u"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stderr
    assert "FAILED (failures=1)" in out
    assert detect(out).kind == "test-output"


def test_real_git_diff_is_diff(tmp_path: Path) -> None:
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    source = inspect.getsource(json)
    a.write_text(source)
    b.write_text(source.replace("def dumps", "def dumps_renamed").replace("indent", "indentation"))
    out = subprocess.run(
        ["git", "diff", "--no-index", str(a), str(b)], capture_output=True, text=True
    ).stdout
    assert out.startswith("diff --git")
    assert detect(out).kind == "diff"


def test_real_grep_output_is_search() -> None:
    out = subprocess.run(
        ["grep", "-rn", "def ", "headroom"], capture_output=True, text=True, cwd=REPO_ROOT
    ).stdout
    assert out.count("\n") > 20
    assert detect(out).kind == "search"
    assert detect(out, Hints(tool_name="grep_search")).kind == "search"


def test_stdlib_python_source_is_python_code() -> None:
    source = inspect.getsource(subprocess)
    assert detect(source).kind == "code"
    assert detect(source).language == "python"


def test_c_header_is_c_code() -> None:
    header = Path(sysconfig.get_paths()["include"]) / "object.h"
    if not header.is_file():
        pytest.skip("CPython headers not installed")
    route = detect(header.read_text(errors="replace"))
    assert (route.kind, route.language) == ("code", "c")


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("x.py", "python"),
        ("x.ts", "typescript"),
        ("x.tsx", "tsx"),
        ("x.go", "go"),
        ("x.rs", "rust"),
        ("x.java", "java"),
        ("x.c", "c"),
        ("x.hpp", "cpp"),
        ("src/app.js", "javascript"),
    ],
)
def test_file_extension_hint_names_the_language(path: str, language: str) -> None:
    route = detect("some content that is long enough to look at\n" * 3, Hints(path=path))
    assert (route.kind, route.language) == ("code", language)


def test_json_content_wins_over_a_code_extension() -> None:
    assert detect('{"name": "x", "version": "1.0.0"}', Hints(path="package.py")).kind == "json"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "too small"),
        ("ok", "too small"),
        ("\x00\x01\x02binary" * 50, "binary"),
        (base64.b64encode(os.urandom(3000)).decode(), "base64 blob"),
        ("data:image/png;base64," + base64.b64encode(os.urandom(500)).decode(), "base64 blob"),
    ],
)
def test_opaque_content(text: str, reason: str) -> None:
    route = detect(text)
    assert (route.kind, route.reason) == ("opaque", reason)


def test_invalid_and_deeply_nested_json_are_not_json() -> None:
    assert detect('{"a": 1, "b": [1, 2, }' + " " * 20).kind != "json"
    deep = "[" * 100_000 + "]" * 100_000
    assert detect(deep).kind != "json"


def test_detection_looks_at_a_bounded_sample() -> None:
    huge = "2024-01-01 00:00:00 INFO worker started job 1\n" * 200_000  # 9 MB
    assert detect(huge).kind == "log"
    # Binary past the sample is not seen: a whole-text scan would call this opaque.
    assert detect(huge + "\x00\x01" * 50_000).kind == "log"
    assert detect("\x00\x01" * 50_000 + huge).kind == "opaque"


def _test_output_lines() -> list[str]:
    fixtures = Path(__file__).parent.parent / "fixtures" / "tools"
    return [
        line
        for path in sorted(fixtures.rglob("*"))
        if path.is_file()
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
    ]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_test_output_lines()), st.text(max_size=12), st.text(max_size=12))
def test_test_line_prefilter_never_rejects_a_matching_line(line: str, pre: str, post: str) -> None:
    # The prefilter only saves work: a line any test-output pattern matches must pass it.
    from headroom.router import _TEST_PATTERNS, _may_be_test_line

    for candidate in (line, pre + line, line + post, pre + line + post):
        if any(pattern.search(candidate) for pattern in _TEST_PATTERNS):
            assert _may_be_test_line(candidate)
