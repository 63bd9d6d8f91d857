"""The host's command line: `python bot.py <command> ...` (parse, index, search, title, excerpt, rec,
similar, stats, add, remove, restore, history, check, backup, export, import, sync).

Owns argument parsing and the dispatch to one module per group of commands. Each module exposes
`register(subparsers)`, adding its commands with `set_defaults(handler=...)` where the handler is
`async def handler(args) -> int`. Handlers call the same service functions as the cogs; they
never build SQL or parse files themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Sequence

COMMAND_MODULES = ("cli.index", "cli.query", "cli.curate", "cli.data")
COMMANDS = frozenset(
    {
        "parse",
        "index",
        "search",
        "title",
        "excerpt",
        "rec",
        "similar",
        "stats",
        "add",
        "remove",
        "restore",
        "history",
        "check",
        "backup",
        "export",
        "import",
        "sync",
    }
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command module registered."""
    parser = argparse.ArgumentParser(
        prog="bot.py",
        description="Librarian: run the Discord bot (no command), or manage the story archive.",
    )
    parser.add_argument("--db", help="database URL (default: DATABASE_URL or data/librarian.db)")
    parser.add_argument("--stories", help="story folder (default: STORIES_DIR or stories/)")
    parser.add_argument("--roster", help="fandom roster file (default: ROSTER_FILE)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str]) -> int:
    """Run one CLI command and return its exit code."""
    parser = build_parser()
    from cli.common import glue_text_values

    args = parser.parse_args(glue_text_values(list(argv)))
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        code = int(asyncio.run(handler(args)) or 0)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `bot.py search --json | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
