"""Recommendations: a random story matching a query (`rec`), and "more like this" (`similar`).

Owns how a rec is drawn (weighted toward well-formed entries: a summary, a rating and an author
each add weight; the place's recent recs are left out while enough other stories match) and how it
is recorded in `rec_history`, and how similarity is scored (shared relationships, characters, tags,
fandoms, each weighted by its rarity in the archive, tf-idf style, plus series and author bonuses),
computed over the in-memory filter index (`service.facets`).
It must not import Discord; the daily rec job and `/rec` both call `rec`.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RecHistory, Story, StoryCharacter
from service.facets import Facets
from service.hits import StoryHit, load_hits
from service.library import Library
from service.query import QueryError, SearchQuery
from service.search import Compiled, compile_query, count, empty_reason

log = logging.getLogger(__name__)

RECENT_WINDOW = 50
"""At most this many of a place's latest recs are avoided (fewer when few stories match)."""


@dataclass(slots=True)
class RecResult:
    """The story picked, how many matched, how many age gating hid, and one line saying so."""

    hit: StoryHit
    matched: int
    hidden: int
    line: str
    resolved: list[str] = field(default_factory=list)
    avoided: int = 0
    reason: str = ""  # why this story fits: "Spike is in its header; rating at most teen"

    def to_json(self) -> dict[str, Any]:
        return {
            **self.hit.to_json(),
            "matched": self.matched,
            "hidden": self.hidden,
            "line": self.line,
            "resolved": self.resolved,
            "reason": self.reason,
        }


async def recent_in(session: AsyncSession, place: str, window: int) -> set[int]:
    """The stories recommended in `place` lately (its latest `window` recs, any kind)."""
    return await _recent(session, place, window)


async def _recent(session: AsyncSession, place: str, window: int) -> set[int]:
    if window <= 0:
        return set()
    stmt = (
        select(RecHistory.story_id)
        .where(RecHistory.place == place)
        .order_by(RecHistory.at.desc(), RecHistory.id.desc())
        .limit(window)
    )
    return set((await session.scalars(stmt)).all())


def _draw(fx: Facets, pool: np.ndarray, rng: random.Random) -> int:
    """One story id from `pool` (positions), with odds by quality: 1, plus one each for a summary,
    a rating as written and an author."""
    cumulative = np.cumsum(fx.quality[pool].astype(np.float64))
    at = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return int(fx.ids[pool[min(at, len(pool) - 1)]])


async def rec(
    lib: Library, q: SearchQuery, *, place: str, rng: random.Random | None = None, kind: str = "rec"
) -> RecResult:
    """A random story matching `q`, recorded as recommended in `place`. Raises QueryError when none."""
    rng = rng or random.Random()
    async with lib.transaction() as session:
        compiled = await compile_query(lib, session, q)
        fx = compiled.facets
        where = np.flatnonzero(compiled.mask())
        matched = len(where)
        hidden = count(compiled, gated=False) - matched if compiled.gate is not None else 0
        if not matched:
            raise QueryError(empty_reason(compiled, hidden))
        recent = await _recent(session, place, min(RECENT_WINDOW, matched * 3 // 4))
        pool = where[~np.isin(fx.ids[where], sorted(recent))] if recent else where
        pool = pool if len(pool) else where
        avoided = matched - len(pool)
        pick = _draw(fx, pool, rng)
        session.add(RecHistory(place=place, story_id=pick, kind=kind))
        hits = await load_hits(session, [pick], people=await lib.views.people())
        reason = await why_picked(session, compiled, pick)
    line = f"Picked at random from {matched} matching {'story' if matched == 1 else 'stories'}"
    if avoided:
        line += f", leaving out {avoided} recommended here recently"
    if hidden:
        line += f" ({hidden} more only in age-restricted channels)"
    log.info("rec for %s: story %s from %s", place, pick, matched)
    return RecResult(hits[0], matched, hidden, line + ".", compiled.resolved, avoided, reason)


async def why_picked(session: AsyncSession, compiled: Compiled, story_id: int) -> str:
    """Why the picked story fits the filters, in words: each character asked for is in its header
    or named N times (in M words), then every other filter it passed."""
    bits: list[str] = []
    if compiled.characters:
        sc = StoryCharacter
        rows = await session.execute(
            select(sc.name, sc.source, sc.mentions, Story.words)
            .join(Story, Story.id == sc.story_id)
            .where(sc.story_id == story_id, sc.name.in_(compiled.characters))
        )
        found = {name: (source, mentions, words) for name, source, mentions, words in rows}
        for name in compiled.characters:
            source, mentions, words = found.get(name, ("", 0, 0))
            if source == "header":
                bits.append(f"{name} is in its header")
            else:
                bits.append(f"{name} is named {mentions} times in {words or 0:,} words")
    bits += [f.label for f in compiled.filters if f.kind not in ("live", "character") and f.label]
    return "; ".join(bits) or "no filters: any story in the archive"
