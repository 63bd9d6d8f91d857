"""The filter index: the live archive's filterable facts held in memory as numpy arrays, so a search
over 50,000 stories filters, counts and sorts in a few milliseconds.

Owns `Facets` (a snapshot: story columns, and per character / relationship member / tag / author
the positions of the stories that have it) and how it is built; when it is rebuilt, and the one
copy in memory, are `service.views.ArchiveViews`'s. Why not SQL: a broad filter (a
character in half the stories) costs SQLite a row lookup per match in the wide `stories` table, so
counting and ranking 25,000 matches took 40-130 ms of CPU; here it is a mask over one array. SQL
stays the source of truth (snapshots are built from it; the page's stories are read from it).
It must not import Discord or touch the FTS table (full text comes in as `db.fts` ranks).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from archive.model import RATING_LEVELS
from db.backend import fetch_chunks
from db.models import RelationshipMember, Story, StoryCharacter, StoryRelationship, StoryTag
from service.hits import features_sql
from service.people import People

log = logging.getLogger(__name__)

HEADER_WEIGHT = 50.0
MENTION_CAP = 50
STATUS_CODES = {"complete": 1, "in-progress": 2}
Positions = np.ndarray


@dataclass(slots=True)
class Facets:
    """One snapshot of the live archive. Positions index the `ids` array (ascending story ids)."""

    ids: np.ndarray
    rank: np.ndarray  # rating rank: general 0 .. not_rated 4
    words: np.ndarray
    status: np.ndarray  # 0 unknown, 1 complete, 2 in progress
    quality: np.ndarray  # 1..4: one, plus a summary, a rating as written, an author
    newest: np.ndarray  # each story's place in newest-first order
    title: np.ndarray  # each story's place in title order
    characters: dict[str, tuple[Positions, np.ndarray]]  # name -> (positions, relevance weights)
    rel_pos: np.ndarray  # per relationship row: its story's position
    rel_size: np.ndarray
    rel_romantic: np.ndarray  # per relationship row of a live story: romantic (a retired story's: False)
    members: dict[str, np.ndarray]  # member name -> relationship rows
    tags: dict[tuple[str, str], Positions]  # (kind, folded name) -> positions
    authors: dict[str, Positions]
    series: dict[str, Positions]

    @property
    def size(self) -> int:
        return len(self.ids)

    def mask(self, positions: Positions | None = None) -> np.ndarray:
        """A boolean mask over the archive, true at `positions`."""
        out = np.zeros(self.size, dtype=bool)
        if positions is not None and len(positions):
            out[positions] = True
        return out

    def locate(self, story_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each id's position, and whether that story is live (in this snapshot)."""
        at = np.searchsorted(self.ids, story_ids)
        if not self.size:
            return at, np.zeros(len(story_ids), dtype=bool)
        return at, (at < self.size) & (self.ids[np.minimum(at, self.size - 1)] == story_ids)

    def positions_of(self, story_ids: list[int] | np.ndarray) -> Positions:
        """Positions of the live stories among `story_ids` (others are dropped)."""
        at, live = self.locate(np.asarray(story_ids, dtype=np.int64))
        return at[live]

    def character(self, name: str) -> np.ndarray:
        return self.mask(self.characters.get(name, (None, None))[0])

    def relationship(self, members: tuple[str, ...], kind: str | None, wildcard: bool) -> np.ndarray:
        """Stories with a relationship holding every member (same size unless wildcard; same kind)."""
        rows: np.ndarray | None = None
        for name in members:
            found = self.members.get(name, np.zeros(0, dtype=np.int64))
            rows = found if rows is None else np.intersect1d(rows, found, assume_unique=True)
        if rows is None or not len(rows):
            return self.mask()
        if not wildcard:
            rows = rows[self.rel_size[rows] == len(members)]
        if kind is not None:
            rows = rows[self.rel_romantic[rows] == (kind == "romantic")]
        return self.mask(self.rel_pos[rows])

    def without_romance(self) -> np.ndarray:
        """Stories with no romantic relationship ("gen")."""
        return ~self.mask(self.rel_pos[self.rel_romantic])

    def labelled(self, kinds: tuple[str, ...], names: list[str]) -> np.ndarray:
        out = self.mask()
        for kind in kinds:
            for name in names:
                if (kind, name) in self.tags:
                    out[self.tags[(kind, name)]] = True
        return out

    def by_authors(self, authors: list[str]) -> np.ndarray:
        out = self.mask()
        for author in authors:
            if author in self.authors:
                out[self.authors[author]] = True
        return out

    def levels(self, levels: list[str] | frozenset[str]) -> np.ndarray:
        return np.isin(self.rank, [RATING_LEVELS.index(lv) for lv in levels])  # type: ignore[arg-type]

    def relevance(self, where: np.ndarray, characters: list[str]) -> np.ndarray:
        """Best match without text, for the stories at `where`: header characters beat inferred,
        then mentions, then completeness and a summary."""
        score = (self.status[where] == 1) * 2.0 + (self.quality[where] >= 2) * 1.0
        for name in characters:
            pos, weight = self.characters.get(name, (None, None))
            if pos is None:
                continue
            full = np.zeros(self.size)
            full[pos] = weight
            score = score + full[where]
        return score


def _places(order: np.ndarray) -> np.ndarray:
    """For each row, its place in `order` (the inverse permutation)."""
    places = np.empty(len(order), dtype=np.int64)
    places[order] = np.arange(len(order))
    return places


class _Coder:
    """Small integer codes for the few distinct values (names) of many rows, given as rows stream
    by, so a snapshot is built from arrays of codes and never holds a Python object per row."""

    def __init__(self) -> None:
        self.code_of: dict[Any, int] = {}

    def codes(self, values: Iterable[Any], count: int) -> np.ndarray:
        code_of = self.code_of
        return np.fromiter((code_of.setdefault(v, len(code_of)) for v in values), dtype=np.int32, count=count)

    def groups(self, codes: np.ndarray) -> Iterator[tuple[Any, np.ndarray]]:
        """Each value and its row indices (ascending)."""
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(self.code_of) + 1))
        for code, value in enumerate(self.code_of):
            yield value, order[bounds[code] : bounds[code + 1]]


async def _chunks(session: AsyncSession, stmt: Any) -> AsyncIterator[list[Any]]:
    """The rows of a Core statement holding only constants (never user text), a chunk at a time."""
    conn = await session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    async for rows in fetch_chunks(session, sql):
        yield rows


def _joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


async def _stories(session: AsyncSession) -> tuple[dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """The live stories' columns (ascending id), and their authors' and series' positions."""
    stmt = (
        select(
            Story.id,
            Story.rating_rank,
            Story.words,
            Story.status,
            Story.summary.is_not(None),
            Story.rating_raw.is_not(None),
            Story.author,
            Story.series_name,
        )
        .where(Story.removed_at.is_(None))
        .order_by(Story.id)
    )
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    coders = {"authors": _Coder(), "series": _Coder()}
    async for rows in _chunks(session, stmt):
        n = len(rows)
        parts["ids"].append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=n))
        parts["rank"].append(
            np.fromiter((r[1] if r[1] is not None else 4 for r in rows), dtype=np.int8, count=n)
        )
        parts["words"].append(np.fromiter((r[2] or 0 for r in rows), dtype=np.int64, count=n))
        parts["status"].append(
            np.fromiter((STATUS_CODES.get(r[3] or "", 0) for r in rows), dtype=np.int8, count=n)
        )
        parts["quality"].append(
            np.fromiter((1 + bool(r[4]) + bool(r[5]) + bool(r[6]) for r in rows), dtype=np.int8, count=n)
        )
        parts["authors"].append(coders["authors"].codes((r[6] or "" for r in rows), n))
        parts["series"].append(coders["series"].codes((r[7] or "" for r in rows), n))
    dtypes = {"ids": np.int64, "rank": np.int8, "words": np.int64, "status": np.int8, "quality": np.int8}
    columns = {name: _joined(parts[name], dtype) for name, dtype in dtypes.items()}
    named = {
        kind: {value: rows for value, rows in coder.groups(_joined(parts[kind], np.int32)) if value}
        for kind, coder in coders.items()
    }
    return columns, named


async def _order(session: AsyncSession, ids: np.ndarray, *keys: Any) -> np.ndarray:
    """The live stories' positions (in `ids`) in the order of `keys`, sorted by the database: held
    as Python strings, 50,000 sort keys cost 30 MB at their peak."""
    stmt = select(Story.id).where(Story.removed_at.is_(None)).order_by(*keys)
    parts = [
        np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        async for rows in _chunks(session, stmt)
    ]
    ordered = _joined(parts, np.int64)
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    at = np.searchsorted(ids, ordered)
    order = at[(at < len(ids)) & (ids[np.minimum(at, len(ids) - 1)] == ordered)]
    if len(order) < len(ids):  # a story stored between the two reads: the rest after, by id
        order = np.concatenate([order, np.setdiff1d(np.arange(len(ids)), order)])
    return order


async def build(session: AsyncSession, people: People | None = None) -> Facets:
    """A fresh snapshot of the live archive (about a second at 50,000 stories). With `people`,
    each stored name counts as the person its story's fandom reads it as (`Clara` in a Doctor Who
    story is Clara Oswald: `service.people`). The rows are read a chunk at a time into arrays."""
    c, named = await _stories(session)
    ids = c["ids"]
    # Text sorts in code-point order on both engines: SQLite compares UTF-8 bytes, PostgreSQL is
    # told to (the "C" collation).
    pg = (await session.connection()).dialect.name == "postgresql"

    def text_key(column: Any) -> Any:
        return column.collate("C") if pg else column

    # newest first: published (missing last), then added, then id; each descending
    newest = _places(
        await _order(
            session,
            ids,
            Story.published.is_(None),
            text_key(Story.published).desc(),
            Story.added_at.desc(),
            Story.id.desc(),
        )
    )
    title = _places(await _order(session, ids, text_key(func.coalesce(Story.title_key, "")), Story.id))
    facets = Facets(
        ids, c["rank"], c["words"], c["status"], c["quality"], newest, title, {}, np.zeros(0, np.int64),
        np.zeros(0, np.int8), np.zeros(0, bool), {}, {}, named["authors"], named["series"],
    )  # fmt: skip
    await _fill_characters(session, facets, people)
    await _fill_relationships(session, facets, people)
    await _fill_tags(session, facets)
    return facets


def _renamed(people: People | None, story_ids: Any, names: list[str]) -> list[str]:
    """Each (story, stored name) read as the person it means there; unchanged without `people`."""
    if people is None or not people.renamed:
        return names
    renamed = people.renamed
    return [
        people.rename(int(sid), name) if name in renamed else name
        for sid, name in zip(story_ids, names, strict=True)
    ]


async def _fill_characters(session: AsyncSession, facets: Facets, people: People | None = None) -> None:
    sc = StoryCharacter
    stmt = (
        select(sc.story_id, sc.name, sc.source, sc.mentions)
        .join(Story, Story.id == sc.story_id)
        .where(features_sql())
    )
    coder = _Coder()
    stories: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    async for rows in _chunks(session, stmt):
        n = len(rows)
        story_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        stories.append(story_ids)
        weights.append(
            np.fromiter(
                ((HEADER_WEIGHT if r[2] == "header" else 0.0) + min(r[3] or 0, MENTION_CAP) for r in rows),
                dtype=np.float64,
                count=n,
            )
        )
        codes.append(coder.codes(_renamed(people, story_ids, [r[1] for r in rows]), n))
    at, live = facets.locate(_joined(stories, np.int64))
    weight = _joined(weights, np.float64)
    for name, idx in coder.groups(_joined(codes, np.int32)):
        keep = idx[live[idx]]
        pos, w = at[keep], weight[keep]
        if len(np.unique(pos)) < len(pos):  # two spellings of one person in one story: the best
            order = np.lexsort((-w, pos))
            pos, w = pos[order], w[order]
            first = np.concatenate(([True], pos[1:] != pos[:-1]))
            pos, w = pos[first], w[first]
        facets.characters[name] = (pos, w)


async def _fill_relationships(session: AsyncSession, facets: Facets, people: People | None = None) -> None:
    rel = StoryRelationship
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    async for rows in _chunks(session, select(rel.id, rel.story_id, rel.size, rel.kind).order_by(rel.id)):
        n = len(rows)
        parts["ids"].append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=n))
        parts["story"].append(np.fromiter((r[1] for r in rows), dtype=np.int64, count=n))
        parts["size"].append(np.fromiter((r[2] for r in rows), dtype=np.int8, count=n))
        parts["romantic"].append(np.fromiter((r[3] == "romantic" for r in rows), dtype=bool, count=n))
    rel_ids, story_of = _joined(parts["ids"], np.int64), _joined(parts["story"], np.int64)
    at, live = facets.locate(story_of)
    facets.rel_pos = at
    facets.rel_size = _joined(parts["size"], np.int8)
    facets.rel_romantic = _joined(parts["romantic"], bool) & live  # a retired story's rows: none
    m = RelationshipMember
    coder = _Coder()
    rows_of: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    renaming = people is not None and bool(people.renamed)
    async for members in _chunks(session, select(m.relationship_id, m.name)):
        n = len(members)
        row_of = np.searchsorted(rel_ids, np.fromiter((r[0] for r in members), dtype=np.int64, count=n))
        names = [r[1] for r in members]
        if renaming:
            stories = [int(story_of[i]) if i < len(rel_ids) else -1 for i in row_of]
            names = _renamed(people, stories, names)
        rows_of.append(row_of)
        codes.append(coder.codes(names, n))
    row_of = _joined(rows_of, np.int64)
    for name, idx in coder.groups(_joined(codes, np.int32)):
        found = np.unique(row_of[idx])
        facets.members[name] = found[live[found]]


async def _fill_tags(session: AsyncSession, facets: Facets) -> None:
    coder = _Coder()
    stories: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    async for rows in _chunks(session, select(StoryTag.story_id, StoryTag.kind, StoryTag.name)):
        n = len(rows)
        stories.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=n))
        codes.append(coder.codes(((kind, name) for _sid, kind, name in rows), n))
    story_ids = _joined(stories, np.int64)
    facets.tags = {
        key: facets.positions_of(story_ids[idx]) for key, idx in coder.groups(_joined(codes, np.int32))
    }
