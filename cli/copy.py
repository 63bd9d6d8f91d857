"""The host's `copy-archive` command: move an archive to another database (for example from the
SQLite file to PostgreSQL when the bot outgrows one process, or back).

`copy-archive --to URL [--replace]` copies the archive named by `--db` / DATABASE_URL into URL,
verifies every table by row count and checksum, and prints the figures. It exits 1 with a plain
message when the copy cannot be made or does not verify. The copying is `db.copy`; this module
owns argument handling and printing only.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli.common import settings_from_args


def register(subparsers: Any) -> None:
    """Add `copy-archive` to the command line."""
    copy = subparsers.add_parser(
        "copy-archive",
        help="copy the whole archive to another database (SQLite <-> PostgreSQL), verified",
        description="Copy every table of the archive (--db or DATABASE_URL) into the database at --to, "
        "then check row counts and checksums on both sides. Point DATABASE_URL at the new database "
        "afterwards; the source is left as it was.",
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="target database, e.g. postgresql://user:password@host/librarian or a SQLite file path",
    )
    copy.add_argument(
        "--replace", action="store_true", help="empty the target first when it already holds an archive"
    )
    copy.set_defaults(handler=run_copy)


def _target_url(value: str) -> str:
    from pathlib import Path

    return value if "://" in value else f"sqlite+aiosqlite:///{Path(value).resolve()}"


async def run_copy(args: argparse.Namespace) -> int:
    """`bot.py copy-archive`: copy, verify, print the figures; 1 on any failure."""
    from db.copy import CopyError, copy_archive

    settings = settings_from_args(args)

    def progress(table: str, rows: int) -> None:
        print(f"  {table}: {rows} rows copied", file=sys.stderr)

    try:
        report = await copy_archive(
            settings.database_url, _target_url(args.to), replace=args.replace, progress=progress
        )
    except CopyError as exc:
        print(f"copy-archive: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # an unreachable server, a wrong password: say so, no traceback
        print(f"copy-archive failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"copied {report.source} -> {report.target}")
    for table in report.tables:
        print(f"  {table.name:<22} {table.rows:>8} rows  sha256 {table.checksum[:16]}")
    print(f"verified: {report.rows} rows in {len(report.tables)} tables match (counts and checksums)")
    return 0
