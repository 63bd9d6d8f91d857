"""`/top`: the stories the server gave most kudos and shelved most, this week, this month or ever.

Owns the ranking (kudos count double, shelvings by distinct members once; ties by kudos, then id)
and the periods (`week`, `month`: the last 7 / 30 days, in UTC; `ever`), and the kudos-per-day
series the chart draws. Counts are anonymous (nobody's private shelf is named), and every filter
and the age gate apply as in `/search` (gated stories are counted, never listed).
It must not import Discord.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from db.models import Kudos, ShelfEntry, utcnow
from service.hits import StoryHit, load_hits
from service.library import Library
from service.query import QueryError, SearchQuery
from service.search import compile_query

log = logging.getLogger(__name__)

PERIODS: dict[str, int | None] = {"week": 7, "month": 30, "ever": None}
KUDOS_WEIGHT = 2


@dataclass(slots=True)
class TopRow:
    hit: StoryHit
    kudos: int
    shelved: int

    def to_json(self) -> dict[str, Any]:
        return {**self.hit.to_json(), "kudos": self.kudos, "shelved": self.shelved}


@dataclass(slots=True)
class TopResult:
    """The ranking for a period, what the age gate hid, and kudos per day (for the chart)."""

    period: str
    rows: list[TopRow]
    hidden: int = 0
    resolved: list[str] = field(default_factory=list)
    kudos_by_day: list[tuple[date, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "stories": [r.to_json() for r in self.rows],
            "hidden": self.hidden,
            "resolved": self.resolved,
            "kudos_by_day": [(d.isoformat(), n) for d, n in self.kudos_by_day],
        }


def parse_period(text: str | None) -> str:
    """`week` (the default), `month` or `ever`; QueryError for anything else."""
    key = (text or "week").strip().casefold()
    key = {"all": "ever", "all-time": "ever", "alltime": "ever", "7d": "week", "30d": "month"}.get(key, key)
    if key not in PERIODS:
        raise QueryError(f"Which period? {text!r} is not one: use week, month or ever.")
    return key


def since(period: str, now: datetime | None = None) -> datetime | None:
    days = PERIODS[parse_period(period)]
    return None if days is None else (now or utcnow()) - timedelta(days=days)


async def top(
    lib: Library, q: SearchQuery, *, period: str = "week", limit: int = 50, now: datetime | None = None
) -> TopResult:
    """The most-kudos'd and most-shelved stories of `period` that pass `q`."""
    period = parse_period(period)
    start = since(period, now)
    async with lib.sessions() as session:
        compiled = await compile_query(lib, session, q)
        kudos_q = select(Kudos.story_id, func.count()).group_by(Kudos.story_id)
        shelf_q = select(ShelfEntry.story_id, func.count(func.distinct(ShelfEntry.member_id))).group_by(
            ShelfEntry.story_id
        )
        if start is not None:
            kudos_q = kudos_q.where(Kudos.at >= start)
            shelf_q = shelf_q.where(ShelfEntry.added_at >= start)
        kudos = dict((await session.execute(kudos_q)).all())
        shelved = dict((await session.execute(shelf_q)).all())
        at_q = select(Kudos.at) if start is None else select(Kudos.at).where(Kudos.at >= start)
        stamps = list((await session.scalars(at_q)).all())
        ids = np.asarray(sorted(set(kudos) | set(shelved)), dtype=np.int64)
        fx = compiled.facets
        at, live = fx.locate(ids)
        ids, at = ids[live], at[live]
        passing = compiled.mask(gated=False)[at]
        visible = compiled.mask()[at]
        hidden = int((passing & ~visible).sum())
        keep = [int(i) for i in ids[visible]]
        keep.sort(key=lambda i: (-(KUDOS_WEIGHT * kudos.get(i, 0) + shelved.get(i, 0)), -kudos.get(i, 0), i))
        keep = keep[:limit]
        hits = await load_hits(session, keep, people=await lib.views.people())
    rows = [TopRow(h, int(kudos.get(h.id, 0)), int(shelved.get(h.id, 0))) for h in hits]
    return TopResult(period, rows, hidden, compiled.resolved, _per_day(stamps, start, now))


def _per_day(stamps: list[datetime], start: datetime | None, now: datetime | None) -> list[tuple[date, int]]:
    """Kudos given per UTC day over the period (every day listed, zeros included; at most a year)."""
    days = [(s if s.tzinfo else s.replace(tzinfo=UTC)).astimezone(UTC).date() for s in stamps]
    end = (now or utcnow()).astimezone(UTC).date()
    first = start.astimezone(UTC).date() if start else (min(days) if days else end)
    first = min(max(first, end - timedelta(days=365)), end - timedelta(days=6))  # at least a week
    counts: dict[date, int] = {}
    for d in days:
        if d >= first:
            counts[d] = counts.get(d, 0) + 1
    span = (end - first).days
    return [(first + timedelta(days=n), counts.get(first + timedelta(days=n), 0)) for n in range(span + 1)]
