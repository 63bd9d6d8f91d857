"""The host's data commands: `check [--repair]`, `backup FILE [--force]`, `export [FILE]` and
`import FILE`.

`check` compares the index with the files after a crash (what the bot also runs at start) and, with
`--repair`, mends what an interrupted write left; it exits 1 while anything is left to look at.
`backup` writes a consistent copy of the database while the bot runs. `export` writes everything
people made (corrections, removals, audit trail, daily recs) as one JSON file (stdout without FILE);
`import` brings such a file into this archive, matching stories by path and content, not by id.
This module owns flags and printing only: the work is `service.check`'s and `service.backup`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.query import with_library

if TYPE_CHECKING:  # imported when a command runs, so that `bot.py --help` starts at once
    from service.library import Library


def register(subparsers: Any) -> None:
    """Add `check`, `backup`, `export` and `import` to the command line."""
    check = subparsers.add_parser(
        "check",
        help="check that the index and the files agree (after a crash); --repair mends what it can",
        description="Compare the index with the story, uploads and removed folders and the full-text "
        "index with the stories. With --repair, finish or undo what an interrupted add, remove or "
        "restore left behind and rebuild the full-text index; the rest is reported. Exit 1 while "
        "anything is left to look at.",
    )
    check.add_argument("--repair", action="store_true", help="repair what can be repaired safely")
    check.set_defaults(handler=with_library(run_check))

    backup = subparsers.add_parser(
        "backup",
        help="write a consistent copy of the database (safe while the bot runs)",
        description="Copy the SQLite database to FILE with SQLite's online backup, while the bot keeps "
        "running. Restore: stop the bot, copy FILE over the database (DATABASE_URL), start it.",
    )
    backup.add_argument("file", metavar="FILE", help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="replace FILE when it exists")
    backup.set_defaults(handler=with_library(run_backup))

    export = subparsers.add_parser(
        "export",
        help="write everything people made (corrections, removals, audit trail, daily recs) as JSON",
        description="Write corrections, removals, the audit trail and daily rec settings as one JSON "
        "file that `import` brings back into a fresh index of the same stories.",
    )
    export.add_argument("file", nargs="?", metavar="FILE", help="the JSON file (default: stdout)")
    export.set_defaults(handler=with_library(run_export))

    imp = subparsers.add_parser(
        "import",
        help="bring an export back: corrections, removals, audit trail, daily recs",
        description="Import a file written by `export`. Stories are matched by path and content "
        "(then title and author), so it works on a fresh index; importing twice adds nothing twice.",
    )
    imp.add_argument("file", metavar="FILE", help="the JSON file written by `export`")
    imp.set_defaults(handler=with_library(run_import))


async def run_check(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py check [--repair]`: the findings, one a line; 1 while anything is left."""
    from service.check import check_archive

    report = await check_archive(lib, repair=args.repair)
    print(report.summary())
    if not report.clean and not args.repair and any(f.kind for f in report.findings):
        print("run `bot.py check --repair` to repair what can be repaired")
    return 0 if report.clean else 1


async def run_backup(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py backup FILE`: the copy and its size."""
    from service.backup import backup_database

    size = await backup_database(lib, Path(args.file), overwrite=args.force)
    print(f"backed up {size:,} bytes to {args.file}")
    return 0


def _write_whole(target: str, text: str) -> None:
    """Write `text` to `target` all or nothing (a hidden part file renamed into place)."""
    folder, name = os.path.split(os.path.abspath(target))
    part = os.path.join(folder, f".{name}.part")
    with open(part, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(part, target)


async def run_export(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py export [FILE]`: JSON to FILE (written whole, then renamed) or stdout."""
    from service.backup import SECTIONS, export_archive

    data = await export_archive(lib)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if not args.file:
        sys.stdout.write(text)
        return 0
    target = args.file
    await asyncio.to_thread(_write_whole, target, text)
    counts = ", ".join(f"{len(data[name])} {name.replace('_', ' ')}" for name in SECTIONS)
    print(f"exported {counts} to {target}")
    return 0


async def run_import(lib: Library, args: argparse.Namespace) -> int:
    """`bot.py import FILE`: what was brought in, and what could not be matched."""
    from service.backup import BackupError, import_archive

    try:
        data = json.loads(await asyncio.to_thread(Path(args.file).read_text, encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"could not read {args.file}: {exc}") from exc
    report = await import_archive(lib, data)
    print(report.summary())
    return 0
