"""Originals come back byte-for-byte, and nothing is changed without a way back.

Every handle a compression returns retrieves the piece exactly as it was given, for every
kind, every path through each compressor (forced kinds included) and the CLI; text that is
not JSON is never minified as JSON, whatever it was routed or forced as.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from headroom import CompressConfig, Headroom
from headroom.config import KINDS
from headroom.handles import find_markers
from headroom.jsontables import loads
from headroom.store import MemoryStore
from tests.conftest import REPO_ROOT, read_bench

FIXTURES = REPO_ROOT / "tests" / "fixtures"

# Real inputs of every kind, each small enough to compress in well under a second.
SAMPLES = {
    "log-hdfs": "loghub/HDFS_2k.log",
    "log-openssh": "loghub/OpenSSH_2k.log",
    "log-android": "loghub/Android_2k.log",
    "json-issues": "json/gh_issues_rails_admin.json",
    "json-events": "json/gh_repo_events_rails_admin.json",
    "json-top100": "json/gh_top100_repos.json",
    "json-crossref": "json/crossref_peerj_works_search.json",
    "json-lines": "json/flutter_provider_test_results.jsonl",
    "json-npm": "json/npm_packument_chalk.json",
}
TOOL_SAMPLES = {
    "grep": "tools/grep_rn_deadline_hypothesis.txt",
    "rg": "tools/rg_heading_encode_tiktoken.txt",
    "pytest": "tools/pytest_v_attrs.txt",
    "cargo": "tools/cargo_test_heck_failing.txt",
    "go": "tools/go_test_v_stdlib_copy.txt",
    "diff": "tools/diff_ru_packaging_21.3_22.0.txt",
    "git-diff": "tools/git_diff_pluggy_0.13.1_1.0.0.txt",
    "code-go": "code/go_http_server.go",
    "code-c": "code/tree_sitter_subtree.c",
    "code-ts": "code/panel_tabulator.ts",
}


def _prose(bench_data: Path) -> str:
    squad = json.loads((bench_data / "squad" / "dev-v2.0.json").read_text())
    paragraphs = [p["context"] for p in squad["data"][0]["paragraphs"][:12]]
    # Repeated paragraphs (the de-duplication path), uneven blank lines, no final newline.
    return "\n\n".join(paragraphs[:6]) + "\n\n\n" + "\n\n".join(paragraphs[:3] + paragraphs[6:])


def _samples(bench_data: Path) -> dict[str, str]:
    out = {name: read_bench(bench_data / path) for name, path in SAMPLES.items()}
    out |= {name: read_bench(FIXTURES / path) for name, path in TOOL_SAMPLES.items()}
    out["prose"] = _prose(bench_data)
    return out


def _variants(text: str) -> dict[str, str]:
    """The same content with the framing tools add: trailing blank lines, CRLF, a lead."""
    return {
        "as-is": text,
        "trailing": text.rstrip("\n") + "\n\n\n",
        "crlf": text.replace("\r\n", "\n").replace("\n", "\r\n"),
        "leading": "\n\n  " + text,
    }


def _assert_exact(hr: Headroom, text: str, result_text: str, handles: list[str]) -> None:
    for marker in find_markers(result_text):
        assert marker.handle in handles
    for handle in handles:
        assert hr.retrieve(handle) == text, f"{handle} does not give back the input"
        assert hr.store.get(handle).data == text.encode("utf-8")


def _assert_lossless_means_same(text: str, result_text: str, kind: str) -> None:
    """A result marked lossless holds what the input held."""
    if result_text == text:
        return
    assert kind == "json", f"only JSON has lossless rewrites, got {kind}"
    stripped = text.strip()
    try:
        expected = json.loads(stripped)
    except ValueError:
        expected = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    assert loads(result_text) == expected


@pytest.mark.parametrize("variant", ["as-is", "trailing", "crlf", "leading"])
def test_every_handle_gives_back_the_exact_input(bench_data: Path, variant: str) -> None:
    hr = Headroom(store="memory")
    lossy = 0
    for name, sample in _samples(bench_data).items():
        text = _variants(sample)[variant]
        for query in (None, "error"):
            result = hr.compress_text(text, query=query)
            if result.lossless:
                _assert_lossless_means_same(text, result.text, result.kind)
                assert not result.handles, name
            else:
                lossy += 1
                assert result.handles, name
                _assert_exact(hr, text, result.text, result.handles)
    assert lossy >= 20  # the lossy paths were exercised, not skipped


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "opaque"])
def test_forced_kinds_never_lose_the_input(bench_data: Path, kind: str) -> None:
    """Every compressor on content of every other kind: lossy only with the exact input."""
    hr = Headroom(store="memory")
    for name, text in _samples(bench_data).items():
        result = hr.compress_text(text, kind=kind, query="timeout")
        if result.lossless:
            _assert_lossless_means_same(text, result.text, result.kind)
        else:
            _assert_exact(hr, text, result.text, result.handles)
        if kind == "json" and result.kind != "json":
            assert any("kind='json' does not fit" in w for w in result.warnings), name


def _json_lines_log(records: int) -> str:
    return "\n".join(
        json.dumps(
            {
                "ts": f"2026-12-04T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "level": "INFO",
                "msg": f"user {1000 + i} logged in from 10.0.{i % 256}.{i // 256}",
            }
        )
        for i in range(records)
    )


@pytest.mark.parametrize(
    "tail",
    [
        "goroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d\nexit status 2",
        '{"ts": "2026-12-04T11:00:00Z", "level": "ERROR", "msg": "truncated rec',
        '{"level": "INFO"} trailing words',
        "[",
    ],
)
def test_json_lines_past_the_detection_sample_are_not_minified_when_a_line_is_not_json(
    tail: str,
) -> None:
    text = _json_lines_log(2000) + "\n" + tail + "\n"
    assert len(text) > 2 * 65_536
    hr = Headroom(store="memory")
    for config in (CompressConfig(), CompressConfig(lossy=False)):
        result = Headroom(config, store=hr.store).compress_text(text)
        assert "json.minify" not in result.transforms_applied
        if result.lossless:
            assert result.text == text
        else:
            assert "user 1501 logged in" in hr.retrieve(result.handles[0])
            _assert_exact(hr, text, result.text, result.handles)


def test_json_lines_that_are_all_json_are_still_minified_past_the_sample() -> None:
    text = _json_lines_log(2000)
    result = Headroom(CompressConfig(lossy=False), store="memory").compress_text(text)
    assert result.kind == "json" and result.lossless and result.transforms_applied
    assert loads(result.text) == [json.loads(line) for line in text.splitlines()]


PROSE = (
    "The deployment failed because the user 1501 logged in before the token was issued. "
    "Nobody noticed for an hour, since the dashboard only shows totals. "
) * 40


@pytest.mark.parametrize("config", [CompressConfig(), CompressConfig(lossy=False)])
def test_a_forced_json_kind_on_text_falls_back_to_detection(config: CompressConfig) -> None:
    result = Headroom(config, store="memory").compress_text(PROSE, kind="json")
    assert result.kind == "text"
    assert any("kind='json' does not fit this content" in w for w in result.warnings)
    assert "user 1501 logged in" in result.text or not result.lossless
    assert "json.minify" not in result.transforms_applied


WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
]


def test_crushed_json_keeps_the_document_as_given() -> None:
    # Escapes, negative zero, float spellings and big ints: a re-serialised part would come
    # back spelled otherwise.
    rows = ",\n".join(
        f'  {{"id": {i}, "name": "caf\\u00e9 {WORDS[i * 7 % 12]}", "delta": -0, '
        f'"price": {i * 37 % 101}.50, "big": 1234567890123456789{i % 10}, '
        f'"note": "row {i} {WORDS[i % 12]} {WORDS[i * 5 % 11]} {i * 7919 % 1000}"}}'
        for i in range(400)
    )
    text = "[\n" + rows + "\n]\n"
    hr = Headroom(store="memory")
    result = hr.compress_text(text)
    assert not result.lossless and result.transforms_applied[-1] == "json.crush"
    (handle,) = result.handles
    assert hr.retrieve(handle) == text
    # A query still finds one dropped record inside the stored document.
    kept_ids = {row["id"] for row in loads(result.text)}
    dropped = next(i for i in range(400) if i not in kept_ids)
    found = hr.retrieve(handle, query=f"row {dropped} ok").split("\n\n")
    assert any(json.loads(section)["id"] == dropped for section in found)


def test_crushed_json_lines_come_back_as_lines() -> None:
    text = (
        "\n".join(
            json.dumps({"id": i, "state": "ok" if i % 97 else "failed", "msg": f"step {i} done"})
            for i in range(600)
        )
        + "\n"
    )
    # 2,500 tokens as a table: kept whole by default, so a ratio asks for the crush.
    hr = Headroom(CompressConfig(target_ratio=0.1), store="memory")
    result = hr.compress_text(text)
    assert not result.lossless
    assert [hr.retrieve(h) for h in result.handles] == [text]


def test_nested_records_are_found_by_query(bench_data: Path) -> None:
    """Records inside an object (``{"message": {"items": [...]}}``) are sections."""
    text = read_bench(bench_data / "json" / "crossref_peerj_works_search.json")
    items = json.loads(text)["message"]["items"]
    hr = Headroom(store="memory")
    handle = hr.store.put(text, kind="json")
    wanted = items[len(items) // 2]
    found = hr.retrieve(handle, query=wanted["DOI"])
    assert json.loads(found.split("\n\n")[0]) == wanted


def _cli(*args: str, home: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIO"))}
    env |= {"HEADROOM_HOME": str(home), "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}
    return subprocess.run(
        [sys.executable, "-m", "headroom", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_round_trips_bytes_that_are_not_utf8_in_the_c_locale(
    bench_data: Path, tmp_path: Path
) -> None:
    raw = (bench_data / "loghub" / "OpenSSH_2k.log").read_bytes()
    lines = raw.split(b"\n")
    # Latin-1 user names, a stray continuation byte, a lone surrogate in surrogatepass form.
    lines[7] += b" user=J\xfcrgen"
    lines[300] += b" \x80\xff"
    lines[900] += b" \xed\xa0\x80"
    data = b"\n".join(lines)
    source = tmp_path / "auth.log"
    source.write_bytes(data)
    out = _cli("compress", str(source), home=tmp_path)
    assert out.returncode == 0, out.stderr
    handle = out.stderr.decode().rsplit("originals: ", 1)[1].strip()
    assert handle == "headroom:" + hashlib.sha256(data).hexdigest()[:12]
    back = _cli("retrieve", handle, home=tmp_path)
    assert back.returncode == 0, back.stderr
    assert back.stdout == data
    # Upper case and the marker's bracket, as a model might copy it, from stdin too.
    piped = _cli("compress", "-", home=tmp_path, stdin=data)
    assert piped.stdout == out.stdout


def test_cli_forced_json_on_text_warns_and_keeps_the_words(tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text(PROSE)
    out = _cli("compress", str(source), "--kind", "json", "--lossless", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == PROSE
    assert b"kind='json' does not fit" in out.stderr


class _ForgetfulStore(MemoryStore):
    """Accepts every original and keeps none: a store evicting faster than calls finish."""

    def put(self, original: str | bytes, *, kind: str) -> str:
        handle = super().put(original, kind=kind)
        self._entries.clear()
        self._by_created.clear()
        return handle


def test_a_lossy_result_whose_original_is_gone_falls_back_to_lossless(bench_data: Path) -> None:
    text = read_bench(bench_data / "json" / "usgs_earthquakes_week.geojson.json")
    result = Headroom(store=_ForgetfulStore()).compress_text(text)
    assert result.lossless and not result.handles and not find_markers(result.text)
    assert result.transforms_applied == ["json.minify", "json.tables"]
    assert loads(result.text) == json.loads(text)
    assert any("no longer holds" in w and "max_bytes" in w for w in result.warnings)
    log = read_bench(bench_data / "loghub" / "HDFS_2k.log")
    result = Headroom(store=_ForgetfulStore()).compress_text(log)
    assert result.text == log and not result.handles and result.warnings
