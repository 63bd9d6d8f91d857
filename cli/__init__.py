"""The host's command line: `python bot.py <command> ...` (parse, index, search, title, excerpt, rec,
similar, stats, add, remove, restore, history, check, backup, export, import, sync, roster suggest,
copy-archive, ...).

Owns argument parsing, the registry of command modules and the dispatch to them. It must not hold
command logic, and it must stay cheap to import: `bot.py --help` and `bot.py parse` answer without
loading discord.py, SQLAlchemy or Alembic.

Registering a new subcommand: write a module `cli/<group>.py` with `register(subparsers)` that adds
its commands with `set_defaults(handler=...)`, where the handler is `async def handler(args) -> int`
(the exit code), and add the module's name to `COMMAND_MODULES`. A command module imports only the
standard library, `cli.common` and `settings` at its top; everything heavy (service/, db/, discord)
is imported inside the handler, when the command runs. `tests/test_cli_startup.py` holds every
command to that.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "cli.index",
    "cli.query",
    "cli.curate",
    "cli.data",
    "cli.sync",
    "cli.roster",
    "cli.taste",
    "cli.copy",
)
"""The command modules, in the order their commands are listed in `--help`."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command module registered."""
    parser = argparse.ArgumentParser(
        prog="bot.py",
        description="Librarian: run the Discord bot (no command), or manage the story archive.",
        epilog="Run `bot.py COMMAND --help` for a command's options. With no command, bot.py starts "
        "the bot (DISCORD_TOKEN must be set).",
    )
    parser.add_argument("--db", help="database URL (default: DATABASE_URL or data/librarian.db)")
    parser.add_argument("--stories", help="story folder (default: STORIES_DIR or stories/)")
    parser.add_argument("--roster", help="fandom roster file (default: ROSTER_FILE)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def commands() -> list[str]:
    """The name of every registered command (what `--help` lists)."""
    action = next(
        a
        for a in build_parser()._actions  # argparse has no public way to list them
        if isinstance(a, argparse._SubParsersAction)
    )
    return list(action.choices)


def main(argv: Sequence[str]) -> int:
    """Run one CLI command and return its exit code; a bad setting is one line on stderr (exit 2)."""
    from settings import SettingsError

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
    except SettingsError as exc:
        print(exc.advice(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `bot.py search --json | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
