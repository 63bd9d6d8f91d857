"""Backups a host can trust: a consistent copy of the database while the bot runs, and everything
people made as one JSON file that rebuilds on a fresh index of the same stories.

Owns `backup_database` (SQLite's online backup API, a few pages at a time, so the bot keeps
answering; the copy is written beside the target and renamed into place) and the export file:

    {"librarian_export": 1, "exported_at": ISO, "stories": {"s1": {path, sha256, title, parsed_title,
     author, format}, ...}, "removals": [...], "overrides": [...], "audit": [...],
     "daily_rec": [...], "daily_posts": [...], "shelves": [...], "kudos": [...],
     "reading_positions": [...], "member_prefs": [...]}

Every row that points at a story names it by a key of `stories`, never by a database id, so an
import matches stories by what they are (path and content hash, then the hash alone for a renamed
file, then the path for an edited file, then title and author) and works on a fresh index. Each
section is an exporter and an importer in `SECTIONS` (curation: `service/exchange_curation.py`;
members' shelves, kudos and reading places: `service/exchange_taste.py`); an import ignores a
section it does not know (and says so). It must not import Discord.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from db.models import Story, utcnow
from service.exchange import BackupError, Import, ImportReport, Refs, Sections, to_iso
from service.exchange_curation import CURATION_SECTIONS, restamp
from service.exchange_taste import TASTE_SECTIONS
from service.library import Library

__all__ = ["BackupError", "ImportReport", "backup_database", "export_archive", "import_archive"]

FORMAT_KEY = "librarian_export"
FORMAT_VERSION = 1
BACKUP_PAGES = 256
"""Pages copied per step of the online backup; the bot's writers get the lock between steps."""


# ---- the database file ------------------------------------------------------------------------------


def database_file(lib: Library) -> Path:
    """The SQLite file of the archive (BackupError for any other database)."""
    url = make_url(lib.settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "`backup` copies a SQLite archive; for another database use its own tool (pg_dump)."
        )
    return Path(url.database)


def _copy(source: Path, target: Path) -> int:
    part = target.with_name(f".{target.name}.part")
    part.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(part)
    try:
        src.backup(dst, pages=BACKUP_PAGES, sleep=0.005)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        (check,) = dst.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupError(f"the copy did not check out ({check}); the old backup (if any) is kept")
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
    finally:
        dst.close()
        src.close()
    part.replace(target)
    return int(pages)


def _backup(source: Path, target: Path, overwrite: bool) -> int:
    target = target.expanduser().resolve()
    if target == source.resolve():
        raise BackupError("the backup must go to another file than the archive itself")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists already; pick a new name or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)
    return target.stat().st_size


async def backup_database(lib: Library, target: Path, *, overwrite: bool = False) -> int:
    """Copy the database to `target` consistently while it is in use; returns the size in bytes."""
    return await asyncio.to_thread(_backup, database_file(lib), target, overwrite)


# ---- export ------------------------------------------------------------------------------------------


# ---- export and import -------------------------------------------------------------------------------

SECTIONS: Sections = {**CURATION_SECTIONS, **TASTE_SECTIONS}
"""Each section of the export, in import order (removals first: they may store a story again)."""


async def export_archive(lib: Library) -> dict[str, Any]:
    """Everything people made, as one JSON-ready dict (see the module docstring for its shape)."""
    async with lib.sessions() as session:
        stories = {s.id: s for s in (await session.scalars(select(Story))).all()}
        ref = Refs(stories)
        sections = {name: await exporter(session, ref) for name, (exporter, _) in SECTIONS.items()}
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "exported_at": to_iso(utcnow()),
        "stories": ref.table,
        **sections,
    }


async def import_archive(lib: Library, data: dict[str, Any]) -> ImportReport:
    """Bring an export's corrections, removals, audit trail, daily recs, shelves and kudos into
    this archive.

    Stories are matched by what they are, not by id (see `Import._match`); importing the same file
    twice adds nothing the second time. Raises BackupError when `data` is not an export.
    """
    if not isinstance(data, dict) or data.get(FORMAT_KEY) is None:
        raise BackupError("that file is not a Librarian export (no 'librarian_export' key)")
    if int(data[FORMAT_KEY]) > FORMAT_VERSION:
        raise BackupError(
            f"that export is format {data[FORMAT_KEY]}, newer than this Librarian reads ({FORMAT_VERSION})"
        )
    report = ImportReport()
    run = Import(lib, dict(data.get("stories") or {}), report)
    for name, (_, importer) in SECTIONS.items():
        report.counts[name] = await importer(run, list(data.get(name) or []))
    known = {FORMAT_KEY, "exported_at", "stories", *SECTIONS}
    for name in sorted(set(data) - known):
        report.notes.append(f"section {name!r} is not known to this Librarian; left out")
    for story_id in sorted(run.restamp):
        await restamp(lib, story_id)
    await lib.refresh()
    return report
