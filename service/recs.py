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
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.fts import fts_search
from db.models import RecHistory, RelationshipMember, Story, StoryCharacter, StoryRelationship, StoryTag
from service.facets import Facets, facets
from service.hits import StoryHit, features_sql, load_hits
from service.library import Library
from service.query import QueryError, SearchQuery
from service.search import Compiled, compile_query, count, empty_reason, top_k

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
    for (name,) in await session.execute(
        select(sc.name).join(Story, Story.id == sc.story_id).where(sc.story_id == story_id, features_sql())
    ):
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


_STOP = frozenset(
    [
        "about",
        "after",
        "again",
        "also",
        "been",
        "before",
        "being",
        "between",
        "could",
        "didn",
        "does",
        "doing",
        "down",
        "each",
        "from",
        "have",
        "having",
        "into",
        "just",
        "more",
        "most",
        "much",
        "never",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "story",
        "chapter",
        "fic",
        "fanfic",
    ]
)
TIE_WEIGHTS = {"shape": 1.0, "text": 1.0, "length": 0.25}
"""Small bonuses (each at most its weight) that order stories sharing the same features: how much of
each story the shared features are, shared distinctive words, and a similar length. Never the id."""


def _feature_counts(fx: Facets) -> np.ndarray:
    """How many characters, relationships and tags each story has (kept per snapshot)."""
    cached = _COUNTS.get(id(fx))
    if cached is not None and cached[0] is fx:
        return cached[1]
    counts = np.zeros(fx.size)
    for positions, _weights in fx.characters.values():
        counts += np.bincount(positions, minlength=fx.size)[: fx.size]
    for positions in fx.tags.values():
        counts += np.bincount(positions, minlength=fx.size)[: fx.size]
    counts += (
        np.bincount(fx.rel_pos[fx.rel_pos < fx.size], minlength=fx.size)[: fx.size] if fx.rel_pos.size else 0
    )
    _COUNTS.clear()
    _COUNTS[id(fx)] = (fx, counts)
    return counts


_COUNTS: dict[int, tuple[Facets, np.ndarray]] = {}


def _distinctive_words(story: Story) -> list[str]:
    """Up to 12 of the longest uncommon words of a story's title and summary, for a text likeness."""
    words = re.findall(r"[^\W\d_]{4,}", f"{story.title} {story.summary or ''}".casefold())
    unique = [w for w in dict.fromkeys(words) if w not in _STOP]
    return sorted(unique, key=len, reverse=True)[:12]


async def _text_likeness(session: AsyncSession, fx: Facets, story: Story) -> np.ndarray:
    """0-1 per position: how well each story matches the distinctive words of `story` (bm25)."""
    out = np.zeros(fx.size)
    words = _distinctive_words(story)
    if not words:
        return out
    rows = await fts_search(session, " OR ".join(words), limit=500, include_removed=True)
    if not rows:
        return out
    at, live = fx.locate(np.asarray([r[0] for r in rows], dtype=np.int64))
    ranks = np.asarray([r[1] for r in rows])
    best = ranks.min()
    out[at[live]] = (ranks / best if best < 0 else np.ones(len(ranks)))[live]
    return out


async def _same_work(session: AsyncSession, story: Story) -> list[int]:
    """The story and its other copies (same title and author), which "more like this" never offers."""
    if not story.author_key:
        return [story.id]
    rows = await session.scalars(
        select(Story.id).where(Story.title_key == story.title_key, Story.author_key == story.author_key)
    )
    return [story.id, *rows]


async def similar(
    lib: Library, story_id: int, *, limit: int = 5, allowed_levels: frozenset[str] | None = None
) -> list[SimilarHit]:
    """Stories most like `story_id`: shared relationships, characters, tags, fandoms (the rarer in
    the archive, the more they count, tf-idf style), plus a bonus for the same series or author.
    Stories sharing the same features are ordered by `TIE_WEIGHTS` (shape, text, length)."""
    async with lib.sessions() as session:
        fx = await facets(lib, session)
        features = await _features(session, fx, story_id)
        story = await session.get(Story, story_id)
        assert story is not None  # _features raised otherwise
        score = np.zeros(fx.size)
        shared = np.zeros(fx.size)
        for f in features:
            if f.kind in BONUS:
                f.weight = BONUS[f.kind]
            else:
                f.weight = WEIGHTS.get(f.kind, 1.0) * math.log((fx.size + 1) / (len(f.positions) + 0.5))
                shared[f.positions] += 1
            score[f.positions] += f.weight
        score[fx.positions_of(await _same_work(session, story))] = 0.0
        if allowed_levels is not None:
            score[~fx.levels(allowed_levels)] = 0.0
        candidates = np.flatnonzero(score > 0)
        if len(candidates):
            own = max(1.0, float(sum(f.kind not in BONUS for f in features)))
            union = own + _feature_counts(fx)[candidates] - shared[candidates]
            text = (await _text_likeness(session, fx, story))[candidates]
            ratio = np.log((fx.words[candidates] + 100) / ((story.words or 0) + 100))
            score[candidates] += (
                TIE_WEIGHTS["shape"] * shared[candidates] / np.maximum(union, 1.0)
                + TIE_WEIGHTS["text"] * text
                + TIE_WEIGHTS["length"] / (1.0 + np.abs(ratio))
            )
        best = candidates[top_k(-score[candidates], fx.newest[candidates], limit)]
        hits = {h.id: h for h in await load_hits(session, [int(i) for i in fx.ids[best]])}
    out = []
    for p in best:
        hit = hits.get(int(fx.ids[p]))
        if hit is not None:
            shared_features = [f for f in features if np.any(f.positions == p)]
            out.append(SimilarHit(hit, float(score[p]), _reason(shared_features)))
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
