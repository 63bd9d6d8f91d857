"""Stories as search results: `StoryHit` and `load_hits`, which reads a page of them (characters,
relationships and tags included) in two round trips.

Owns the JSON form of a hit (`id, title, author, rating {raw, level}, relationships, characters,
words, score`, the CLI's interface). It holds no cache and must not import Discord; it only reads
the database. The archive's names and counts are `service.vocabulary`'s.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from archive.model import Rating, Series
from archive.names import MIN_MENTIONS
from db.models import Story, StoryCharacter, StoryRelationship, StoryTag

log = logging.getLogger(__name__)

HIT_KEYS: tuple[str, ...] = (
    "id",
    "title",
    "author",
    "rating",
    "relationships",
    "characters",
    "words",
    "score",
)
"""Exactly the keys each story carries in the CLI's JSON lists."""
WORDS_PER_MENTION = 2000
"""A character the header does not list counts once named `MIN_MENTIONS` times (`archive.names`)
and, in a longer story, once per this many words: two passing mentions in 20,000 words do not make
a story "about" someone."""


def mentions_needed(words: int | None) -> int:
    """How often a story of `words` words must name a character its header does not list for the
    character to count: `MIN_MENTIONS`, or one per `WORDS_PER_MENTION` words when that is more."""
    return max(MIN_MENTIONS, -(-int(words or 0) // WORDS_PER_MENTION))


def features(source: str, mentions: int | None, words: int | None) -> bool:
    """Whether a character counts as in a story: named in its header, or `mentions_needed` times."""
    return source == "header" or int(mentions or 0) >= mentions_needed(words)


def features_sql() -> ColumnElement[bool]:
    """`features` as a SQL condition over `story_characters` joined to `stories`."""
    sc = StoryCharacter
    # ceil(words / WORDS_PER_MENTION), at least MIN_MENTIONS; CASE, not SQLite's two-argument max()
    per_words = (func.coalesce(Story.words, 0) + WORDS_PER_MENTION - 1) // WORDS_PER_MENTION
    needed = case((per_words > MIN_MENTIONS, per_words), else_=MIN_MENTIONS)
    return or_(sc.source == "header", sc.mentions >= needed)


def relationship_display(key: str, past: bool) -> str:
    """How a relationship reads on a card: `Spike/Willow Rosenberg`, `past Angel/Buffy Summers`."""
    return f"past {key}" if past else key


@dataclass(slots=True)
class StoryHit:
    """A story as a search result: the card's essentials, plain data."""

    id: int
    title: str
    author: str | None
    rating: Rating
    relationships: list[str]
    characters: list[str]
    words: int
    score: float | None = None
    summary: str | None = None
    tags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fandoms: list[str] = field(default_factory=list)
    series: Series = field(default_factory=Series)
    status: str | None = None
    published: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "title": self.title,
            "author": self.author,
            "rating": self.rating.to_json(),
            "relationships": list(self.relationships),
            "characters": list(self.characters),
            "words": self.words,
            "score": self.score,
        }
        assert tuple(data) == HIT_KEYS
        return data


async def _hanging(
    session: AsyncSession, ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[str]], dict[tuple[int, str], list[str]]]:
    """Characters (header first, then by mentions), relationships (as listed) and tag labels (by
    name) of the stories `ids`, in one round trip of (story, kind, text, tie-break, rank, past)."""
    sc, rel, tag = StoryCharacter, StoryRelationship, StoryTag
    header = case((sc.source == "header", 1_000_000), else_=0)
    union = union_all(
        select(sc.story_id, literal("character"), sc.name, sc.name, header + sc.mentions, literal(False))
        .join(Story, Story.id == sc.story_id)
        .where(sc.story_id.in_(ids), features_sql()),
        select(rel.story_id, literal("relationship"), rel.key, literal(""), -rel.id, rel.past).where(
            rel.story_id.in_(ids)
        ),
        select(tag.story_id, tag.kind, tag.label, tag.name, literal(0), literal(False)).where(
            tag.story_id.in_(ids)
        ),
    )
    chars: dict[int, list[str]] = defaultdict(list)
    rels: dict[int, list[str]] = defaultdict(list)
    labels: dict[tuple[int, str], list[str]] = defaultdict(list)
    rows = sorted((await session.execute(union)).all(), key=lambda r: (r[0], r[1], -r[4], r[3]))
    for story_id, kind, text, _tie, _rank, past in rows:
        if kind == "character":
            chars[story_id].append(text)
        elif kind == "relationship":
            rels[story_id].append(relationship_display(text, bool(past)))
        else:
            labels[(story_id, kind)].append(text)
    return chars, rels, labels


async def load_hits(
    session: AsyncSession, ids: list[int], scores: dict[int, float] | None = None, *, live_only: bool = True
) -> list[StoryHit]:
    """StoryHits for `ids`, in that order (missing and, unless asked, mod-removed ids are skipped)."""
    if not ids:
        return []
    scores = scores or {}
    columns = (
        Story.id, Story.title, Story.author, Story.rating_raw, Story.rating_level, Story.words,
        Story.summary, Story.series_name, Story.series_part, Story.status, Story.published,
    )  # fmt: skip
    stmt = select(*columns).where(Story.id.in_(ids))  # columns, not ORM objects: 3x cheaper a page
    if live_only:
        stmt = stmt.where(Story.removed_at.is_(None))
    stories = {s.id: s for s in (await session.execute(stmt)).all()}
    chars, rels, labels = await _hanging(session, ids)
    hits = []
    for i in ids:
        s = stories.get(i)
        if s is None:
            continue
        hits.append(
            StoryHit(
                id=s.id,
                title=s.title,
                author=s.author,
                rating=Rating(s.rating_raw, s.rating_level),  # type: ignore[arg-type]
                relationships=rels[i],
                characters=chars[i],
                words=s.words or 0,
                score=scores.get(i),
                summary=s.summary,
                tags=labels[(i, "tag")],
                warnings=labels[(i, "warning")],
                fandoms=labels[(i, "fandom")],
                series=Series(s.series_name, s.series_part),
                status=s.status,
                published=s.published,
            )
        )
    return hits
