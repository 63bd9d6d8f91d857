"""Stories as search results: `StoryHit` and `load_hits`, which reads a page of them (characters,
relationships and tags included) in one round trip.

Owns the JSON form of a hit (`id, title, author, rating {raw, level}, relationships, characters,
words, score`, the CLI's interface). It holds no cache and must not import Discord; it only reads
the database. The archive's names and counts are `service.vocabulary`'s.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, case, func, or_
from sqlalchemy.ext.asyncio import AsyncSession

from archive.model import Rating, Series
from archive.names import MIN_MENTIONS
from db.backend import fetch_all
from db.models import Story, StoryCharacter

if TYPE_CHECKING:
    from service.people import People

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


def _page_sql(ids: list[int], live_only: bool) -> str:
    """One statement reading a page of stories and what hangs off them, as rows of (story, kind,
    six texts, two integers): the story's own row (kind `story`), characters (header first, then
    by mentions), relationships (as listed), their members (kind `member`, by relationship) and tag
    labels. Story ids are integers, written into
    the SQL (no user text reaches it); the same SQL runs on SQLite and PostgreSQL."""
    within = ",".join(str(int(i)) for i in ids)
    live = " AND s.removed_at IS NULL" if live_only else ""
    per_words = f"((coalesce(s.words, 0) + {WORDS_PER_MENTION - 1}) / {WORDS_PER_MENTION})"
    needed = f"CASE WHEN {per_words} > {MIN_MENTIONS} THEN {per_words} ELSE {MIN_MENTIONS} END"
    return (
        "SELECT s.id, 'story', s.title, s.author, s.rating_raw, s.rating_level, s.summary, s.series_name, "
        "s.status, s.published, s.words, s.series_part "
        f"FROM stories AS s WHERE s.id IN ({within}){live} "
        "UNION ALL SELECT c.story_id, 'character', c.name, c.name, NULL, NULL, NULL, NULL, NULL, NULL, "
        "CASE WHEN c.source = 'header' THEN 1000000 ELSE 0 END + c.mentions, 0 "
        f"FROM story_characters AS c JOIN stories AS s ON s.id = c.story_id WHERE c.story_id IN ({within}) "
        f"AND (c.source = 'header' OR c.mentions >= {needed}) "
        "UNION ALL SELECT r.story_id, 'relationship', r.key, '', NULL, NULL, NULL, NULL, NULL, NULL, -r.id, "
        f"CASE WHEN r.past THEN 1 ELSE 0 END FROM story_relationships AS r WHERE r.story_id IN ({within}) "
        "UNION ALL SELECT t.story_id, t.kind, t.label, t.name, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 "
        f"FROM story_tags AS t WHERE t.story_id IN ({within}) "
        "UNION ALL SELECT r.story_id, 'member', m.name, r.kind, NULL, NULL, NULL, NULL, NULL, NULL, -r.id, 0 "
        "FROM relationship_members AS m JOIN story_relationships AS r ON r.id = m.relationship_id "
        f"WHERE r.story_id IN ({within})"
    )


def _renamed(key: str, members: tuple[str, list[str], bool] | None) -> str:
    """A relationship's key, or, when some member reads as another name, the key the names make
    (as `service.vocabulary` counts it: sorted, `/` for romantic, ` & ` otherwise)."""
    if members is None or not members[2]:
        return key
    kind, names, _changed = members
    return ("/" if kind == "romantic" else " & ").join(sorted(set(names)))


async def load_hits(
    session: AsyncSession,
    ids: list[int],
    scores: dict[int, float] | None = None,
    *,
    live_only: bool = True,
    people: People | None = None,
) -> list[StoryHit]:
    """StoryHits for `ids`, in that order (missing and, unless asked, mod-removed ids are skipped),
    read in one round trip. With `people` (`lib.views.people()`), names read as the people the
    archive learned they mean, as searches and counts read them: `lix/randall` with `Lix Storm` and
    `Randall Brown` in the header shows as `Lix Storm/Randall Brown`, each person once."""
    if not ids:
        return []
    scores = scores or {}
    rows = await fetch_all(session, _page_sql(ids, live_only))
    stories: dict[int, Any] = {}
    chars: dict[int, list[str]] = defaultdict(list)
    rels: dict[int, list[str]] = defaultdict(list)
    labels: dict[tuple[int, str], list[str]] = defaultdict(list)
    members: dict[int, tuple[str, list[str], bool]] = {}
    hanging = []
    for row in rows:
        if row[1] == "story":
            stories[row[0]] = row
        elif row[1] == "member":
            name = people.rename(row[0], row[2]) if people else row[2]
            kind, names, changed = members.get(-int(row[10]), (str(row[3]), [], False))
            members[-int(row[10])] = (kind, [*names, name], changed or name != row[2])
        else:
            hanging.append(row)
    hanging.sort(key=lambda r: (r[0], r[1], -r[10], r[3]))
    for story_id, kind, text, *_rest, _rank, past in hanging:
        if kind == "character":
            chars[story_id].append(people.rename(story_id, text) if people else text)
        elif kind == "relationship":
            rels[story_id].append(relationship_display(_renamed(text, members.get(-int(_rank))), bool(past)))
        else:
            labels[(story_id, kind)].append(text)
    hits = []
    for i in ids:
        s = stories.get(i)
        if s is None:
            continue
        _id, _kind, title, author, rating_raw, rating_level, summary, series_name, status, published = s[:10]
        hits.append(
            StoryHit(
                id=i,
                title=title,
                author=author,
                rating=Rating(rating_raw, rating_level),
                relationships=list(dict.fromkeys(rels[i])),
                characters=list(dict.fromkeys(chars[i])),
                words=s[10] or 0,
                score=scores.get(i),
                summary=summary,
                tags=labels[(i, "tag")],
                warnings=labels[(i, "warning")],
                fandoms=labels[(i, "fandom")],
                series=Series(series_name, s[11]),
                status=status,
                published=published,
            )
        )
    return hits
