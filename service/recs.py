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
import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from archive.names import MIN_MENTIONS
from db.models import RecHistory, RelationshipMember, Story, StoryCharacter, StoryRelationship, StoryTag
from service.facets import Facets
from service.hits import StoryHit, load_hits
from service.library import Library
from service.query import QueryError, SearchQuery
from service.search import compile_query, count, empty_reason, top_k

log = logging.getLogger(__name__)

RECENT_WINDOW = 50
"""At most this many of a place's latest recs are avoided (fewer when few stories match)."""
WEIGHTS = {"relationship": 3.0, "character": 1.0, "tag": 1.5, "warning": 0.5, "fandom": 0.5}
BONUS = {"series": 4.0, "author": 1.0}


@dataclass(slots=True)
class RecResult:
    """The story picked, how many matched, how many age gating hid, and one line saying so."""

    hit: StoryHit
    matched: int
    hidden: int
    line: str
    resolved: list[str] = field(default_factory=list)
    avoided: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            **self.hit.to_json(),
            "matched": self.matched,
            "hidden": self.hidden,
            "line": self.line,
            "resolved": self.resolved,
        }


@dataclass(slots=True)
class SimilarHit:
    """A story like the one asked about, its similarity score and why (`also Willow/Tara; angst`)."""

    hit: StoryHit
    score: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {**self.hit.to_json(), "score": round(self.score, 3), "reason": self.reason}


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
        hits = await load_hits(session, [pick])
    line = f"Picked at random from {matched} matching {'story' if matched == 1 else 'stories'}"
    if avoided:
        line += f", leaving out {avoided} recommended here recently"
    if hidden:
        line += f" ({hidden} more only in age-restricted channels)"
    log.info("rec for %s: story %s from %s", place, pick, matched)
    return RecResult(hits[0], matched, hidden, line + ".", compiled.resolved, avoided)


# --- more like this ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Feature:
    """Something a story has (a relationship, character, tag, series, author), the stories that
    share it (positions in the filter index), its weight, and how a reason names it."""

    kind: str
    label: str
    positions: np.ndarray
    weight: float = 0.0


async def _features(session: AsyncSession, fx: Facets, story_id: int) -> list[_Feature]:
    story = await session.get(Story, story_id)
    if story is None:
        raise QueryError(f"There is no story number {story_id}.")
    out: list[_Feature] = []
    rel, m = StoryRelationship, RelationshipMember
    members: dict[int, list[str]] = {}
    for rel_id, name in await session.execute(
        select(m.relationship_id, m.name)
        .join(rel, rel.id == m.relationship_id)
        .where(rel.story_id == story_id)
    ):
        members.setdefault(rel_id, []).append(name)
    for rel_id, key, kind in await session.execute(
        select(rel.id, rel.key, rel.kind).where(rel.story_id == story_id)
    ):
        names = tuple(sorted(members.get(rel_id, [])))
        out.append(
            _Feature("relationship", key, np.flatnonzero(fx.relationship(names, kind, wildcard=False)))
        )
    sc = StoryCharacter
    live_char = or_(sc.source == "header", sc.mentions >= MIN_MENTIONS)
    for (name,) in await session.execute(select(sc.name).where(sc.story_id == story_id, live_char)):
        out.append(_Feature("character", name, fx.characters.get(name, (np.zeros(0, np.int64), None))[0]))
    for kind, name, label in await session.execute(
        select(StoryTag.kind, StoryTag.name, StoryTag.label).where(StoryTag.story_id == story_id)
    ):
        out.append(_Feature(kind, label, fx.tags.get((kind, name), np.zeros(0, np.int64))))
    if story.series_name:
        out.append(
            _Feature(
                "series",
                f"same series ({story.series_name})",
                fx.series.get(story.series_name, np.zeros(0, np.int64)),
            )
        )
    if story.author:
        out.append(
            _Feature("author", f"also by {story.author}", fx.authors.get(story.author, np.zeros(0, np.int64)))
        )
    return out


async def similar(
    lib: Library, story_id: int, *, limit: int = 5, allowed_levels: frozenset[str] | None = None
) -> list[SimilarHit]:
    """Stories most like `story_id`: shared relationships, characters, tags, fandoms (the rarer in
    the archive, the more they count, tf-idf style), plus a bonus for the same series or author."""
    async with lib.sessions() as session:
        fx = await lib.views.facets()
        features = await _features(session, fx, story_id)
        score = np.zeros(fx.size)
        for f in features:
            if f.kind in BONUS:
                f.weight = BONUS[f.kind]
            else:
                f.weight = WEIGHTS.get(f.kind, 1.0) * math.log((fx.size + 1) / (len(f.positions) + 0.5))
            score[f.positions] += f.weight
        score[fx.positions_of([story_id])] = 0.0
        if allowed_levels is not None:
            score[~fx.levels(allowed_levels)] = 0.0
        candidates = np.flatnonzero(score > 0)
        best = candidates[top_k(-score[candidates], fx.ids[candidates], limit)]
        hits = {h.id: h for h in await load_hits(session, [int(i) for i in fx.ids[best]])}
    out = []
    for p in best:
        hit = hits.get(int(fx.ids[p]))
        if hit is not None:
            shared = [f for f in features if np.any(f.positions == p)]
            out.append(SimilarHit(hit, float(score[p]), _reason(shared)))
    return out


def _reason(shared: list[_Feature]) -> str:
    """`also Willow/Tara; angst; post-Tabula Rasa`: shared relationships, the rarest shared tags,
    characters when no relationship is shared, then series and author."""
    by_weight = sorted(shared, key=lambda f: -f.weight)
    rels = [f"also {f.label}" for f in shared if f.kind == "relationship"][:2]
    tags = [f.label for f in by_weight if f.kind in ("tag", "warning")][:3]
    chars = [f.label for f in by_weight if f.kind == "character"][:2]
    bits = rels + tags + ([] if rels or not chars else ["also " + " & ".join(chars)])
    bits += [f.label for f in shared if f.kind in BONUS]
    return "; ".join(dict.fromkeys(bits)) or "similar characters"
