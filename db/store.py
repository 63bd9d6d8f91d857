"""Storing parsed stories: one `StoryMeta` in, the rows of one story out (stories, story_texts and
the character, relationship and tag tables), with a mod's overrides applied on top.

Owns how a story's metadata maps onto the schema. `write_story` is the one store path (indexer,
uploads, curation): the story a file belongs to is found by `db.identity` (same path, work, text
or bytes), so its id (and every override, rec and audit entry pointing at it) survives re-indexing,
renames and retirement. The caller owns the transaction (the indexer commits batches, a savepoint
per story). Inserts are SQL written once (`db.rawsql.Sql`: straight to the driver on SQLite,
executemany for children) because the indexer stores thousands of stories a run and building Core
statements cost more than SQLite's own work. It must not parse files or import Discord; the FTS
index follows `story_texts` by triggers (see `db/fts.py`; the indexer's batches defer it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from archive.model import StoryMeta
from archive.ratings import RANK
from db.identity import Among, find_story, held_paths, live_files, revive, save_file, touch_file
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
from db.overrides import apply_overrides
from db.rawsql import Sql

log = logging.getLogger(__name__)

RATING_RANK = RANK
"""general 0, teen 1, mature 2, explicit 3, not_rated 4 (`archive.ratings.RANK`)."""

_STORIES = Story.__table__
_TEXTS = StoryText.__table__
_CHARS = StoryCharacter.__table__
_RELS = StoryRelationship.__table__
_MEMBERS = RelationshipMember.__table__
_TAGS = StoryTag.__table__
_ID = bindparam("b_story_id")

_OVERRIDES = select(Override.field, Override.value).where(Override.story_id == _ID)
_UPDATE_STORY = _STORIES.update().where(_STORIES.c.id == _ID)
_UPDATE_TEXT = _TEXTS.update().where(_TEXTS.c.story_id == _ID)
_CLEAR = [delete(table).where(table.c.story_id == _ID) for table in (_CHARS, _RELS, _TAGS)]
_STORY_COLUMNS = tuple(
    c.name for c in _STORIES.columns if c.name not in ("id", "removed_at", "removed_path", "retired_at")
)
_TYPED = {"added_at": _STORIES.c.added_at.type, "indexed_at": _STORIES.c.indexed_at.type}
_TYPED |= {"meta": _STORIES.c.meta.type, "problems": _STORIES.c.problems.type}


def _insert(table: Any, columns: tuple[str, ...], returning: str = "", types: dict | None = None) -> Sql:
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    tail = f" RETURNING {returning}" if returning else ""
    return Sql(f"INSERT INTO {table.name} ({names}) VALUES ({values}){tail}", types)


_INSERT_STORY_SQL = _insert(_STORIES, _STORY_COLUMNS, "id", _TYPED)
_INSERT_TEXT = _insert(_TEXTS, ("story_id", "title", "author", "summary", "tags", "body"))
_INSERT_CHARS = _insert(_CHARS, ("story_id", "name", "source", "mentions"))
_INSERT_TAGS = _insert(_TAGS, ("story_id", "kind", "name", "label"))
_INSERT_REL = _insert(_RELS, ("story_id", "key", "kind", "size", "raw", "past"), "id")
_INSERT_MEMBERS = _insert(_MEMBERS, ("relationship_id", "name"))
_TITLE = Sql("SELECT title FROM stories WHERE id = :id")


def _clip(value: str | None, size: int) -> str | None:
    return value if value is None or len(value) <= size else value[: size - 1] + "…"


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


def _write_children(conn: Connection, story_id: int, meta: StoryMeta) -> None:
    chars = (
        {"story_id": story_id, "name": _clip(c.name, 128), "source": c.source, "mentions": c.mentions}
        for c in meta.characters
        if c.name
    )
    _INSERT_CHARS.many(conn, _unique(chars, "name"))
    labels = [("tag", t) for t in meta.tags] + [("warning", w) for w in meta.warnings]
    labels += [("fandom", f) for f in meta.fandoms]
    folded = ((kind, fold(label), label) for kind, label in labels)
    rows = (
        {"story_id": story_id, "kind": k, "name": _clip(n, 256), "label": _clip(lb, 256)}
        for k, n, lb in folded
        if n
    )
    _INSERT_TAGS.many(conn, _unique(rows, "kind", "name"))
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
    rel_ids = [_INSERT_REL.scalar(conn, row) for row in rel_rows]
    members = [
        {"relationship_id": rel_id, "name": _clip(name, 128)}
        for rel_id, rel in zip(rel_ids, meta.relationships, strict=True)
        for name in dict.fromkeys(rel.characters)
    ]
    _INSERT_MEMBERS.many(conn, members)


def _overrides(session: Session, story_id: int) -> dict[str, Any]:
    rows = session.connection().execute(_OVERRIDES, {"b_story_id": story_id})
    return {field: value for field, value in rows}


async def story_overrides(session: AsyncSession, story_id: int) -> dict[str, Any]:
    """The mod overrides stored for a story, as {field: value}."""
    return await session.run_sync(_overrides, story_id)


class Stored(NamedTuple):
    """What storing a file did: the story it belongs to, its title, and `how`:

    new (a new story), updated (the story's rows remade from this file), joined (another file of a
    story that is read from a better one), returned (a retired story came back with this file),
    refused (the same work as a mod-removed story: left out).
    """

    story_id: int
    title: str
    how: str


def _title(conn: Connection, story_id: int) -> str:
    return _TITLE.scalar(conn, {"id": story_id}) or ""


def write_story(
    session: Session,
    meta: StoryMeta,
    *,
    path: str,
    size: int,
    mtime: float,
    sha256: str,
    roster: Any = None,
    work_key: str | None = None,
    fingerprint: str | None = None,
    score: int = 0,
    primary: bool = False,
    among: Among = "path",
) -> Stored:
    """Store the file at `path` as (part of) its story: THE store path of the indexer, uploads and
    curation alike.

    The story is found by `db.identity.find_story` (same path; with `among` "all" also the same
    work, text or bytes; with "retired" only a retired story's), so its id and everything hung on
    it survive edits, renames, moves and a return after retirement. The story's rows are made from its best-read file (highest `score`, or `primary`):
    `meta` with the story's overrides applied; `stories.meta` keeps the parser's own view.
    """
    conn = session.connection()
    match = find_story(conn, path, sha256, work_key, fingerprint, among)
    story_id = match.story_id
    if story_id is not None and match.removed and match.how != "path":
        return Stored(story_id, _title(conn, story_id), "refused")
    keys = {"work_key": work_key, "fingerprint": fingerprint}
    file = {"path": path, "size": size, "mtime": mtime, "sha256": sha256, "fmt": meta.format, "score": score}
    leads = (
        story_id is None or primary or match.retired or match.primary == path or score > match.primary_score
    )
    if story_id is not None:
        save_file(conn, story_id, **file, **keys)
        if match.retired:
            revive(conn, story_id)
        if not leads:
            return Stored(story_id, _title(conn, story_id), "joined")
    overrides = _overrides(session, story_id) if story_id is not None else {}
    effective = apply_overrides(meta, overrides, roster) if overrides else meta
    row = _story_row(effective, meta, path, size, mtime, sha256)
    texts = _text_row(effective)
    if story_id is None:
        story_id = _INSERT_STORY_SQL.scalar(conn, {**row, "added_at": row["indexed_at"]})
        _INSERT_TEXT.run(conn, {"story_id": story_id, **texts})
        save_file(conn, story_id, **file, **keys)
        how = "new"
    else:
        conn.execute(_UPDATE_STORY, {**row, "b_story_id": story_id})
        conn.execute(_UPDATE_TEXT, {**texts, "b_story_id": story_id})
        for statement in _CLEAR:
            conn.execute(statement, {"b_story_id": story_id})
        how = "returned" if match.retired else "updated" if match.how == "path" else "joined"
    _write_children(conn, story_id, effective)
    return Stored(story_id, row["title"], how)


def save_story_sync(session: Session, meta: StoryMeta, **file: Any) -> Story:
    """`save_story` on a synchronous session."""
    story_id = write_story(session, meta, **file).story_id
    story = session.get(Story, story_id, populate_existing=True)
    assert story is not None
    return story


async def save_story(session: AsyncSession, meta: StoryMeta, **file: Any) -> Story:
    """`write_story` on an async session (same keywords: path, size, mtime, sha256, roster and the
    identity keys); returns the story the file belongs to. The caller commits."""
    return await session.run_sync(save_story_sync, meta, **file)


def touch_story_sync(session: Session, story_id: int, *, mtime: float, path: str | None = None) -> None:
    """Record a file's new mtime when its bytes did not change (no re-parse)."""
    conn = session.connection()
    if path is not None:
        touch_file(conn, path, mtime)
        primary = conn.execute(select(_STORIES.c.path).where(_STORIES.c.id == story_id)).scalar()
        if primary != path:
            return
    conn.execute(_UPDATE_STORY, {"file_mtime": mtime, "b_story_id": story_id})


def delete_story_sync(session: Session, story_id: int) -> None:
    """`delete_story` on a synchronous session."""
    session.connection().execute(delete(_STORIES).where(_STORIES.c.id == story_id))


async def delete_story(session: AsyncSession, story_id: int) -> None:
    """Delete a story and everything hung on it (children and FTS rows go by cascade/triggers)."""
    await session.run_sync(delete_story_sync, story_id)


async def stored_files(session: AsyncSession) -> dict[str, tuple[int, float, str, int]]:
    """Every file of a live story: path -> (size, mtime, sha256, story id)."""
    return await session.run_sync(live_files)


async def removed_paths(session: AsyncSession) -> set[str]:
    """Files of mod-removed stories (the indexer leaves these alone)."""
    return await session.run_sync(held_paths)
