"""The archive's vocabulary: distinct authors, tags, fandoms, characters and pairings of the live
archive with their story counts, for name resolution, autocomplete and the rankings.

Owns `Vocabulary`, how it is counted from the database (`build_vocabulary`) and the two rankings
(`count_pairings`, `count_characters`). It holds no cache: the one snapshot in memory is kept by
`service.views.ArchiveViews`. It must not import Discord; it only reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.keys import fold
from db.models import RelationshipMember, Story, StoryCharacter, StoryRelationship, StoryTag
from service.hits import features_sql
from service.people import People


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
    derived: dict[tuple[str, Any], Any] = field(default_factory=dict)
    """What is worked out from this snapshot on first use (tag groups); dropped with the snapshot
    when `service.views` rebuilds it."""


def _seen(allowed_levels: frozenset[str] | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Story.removed_at.is_(None)]
    if allowed_levels is not None:
        conds.append(Story.rating_level.in_(sorted(allowed_levels)))
    return conds


def _most_first(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


async def count_pairings(
    session: AsyncSession, allowed_levels: frozenset[str] | None = None, people: People | None = None
) -> list[tuple[str, int]]:
    """Every relationship key with the number of live (visible) stories holding it, most first;
    with `people`, keys read with each story's people (`Clara/Twelve` is `Clara Oswald/Twelfth
    Doctor` in a Doctor Who story)."""
    rel = StoryRelationship
    n = func.count(func.distinct(rel.story_id))
    rows = await session.execute(
        select(rel.key, n)
        .join(Story, Story.id == rel.story_id)
        .where(*_seen(allowed_levels))
        .group_by(rel.key)
        .order_by(n.desc(), rel.key)
    )
    counted = [(k, int(c)) for k, c in rows]
    if people is None or not people.renamed:
        return counted
    m, other = RelationshipMember, aliased(RelationshipMember)
    touched = select(other.relationship_id).where(other.name.in_(sorted(people.renamed))).scalar_subquery()
    members = await session.execute(
        select(rel.id, rel.story_id, rel.kind, rel.key, m.name)
        .join(m, m.relationship_id == rel.id)
        .join(Story, Story.id == rel.story_id)
        .where(*_seen(allowed_levels), rel.id.in_(touched))
    )
    found: dict[int, tuple[int, str, str, list[str]]] = {}
    for rid, sid, kind, key, name in members:
        found.setdefault(rid, (sid, kind, key, []))[3].append(people.rename(sid, name))
    counts = dict(counted)
    for old, new in (
        ({(key, sid)}, {(("/" if kind == "romantic" else " & ").join(sorted(set(names))), sid)})
        for sid, kind, key, names in found.values()
    ):
        if old != new:
            for key, _sid in old:
                counts[key] -= 1
            for key, _sid in new:
                counts[key] = counts.get(key, 0) + 1
    return _most_first({k: n for k, n in counts.items() if n > 0})


async def count_characters(
    session: AsyncSession, allowed_levels: frozenset[str] | None = None, people: People | None = None
) -> list[tuple[str, int]]:
    """Every featured character with the number of live (visible) stories featuring them, most
    first; with `people`, one person one count (`Clara` and `Clara Oswald` are one)."""
    sc = StoryCharacter
    rows = await session.execute(
        select(sc.name, func.count())
        .join(Story, Story.id == sc.story_id)
        .where(*_seen(allowed_levels), features_sql())
        .group_by(sc.name)
        .order_by(func.count().desc(), sc.name)
    )
    counted = [(c, int(n)) for c, n in rows]
    affected = people.affected() if people is not None else set()
    if people is None or not affected:
        return counted
    counts = {c: n for c, n in counted if c not in affected}
    pairs = await session.execute(
        select(sc.story_id, sc.name)
        .join(Story, Story.id == sc.story_id)
        .where(*_seen(allowed_levels), features_sql(), sc.name.in_(sorted(affected)))
    )
    stories: dict[str, set[int]] = {}
    for sid, name in pairs:
        stories.setdefault(people.rename(sid, name), set()).add(sid)
    for name, ids in stories.items():
        counts[name] = counts.get(name, 0) + len(ids)
    return _most_first(counts)


async def build_vocabulary(session: AsyncSession, people: People | None = None) -> Vocabulary:
    """A fresh vocabulary of the live archive (names, labels and counts), names read as the
    people they mean when `people` is given."""
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
    pairings = await count_pairings(session, people=people)
    characters = await count_characters(session, people=people)
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
    )
