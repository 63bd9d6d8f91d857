"""Backups a host can trust: a consistent copy of the database while the bot runs, and everything
people made as one JSON file that rebuilds on a fresh index of the same stories.

Owns `backup_database` (SQLite's online backup API, a few pages at a time, so the bot keeps
answering; the copy is written beside the target and renamed into place) and the export format:

    {"librarian_export": 1, "exported_at": ISO, "stories": {"s1": {path, sha256, title, parsed_title,
     author, format}, ...}, "overrides": [...], "removals": [...], "audit": [...],
     "daily_rec": [...], "daily_posts": [...]}

Every row that points at a story names it by a key of `stories`, never by a database id, so an
import matches stories by what they are (path and content hash, then the hash alone for a renamed
file, then the path for an edited file, then title and author) and works on a fresh index. A later
section (shelves, kudos) is one more entry in `SECTIONS`: an exporter and an importer over the same
story keys; an import ignores a section it does not know (and says so). It must not import Discord.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from db.files import home_of, story_file
from db.keys import fold
from db.models import AuditEntry, DailyRecConfig, Override, RecHistory, Story, utcnow
from service.indexer import store_file
from service.library import Library
from service.uploads import CurateError, move_file, parse_upload

log = logging.getLogger(__name__)

FORMAT_KEY = "librarian_export"
FORMAT_VERSION = 1
BACKUP_PAGES = 256
"""Pages copied per step of the online backup; the bot's writers get the lock between steps."""


class BackupError(CurateError):
    """A backup, export or import could not be done; the message says why (nothing was changed)."""


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


def _at(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Refs:
    """Story ids <-> the export's story keys (`s1`, `s2`…), filled as sections mention stories."""

    def __init__(self, stories: dict[int, Story]) -> None:
        self._stories = stories
        self.keys: dict[int, str] = {}
        self.table: dict[str, dict[str, Any]] = {}

    def __call__(self, story_id: int | None) -> str | None:
        if story_id is None or story_id not in self._stories:
            return None
        if story_id not in self.keys:
            story = self._stories[story_id]
            key = f"s{len(self.keys) + 1}"
            self.keys[story_id] = key
            self.table[key] = {
                "path": story.path,
                "sha256": story.file_hash,
                "title": story.title,
                "parsed_title": (story.meta or {}).get("title") or story.title,
                "author": story.author,
                "format": story.format,
            }
        return self.keys[story_id]


Exporter = Callable[[AsyncSession, Refs], Awaitable[list[dict[str, Any]]]]
Importer = Callable[["Import", list[dict[str, Any]]], Awaitable[int]]


async def _export_overrides(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Override).order_by(Override.id))).all()
    return [
        {
            "story": ref(o.story_id),
            "field": o.field,
            "value": o.value,
            "actor_id": o.actor_id,
            "actor_name": o.actor_name,
            "at": _at(o.at),
        }
        for o in rows
    ]


async def _export_removals(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(select(Story).where(Story.removed_at.is_not(None)).order_by(Story.id))
    ).all()
    return [
        {"story": ref(s.id), "removed_at": _at(s.removed_at), "removed_path": s.removed_path} for s in rows
    ]


async def _export_audit(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [
        {
            "at": _at(a.at),
            "guild_id": a.guild_id,
            "actor_id": a.actor_id,
            "actor_name": a.actor_name,
            "action": a.action,
            "story": ref(a.story_id),
            "story_title": a.story_title,
            "detail": a.detail or {},
        }
        for a in rows
    ]


async def _export_daily(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(DailyRecConfig).order_by(DailyRecConfig.guild_id))).all()
    return [
        {
            "guild_id": d.guild_id,
            "channel_id": d.channel_id,
            "post_time": d.post_time,
            "timezone": d.timezone,
            "max_rating": d.max_rating,
            "filters": d.filters or {},
            "enabled": d.enabled,
            "cycle": d.cycle,
            "last_post_date": d.last_post_date,
            "last_story": ref(d.last_story_id),
            "disabled_reason": d.disabled_reason,
            "updated_by": d.updated_by,
            "updated_at": _at(d.updated_at),
        }
        for d in rows
    ]


async def _export_daily_posts(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(select(RecHistory).where(RecHistory.kind == "daily").order_by(RecHistory.id))
    ).all()
    return [
        {"place": h.place, "story": ref(h.story_id), "kind": h.kind, "cycle": h.cycle, "at": _at(h.at)}
        for h in rows
    ]


async def export_archive(lib: Library) -> dict[str, Any]:
    """Everything people made, as one JSON-ready dict (see the module docstring for its shape)."""
    async with lib.sessions() as session:
        stories = {s.id: s for s in (await session.scalars(select(Story))).all()}
        ref = Refs(stories)
        sections = {name: await exporter(session, ref) for name, (exporter, _) in SECTIONS.items()}
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "exported_at": _at(utcnow()),
        "stories": ref.table,
        **sections,
    }


# ---- import ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    """What an import did: rows brought in per section, and what could not be placed (with why)."""

    counts: dict[str, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{name}: {count}" for name, count in self.counts.items()]
        lines += [f"not matched: {len(self.unmatched)}"] + [f"  {u}" for u in self.unmatched]
        lines += self.notes
        return "\n".join(lines)


@dataclass(slots=True)
class Import:
    """One import run: the library, the export's story table and the ids it matched."""

    lib: Library
    stories: dict[str, dict[str, Any]]
    report: ImportReport
    ids: dict[str, int | None] = field(default_factory=dict)
    restamp: set[int] = field(default_factory=set)  # stories whose overrides must be applied again

    async def story(self, key: str | None) -> int | None:
        """The story id of an export key in this archive (None when it is not here)."""
        if key is None:
            return None
        if key not in self.ids:
            self.ids[key] = await self._match(self.stories.get(key) or {})
            if self.ids[key] is None:
                ref = self.stories.get(key) or {}
                self.report.unmatched.append(f"{ref.get('title')!r} ({ref.get('path')})")
        return self.ids[key]

    async def same_bytes(self, key: str) -> int | None:
        """The story holding exactly the export's file (its content hash), or None: what a removal
        is applied to, since another story may have taken a removed story's path."""
        if self.ids.get(key) is None:
            self.ids.pop(key, None)
            found = await self._match(self.stories.get(key) or {}, strict=True)
            if found is not None:
                self.ids[key] = found
        return self.ids.get(key)

    async def _match(self, ref: dict[str, Any], *, strict: bool = False) -> int | None:
        path, sha = ref.get("path"), ref.get("sha256")
        author = fold(ref["author"]) if ref.get("author") else None
        conditions = [(Story.path == path) & (Story.file_hash == sha), Story.file_hash == sha]
        if not strict:
            conditions += [
                Story.path == path,
                (Story.title_key == fold(ref.get("parsed_title") or ""))
                & (Story.author_key.is_(None) if author is None else Story.author_key == author),
            ]
        async with self.lib.sessions() as session:
            for condition in conditions:
                found = await session.scalar(select(Story.id).where(condition).order_by(Story.id).limit(1))
                if found is not None:
                    return int(found)
        return None


async def _restamp(lib: Library, story_id: int) -> None:
    """Store a story again from its file, so its (imported) overrides apply."""
    async with lib.sessions() as session:
        story = await session.get(Story, story_id)
    if story is None:
        return
    file = (
        lib.settings.removed_dir / story.removed_path
        if story.removed_at is not None and story.removed_path
        else story_file(lib.settings, story.path)
    )
    try:
        data = await asyncio.to_thread(file.read_bytes)
    except OSError:
        return
    meta = await asyncio.to_thread(parse_upload, lib, data, story.path)
    async with lib.transaction() as session:
        await store_file(session, lib, meta, story.path, file, hashlib.sha256(data).hexdigest())


async def _import_removals(run: Import, rows: list[dict[str, Any]]) -> int:
    lib, done = run.lib, 0
    for row in rows:
        ref = run.stories.get(row.get("story") or "") or {}
        story_id = await run.same_bytes(row.get("story") or "")
        attic = lib.settings.removed_dir / row["removed_path"] if row.get("removed_path") else None
        if story_id is None and attic is not None and attic.is_file():
            story_id = await _store_from_attic(run, row, ref, attic)
        if story_id is None:
            run.report.notes.append(f"removal of {ref.get('title')!r} skipped: its file is nowhere")
            continue
        async with lib.sessions() as session:
            story = await session.get(Story, story_id)
        if story is None or story.removed_at is not None:
            done += story is not None
            continue
        src = story_file(lib.settings, story.path)
        dest = attic if attic is not None else lib.settings.removed_dir / story.path
        if src.exists() and dest.exists():
            dest = dest.with_name(f"{dest.stem}-imported{dest.suffix}")
        async with lib.transaction() as session:
            row_ = await session.get(Story, story_id)
            assert row_ is not None
            row_.removed_at = _when(row.get("removed_at")) or utcnow()
            row_.removed_path = (
                dest.relative_to(lib.settings.removed_dir).as_posix() if src.exists() else None
            )
            await session.flush()
            if src.exists():
                await asyncio.to_thread(move_file, src, dest)
        lib.titles.remove(story_id)
        done += 1
    return done


async def _store_from_attic(
    run: Import, removal: dict[str, Any], ref: dict[str, Any], attic: Path
) -> int | None:
    """A removed story of the export whose row is gone (the database was wiped): store it again
    from its file in the removed folder, still removed."""
    lib = run.lib
    data = await asyncio.to_thread(attic.read_bytes)
    path = ref.get("path") or attic.relative_to(lib.settings.removed_dir).as_posix()
    if home_of(lib.settings, path).exists():  # a live file has the path now: keep both apart
        path = f"{Path(path).with_suffix('')}-removed{Path(path).suffix}"
    try:
        meta = await asyncio.to_thread(parse_upload, lib, data, path)
    except CurateError as exc:
        run.report.notes.append(f"removed story {ref.get('title')!r} could not be read again: {exc}")
        return None
    async with lib.transaction() as session:
        story = await store_file(session, lib, meta, path, attic, hashlib.sha256(data).hexdigest())
        story.removed_at = _when(removal.get("removed_at")) or utcnow()
        story.removed_path = attic.relative_to(lib.settings.removed_dir).as_posix()
        story_id = story.id
    run.ids[removal["story"]] = story_id
    return story_id


async def _import_overrides(run: Import, rows: list[dict[str, Any]]) -> int:
    done = 0
    for row in rows:
        story_id = await run.story(row.get("story"))
        if story_id is None:
            continue
        async with run.lib.transaction() as session:
            old = await session.scalar(
                select(Override).where(Override.story_id == story_id, Override.field == row["field"])
            )
            if old is None:
                old = Override(story_id=story_id, field=row["field"])
                session.add(old)
            old.value = row.get("value")
            old.actor_id, old.actor_name = row.get("actor_id"), row.get("actor_name")
            old.at = _when(row.get("at")) or utcnow()
        run.restamp.add(story_id)
        done += 1
    return done


async def _import_audit(run: Import, rows: list[dict[str, Any]]) -> int:
    async with run.lib.sessions() as session:
        seen = {
            (_at(a.at), a.actor_name, a.action, a.story_title)
            for a in (await session.scalars(select(AuditEntry))).all()
        }
    entries = []
    for row in rows:
        at = _when(row.get("at"))
        if (_at(at), row.get("actor_name"), row.get("action"), row.get("story_title")) in seen:
            continue  # imported before
        entries.append(
            AuditEntry(
                at=at or utcnow(),
                guild_id=row.get("guild_id"),
                actor_id=row.get("actor_id"),
                actor_name=row.get("actor_name") or "unknown",
                action=row.get("action") or "edit",
                story_id=await run.story(row.get("story")),
                story_title=row.get("story_title") or "",
                detail=row.get("detail") or {},
            )
        )
    async with run.lib.transaction() as session:
        session.add_all(entries)
    return len(entries)


async def _import_daily(run: Import, rows: list[dict[str, Any]]) -> int:
    for row in rows:
        last = await run.story(row.get("last_story"))
        async with run.lib.transaction() as session:
            config = await session.get(DailyRecConfig, row["guild_id"])
            if config is None:
                config = DailyRecConfig(guild_id=row["guild_id"])
                session.add(config)
            config.channel_id = row["channel_id"]
            config.post_time = row["post_time"]
            config.timezone = row.get("timezone") or "UTC"
            config.max_rating = row.get("max_rating")
            config.filters = row.get("filters") or {}
            config.enabled = bool(row.get("enabled", True))
            config.cycle = int(row.get("cycle") or 1)
            config.last_post_date = row.get("last_post_date")
            config.last_story_id = last
            config.disabled_reason = row.get("disabled_reason")
            config.updated_by = row.get("updated_by")
            config.updated_at = _when(row.get("updated_at")) or utcnow()
    return len(rows)


async def _import_daily_posts(run: Import, rows: list[dict[str, Any]]) -> int:
    async with run.lib.sessions() as session:
        seen = {
            (h.place, _at(h.at))
            for h in (await session.scalars(select(RecHistory).where(RecHistory.kind == "daily"))).all()
        }
    history = []
    for row in rows:
        story_id = await run.story(row.get("story"))
        if story_id is None or (row["place"], _at(_when(row.get("at")))) in seen:
            continue
        history.append(
            RecHistory(
                place=row["place"],
                story_id=story_id,
                kind=row.get("kind") or "daily",
                cycle=int(row.get("cycle") or 0),
                at=_when(row.get("at")) or utcnow(),
            )
        )
    async with run.lib.transaction() as session:
        session.add_all(history)
    return len(history)


SECTIONS: dict[str, tuple[Exporter, Importer]] = {
    "removals": (_export_removals, _import_removals),
    "overrides": (_export_overrides, _import_overrides),
    "audit": (_export_audit, _import_audit),
    "daily_rec": (_export_daily, _import_daily),
    "daily_posts": (_export_daily_posts, _import_daily_posts),
}
"""Each section of the export, in import order (removals first: they may store a story again)."""


async def import_archive(lib: Library, data: dict[str, Any]) -> ImportReport:
    """Bring an export's corrections, removals, audit trail and daily recs into this archive.

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
        await _restamp(lib, story_id)
    await lib.refresh()
    return report
