"""The consistency check: after a crash anywhere, the files and the index agree again.

Owns `check_archive(lib, repair=...)`, run by the bot at start (repairing) and by `bot.py check
[--repair]`. It looks for what an interrupted write can leave behind and repairs what it safely can:

- the database's own integrity (`PRAGMA quick_check`; reported, never "repaired": restore a backup);
- the full-text index out of step with the stories (FTS5 `integrity-check`; at the bot's start,
  only when its rows disagree with the stories: see `check_archive`) -> rebuilt;
- a removal cut short (the file is in the removed folder, the story still live) -> the file goes back;
- a restore cut short (the file is back in the archive, the story still removed) -> the file goes back
  to the removed folder, so `restore` works again;
- an upload saved but never stored (the file is in the uploads folder, no story has it) -> indexed,
  with an audit entry saying so; a half-written upload (`.*.part`) -> deleted;
- a live story whose file is gone, a removed story whose file is gone -> reported (the index and the
  host decide; nothing is deleted here).

A daily rec needs no repair: the day is claimed before the post is sent, so a crash loses at most
that day's post and never posts twice. It must not import Discord, and it never deletes a story file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from db.backend import execute_interruptible, fetch_chunks
from db.files import UPLOAD_PREFIX, home_of, story_file
from db.fts import ABOUT_TABLE, FTS_TABLE
from db.models import AuditEntry, Story
from db.textrank import FORGET_IMPACTS
from service.indexer import store_file
from service.library import Library
from service.memory import give_back_memory
from service.uploads import CurateError, move_file, parse_upload
from settings import Settings

log = logging.getLogger(__name__)

CHECK_ACTOR = "librarian:check"
PART_SUFFIX = ".part"
"""An upload is written as `.<name>.part` and renamed into place: a leftover one was cut short."""


@dataclass(slots=True)
class Finding:
    """One thing the check found: what, which story or file, in plain words, and whether repaired."""

    kind: str
    words: str
    story_id: int | None = None
    path: str | None = None
    repaired: bool = False

    def line(self) -> str:
        story = f" (#{self.story_id})" if self.story_id is not None else ""
        mark = "repaired" if self.repaired else "NOT repaired" if self.kind in REPAIRABLE else "to look at"
        return f"[{mark}] {self.kind}{story}: {self.words}"


REPAIRABLE = frozenset(
    {"fts-out-of-step", "interrupted-remove", "interrupted-restore", "unstored-upload", "partial-upload"}
)


@dataclass(slots=True)
class CheckReport:
    """Everything the check found; `clean` when nothing is left to look at."""

    findings: list[Finding] = field(default_factory=list)
    stories: int = 0

    @property
    def clean(self) -> bool:
        return all(f.repaired for f in self.findings)

    def summary(self) -> str:
        if not self.findings:
            return f"consistent: {self.stories} stories, their files and the full-text index agree"
        lines = [f.line() for f in self.findings]
        left = sum(not f.repaired for f in self.findings)
        lines.append(f"{len(self.findings)} found, {len(self.findings) - left} repaired, {left} left")
        return "\n".join(lines)


def _sha(file: Path) -> str | None:
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError:
        return None


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(Path(root) / name for root, _dirs, names in os.walk(folder) for name in names)


class _Row(NamedTuple):
    id: int
    path: str
    file_hash: str | None
    removed_at: Any
    removed_path: str | None


_ROWS = "SELECT id, path, file_hash, removed_at, removed_path FROM stories"


def _odd_rows(settings: Settings, rows: Sequence[_Row]) -> list[tuple[_Row, Path, bool]]:
    """The rows whose files are not where they should be, each with its file and whether that
    exists: a live story without its file, a removed one without its removed copy. A stat per
    story, kept only for the few that need a look (at 50,000 stories, a Path per story held for
    the whole check was ~40 MB)."""
    attic = settings.removed_dir
    odd = []
    for row in rows:
        file = story_file(settings, row.path)
        exists = file.exists()
        if row.removed_at is None:
            if not exists:
                odd.append((row, file, exists))
        elif not (row.removed_path and (attic / row.removed_path).exists()):
            odd.append((row, file, exists))
    return odd


async def _full_text_in_step(lib: Library) -> bool:
    """Read-only and cheap (a second at 100,000 stories): each full-text index holds one entry per
    story text and its structure reads. What a write cut short could leave (a story without its
    full-text rows, or rows without a story) shows here; a text changed behind the triggers' back
    does not (only FTS5's integrity check reads every text again)."""
    try:
        async with lib.sessions() as session:
            texts = await session.scalar(text("SELECT count(*) FROM story_texts"))
            for table in (FTS_TABLE, ABOUT_TABLE):
                if await session.scalar(text(f"SELECT count(*) FROM {table}_docsize")) != texts:
                    return False
                await session.execute(text(f"SELECT rowid FROM {table} WHERE {table} MATCH 'a' LIMIT 1"))
    except SQLAlchemyError:
        return False
    return True


async def _database(lib: Library, report: CheckReport, repair: bool, thorough: bool) -> None:
    if lib.engine.dialect.name != "sqlite":
        return
    async with lib.sessions() as session:
        quick = [row[0] for row in await execute_interruptible(session, text("PRAGMA quick_check"))]
    if quick != ["ok"]:
        words = "; ".join(quick[:5]) + " — restore the last backup (see the README, 'Your data')"
        report.findings.append(Finding("database-damaged", words))
    if not thorough and await _full_text_in_step(lib):
        return
    try:
        async with lib.transaction() as session:
            for table in (FTS_TABLE, ABOUT_TABLE):
                for sql in (
                    f"INSERT INTO {table}({table}) VALUES ('integrity-check')",
                    f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)",
                ):
                    await execute_interruptible(session, text(sql))
    except Exception as exc:
        finding = Finding("fts-out-of-step", f"the full-text index disagrees with the stories ({exc})")
        report.findings.append(finding)
        if repair:
            async with lib.transaction() as session:
                for table in (FTS_TABLE, ABOUT_TABLE):
                    await session.execute(text(f"INSERT INTO {table}({table}) VALUES ('rebuild')"))
                for sql in FORGET_IMPACTS:  # read from the index as it was: the next index run rebuilds them
                    await session.execute(text(sql))
            finding.repaired = True
            finding.words += "; rebuilt"


async def _move(src: Path, dest: Path) -> None:
    await asyncio.to_thread(move_file, src, dest)


async def _files_and_rows(lib: Library, report: CheckReport, repair: bool) -> None:
    settings = lib.settings
    attic = settings.removed_dir
    claimed: set[Path] = set()
    odd: list[tuple[_Row, Path, bool]] = []
    async with lib.sessions() as session:
        async for chunk in fetch_chunks(session, _ROWS):
            rows = [_Row._make(raw) for raw in chunk]
            report.stories += len(rows)
            claimed.update(
                attic / r.removed_path for r in rows if r.removed_at is not None and r.removed_path
            )
            odd += await asyncio.to_thread(_odd_rows, settings, rows)  # stats: never on the loop
    strays = {f: None for f in await asyncio.to_thread(_files, attic) if f not in claimed}
    stray_hash: dict[str, Path] = {}
    for file in strays:
        sha = await asyncio.to_thread(_sha, file)
        if sha:
            stray_hash.setdefault(sha, file)

    for row, file, exists in odd:
        if row.removed_at is None:
            back = stray_hash.pop(row.file_hash, None)
            if back is None:
                words = f"its file {row.path} is missing (the next index takes it out of search)"
                report.findings.append(Finding("missing-file", words, row.id, row.path))
                continue
            finding = Finding(
                "interrupted-remove",
                f"a removal was cut short: its file was in {back}, the story still live; "
                f"the file is back at {row.path} (remove it again if that was meant)",
                row.id,
                row.path,
            )
            if repair:
                await _move(back, home_of(settings, row.path))
                finding.repaired = True
            report.findings.append(finding)
            continue
        if exists and await asyncio.to_thread(_sha, file) == row.file_hash:
            finding = Finding(
                "interrupted-restore",
                f"a restore was cut short: the file is back at {row.path}, the story still removed; "
                "the file returns to the removed folder (restore it again if that was meant)",
                row.id,
                row.path,
            )
            if repair:
                dest = attic / (row.removed_path or row.path)
                await _move(file, dest)
                if not row.removed_path:
                    async with lib.transaction() as session:
                        story = await session.get(Story, row.id)
                        if story is not None:
                            story.removed_path = row.path
                finding.repaired = True
            report.findings.append(finding)
            continue
        words = "removed, and its file is no longer in the removed folder: it cannot be restored"
        report.findings.append(Finding("unrestorable", words, row.id, row.path))


async def _store_upload(lib: Library, file: Path, path: str) -> tuple[int, str]:
    """Store an upload file the way `/story add` does, with an audit entry saying the check did it."""
    data = await asyncio.to_thread(file.read_bytes)
    meta = await asyncio.to_thread(parse_upload, lib, data, path)
    async with lib.transaction() as session:
        story = await store_file(session, lib, meta, path, file, hashlib.sha256(data).hexdigest())
        session.add(
            AuditEntry(
                actor_name=CHECK_ACTOR,
                action="add",
                story_id=story.id,
                story_title=story.title[:512],
                detail={"path": path, "repaired": "an upload saved before a crash"},
            )
        )
        return story.id, story.title


async def _uploads(lib: Library, report: CheckReport, repair: bool) -> None:
    settings = lib.settings
    async with lib.sessions() as session:
        known = set(await session.scalars(select(Story.path).where(Story.path.startswith(UPLOAD_PREFIX))))
    for file in await asyncio.to_thread(_files, settings.uploads_dir):
        if file.name.startswith(".") and file.name.endswith(PART_SUFFIX):
            finding = Finding("partial-upload", f"{file.name} was being written when the bot stopped")
            if repair:
                file.unlink(missing_ok=True)
                finding.repaired = True
                finding.words += "; deleted (the mod was never told it was added)"
            report.findings.append(finding)
            continue
        if file.name.startswith("."):
            continue
        path = UPLOAD_PREFIX + file.relative_to(settings.uploads_dir).as_posix()
        if path in known:
            continue
        finding = Finding(
            "unstored-upload", "an upload was saved but never stored (the bot stopped)", path=path
        )
        if repair:
            try:
                story_id, title = await _store_upload(lib, file, path)
            except (OSError, CurateError) as exc:
                finding.words += f"; could not be indexed: {exc}"
            else:
                finding.story_id = story_id
                finding.repaired = True
                finding.words += f"; stored now as “{title}” (its preview options, if any, were lost)"
        report.findings.append(finding)


async def check_archive(
    lib: Library, *, repair: bool = False, database: bool = True, files: bool = True, thorough: bool = True
) -> CheckReport:
    """Compare the index with the files (and the full-text index with the stories); with `repair`,
    mend what an interrupted write left behind. Never deletes a story or a story file.

    `database` (the file's own check, 11 s at 100,000 stories, and the full-text indexes'
    integrity) and `files` (the rows against the folders, and uploads) can be run apart: the bot
    checks the files before its start-up index and the database once it is ready.

    Without `thorough` (the bot's start-up check) the full-text indexes are checked by their rows,
    read-only, and FTS5's integrity check runs only when those disagree: it is a write statement,
    so for its whole run (36 s at 50,000 stories, 87 s at 100,000) every command that writes
    waited behind it, each holding a pooled connection, and autocompletes missed Discord's
    deadline. `bot.py check` is thorough."""
    report = CheckReport()
    if database:
        await _database(lib, report, repair, thorough)
        give_back_memory()  # what the passes freed in a database thread's heap (a few MB measured)
    if files:
        await _files_and_rows(lib, report, repair)
        await _uploads(lib, report, repair)
    if any(f.repaired for f in report.findings):
        await lib.refresh()
    for finding in report.findings:
        log.warning("check: %s", finding.line())
    return report
