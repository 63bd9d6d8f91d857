"""Storing parsed stories: one `StoryMeta` in, the rows of one story out (stories, story_texts and
the character, relationship and tag tables), with a mod's overrides applied on top.

Owns how a story's metadata maps onto the schema, and `apply_overrides`. A story is updated in
place by its `path`, so its id (and every override, rec and audit entry pointing at it) survives a
re-index. The caller owns the transaction (the indexer uses one per story). It must not parse
files or import Discord; the FTS index follows `story_texts` by triggers (see `db/fts.py`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from archive.model import (
    RATING_LEVELS,
    CharacterCount,
    Rating,
    Relationship,
    Series,
    StoryMeta,
)
from archive.ratings import parse_rating
from db.keys import fold
from db.models import (
    Override,
    RelationshipMember,
    Story,
    StoryCharacter,
    StoryRelationship,
    StoryTag,
    StoryText,
    utcnow,
)

log = logging.getLogger(__name__)

RATING_RANK: dict[str, int] = {level: rank for rank, level in enumerate(RATING_LEVELS)}
"""general 0, teen 1, mature 2, explicit 3, not_rated 4."""

OVERRIDE_FIELDS = ("title", "author", "rating", "relationships", "characters", "tags", "summary", "series")


def _clip(value: str | None, size: int) -> str | None:
    return value if value is None or len(value) <= size else value[: size - 1] + "…"


def _names(value: Any) -> list[str]:
    """A list of names from a list or a comma/semicolon separated string."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _rating(value: Any) -> Rating:
    if isinstance(value, Mapping):
        level = value.get("level")
        return Rating(value.get("raw"), level if level in RATING_LEVELS else "not_rated")
    return parse_rating(str(value))[0]


def _relationships(value: Any, roster: Any) -> list[Relationship]:
    """Relationships from a pairing text (`Spike/Willow, Buffy & Faith`), a list of texts or JSON."""
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        return [
            Relationship(
                tuple(sorted(v["characters"])),
                v.get("kind", "romantic"),
                v.get("raw", ""),
                v.get("past", False),
            )
            for v in value
        ]
    texts = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value or "")]
    if roster is not None:
        return [rel for text in texts for rel in roster.parse_relationships(text)]
    found: list[Relationship] = []  # no roster: names as written
    for text in (piece for t in texts for piece in t.replace(";", ",").split(",")):
        platonic = "&" in text and "/" not in text
        members = tuple(sorted({p.strip() for p in text.split("&" if platonic else "/") if p.strip()}))
        if members:
            found.append(Relationship(members, "platonic" if platonic else "romantic", text.strip()))
    return found


def _series(value: Any) -> Series:
    if isinstance(value, Mapping):
        part = value.get("part")
        return Series(value.get("name") or None, int(part) if part not in (None, "") else None)
    return Series(str(value).strip() or None, None) if value else Series()


def apply_overrides(meta: StoryMeta, overrides: Mapping[str, Any], roster: Any = None) -> StoryMeta:
    """A copy of `meta` with a mod's corrections applied on top of what the parser found.

    Values, per field: title/author/summary: text (author/summary may be None); rating: a label
    (`PG-13`, `Mature`) or `{"raw", "level"}`; relationships: a pairing text (`Spike/Willow,
    Buffy & Faith`), a list of them, or relationship JSON (resolved through `roster` when given);
    characters and tags: a list (or comma-separated text); series: `{"name", "part"}` or a name.
    Unknown fields are ignored with a log line.
    """
    changes: dict[str, Any] = {}
    for field, value in overrides.items():
        if field == "title" and value:
            changes["title"] = str(value).strip()
        elif field in ("author", "summary"):
            changes[field] = str(value).strip() if value else None
        elif field == "rating":
            changes["rating"] = _rating(value)
        elif field == "relationships":
            changes["relationships"] = _relationships(value, roster)
        elif field == "characters":
            mentions = {c.name: c.mentions for c in meta.characters}
            changes["characters"] = [CharacterCount(n, "header", mentions.get(n, 0)) for n in _names(value)]
        elif field == "tags":
            changes["tags"] = _names(value)
        elif field == "series":
            changes["series"] = _series(value)
        else:
            log.warning("ignoring an override of unknown field %r", field)
    return dataclasses.replace(meta, **changes)


def _search_tags(meta: StoryMeta) -> str:
    words: list[str] = [*meta.tags, *(c.name for c in meta.characters), *(r.key for r in meta.relationships)]
    words += [*meta.fandoms, *([meta.series.name] if meta.series.name else [])]
    return ", ".join(words)


def _story_row(meta: StoryMeta, parsed: StoryMeta, path: str, size: int, mtime: float, sha256: str) -> dict:
    extras = {"part": parsed.part, "problems": list(parsed.problems)}
    return {
        "path": path,
        "file_size": size,
        "file_mtime": mtime,
        "file_hash": sha256,
        "format": meta.format,
        "title": _clip(meta.title, 512),
        "title_key": _clip(fold(meta.title), 512),
        "author": _clip(meta.author, 256),
        "author_key": _clip(fold(meta.author), 256) if meta.author else None,
        "rating_raw": _clip(meta.rating.raw, 128),
        "rating_level": meta.rating.level,
        "rating_rank": RATING_RANK.get(meta.rating.level, RATING_RANK["not_rated"]),
        "summary": meta.summary,
        "words": meta.words,
        "status": _clip(meta.status, 16),
        "published": _clip(meta.published, 32),
        "language": _clip(meta.language, 64),
        "season": _clip(meta.season, 256),
        "spoilers": _clip(meta.spoilers, 512),
        "series_name": _clip(meta.series.name, 256),
        "series_part": meta.series.part,
        "part": meta.part,
        "meta": {**parsed.to_json(), **extras},
        "problems": list(meta.problems),
        "indexed_at": utcnow(),
    }


def _text_row(meta: StoryMeta) -> dict:
    return {
        "title": meta.title,
        "author": meta.author or "",
        "summary": meta.summary or "",
        "tags": _search_tags(meta),
        "body": meta.body,
    }


def _unique(rows: Iterable[dict], *key: str) -> list[dict]:
    seen: dict[tuple, dict] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in key), row)
    return list(seen.values())


async def _write_children(session: AsyncSession, story_id: int, meta: StoryMeta) -> None:
    characters = _unique(
        (
            {"story_id": story_id, "name": _clip(c.name, 128), "source": c.source, "mentions": c.mentions}
            for c in meta.characters
            if c.name
        ),
        "name",
    )
    if characters:
        await session.execute(insert(StoryCharacter), characters)
    labels = [("tag", t) for t in meta.tags] + [("warning", w) for w in meta.warnings]
    labels += [("fandom", f) for f in meta.fandoms]
    tags = _unique(
        (
            {"story_id": story_id, "kind": kind, "name": _clip(fold(label), 256), "label": _clip(label, 256)}
            for kind, label in labels
            if fold(label)
        ),
        "kind",
        "name",
    )
    if tags:
        await session.execute(insert(StoryTag), tags)
    if not meta.relationships:
        return
    rel_rows = [
        {
            "story_id": story_id,
            "key": _clip(r.key, 512),
            "kind": r.kind,
            "size": len(r.characters),
            "raw": _clip(r.raw, 512) or "",
            "past": r.past,
        }
        for r in meta.relationships
    ]
    result = await session.execute(
        insert(StoryRelationship).returning(StoryRelationship.id, sort_by_parameter_order=True), rel_rows
    )
    members = [
        {"relationship_id": rel_id, "name": _clip(name, 128)}
        for rel_id, rel in zip(result.scalars(), meta.relationships, strict=True)
        for name in dict.fromkeys(rel.characters)
    ]
    if members:
        await session.execute(insert(RelationshipMember), members)


async def story_overrides(session: AsyncSession, story_id: int) -> dict[str, Any]:
    """The mod overrides stored for a story, as {field: value}."""
    rows = await session.execute(select(Override.field, Override.value).where(Override.story_id == story_id))
    return {field: value for field, value in rows}


async def save_story(
    session: AsyncSession,
    meta: StoryMeta,
    *,
    path: str,
    size: int,
    mtime: float,
    sha256: str,
    roster: Any = None,
) -> Story:
    """Insert the story at `path`, or update it in place (same id) when it is already indexed.

    The stored metadata is `meta` with the story's overrides applied; `stories.meta` keeps the
    parser's own view. `roster` resolves relationship overrides. The caller commits.
    """
    story_id = await session.scalar(select(Story.id).where(Story.path == path))
    overrides = await story_overrides(session, story_id) if story_id is not None else {}
    effective = apply_overrides(meta, overrides, roster) if overrides else meta
    row = _story_row(effective, meta, path, size, mtime, sha256)
    if story_id is None:
        story_id = await session.scalar(
            insert(Story).values(**row, added_at=row["indexed_at"]).returning(Story.id)
        )
        await session.execute(insert(StoryText).values(story_id=story_id, **_text_row(effective)))
    else:
        await session.execute(update(Story).where(Story.id == story_id).values(**row))
        await session.execute(
            update(StoryText).where(StoryText.story_id == story_id).values(**_text_row(effective))
        )
        for table in (StoryCharacter, StoryRelationship, StoryTag):
            await session.execute(delete(table).where(table.story_id == story_id))
    await _write_children(session, story_id, effective)
    story = await session.get(Story, story_id, populate_existing=True)
    assert story is not None
    return story


async def touch_story(session: AsyncSession, story_id: int, *, mtime: float) -> None:
    """Record a file's new mtime when its bytes did not change (no re-parse)."""
    await session.execute(update(Story).where(Story.id == story_id).values(file_mtime=mtime))


async def delete_story(session: AsyncSession, story_id: int) -> None:
    """Delete a story and everything hung on it (children and FTS rows go by cascade/triggers)."""
    await session.execute(delete(Story).where(Story.id == story_id))


async def stored_files(session: AsyncSession) -> dict[str, tuple[int, float, str, int]]:
    """Every indexed, not mod-removed story file: path -> (size, mtime, sha256, story id)."""
    rows = await session.execute(
        select(Story.path, Story.file_size, Story.file_mtime, Story.file_hash, Story.id).where(
            Story.removed_at.is_(None)
        )
    )
    return {path: (size, mtime, sha, sid) for path, size, mtime, sha, sid in rows}


async def removed_paths(session: AsyncSession) -> set[str]:
    """Paths of mod-removed stories (the indexer leaves these rows alone)."""
    return set(await session.scalars(select(Story.path).where(Story.removed_at.is_not(None))))
