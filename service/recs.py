"""Recommendations: a random story matching a query (`rec`), and "more like this" (`similar`).

Owns how a rec is drawn (weighted toward well-formed entries: a summary, a rating and an author
each add weight; the place's recent recs are left out while enough other stories match) and how it
is recorded in `rec_history`, and how similarity is scored (shared relationships, characters, tags,
fandoms, series and author, each weighted by its rarity in the archive, tf-idf style).
It must not import Discord; the daily rec job and `/rec` both call `rec`.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, case, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RecHistory, Story, StoryCharacter, StoryRelationship, StoryTag
from service.facets import Facets
from service.hits import MIN_MENTIONS, StoryHit, load_hits, vocabulary
from service.library import Library
from service.query import QueryError, SearchQuery
from service.search import compile_query, count, empty_reason

log = logging.getLogger(__name__)

RECENT_WINDOW = 50
"""At most this many of a place's latest recs are avoided (fewer when few stories match)."""
WEIGHTS = {"relationship": 3.0, "character": 1.0, "tag": 1.5, "warning": 0.5, "fandom": 0.5}
SERIES_BONUS = 4.0
CANDIDATE_ROWS = 5_000
"""Similar reads candidates from the rarest features until about this many rows."""
CANDIDATES = 200
AUTHOR_BONUS = 1.0


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
class _Features:
    """A story's features as (table kind, value) -> label shown in reasons."""

    values: dict[tuple[str, str], str]
    series: str | None
    author: str | None


async def _features(session: AsyncSession, story_id: int) -> _Features:
    story = await session.get(Story, story_id)
    if story is None:
        raise QueryError(f"There is no story number {story_id}.")
    values: dict[tuple[str, str], str] = {}
    rel = StoryRelationship
    for (key,) in await session.execute(select(rel.key).where(rel.story_id == story_id)):
        values[("relationship", key)] = key
    sc = StoryCharacter
    live_char = or_(sc.source == "header", sc.mentions >= MIN_MENTIONS)
    for (name,) in await session.execute(select(sc.name).where(sc.story_id == story_id, live_char)):
        values[("character", name)] = name
    for kind, name, label in await session.execute(
        select(StoryTag.kind, StoryTag.name, StoryTag.label).where(StoryTag.story_id == story_id)
    ):
        values[(kind, name)] = label
    return _Features(values, story.series_name, story.author)


def _shared_rows(features: list[tuple[str, str]], ids: list[int] | None = None) -> Any:
    """(story_id, kind, value) of stories holding any of `features` (only `ids` when given)."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in features:
        by_kind.setdefault(kind, []).append(value)
    rel, sc, tag = StoryRelationship, StoryCharacter, StoryTag
    parts: list[Any] = []
    if by_kind.get("relationship"):
        parts.append(
            select(rel.story_id, literal("relationship").label("kind"), rel.key.label("value"))
            .where(
                rel.key.in_(by_kind["relationship"]), *([rel.story_id.in_(ids)] if ids is not None else [])
            )
            .distinct()
        )
    if by_kind.get("character"):
        parts.append(
            select(sc.story_id, literal("character").label("kind"), sc.name.label("value")).where(
                sc.name.in_(by_kind["character"]),
                or_(sc.source == "header", sc.mentions >= MIN_MENTIONS),
                *([sc.story_id.in_(ids)] if ids is not None else []),
            )
        )
    for kind in [k for k in by_kind if k in ("tag", "warning", "fandom")]:
        parts.append(
            select(tag.story_id, tag.kind.label("kind"), tag.name.label("value")).where(
                tag.kind == kind,
                tag.name.in_(by_kind[kind]),
                *([tag.story_id.in_(ids)] if ids is not None else []),
            )
        )
    return union_all(*parts).subquery() if parts else None


async def _candidates(
    session: AsyncSession, story_id: int, weight: dict[tuple[str, str], float], df: dict[tuple[str, str], int]
) -> list[int]:
    """Stories sharing the rarest features (at most CANDIDATE_ROWS rows read), best first."""
    chosen: list[tuple[str, str]] = []
    rows = 0
    for key in sorted(weight, key=lambda k: df.get(k, 0)):
        if chosen and rows + df.get(key, 0) > CANDIDATE_ROWS:
            break
        chosen.append(key)
        rows += df.get(key, 0)
    u = _shared_rows(chosen)
    if u is None:
        return []
    score = case(*[((u.c.kind == k) & (u.c.value == v), weight[(k, v)]) for k, v in chosen], else_=0.0)
    stmt = (
        select(u.c.story_id)
        .where(u.c.story_id != story_id)
        .group_by(u.c.story_id)
        .order_by(func.sum(score).desc(), u.c.story_id)
        .limit(CANDIDATES)
    )
    return [int(i) for i in (await session.scalars(stmt)).all()]


async def similar(
    lib: Library, story_id: int, *, limit: int = 5, allowed_levels: frozenset[str] | None = None
) -> list[SimilarHit]:
    """Stories most like `story_id`: shared relationships, characters, tags (rarer counts more).

    Candidates come from the story's rarest features (bounded work however common Buffy is), then
    every candidate is scored on all shared features, tf-idf style, plus series and author bonuses.
    """
    async with lib.sessions() as session:
        feats = await _features(session, story_id)
        vocab = await vocabulary(lib, session)
        total = max(1, vocab.signature[0])
        df = {k: vocab.counts.get(k, 1) for k in feats.values}
        weight = {k: WEIGHTS.get(k[0], 1.0) * math.log((total + 1) / (n + 0.5)) for k, n in df.items()}
        seen = [Story.removed_at.is_(None), Story.id != story_id]
        if allowed_levels is not None:
            seen.append(Story.rating_level.in_(sorted(allowed_levels)))
        extra = await _series_and_author(session, feats, seen, limit)
        ids = list(dict.fromkeys([*await _candidates(session, story_id, weight, df), *extra]))
        if ids:
            ids = list((await session.scalars(select(Story.id).where(Story.id.in_(ids), *seen))).all())
        shared: dict[int, list[tuple[str, str]]] = {}
        u = _shared_rows(list(weight), ids) if ids else None
        if u is not None:
            for i, kind, value in await session.execute(select(u.c.story_id, u.c.kind, u.c.value)):
                shared.setdefault(int(i), []).append((kind, value))
        scores = {
            i: sum(weight.get(k, 0.0) for k in shared.get(i, [])) + extra.get(i, (0.0, ""))[0] for i in ids
        }
        best = sorted((i for i in scores if scores[i] > 0), key=lambda i: (-scores[i], i))[:limit]
        hits = {h.id: h for h in await load_hits(session, best)}
    return [
        SimilarHit(hits[i], scores[i], _reason(feats, shared.get(i, []), weight, extra.get(i, (0.0, ""))[1]))
        for i in best
        if i in hits
    ]


async def _series_and_author(
    session: AsyncSession, feats: _Features, seen: list[ColumnElement[bool]], limit: int
) -> dict[int, tuple[float, str]]:
    extra: dict[int, tuple[float, str]] = {}
    for column, value, bonus, why in (
        (Story.series_name, feats.series, SERIES_BONUS, f"same series ({feats.series})"),
        (Story.author, feats.author, AUTHOR_BONUS, f"also by {feats.author}"),
    ):
        if not value:
            continue
        stmt = select(Story.id).where(column == value, *seen).limit(limit * 4)
        for i in (await session.scalars(stmt)).all():
            old = extra.get(i, (0.0, ""))
            extra[i] = (old[0] + bonus, "; ".join(x for x in (old[1], why) if x))
    return extra


def _reason(
    feats: _Features, shared: list[tuple[str, str]], weight: dict[tuple[str, str], float], extra: str
) -> str:
    """`also Willow/Tara; angst; post-Tabula Rasa`: shared relationships, then the rarest tags."""
    rels = [feats.values[k] for k in shared if k[0] == "relationship" and k in feats.values]
    tags = sorted(
        (k for k in shared if k[0] in ("tag", "warning") and k in feats.values),
        key=lambda k: -weight.get(k, 0.0),
    )
    chars = sorted((k for k in shared if k[0] == "character"), key=lambda k: -weight.get(k, 0.0))
    bits = [f"also {r}" for r in rels[:2]] + [feats.values[k] for k in tags[:3]]
    if not rels and chars:
        bits.append("also " + " & ".join(feats.values[k] for k in chars[:2]))
    if extra:
        bits.append(extra)
    return "; ".join(dict.fromkeys(bits)) or "similar characters"
