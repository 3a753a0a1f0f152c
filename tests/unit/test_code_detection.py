"""Source code recognised by content (no path hint) and by the shell command that printed it.

Real inputs: the running interpreter's standard library, the code fixtures (files from PyPI
sdists and the Go distribution), this repository's own docs, and outputs of tools run here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from headroom import CompressConfig, Headroom
from headroom.messages.hints import command_path, path_argument
from headroom.router import EXTENSION_LANGUAGES, detect
from tests.conftest import REPO_ROOT, read_bench

STDLIB = Path(sysconfig.get_paths()["stdlib"])
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "code"
# The modules the issue found routed as prose and sentence-pruned (those this Python has).
MODULES = [
    "argparse.py",
    "ast.py",
    "dataclasses.py",
    "difflib.py",
    "enum.py",
    "inspect.py",
    "json/decoder.py",
    "logging/__init__.py",
    "pathlib.py",
    "shutil.py",
    "subprocess.py",
    "tarfile.py",
    "textwrap.py",
    "typing.py",
]
FIXTURE_FILES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in EXTENSION_LANGUAGES)


def _hr() -> Headroom:
    return Headroom(CompressConfig(), store="memory")


@pytest.mark.parametrize("module", [m for m in MODULES if (STDLIB / m).is_file()])
def test_stdlib_module_without_a_hint_is_python_and_never_pruned(module: str) -> None:
    text = (STDLIB / module).read_text(encoding="utf-8")
    assert (detect(text).kind, detect(text).language) == ("code", "python")
    result = _hr().compress_text(text)
    assert "text.prune" not in result.transforms_applied
    assert result.transforms_applied == ["code.skeleton"]


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixture_without_a_hint_is_code_of_its_language(name: str) -> None:
    path = FIXTURES / name
    route = detect(path.read_text(encoding="utf-8"))
    assert (route.kind, route.language) == ("code", EXTENSION_LANGUAGES[path.suffix])


def _docs() -> list[Path]:
    return [*sorted((REPO_ROOT / "docs").glob("*.md")), REPO_ROOT / "README.md"]


@pytest.mark.parametrize("path", _docs(), ids=lambda p: p.name)
def test_markdown_with_fenced_code_is_not_code(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert detect(text).kind != "code"


def test_prose_logs_and_json_are_not_code(bench_data: Path) -> None:
    squad = json.loads(read_bench(bench_data / "squad" / "dev-v2.0.json"))
    prose = "\n\n".join(p["context"] for p in squad["data"][0]["paragraphs"])
    assert detect(prose).kind == "text"
    for name in ("HDFS", "Apache", "Android"):
        assert detect(read_bench(bench_data / "loghub" / f"{name}_2k.log")).kind == "log"


def test_python_traceback_and_pytest_output_are_not_code(tmp_path: Path) -> None:
    script = tmp_path / "boom.py"
    script.write_text(
        "import json\n\ndef load(text):\n    return json.loads(text)\n\n"
        "def main():\n    for raw in ['{}', '[1, 2]', '{bad']:\n        load(raw)\n\nmain()\n"
    )
    trace = subprocess.run([sys.executable, str(script)], capture_output=True, text=True).stderr
    assert "Traceback" in trace
    assert detect(trace).kind != "code"
    (tmp_path / "test_x.py").write_text("def test_bad():\n    assert [1, 2] == [1, 3]\n")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert detect(out).kind == "test-output"


def test_yaml_and_key_value_lines_that_parse_as_python_are_not_code() -> None:
    # Real YAML from this repository: `key: value` lines parse as Python annotations.
    workflows = sorted((REPO_ROOT / ".github").rglob("*.yml"))
    texts = [p.read_text(encoding="utf-8") for p in workflows]
    texts.append((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for text in texts:
        assert detect(text).kind != "code"


@pytest.mark.parametrize(
    ("command", "path"),
    [
        ("cat json/decoder.py", "json/decoder.py"),
        ("sed -n 1,200p src/x.rs", "src/x.rs"),
        ("sed -n '10,40p' -- a.c", "a.c"),
        ("head -n 50 a.go", "a.go"),
        ("head -50 a.go", "a.go"),
        ("tail -n +20 src/App.tsx", "src/App.tsx"),
        ("nl -ba Main.java", "Main.java"),
        ("bat --style=plain -r 1:40 lib.ts", "lib.ts"),
        ("less setup.py", "setup.py"),
        ("cd /repo && cat src/x.py | head -100", "src/x.py"),
        ("cat a.py b.py", "a.py"),
        (["bash", "-lc", "cat x.py"], "x.py"),
        (["cat", "x.py"], "x.py"),
        ("cat x.py | grep def", None),  # grep's output is search output, not the file
        ("ls && cat x.py", None),  # a listing, then the file
        ("cat a.py b.md", None),
        ("cat > x.py", None),
        ("cat <<EOF > x.py", None),
        ("python x.py", None),
        ("cat 'unclosed", None),
        ("cat x.py; cat y.py", None),
        ("", None),
    ],
)
def test_command_path(command: Any, path: str | None) -> None:
    assert command_path(command) == path


def test_path_argument_reads_a_command() -> None:
    assert path_argument('{"command": "cat json/decoder.py"}') == "json/decoder.py"
    assert path_argument({"cmd": ["sed", "-n", "1,80p", "lib.rs"]}) == "lib.rs"
    assert path_argument({"path": "a.go", "command": "cat b.py"}) == "a.go"
    assert path_argument({"command": "x" * 100_000}) is None


def _decoder() -> str:
    return (STDLIB / "json" / "decoder.py").read_text(encoding="utf-8")


def test_openai_bash_cat_tool_call_is_never_sentence_pruned() -> None:
    # The case: the tool is `bash`, the file is json/decoder.py.
    source = _decoder()
    messages = [
        {"role": "system", "content": "You are a coding agent."},
        {"role": "user", "content": "Why does json.loads accept NaN? Look at the decoder."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "bash", "arguments": '{"command": "cat json/decoder.py"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": source},
    ]
    result = _hr().compress(messages)
    assert "text.prune" not in result.transforms_applied
    out = result.messages[3]["content"]
    assert out == source or "code.skeleton" in result.transforms_applied
    assert "def py_scanstring" in out and "class JSONDecoder" in out


def test_anthropic_bash_cat_tool_use_is_never_sentence_pruned() -> None:
    source = _decoder()
    messages = [
        {"role": "user", "content": "Why does json.loads accept NaN?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "bash",
                    "input": {"command": "sed -n 1,400p json/decoder.py"},
                }
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": source}],
        },
    ]
    result = _hr().compress(messages)
    assert "text.prune" not in result.transforms_applied
