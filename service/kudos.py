"""Kudos: one per member per story, given and taken back with the same press, counted on the card.

Owns the toggle (atomic: two presses racing never leave two kudos or none-but-counted) and the
counts. It must not import Discord; rankings over kudos live in `service.top`, recs in
`service.tasterecs`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.backend import insert_ignore
from db.models import Kudos, Story, utcnow
from service.library import Library
from service.query import QueryError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KudosState:
    """After a press: whether the member now gives kudos, and the story's count."""

    given: bool
    count: int


async def count(lib: Library, story_id: int) -> int:
    """How many members gave `story_id` kudos."""
    async with lib.sessions() as session:
        return await count_in(session, story_id)


async def count_in(session: AsyncSession, story_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Kudos.story_id == story_id)) or 0)


async def gave(lib: Library, member_id: int, story_id: int) -> bool:
    async with lib.sessions() as session:
        return await session.get(Kudos, (member_id, story_id)) is not None


async def toggle(lib: Library, member_id: int, story_id: int) -> KudosState:
    """Give kudos, or take them back when the member had given them. Raises QueryError for a story
    that is not in the archive."""
    async with lib.transaction() as session:
        exists = await session.scalar(
            select(Story.id).where(Story.id == story_id, Story.removed_at.is_(None))
        )
        if exists is None:
            raise QueryError("That story is no longer in the archive.")
        removed = await session.execute(
            delete(Kudos).where(Kudos.member_id == member_id, Kudos.story_id == story_id)
        )
        given = not removed.rowcount  # type: ignore[attr-defined]
        if given:
            await insert_ignore(session, Kudos, member_id=member_id, story_id=story_id, at=utcnow())
        total = await count_in(session, story_id)
    log.info(
        "kudos %s by %s for story %s (now %s)", "given" if given else "taken back", member_id, story_id, total
    )
    return KudosState(given, total)


async def give(lib: Library, member_id: int, story_id: int) -> KudosState:
    """Give kudos (no change when already given): the CLI's and the tests' explicit form."""
    if await gave(lib, member_id, story_id):
        return KudosState(True, await count(lib, story_id))
    return await toggle(lib, member_id, story_id)
