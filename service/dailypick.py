"""Which story the daily rec posts, among those it may post today (not yet posted this cycle).

Owns the taste rule the daily post follows: most days it prefers a story more than one member gave
kudos (the more kudos, the likelier), while a share of picks (`EXPLORE`) goes to stories nobody has
read, shelved or given kudos yet, so the server keeps discovering. With no kudos at all it is the
plain random pick it always was. It must not import Discord, and it never widens the pool: the
schedule's filters and age gate decided `remaining` (`service.dailyrec`).
"""

from __future__ import annotations

import logging
import random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Kudos, ReadingPosition, ShelfEntry

log = logging.getLogger(__name__)

EXPLORE = 0.3
"""The share of daily picks that go to a story nobody has touched (when there is a loved one)."""
LOVED_BY = 2
"""Kudos from at least this many members make a story "loved"."""


async def choose(session: AsyncSession, remaining: list[int], rng: random.Random) -> int:
    """One story id from `remaining` (sorted, not empty)."""
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
        return rng.choices(ids, weights=[loved[i] for i in ids], k=1)[0]
    touched: set[int] = set()
    for column, model in (
        (Kudos.story_id, Kudos),
        (ShelfEntry.story_id, ShelfEntry),
        (ReadingPosition.story_id, ReadingPosition),
    ):
        touched |= set((await session.scalars(select(func.distinct(column)).select_from(model))).all())
    fresh = [i for i in remaining if i not in touched]
    return rng.choice(fresh or remaining)
