"""Everything Librarian keeps about one member, as a whole: `/shelf export` writes it out,
`/forget-me` deletes it.

Owns the list of what is personal: shelf entries, kudos, reading positions and privacy settings.
A table that starts holding member data must be added to `PERSONAL` so export and forget stay
complete (a test checks both against the schema). It must not import Discord; the cog asks for
confirmation before `forget`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, union

from db.models import Kudos, MemberPrefs, ReadingPosition, ShelfEntry, Story, aware, utcnow
from service.library import Library

log = logging.getLogger(__name__)

PERSONAL = (ShelfEntry, Kudos, ReadingPosition, MemberPrefs)
"""Every table holding something about a member (each has a `member_id` column)."""


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return aware(at).isoformat()


async def export(lib: Library, member_id: int) -> dict[str, Any]:
    """The member's shelves, kudos, reading positions and privacy setting as plain JSON data
    (titles included, so the file still reads well if the archive changes)."""
    async with lib.sessions() as session:
        titles = {
            sid: (title, author)
            for sid, title, author in await session.execute(
                select(Story.id, Story.title, Story.author).where(
                    Story.id.in_(
                        union(
                            select(ShelfEntry.story_id).where(ShelfEntry.member_id == member_id),
                            select(Kudos.story_id).where(Kudos.member_id == member_id),
                            select(ReadingPosition.story_id).where(ReadingPosition.member_id == member_id),
                        )
                    )
                )
            )
        }

        def story(sid: int) -> dict[str, Any]:
            title, author = titles.get(sid, (None, None))
            return {"story_id": sid, "title": title, "author": author}

        shelves: dict[str, list[dict[str, Any]]] = {}
        for e in await session.scalars(
            select(ShelfEntry).where(ShelfEntry.member_id == member_id).order_by(ShelfEntry.added_at)
        ):
            shelves.setdefault(e.label, []).append({**story(e.story_id), "added_at": _iso(e.added_at)})
        kudos = [
            {**story(k.story_id), "at": _iso(k.at)}
            for k in await session.scalars(
                select(Kudos).where(Kudos.member_id == member_id).order_by(Kudos.at)
            )
        ]
        reading = [
            {**story(p.story_id), "part": p.part, "total": p.total, "updated_at": _iso(p.updated_at)}
            for p in await session.scalars(
                select(ReadingPosition).where(ReadingPosition.member_id == member_id)
            )
        ]
        prefs = await session.get(MemberPrefs, member_id)
    return {
        "member_id": str(member_id),
        "exported_at": utcnow().isoformat(),
        "shelves_public": bool(prefs and prefs.shelves_public),
        "shelves": shelves,
        "kudos": kudos,
        "reading": reading,
    }


async def forget(lib: Library, member_id: int) -> dict[str, int]:
    """Delete everything about the member; how many rows each table lost."""
    removed: dict[str, int] = {}
    async with lib.transaction() as session:
        for table in PERSONAL:
            result = await session.execute(delete(table).where(table.member_id == member_id))
            removed[table.__tablename__] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    log.info("forgot member %s: %s", member_id, removed)
    return removed
