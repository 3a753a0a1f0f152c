"""The ``headroom`` command: compress, retrieve, decode, stats, proxy, perf, wrap, unwrap, mcp.

Compressed text goes to stdout and one line of stats to stderr, so the command composes
in pipes: ``kubectl logs pod | headroom compress - --query "timeout" > context.txt``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence

from headroom._rawbytes import from_bytes, to_bytes
from headroom.client import Headroom
from headroom.config import KINDS, CompressConfig
from headroom.errors import HeadroomError, StoreError
from headroom.jsontables import FormatError, decode_text
from headroom.mcpserver.cli import add_parser as mcp_parser
from headroom.proxy.cli import add_parser as proxy_parser
from headroom.proxy.perf import add_parser as perf_parser
from headroom.proxy.wrap_cli import add_parsers as wrap_parsers
from headroom.tools import DEFAULT_MODEL

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    c = verbs.add_parser(
        "compress",
        help="compress a file or stdin",
        description="Compress FILE (or stdin with -) to stdout; stats to stderr.",
    )
    c.add_argument("file", nargs="?", default="-", metavar="FILE|-")
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
    c.add_argument(
        "--json",
        action="store_true",
        help="print a JSON object (text, kind, tokens, handles) instead of the text",
    )

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

    verbs.add_parser(
        "stats",
        help="what the store holds and the tokens saved so far",
        description="Show the CCR store's size and cumulative tokens saved.",
    )
    _store_parser(verbs)
    proxy_parser(verbs)  # options and logic live in headroom/proxy/ (the server is an extra)
    wrap_parsers(verbs)  # wrap, unwrap: headroom/proxy/launch.py and agent_config.py
    perf_parser(verbs)  # headroom/proxy/perf.py: a running proxy's savings, from /stats
    mcp_parser(verbs)  # headroom/mcpserver/ (the MCP SDK is an extra, imported to serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 error, 2 usage)."""
    args = _parser().parse_args(argv)
    try:
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
    except (HeadroomError, OSError, FormatError, ImportError) as error:
        print(f"headroom: error: {error}", file=sys.stderr)
        return 1


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
    config = CompressConfig(lossy=not args.lossless)
    if args.min_tokens is not None:
        config = dataclasses.replace(config, min_tokens=args.min_tokens)
    client = Headroom(config, store=args.store, model=args.model)
    text = _read_input(args.file)
    path = None if args.file == "-" else args.file
    result = client.compress_text(text, kind=args.kind, query=args.query, path=path)
    if args.json:
        payload = {
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
        try:
            _write((json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8"))
        except UnicodeEncodeError:  # bytes that were not UTF-8: escaped, so the JSON is valid
            _write((json.dumps(payload) + "\n").encode("ascii"))
    else:
        _write(to_bytes(result.text))
        if result.changed and not result.text.endswith("\n"):
            _write(b"\n")
    for warning in result.warnings:
        print(f"headroom: warning: {warning}", file=sys.stderr)
    print(
        f"headroom: {result.kind}: {result.tokens_before} -> {result.tokens_after} tokens "
        f"({result.compression_ratio:.0%} saved)"
        + (f"; originals: {', '.join(result.handles)}" if result.handles else ""),
        file=sys.stderr,
    )
    return 0


def _store_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    print(f"store: {stats.backend} {stats.location or ''}".rstrip())
    if stats.error:
        print(f"problem: {stats.error}")
    print(f"originals: {stats.items} ({stats.bytes:,} bytes)")
    try:
        totals = client.usage.totals()
    except StoreError as error:  # the originals' line above already says what is wrong
        print(f"usage: unavailable ({error})")
        return 1
    if not totals:
        print("no compression recorded yet")
    for kind, usage in totals.items():
        share = usage.tokens_saved / usage.tokens_before if usage.tokens_before else 0.0
        print(
            f"{kind:12} {usage.calls:6} calls {usage.tokens_before:10,} -> "
            f"{usage.tokens_after:10,} tokens ({share:.0%} saved)"
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
