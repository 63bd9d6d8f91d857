"""The curation sections of the export: removals, corrections (overrides), the audit trail, and each
server's daily rec settings and posts.

Owns one exporter and one importer per section, over the story keys of `service/exchange.py`, and
`restamp` (store a story again from its file so imported corrections apply). An import never
duplicates: a row already here (same moment, actor and action; same override field) is updated or
left. It must not import Discord.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.files import home_of, story_file
from db.models import AuditEntry, DailyRecConfig, Override, RecHistory, Story, utcnow
from service.exchange import Import, Refs, Sections, from_iso, to_iso
from service.indexer import store_file
from service.library import Library
from service.uploads import CurateError, move_file, parse_upload


async def _export_overrides(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Override).order_by(Override.id))).all()
    return [
        {
            "story": ref(o.story_id),
            "field": o.field,
            "value": o.value,
            "actor_id": o.actor_id,
            "actor_name": o.actor_name,
            "at": to_iso(o.at),
        }
        for o in rows
    ]


async def _export_removals(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(select(Story).where(Story.removed_at.is_not(None)).order_by(Story.id))
    ).all()
    return [
        {"story": ref(s.id), "removed_at": to_iso(s.removed_at), "removed_path": s.removed_path} for s in rows
    ]


async def _export_audit(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [
        {
            "at": to_iso(a.at),
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
            "updated_at": to_iso(d.updated_at),
        }
        for d in rows
    ]


async def _export_daily_posts(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(select(RecHistory).where(RecHistory.kind == "daily").order_by(RecHistory.id))
    ).all()
    return [
        {"place": h.place, "story": ref(h.story_id), "kind": h.kind, "cycle": h.cycle, "at": to_iso(h.at)}
        for h in rows
    ]


async def restamp(lib: Library, story_id: int) -> None:
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
            row_.removed_at = from_iso(row.get("removed_at")) or utcnow()
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
        story.removed_at = from_iso(removal.get("removed_at")) or utcnow()
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
            old.at = from_iso(row.get("at")) or utcnow()
        run.restamp.add(story_id)
        done += 1
    return done


async def _import_audit(run: Import, rows: list[dict[str, Any]]) -> int:
    async with run.lib.sessions() as session:
        seen = {
            (to_iso(a.at), a.actor_name, a.action, a.story_title)
            for a in (await session.scalars(select(AuditEntry))).all()
        }
    entries = []
    for row in rows:
        at = from_iso(row.get("at"))
        if (to_iso(at), row.get("actor_name"), row.get("action"), row.get("story_title")) in seen:
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
            config.updated_at = from_iso(row.get("updated_at")) or utcnow()
    return len(rows)


async def _import_daily_posts(run: Import, rows: list[dict[str, Any]]) -> int:
    async with run.lib.sessions() as session:
        seen = {
            (h.place, to_iso(h.at))
            for h in (await session.scalars(select(RecHistory).where(RecHistory.kind == "daily"))).all()
        }
    history = []
    for row in rows:
        story_id = await run.story(row.get("story"))
        if story_id is None or (row["place"], to_iso(from_iso(row.get("at")))) in seen:
            continue
        history.append(
            RecHistory(
                place=row["place"],
                story_id=story_id,
                kind=row.get("kind") or "daily",
                cycle=int(row.get("cycle") or 0),
                at=from_iso(row.get("at")) or utcnow(),
            )
        )
    async with run.lib.transaction() as session:
        session.add_all(history)
    return len(history)


CURATION_SECTIONS: Sections = {
    "removals": (_export_removals, _import_removals),
    "overrides": (_export_overrides, _import_overrides),
    "audit": (_export_audit, _import_audit),
    "daily_rec": (_export_daily, _import_daily),
    "daily_posts": (_export_daily_posts, _import_daily_posts),
}
"""In import order: removals first (they may store a removed story again for the others to find)."""
