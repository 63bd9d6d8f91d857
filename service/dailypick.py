"""Which story the daily rec posts, among those it may post today (not yet posted this cycle).

Owns the taste rule the daily post follows: most days it prefers a story more than one member gave
kudos (the more kudos, the likelier), while a share of picks (`EXPLORE`) goes to stories nobody has
read, shelved or given kudos yet, so the server keeps discovering. With no kudos at all it is the
plain random pick it always was. Every pick says why (`Pick.reason`, shown under the post's heading).
It must not import Discord, and it never widens the pool: the schedule's filters and age gate
decided `remaining` (`service.dailyrec`).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Kudos, ReadingPosition, ShelfEntry

log = logging.getLogger(__name__)

EXPLORE = 0.3
"""The share of daily picks that go to a story nobody has touched (when there is a loved one)."""
LOVED_BY = 2
"""Kudos from at least this many members make a story "loved"."""


@dataclass(frozen=True, slots=True)
class Pick:
    """The story the daily rec posts, and why it was chosen (in words for the server)."""

    story_id: int
    reason: str


async def choose(session: AsyncSession, remaining: list[int], rng: random.Random) -> Pick:
    """One story from `remaining` (sorted, not empty), with the reason it was picked."""
    loved = dict(
        (
            await session.execute(
                select(Kudos.story_id, func.count())
                .where(Kudos.story_id.in_(remaining))
                .group_by(Kudos.story_id)
                .having(func.count() >= LOVED_BY)
            )
        ).all()
    )
    if loved and rng.random() >= EXPLORE:
        ids = sorted(loved)
        story = rng.choices(ids, weights=[loved[i] for i in ids], k=1)[0]
        return Pick(story, f"{loved[story]} members gave it kudos")
    touched: set[int] = set()
    for column, model in (
        (Kudos.story_id, Kudos),
        (ShelfEntry.story_id, ShelfEntry),
        (ReadingPosition.story_id, ReadingPosition),
    ):
        touched |= set((await session.scalars(select(func.distinct(column)).select_from(model))).all())
    fresh = [i for i in remaining if i not in touched]
    if fresh:
        reason = "nobody here has opened it yet" if touched else "one this server has not had yet"
        return Pick(rng.choice(fresh), reason)
    return Pick(rng.choice(remaining), "one this server has not had in this round of recs")
