"""The ``headroom`` command: compress, retrieve, decode, stats, proxy, perf, wrap, unwrap, mcp.

Compressed text goes to stdout and stats to stderr, so the command composes in pipes:
``kubectl logs pod | headroom compress - --query "timeout" > context.txt``. Several files or
globs (``headroom compress 'logs/**/*.log' --out small/``) get a per-file table on stderr.
Errors are one line saying what is wrong and what to do; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from headroom import __version__
from headroom._cli_errors import CommandError
from headroom._cli_output import Progress, saved, table
from headroom._rawbytes import from_bytes, to_bytes
from headroom.bench import cli as bench_cli
from headroom.client import Headroom
from headroom.config import KINDS, CompressConfig
from headroom.errors import HeadroomError, StoreError
from headroom.jsontables import FormatError, decode_text
from headroom.mcpserver.cli import add_parser as mcp_parser
from headroom.proxy.cli import add_parser as proxy_parser
from headroom.proxy.perf import add_parser as perf_parser
from headroom.proxy.wrap_cli import add_parsers as wrap_parsers
from headroom.store import UsageTotals
from headroom.store.usage import RECENT_DAYS
from headroom.tools import DEFAULT_MODEL

__all__ = ["main"]

_GLOB_CHARS = frozenset("*?[")


class _UsageProblem(Exception):
    """Bad command-line input found by the CLI itself (a missing file, a glob matching nothing)."""


class _ArgumentProblem(Exception):
    """An argument argparse refused; ``prog`` is the (sub)command whose help describes it."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse that raises on a refused argument instead of printing usage and exiting, so
    :func:`main` says it in the one-line form every other error takes (subparsers are made
    of this class too: argparse builds them with the parent's class)."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentProblem(self.prog, message)


def _debug_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a verb's own --debug must not reset one given before the verb.
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="on an error, show the Python traceback instead of one line",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="headroom",
        description="Compress LLM context (tool outputs, logs, JSON, code) and retrieve "
        "the originals. Originals are kept in the CCR store (HEADROOM_HOME).",
    )
    parser.add_argument(
        "--store",
        default=None,
        help="where originals are kept: a SQLite file path, 'memory', or a Redis URL "
        "(redis://host:port/db, rediss://, unix://); default: HEADROOM_STORE, else the "
        "SQLite file under HEADROOM_HOME (the same for every verb, the proxy and mcp)",
    )
    parser.add_argument("--version", action="version", version=f"headroom {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an error, show the Python traceback instead of one line",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    c = verbs.add_parser(
        "compress",
        help="compress files, globs or stdin",
        description="Compress each FILE (a path, a glob such as 'logs/**/*.log', or - for "
        "stdin) to stdout, or into --out DIR; stats to stderr: one line for one input, a "
        "table per file for several.",
    )
    c.add_argument("files", nargs="*", default=["-"], metavar="FILE|GLOB|-")
    c.add_argument(
        "--out",
        "-o",
        metavar="DIR",
        help="write each compressed file under DIR (same relative path) instead of stdout",
    )
    c.add_argument(
        "--format",
        "-f",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per input (file, text, kind, tokens, handles) per line",
    )
    c.add_argument("--query", "-q", help="what the model is looking for; matching parts are kept")
    c.add_argument(
        "--kind",
        "-k",
        default="auto",
        choices=["auto", *KINDS],
        help="content kind (default: detect)",
    )
    c.add_argument(
        "--model", "-m", default=DEFAULT_MODEL, help="model whose tokenizer counts tokens"
    )
    c.add_argument("--lossless", action="store_true", help="lossless transforms only")
    c.add_argument(
        "--min-tokens",
        type=int,
        default=None,
        help="leave content smaller than this alone (default: 200)",
    )
    c.add_argument("--json", action="store_true", help="the same as --format json")

    r = verbs.add_parser(
        "retrieve",
        help="print the original behind a handle",
        description="Print the original stored under HANDLE.",
    )
    r.add_argument("handle", metavar="HANDLE", help="e.g. headroom:3f9a1c2e4b7d")
    r.add_argument("--query", "-q", help="print only the parts matching this query")

    d = verbs.add_parser(
        "decode",
        help="turn a JSON table document back into JSON",
        description="Print the JSON (or JSON Lines) a headroom-json table document holds.",
    )
    d.add_argument("file", nargs="?", default="-", metavar="FILE|-")

    st = verbs.add_parser(
        "stats",
        help="what the store holds and the tokens saved so far, by kind and by day",
        description="Show the CCR store's size and the tokens saved so far, by content kind "
        "and by day (UTC), over every process that used the store.",
    )
    st.add_argument(
        "--days",
        type=_positive_int,
        default=RECENT_DAYS,
        metavar="N",
        help="the by-day table covers the last N days, today included (default 14)",
    )
    st.add_argument("--json", action="store_true", help="print one JSON object instead")
    _store_parser(verbs)
    proxy_parser(verbs)  # options and logic live in headroom/proxy/ (the server is an extra)
    wrap_parsers(verbs)  # wrap, unwrap: headroom/proxy/launch.py and agent_config.py
    perf_parser(verbs)  # headroom/proxy/perf.py: a running proxy's savings, from /stats
    mcp_parser(verbs)  # headroom/mcpserver/ (the MCP SDK is an extra, imported to serve)
    bench_cli.add_parser(verbs)  # headroom/bench/cli.py: savings, checks, speed on files
    _debug_on_every_verb(parser)
    return parser


def _debug_on_every_verb(parser: argparse.ArgumentParser) -> None:
    """Give every (sub)command a ``--debug`` (the verbs defined in other modules too), so
    that it works after any verb as well as before."""
    for action in parser._actions:  # argparse has no public walk over its subcommands
        if isinstance(action, argparse._SubParsersAction):
            for verb in action.choices.values():
                if "--debug" not in verb._option_string_actions:
                    _debug_flag(verb)
                _debug_on_every_verb(verb)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 error, 2 usage, 130 interrupted).

    Every error, whatever the verb, is one line on stderr, ``headroom: error: <what is wrong
    and what to do>``; ``--debug`` (before or after the verb) raises it with its traceback.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    # Known before parsing, so that a refused argument too can show its traceback.
    debug = "--debug" in argv[: argv.index("--")] if "--" in argv else "--debug" in argv
    try:
        args = _parser().parse_args(argv)
    except _ArgumentProblem as error:
        if debug:
            raise
        verb = error.prog.removeprefix("headroom").strip()
        print(
            f"headroom: error: {verb + ': ' if verb else ''}{_describe(error)} "
            f"(see '{error.prog} --help')",
            file=sys.stderr,
        )
        return 2
    debug = bool(args.debug)
    try:
        return _run(args)
    except KeyboardInterrupt:
        if debug:
            raise
        print("headroom: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `headroom compress ... | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (HeadroomError, OSError, FormatError, ImportError, _UsageProblem) as error:
        if debug:
            raise
        print(f"headroom: error: {_describe(error)}", file=sys.stderr)
        return error.status if isinstance(error, CommandError) else 1
    except Exception as error:  # a bug: still one line, the traceback behind --debug
        if debug:
            raise
        print(
            f"headroom: error: unexpected {type(error).__name__}: {error} (a bug in headroom: "
            "rerun with --debug for the traceback and report it)",
            file=sys.stderr,
        )
        return 1


def _describe(error: BaseException) -> str:
    """One line for an expected error, with what to do where the error does not say."""
    if isinstance(error, OSError) and error.filename is not None:
        what = error.strerror or type(error).__name__
        hint = {
            FileNotFoundError: "check the path",
            IsADirectoryError: "give files or a glob such as 'DIR/**/*'",
            PermissionError: "check its permissions",
        }.get(type(error))
        return f"{error.filename}: {what}" + (f" ({hint})" if hint else "")
    text = " ".join(str(error).split())  # one line, whatever the message held
    return text or type(error).__name__


def _run(args: argparse.Namespace) -> int:
    if args.verb == "compress":
        return _compress(args)
    if args.verb == "retrieve":
        client = Headroom(store=args.store)
        # The original's own bytes, whatever the locale, and nothing added: piping the
        # output to a file gives back exactly what was compressed.
        _write(to_bytes(client.retrieve(args.handle, query=args.query)))
        return 0
    if args.verb == "proxy":
        from headroom.proxy.cli import run

        return run(args)
    if args.verb == "mcp":
        from headroom.mcpserver.cli import run as run_mcp

        return run_mcp(args)
    if args.verb == "bench":
        return bench_cli.run(args)
    if args.verb == "perf":
        from headroom.proxy.perf import run as run_perf

        return run_perf(args)
    if args.verb in ("wrap", "unwrap"):
        from headroom.proxy.wrap_cli import run_unwrap, run_wrap

        return run_wrap(args) if args.verb == "wrap" else run_unwrap(args)
    if args.verb == "store":
        return _store_verb(args)
    if args.verb == "decode":
        sys.stdout.write(decode_text(_read_input(args.file).strip()) + "\n")
        return 0
    return _stats(args)


def _read_input(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(name, "rb") as handle:
            data = handle.read()
    # Undecodable bytes survive as lone surrogates: the store keeps them byte-exact.
    return from_bytes(data)


def _write(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _compress(args: argparse.Namespace) -> int:
    inputs = _expand_inputs(args.files)
    destinations = _destinations(inputs, args.out) if args.out else {}
    as_json = args.json or args.format == "json"
    config = CompressConfig(lossy=not args.lossless)
    if args.min_tokens is not None:
        config = dataclasses.replace(config, min_tokens=args.min_tokens)
    client = Headroom(config, store=args.store, model=args.model)
    rows: list[tuple[str, str, int, int]] = []
    progress = Progress(inputs)
    for index, name in enumerate(inputs):
        progress.show(index, name)
        try:
            text = _read_input(name)
            path = None if name == "-" else name
            result = client.compress_text(text, kind=args.kind, query=args.query, path=path)
        finally:  # an error's one line must not land on the end of the bar
            progress.clear()
        shown = "<stdin>" if name == "-" else name
        destination = destinations.get(name)
        if destination is not None:
            os.makedirs(os.path.dirname(destination) or ".", exist_ok=True)
            with open(destination, "wb") as out:
                out.write(to_bytes(result.text))
        if as_json:
            payload: dict[str, Any] = {"file": shown}
            if destination is not None:
                payload["out"] = destination
            payload.update(_result_fields(result))
            _write_json(payload)
        elif destination is None:
            if len(inputs) > 1:
                _write(f"==> {shown} <==\n".encode())
            _write(to_bytes(result.text))
            if (result.changed or len(inputs) > 1) and not result.text.endswith("\n"):
                _write(b"\n")
        for warning in result.warnings:
            print(f"headroom: warning: {shown}: {warning}", file=sys.stderr)
        kind = f"{result.kind}({result.language})" if result.language else result.kind
        rows.append((shown, kind, result.tokens_before, result.tokens_after))
        if len(inputs) == 1:
            print(
                f"headroom: {result.kind}: {result.tokens_before} -> {result.tokens_after} "
                f"tokens ({result.compression_ratio:.0%} saved)"
                + (f"; originals: {', '.join(result.handles)}" if result.handles else "")
                + (f"; written to {destination}" if destination else ""),
                file=sys.stderr,
            )
    if len(inputs) > 1:
        print(_summary_table(rows), file=sys.stderr)
    return 0


def _result_fields(result: Any) -> dict[str, Any]:
    return {
        "text": result.text,
        "kind": result.kind,
        "language": result.language,
        "tokens_before": result.tokens_before,
        "tokens_after": result.tokens_after,
        "tokens_saved": result.tokens_saved,
        "compression_ratio": result.compression_ratio,
        "lossless": result.lossless,
        "transforms_applied": result.transforms_applied,
        "handles": result.handles,
        "warnings": result.warnings,
    }


def _write_json(payload: dict[str, Any]) -> None:
    try:
        _write((json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8"))
    except UnicodeEncodeError:  # bytes that were not UTF-8: escaped, so the JSON is valid
        _write((json.dumps(payload) + "\n").encode("ascii"))


def _expand_inputs(specs: Sequence[str]) -> list[str]:
    """Paths to read, in the order given: globs expanded (``**`` recursive), repeats once.

    The shell usually expands globs; a quoted one (or one on Windows) is expanded here, so
    ``'logs/**/*.log'`` works too. Every input is checked before anything is compressed.
    """
    found: list[str] = []
    for spec in specs:
        if spec == "-" or os.path.isfile(spec):
            matches = [spec]
        elif os.path.isdir(spec):
            raise _UsageProblem(
                f"{spec} is a directory (give files, or a glob such as '{spec.rstrip('/')}/**/*')"
            )
        elif _GLOB_CHARS & set(spec):
            matches = sorted(m for m in glob.glob(spec, recursive=True) if os.path.isfile(m))
            if not matches:
                raise _UsageProblem(f"{spec} matched no files (check the pattern and quoting)")
        else:
            raise _UsageProblem(f"{spec}: no such file (check the path)")
        found.extend(m for m in matches if m not in found)
    return found


def _destinations(inputs: Sequence[str], out_dir: str) -> dict[str, str]:
    """Where --out writes each input: its relative path under DIR, else its file name."""
    targets: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in inputs:
        if name == "-":
            relative = "stdin.txt"
        else:
            relative = os.path.normpath(name)
            if os.path.isabs(relative) or relative.startswith(os.pardir):
                relative = os.path.basename(relative)
        target = os.path.join(out_dir, relative)
        if target in seen:
            raise _UsageProblem(
                f"{seen[target]} and {name} would both be written to {target} "
                "(compress them in separate runs or from a common parent directory)"
            )
        if name != "-" and os.path.exists(target) and os.path.samefile(target, name):
            raise _UsageProblem(f"--out would overwrite the input {name} (choose another DIR)")
        seen[target] = name
        targets[name] = target
    return targets


def _summary_table(rows: Sequence[tuple[str, str, int, int]]) -> str:
    before = sum(r[2] for r in rows)
    after = sum(r[3] for r in rows)
    lines = [(name, kind, f"{b:,}", f"{a:,}", saved(b, a)) for name, kind, b, a in rows]
    lines.append(
        (f"total ({len(rows)} files)", "", f"{before:,}", f"{after:,}", saved(before, after))
    )
    return table(("file", "kind", "tokens before", "tokens after", "saved"), lines, left=2)


def _store_parser(verbs: argparse._SubParsersAction[_Parser]) -> None:
    s = verbs.add_parser(
        "store",
        help="export or import the store's originals (move them between backends)",
        description="Move originals between stores, byte-exact, keeping handles and creation "
        "times: 'headroom store export ccr.jsonl', then "
        "'headroom --store redis://host:6379/0 store import ccr.jsonl'. The store is --store, "
        "else HEADROOM_STORE, else the SQLite file under HEADROOM_HOME.",
    )
    actions = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="write every original to FILE (JSON Lines; - for stdout)"
    )
    export.add_argument("file", metavar="FILE|-")
    load = actions.add_parser(
        "import", help="put every original in FILE (from export; - for stdin) into the store"
    )
    load.add_argument("file", metavar="FILE|-")


def _store_verb(args: argparse.Namespace) -> int:
    from headroom.store import open_store
    from headroom.store.transfer import export_originals, import_originals

    store = open_store(args.store)
    try:
        location = store.stats().location or store.stats().backend
        if args.action == "export":
            if args.file == "-":
                count = export_originals(store, sys.stdout)
                sys.stdout.flush()
            else:
                with open(args.file, "w", encoding="ascii", newline="\n") as out:
                    count = export_originals(store, out)
            print(f"headroom: exported {count} originals from {location}", file=sys.stderr)
        else:
            if args.file == "-":
                count = import_originals(store, sys.stdin)
            else:
                with open(args.file, encoding="ascii", newline="\n") as source:
                    count = import_originals(store, source)
            print(f"headroom: imported {count} originals into {location}", file=sys.stderr)
    finally:
        store.close()
    return 0


def _stats(args: argparse.Namespace) -> int:
    client = Headroom(store=args.store)
    stats = client.store.stats()
    problem: str | None = None
    for _ in range(3):
        try:
            totals = client.usage.totals()
            days = client.usage.by_day(args.days)
        except StoreError as error:  # the store's own line says what is wrong
            totals, days, problem = {}, {}, _describe(error)
        # What the days shown leave out: older days, and counts from before per-day records.
        everything = UsageTotals.summed(totals.values())
        shown = UsageTotals.summed(u for kinds in days.values() for u in kinds.values())
        earlier = UsageTotals(
            everything.calls - shown.calls,
            everything.tokens_before - shown.tokens_before,
            everything.tokens_after - shown.tokens_after,
        )
        # The two reads are apart: a process recording in between makes the days add up to
        # more than the totals read before them. Read again (it is rare), then show none.
        if min(earlier.calls, earlier.tokens_before, earlier.tokens_after) >= 0:
            break
    else:
        earlier = UsageTotals(0, 0, 0)
    if args.json:
        _write_json(
            {
                "store": dataclasses.asdict(stats),
                "by_kind": {kind: _usage_fields(u) for kind, u in totals.items()},
                "by_day": {
                    day: {
                        "total": _usage_fields(UsageTotals.summed(kinds.values())),
                        "by_kind": {kind: _usage_fields(u) for kind, u in kinds.items()},
                    }
                    for day, kinds in days.items()
                },
                "days": args.days,
                "earlier": _usage_fields(earlier),
                "total": _usage_fields(everything),
                "usage_error": problem,
            }
        )
        return 1 if problem else 0
    print(f"store: {stats.backend} {stats.location or ''}".rstrip())
    if stats.error:
        print(f"problem: {stats.error}")
    limit = f" of {_size(stats.max_bytes)}" if stats.max_bytes else ""
    print(f"originals: {stats.items:,} ({_size(stats.bytes)}{limit})")
    if problem:
        print(f"usage: unavailable ({problem})")
        return 1
    if not totals:
        print("no compression recorded yet")
        return 0
    by_kind = sorted(totals.items(), key=lambda item: (-item[1].tokens_saved, item[0]))
    rows = [_usage_row(kind, u) for kind, u in by_kind]
    rows.append(_usage_row("total", everything))
    print()
    print(table(("kind", "calls", "tokens before", "tokens after", "saved"), rows, left=1))
    rows = [_usage_row(day, UsageTotals.summed(kinds.values())) for day, kinds in days.items()]
    if earlier.calls:
        rows.append(_usage_row("earlier", earlier))
    rows.append(_usage_row("total", everything))
    print()
    print(f"by day (UTC), last {args.days} day{'s' if args.days != 1 else ''}, newest first:")
    print(table(("day", "calls", "tokens before", "tokens after", "saved"), rows, left=1))
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of days >= 1, got {text!r}")
    return value


def _usage_row(name: str, u: UsageTotals) -> tuple[str, str, str, str, str]:
    return (
        name,
        f"{u.calls:,}",
        f"{u.tokens_before:,}",
        f"{u.tokens_after:,}",
        saved(u.tokens_before, u.tokens_after),
    )


def _usage_fields(u: UsageTotals) -> dict[str, Any]:
    share = round(u.tokens_saved / u.tokens_before, 4) if u.tokens_before else 0.0
    return {**u.fields(), "saved_share": share}


def _size(count: int) -> str:
    if count < 1024:
        return f"{count:,} bytes"
    value = count / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
