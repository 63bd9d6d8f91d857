"""Where each member stopped reading each story, so `/read` without `chunk:` continues there and
`/shelf show reading` says "part 7 of 21".

Owns the position rule: the position is the last part posted for the member (1-based) out of the
story's parts then; reading the last part finishes the story (the next `/read` starts again at part
1). Reading a story that is not already on the member's `read` shelf puts it on `reading` (private,
like every shelf); a finished one stays where it is until the member marks it read.
It must not import Discord or cut text (`service.stories.excerpt` does).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from db.models import ReadingPosition, ShelfEntry, utcnow
from service import shelves
from service.library import Library

log = logging.getLogger(__name__)


async def remember(lib: Library, member_id: int, story_id: int, part: int, total: int) -> None:
    """Record that parts up to `part` (1-based) of `total` were posted for the member."""
    async with lib.transaction() as session:
        row = await session.get(ReadingPosition, (member_id, story_id))
        if row is None:
            session.add(
                ReadingPosition(
                    member_id=member_id, story_id=story_id, part=part, total=total, updated_at=utcnow()
                )
            )
        else:
            row.part, row.total, row.updated_at = part, total, utcnow()
        on_status = await session.scalar(
            select(ShelfEntry.shelf).where(
                ShelfEntry.member_id == member_id,
                ShelfEntry.story_id == story_id,
                ShelfEntry.shelf.in_(sorted(shelves.STATUS)),
            )
        )
        if on_status in (None, shelves.TO_READ):
            await shelves.put(session, member_id, story_id, shelves.READING)


async def position(lib: Library, member_id: int, story_id: int) -> tuple[int, int] | None:
    """(last part read, of how many) for the member, or None when they have not read it here."""
    async with lib.sessions() as session:
        row = await session.get(ReadingPosition, (member_id, story_id))
        return (row.part, row.total) if row else None


async def resume_part(lib: Library, member_id: int, story_id: int, total: int) -> int:
    """The 0-based part `/read` without `chunk:` starts at: after the last one read, or the start
    when the member finished the story (or the story got shorter than where they were)."""
    where = await position(lib, member_id, story_id)
    if where is None:
        return 0
    part, _old_total = where
    return part if part < total else 0
