"""Stories as search results (`StoryHit`), the archive's vocabulary (authors, tags, fandoms,
pairing and character counts) for name resolution and autocomplete, and the one cache rule every
in-memory snapshot follows (`cached_snapshot`: rebuilt when `archive_signature` changes).

Owns the JSON form of a hit (`id, title, author, rating {raw, level}, relationships, characters,
words, score`, the CLI's interface) and `invalidate(lib)`, which code that changes stories calls.
It must not import Discord; it only reads the database.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, case, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from archive.model import Rating, Series
from db.keys import fold
from db.models import AuditEntry, Story, StoryCharacter, StoryRelationship, StoryTag
from service.library import Library

log = logging.getLogger(__name__)
S = TypeVar("S", bound="Snapshot")
T = TypeVar("T")

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
CACHE_SECONDS = 600.0
"""Cached snapshots are rebuilt when the archive signature changes, or after this long (a re-index
that edits stories in place without a mod action)."""
RECHECK_SECONDS = 2.0
"""How long a cached snapshot is trusted before the archive signature is looked at again."""
MIN_MENTIONS = 2
"""A character inferred from the text counts once the text names them this often (header: always)."""
WORDS_PER_MENTION = 2000
"""...and in a longer story, once per this many words: two passing mentions in 20,000 words do not
make a story "about" someone."""


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


@dataclass(slots=True)
class Vocabulary:
    """Distinct names in the live archive, most used first, for resolution and autocomplete."""

    authors: list[tuple[str, int]]
    author_labels: dict[str, str]  # folded author -> author as stored
    tag_labels: dict[str, str]  # folded label or name -> stored tag name (tags and warnings)
    fandom_labels: dict[str, str]
    display: dict[str, str]  # stored tag/fandom name -> label as written
    pairings: list[tuple[str, int]]  # display key -> number of stories
    characters: list[tuple[str, int]]
    character_labels: dict[str, str] = field(default_factory=dict)  # folded -> stored name
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, name) -> live stories
    derived: dict[tuple[str, frozenset[str] | None], Any] = field(default_factory=dict)
    """Figures computed from the same archive state on first use (rankings, totals per age gate);
    they are dropped with the snapshot when the archive changes."""
    built: float = 0.0
    checked: float = 0.0
    signature: tuple[int, ...] = ()


_CACHE: dict[str, Vocabulary] = {}


def _seen(allowed_levels: frozenset[str] | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Story.removed_at.is_(None)]
    if allowed_levels is not None:
        conds.append(Story.rating_level.in_(sorted(allowed_levels)))
    return conds


async def count_pairings(
    session: AsyncSession, allowed_levels: frozenset[str] | None = None
) -> list[tuple[str, int]]:
    """Every relationship key with the number of live (visible) stories holding it, most first."""
    rel = StoryRelationship
    n = func.count(func.distinct(rel.story_id))
    rows = await session.execute(
        select(rel.key, n)
        .join(Story, Story.id == rel.story_id)
        .where(*_seen(allowed_levels))
        .group_by(rel.key)
        .order_by(n.desc(), rel.key)
    )
    return [(k, int(c)) for k, c in rows]


async def count_characters(
    session: AsyncSession, allowed_levels: frozenset[str] | None = None
) -> list[tuple[str, int]]:
    """Every featured character with the number of live (visible) stories featuring them, most first."""
    sc = StoryCharacter
    rows = await session.execute(
        select(sc.name, func.count())
        .join(Story, Story.id == sc.story_id)
        .where(*_seen(allowed_levels), features_sql())
        .group_by(sc.name)
        .order_by(func.count().desc(), sc.name)
    )
    return [(c, int(n)) for c, n in rows]


def invalidate(lib: Library) -> None:
    """Forget the cached vocabulary and filter index (call after adding, editing or removing stories)."""
    from service import facets  # imports this module

    _CACHE.pop(lib.settings.database_url, None)
    facets.invalidate(lib)


async def archive_signature(session: AsyncSession) -> tuple[int, ...]:
    """Cheap facts that change whenever the archive does: live stories, newest id, newest audit
    entry (every add, edit, remove and restore from any process writes one)."""
    live = (
        await session.execute(select(func.count(), func.max(Story.id)).where(Story.removed_at.is_(None)))
    ).one()
    audit = await session.scalar(select(func.max(AuditEntry.id)))
    return int(live[0] or 0), int(live[1] or 0), int(audit or 0)


_COST: dict[tuple[int, str], float] = {}  # (cache, database) -> seconds the last build took
REBUILD_COST_FACTOR = 20.0


class Snapshot(Protocol):
    signature: tuple[int, ...]
    built: float
    checked: float


async def cached_snapshot(
    cache: dict[str, S], lib: Library, session: AsyncSession, build: Callable[[AsyncSession], Awaitable[S]]
) -> S:
    """`cache`'s snapshot for this database, rebuilt by `build` when the archive signature changed
    (looked at no more than every RECHECK_SECONDS) or it is older than CACHE_SECONDS."""
    now = time.monotonic()
    cached = cache.get(lib.settings.database_url)
    if cached and now - cached.checked < RECHECK_SECONDS:
        return cached
    signature = await archive_signature(session)
    key = (id(cache), lib.settings.database_url)
    if cached and now - cached.built < CACHE_SECONDS:
        # While a bulk index grows the archive, a costly snapshot is rebuilt at most every
        # REBUILD_COST_FACTOR build-times (30 s at most); `invalidate` always forces a rebuild.
        fresh_enough = now - cached.built < min(30.0, REBUILD_COST_FACTOR * _COST.get(key, 0.0))
        if cached.signature == signature or fresh_enough:
            cached.checked = now
            return cached
    started = time.perf_counter()
    fresh = await build(session)
    fresh.signature, fresh.built, fresh.checked = signature, now, now
    cache[lib.settings.database_url] = fresh
    _COST[key] = time.perf_counter() - started
    log.info("%s rebuilt in %.0f ms", type(fresh).__name__, _COST[key] * 1000)
    return fresh


async def _build(session: AsyncSession) -> Vocabulary:
    live = Story.removed_at.is_(None)
    authors = [
        (a, int(n))
        for a, n in await session.execute(
            select(Story.author, func.count()).where(live, Story.author.is_not(None)).group_by(Story.author)
        )
        if a
    ]
    authors.sort(key=lambda x: (-x[1], x[0].casefold()))
    author_labels: dict[str, str] = {}
    for a, _n in authors:
        author_labels.setdefault(fold(a), a)
    tag_labels: dict[str, str] = {}
    fandom_labels: dict[str, str] = {}
    display: dict[str, str] = {}
    tag_rows = await session.execute(
        select(StoryTag.kind, StoryTag.name, func.min(StoryTag.label), func.count())
        .join(Story, Story.id == StoryTag.story_id)
        .where(live)
        .group_by(StoryTag.kind, StoryTag.name)
        .order_by(func.count().desc())
    )
    counts: dict[tuple[str, str], int] = {}
    for kind, name, label, n in tag_rows:
        counts[(kind, name)] = int(n)
        target = fandom_labels if kind == "fandom" else tag_labels
        display.setdefault(name, label or name)
        target.setdefault(fold(label or name), name)
        target.setdefault(fold(name), name)
    pairings = await count_pairings(session)
    characters = await count_characters(session)
    character_labels = {fold(c): c for c, _n in reversed(characters)}
    counts.update({("relationship", k): n for k, n in pairings})
    counts.update({("character", c): n for c, n in characters})
    return Vocabulary(
        authors,
        author_labels,
        tag_labels,
        fandom_labels,
        display,
        pairings,
        characters,
        character_labels,
        counts,
        derived={("pairings", None): pairings, ("characters", None): characters},
    )


async def snapshot_figure(
    lib: Library,
    name: str,
    allowed_levels: frozenset[str] | None,
    compute: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    """A figure counted once per archive state (per age gate) and kept with the vocabulary snapshot:
    `compute(session)` runs only when the snapshot has none, i.e. after the archive changed."""
    async with lib.sessions() as session:
        vocab = await vocabulary(lib, session)
        key = (name, allowed_levels)
        if key not in vocab.derived:
            vocab.derived[key] = await compute(session)
        return vocab.derived[key]  # type: ignore[no-any-return]


async def vocabulary(lib: Library, session: AsyncSession | None = None) -> Vocabulary:
    """The cached vocabulary (see `cached_snapshot` for when it is rebuilt)."""
    if session is None:
        async with lib.sessions() as own:
            return await cached_snapshot(_CACHE, lib, own, _build)
    return await cached_snapshot(_CACHE, lib, session, _build)
