"""``python -m headroom.bench.markdown_docs``: the ``markdown`` kind on real READMEs and docs pages.

Inputs: the READMEs in ``tests/fixtures/markdown`` (httpx, rich and typer as published on
PyPI; see its README) and this repository's ``docs/*.md``. Each document goes through
``compress_text(kind="markdown")`` with no query and with each of a few tasks below, written
as a user would ask them and naming identifiers (``inline code``, flags, settings). Columns:

- ``detected``: :func:`~headroom.compressors.markdown.looks_like_markdown` on the document;
- ``tokens``: o200k_base tokens of the document; ``no query`` / ``query``: tokens after;
  ``saved``: the share saved; ``r=0.3``: share saved with no query and ``target_ratio=0.3``
  (query-less salience);
- ``heads``: headings of the input found verbatim in the output with the query;
  ``fences``: fenced blocks kept byte for byte (or as a skeleton, counted apart as ``s``);
- ``answer``: the sentence that answers the task survives; ``ids``: identifiers the task
  names that the output still holds (identifier recall).

A document that quotes an omission marker (this repository's README and some docs pages
show one as an example) is left unchanged by the pipeline, which takes a marker as the sign
of compressed content; such rows are marked ``(quotes a marker)``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from headroom.compressors.markdown import looks_like_markdown
from headroom.compressors.markdown.parse import parse
from headroom.handles import has_marker

__all__ = ["TASKS", "Task", "main"]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "markdown"


@dataclass(frozen=True, slots=True)
class Task:
    """A question on a document, the text that answers it and the identifiers it names."""

    document: str
    query: str
    answer: str
    identifiers: tuple[str, ...]


TASKS: tuple[Task, ...] = (
    Task(
        "httpx_README.md",
        "What is `socksio` used for, and which extra installs it?",
        "`socksio` - SOCKS proxy support.",
        ("socksio",),
    ),
    Task(
        "httpx_README.md",
        "Which package decodes `brotli` responses?",
        "`brotli` or `brotlicffi` - Decoding",
        ("brotli",),
    ),
    Task(
        "rich_README.md",
        "What does the Console `log()` method render besides the message?",
        "also renders a column for the current time and the file and line which made the call",
        ("log()",),
    ),
    Task(
        "rich_README.md",
        "What can `inspect` report on?",
        "function which can produce a report on any Python object",
        ("inspect",),
    ),
    Task(
        "typer_README.md",
        "When does auto-completion work with `--install-completion`?",
        "auto-completion works when you create a Python package and run it with "
        "`--install-completion`",
        ("--install-completion",),
    ),
    Task(
        "typer_README.md",
        "What does `typer.run` create for you?",
        "The previous `typer.run` actually creates one implicitly for you.",
        ("typer.run",),
    ),
    Task(
        "usage.md",
        "Which assistant messages does `protect_recent` leave unchanged?",
        "`protect_recent` user/assistant messages, which are never changed.",
        ("protect_recent",),
    ),
    Task(
        "usage.md",
        "Where is the store file when `HEADROOM_HOME` is set?",
        "Default: a SQLite file `ccr.sqlite3` under `$HEADROOM_HOME`",
        ("HEADROOM_HOME", "ccr.sqlite3"),
    ),
    Task(
        "rag.md",
        "Which wins, `token_budget` or `target_ratio`?",
        "`token_budget` (wins over the\nratio)",
        ("token_budget", "target_ratio"),
    ),
)


def _documents() -> dict[str, str]:
    paths = [*sorted(FIXTURES.glob("*_README.md")), *sorted((ROOT / "docs").glob("*.md"))]
    return {p.name: p.read_text(encoding="utf-8") for p in paths}


def _kept(text: str, out: str) -> tuple[int, int, int, int, int]:
    """(headings kept, headings, fences kept verbatim, fences as skeletons, fences)."""
    blocks = parse(text)
    headings = [b.text.rstrip("\n") for b in blocks if b.kind == "heading"]
    fences = [b for b in blocks if b.kind == "fence"]
    verbatim = sum(1 for b in fences if b.text in out)
    skeletons = sum(
        1 for b in fences if b.text not in out and b.text.split("\n", 1)[0] + "\n" in out
    )
    return sum(1 for h in headings if h in out), len(headings), verbatim, skeletons, len(fences)


def main(argv: list[str] | None = None) -> int:
    """Print one row per document and task."""
    from headroom import compress_text
    from headroom.config import CompressConfig

    parser = argparse.ArgumentParser(
        prog="python -m headroom.bench.markdown_docs", description=__doc__
    )
    parser.parse_args(argv)
    config = CompressConfig(store="memory")
    shrink = CompressConfig(store="memory", target_ratio=0.3)
    documents = _documents()
    print(
        f"{'document':22} {'detected':>8} {'tokens':>7} {'no query':>9} {'saved':>6} "
        f"{'r=0.3':>6} {'query':>6} {'saved':>6} {'heads':>7} {'fences':>9} {'answer':>6} "
        f"{'ids':>5}  task"
    )
    before_all = plain_all = asked_all = answered = ids_found = ids_total = rows = 0
    for name, text in documents.items():
        plain = compress_text(text, kind="markdown", config=config)
        shrunk = compress_text(text, kind="markdown", config=shrink)
        tasks = [t for t in TASKS if t.document == name] or [
            Task(name, "How do I configure the timeout?", "", ())
        ]
        for task in tasks:
            asked = compress_text(text, kind="markdown", query=task.query, config=config)
            heads, n_heads, verbatim, skeletons, n_fences = _kept(text, asked.text)
            found = sum(1 for i in task.identifiers if i in asked.text)
            kept = task.answer in asked.text if task.answer else None
            if task.answer:
                rows += 1
                answered += bool(kept)
                ids_found += found
                ids_total += len(task.identifiers)
                before_all += asked.tokens_before
                plain_all += plain.tokens_after
                asked_all += asked.tokens_after
            fences = (
                f"{verbatim}+{skeletons}s/{n_fences}" if skeletons else f"{verbatim}/{n_fences}"
            )
            note = " (quotes a marker)" if has_marker(text) else ""
            print(
                f"{name:22} {'yes' if looks_like_markdown(text[:65_536]) else 'NO':>8} "
                f"{asked.tokens_before:>7} {plain.tokens_after:>9} "
                f"{1 - plain.tokens_after / asked.tokens_before:>6.0%} "
                f"{1 - shrunk.tokens_after / asked.tokens_before:>6.0%} {asked.tokens_after:>6} "
                f"{1 - asked.tokens_after / asked.tokens_before:>6.0%} "
                f"{heads:>3}/{n_heads:<3} {fences:>9} "
                f"{'-' if kept is None else 'yes' if kept else 'NO':>6} "
                f"{f'{found}/{len(task.identifiers)}' if task.identifiers else '-':>5}  "
                f"{task.query if task.answer else '(no task)'}{note}"
            )
    print(
        f"\ntasks: {rows}, tokens {before_all} -> {asked_all} with the query "
        f"({1 - asked_all / before_all:.0%} saved), answers kept {answered}/{rows}, "
        f"identifier recall {ids_found}/{ids_total}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
