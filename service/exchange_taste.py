"""The members' sections of the export: shelves, kudos, reading places and shelf privacy.

Owns one exporter and one importer per section, over the story keys of `service/exchange.py`, so a
member's lists come back on a fresh index of the same stories (their ids are new there). An import
adds what is missing and never duplicates: a shelf entry or a kudos already here is left as it is,
a reading place or a privacy setting is taken only when the export's is newer. A row whose story is
not in this archive is left out and listed by the report. It must not import Discord.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Kudos, MemberPrefs, ReadingPosition, ShelfEntry, aware, utcnow
from service.exchange import Import, Refs, Sections, from_iso, to_iso


def _newer(ours: datetime | None, theirs: datetime | None) -> bool:
    """Whether the export's timestamp `theirs` is later than this archive's `ours`."""
    if ours is None:
        return True
    return theirs is not None and theirs > aware(ours)


async def _export_shelves(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(ShelfEntry).order_by(ShelfEntry.id))).all()
    return [
        {
            "member_id": e.member_id,
            "shelf": e.shelf,
            "label": e.label,
            "story": key,
            "added_at": to_iso(e.added_at),
        }
        for e in rows
        if (key := ref(e.story_id)) is not None
    ]


async def _export_kudos(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Kudos).order_by(Kudos.at, Kudos.member_id, Kudos.story_id))).all()
    return [
        {"member_id": k.member_id, "story": key, "at": to_iso(k.at)}
        for k in rows
        if (key := ref(k.story_id)) is not None
    ]


async def _export_positions(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(ReadingPosition).order_by(ReadingPosition.member_id, ReadingPosition.story_id)
        )
    ).all()
    return [
        {
            "member_id": p.member_id,
            "story": key,
            "part": p.part,
            "total": p.total,
            "updated_at": to_iso(p.updated_at),
        }
        for p in rows
        if (key := ref(p.story_id)) is not None
    ]


async def _export_prefs(session: AsyncSession, ref: Refs) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(MemberPrefs).order_by(MemberPrefs.member_id))).all()
    return [
        {"member_id": m.member_id, "shelves_public": m.shelves_public, "updated_at": to_iso(m.updated_at)}
        for m in rows
    ]


async def _placed(run: Import, rows: list[dict[str, Any]], *needs: str) -> list[tuple[dict[str, Any], int]]:
    """The rows whose story is in this archive, each with its id here (the rest are reported);
    a row without a member or one of the fields it `needs` is left out (a hand-edited file)."""
    placed = []
    for row in rows:
        if not isinstance(row, dict) or any(row.get(name) is None for name in ("member_id", *needs)):
            continue
        story_id = await run.story(row.get("story"))
        if story_id is not None:
            placed.append((row, story_id))
    return placed


async def _import_shelves(run: Import, rows: list[dict[str, Any]]) -> int:
    placed = await _placed(run, rows, "shelf")
    members = {int(row["member_id"]) for row, _ in placed}
    async with run.lib.transaction() as session:
        have = (
            {
                (e.member_id, e.shelf, e.story_id)
                for e in (
                    await session.scalars(select(ShelfEntry).where(ShelfEntry.member_id.in_(members)))
                ).all()
            }
            if members
            else set()
        )
        added = 0
        for row, story_id in placed:
            key = (int(row["member_id"]), str(row["shelf"]), story_id)
            if key in have:
                continue
            have.add(key)
            session.add(
                ShelfEntry(
                    member_id=key[0],
                    shelf=key[1],
                    label=str(row.get("label") or row["shelf"]),
                    story_id=story_id,
                    added_at=from_iso(row.get("added_at")) or utcnow(),
                )
            )
            added += 1
    return added


async def _import_kudos(run: Import, rows: list[dict[str, Any]]) -> int:
    placed = await _placed(run, rows)
    members = {int(row["member_id"]) for row, _ in placed}
    async with run.lib.transaction() as session:
        have = (
            {
                (k.member_id, k.story_id)
                for k in (await session.scalars(select(Kudos).where(Kudos.member_id.in_(members)))).all()
            }
            if members
            else set()
        )
        added = 0
        for row, story_id in placed:
            key = (int(row["member_id"]), story_id)
            if key in have:
                continue
            have.add(key)
            session.add(Kudos(member_id=key[0], story_id=story_id, at=from_iso(row.get("at")) or utcnow()))
            added += 1
    return added


async def _import_positions(run: Import, rows: list[dict[str, Any]]) -> int:
    placed = await _placed(run, rows, "part", "total")
    taken = 0
    async with run.lib.transaction() as session:
        for row, story_id in placed:
            member_id, at = int(row["member_id"]), from_iso(row.get("updated_at"))
            position = await session.get(ReadingPosition, (member_id, story_id))
            if position is None:
                position = ReadingPosition(member_id=member_id, story_id=story_id)
                session.add(position)
            elif not _newer(position.updated_at, at):
                continue
            position.part, position.total = int(row["part"]), int(row["total"])
            position.updated_at = at or utcnow()
            taken += 1
    return taken


async def _import_prefs(run: Import, rows: list[dict[str, Any]]) -> int:
    taken = 0
    async with run.lib.transaction() as session:
        for row in rows:
            if not isinstance(row, dict) or row.get("member_id") is None:
                continue
            member_id, at = int(row["member_id"]), from_iso(row.get("updated_at"))
            prefs = await session.get(MemberPrefs, member_id)
            if prefs is None:
                prefs = MemberPrefs(member_id=member_id)
                session.add(prefs)
            elif not _newer(prefs.updated_at, at):
                continue
            prefs.shelves_public = bool(row.get("shelves_public"))
            prefs.updated_at = at or utcnow()
            taken += 1
    return taken


TASTE_SECTIONS: Sections = {
    "shelves": (_export_shelves, _import_shelves),
    "kudos": (_export_kudos, _import_kudos),
    "reading_positions": (_export_positions, _import_positions),
    "member_prefs": (_export_prefs, _import_prefs),
}
"""The members' sections, imported after the curation sections (removals may store stories again)."""
