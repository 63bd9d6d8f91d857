"""Which story a file belongs to: a story's files, its identity keys, retiring and reviving.

Owns the `story_files` table and the rules that keep a story's id across everything that happens to
its files: a file is the story that already has its path; else the story (live, retired or removed)
with the same AO3 work, the same normalised text (fingerprint) or the same bytes; else a new story.
A story whose files all left the archive folder is retired (hidden, kept whole); when one of its
keys comes back it is revived with its id, overrides, kudos and history. Plain synchronous Core
statements on the caller's connection (the caller owns the transaction). It must not read files,
parse, or import Discord; `db.store` calls it, `service.indexer` decides when to retire.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.orm import Session

from db.models import Story, StoryFile, StoryText, utcnow
from db.rawsql import Sql

log = logging.getLogger(__name__)

_FILES = StoryFile.__table__
_STORIES = Story.__table__
_TEXTS = StoryText.__table__

UNREAD_SCORE = -1
"""The score of a file row made by the 0003 migration, before the indexer looked at it."""
How = Literal["path", "work", "text", "bytes", "new"]
Among = Literal["all", "retired", "path"]


@dataclass(frozen=True, slots=True)
class Match:
    """The story a file belongs to (None: a new one), how it was recognised and the story's state."""

    story_id: int | None
    how: How
    removed: bool = False  # mod-removed (hidden on purpose: a returning copy stays out)
    retired: bool = False  # its files had all gone (a returning copy brings it back)
    primary: str | None = None  # the story's best-read file (the one its rows were made from)
    primary_score: int = 0


_STATE = Sql("SELECT removed_at, retired_at, path FROM stories WHERE id = :id")
_SCORE = Sql("SELECT score FROM story_files WHERE path = :path")
_FILE_STORY = Sql("SELECT story_id FROM story_files WHERE path = :path")
_STORY_AT = Sql("SELECT id FROM stories WHERE path = :path")
_KEY_ORDER = " ORDER BY s.removed_at IS NOT NULL, s.retired_at IS NULL, s.id LIMIT 1"
_BY_KEY = {
    (column, retired_only): Sql(
        "SELECT f.story_id FROM story_files AS f JOIN stories AS s ON s.id = f.story_id WHERE "
        + ("s.retired_at IS NOT NULL AND " if retired_only else "")
        + f"f.{column} = :value"
        + _KEY_ORDER
    )
    for column in ("work_key", "fingerprint", "file_hash")
    for retired_only in (False, True)
}
"""A key's story: a live one first, then a retired one, then a removed one; the oldest of each."""


def _state(conn: Connection, story_id: int, how: How) -> Match:
    row = _STATE.run(conn, {"id": story_id}).fetchone()
    if row is None:
        raise LookupError(f"story {story_id} is gone")
    removed_at, retired_at, path = row
    score = _SCORE.scalar(conn, {"path": path})
    return Match(
        story_id,
        how,
        removed=removed_at is not None and retired_at is None,
        retired=retired_at is not None,
        primary=path,
        primary_score=score or 0,
    )


def find_story(
    conn: Connection,
    path: str,
    sha256: str,
    work_key: str | None,
    fingerprint: str | None,
    among: Among = "all",
) -> Match:
    """The story the file at `path` with these keys belongs to (see the module docstring).

    `among` says which stories the keys may find: "all" (the indexer), "retired" (an upload: it may
    bring a retired work back, never merge into a live story), "path" (only the file's own story).
    """
    by_path = _FILE_STORY.scalar(conn, {"path": path})
    if by_path is None:
        by_path = _STORY_AT.scalar(conn, {"path": path})
    if by_path is not None:
        return _state(conn, by_path, "path")
    if among == "path":
        return Match(None, "new")
    keys: list[tuple[How, str, str | None]] = [
        ("work", "work_key", work_key),
        ("text", "fingerprint", fingerprint),
        ("bytes", "file_hash", sha256),
    ]
    for how, column, value in keys:
        if not value:
            continue
        found = _BY_KEY[column, among == "retired"].scalar(conn, {"value": value})
        if found is not None:
            return _state(conn, found, how)
    return Match(None, "new")


def save_file(
    conn: Connection,
    story_id: int,
    *,
    path: str,
    size: int,
    mtime: float,
    sha256: str,
    fmt: str,
    score: int,
    work_key: str | None,
    fingerprint: str | None,
) -> None:
    """Insert or update the `story_files` row of `path` (moving it to `story_id` if need be)."""
    values = {
        "path": path,
        "story_id": story_id,
        "file_size": size,
        "file_mtime": mtime,
        "file_hash": sha256,
        "format": fmt[:32],
        "score": score,
        "work_key": work_key,
        "fingerprint": fingerprint,
    }
    if _UPDATE_FILE.run(conn, values).rowcount == 0:
        _INSERT_FILE.run(conn, values)


_FILE_COLUMNS = (
    "story_id",
    "file_size",
    "file_mtime",
    "file_hash",
    "format",
    "score",
    "work_key",
    "fingerprint",
)
_UPDATE_FILE = Sql(
    "UPDATE story_files SET " + ", ".join(f"{c} = :{c}" for c in _FILE_COLUMNS) + " WHERE path = :path"
)
_INSERT_FILE = Sql(
    f"INSERT INTO story_files (path, {', '.join(_FILE_COLUMNS)}) "
    f"VALUES (:path, {', '.join(':' + c for c in _FILE_COLUMNS)})"
)


def touch_file(conn: Connection, path: str, mtime: float) -> None:
    """Record a file's new mtime when its bytes did not change."""
    conn.execute(update(_FILES).where(_FILES.c.path == path).values(file_mtime=mtime))


def revive(conn: Connection, story_id: int) -> None:
    """A retired story is live again (its work came back)."""
    conn.execute(update(_STORIES).where(_STORIES.c.id == story_id).values(removed_at=None, retired_at=None))


def retire(session: Session, story_ids: Iterable[int]) -> None:
    """Hide stories whose files all left the archive folder, keeping every row hung on them."""
    conn = session.connection()
    now = utcnow()
    for chunk in _chunks(list(story_ids)):
        conn.execute(
            update(_STORIES)
            .where(_STORIES.c.id.in_(chunk), _STORIES.c.removed_at.is_(None))
            .values(removed_at=now, retired_at=now, removed_path=None)
        )


def drop_files(session: Session, paths: Iterable[str]) -> None:
    """Forget file rows (files gone from a story that still has others)."""
    conn = session.connection()
    for chunk in _chunks(list(paths)):
        conn.execute(_FILES.delete().where(_FILES.c.path.in_(chunk)))


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def live_files(session: Session) -> dict[str, tuple[int, float, str, int]]:
    """Every file of a live story: path -> (size, mtime, sha256, story id). A story stored with no
    file row (made before story files existed, or by hand) counts with its own path."""
    conn = session.connection()
    rows = conn.execute(
        select(_FILES.c.path, _FILES.c.file_size, _FILES.c.file_mtime, _FILES.c.file_hash, _FILES.c.story_id)
        .join(_STORIES, _STORIES.c.id == _FILES.c.story_id)
        .where(_STORIES.c.removed_at.is_(None))
    )
    found = {path: (size, mtime, sha, sid) for path, size, mtime, sha, sid in rows}
    bare = conn.execute(
        select(
            _STORIES.c.path, _STORIES.c.file_size, _STORIES.c.file_mtime, _STORIES.c.file_hash, _STORIES.c.id
        )
        .where(_STORIES.c.removed_at.is_(None))
        .where(~select(_FILES.c.path).where(_FILES.c.story_id == _STORIES.c.id).exists())
    )
    for path, size, mtime, sha, sid in bare:
        found.setdefault(path, (size, mtime, sha, sid))
    return found


def held_paths(session: Session) -> set[str]:
    """Files of mod-removed stories (and their own paths): the indexer leaves them alone."""
    conn = session.connection()
    removed = and_(_STORIES.c.removed_at.is_not(None), _STORIES.c.retired_at.is_(None))
    paths = set(
        conn.execute(select(_FILES.c.path).join(_STORIES, _STORIES.c.id == _FILES.c.story_id).where(removed))
        .scalars()
        .all()
    )
    paths.update(conn.execute(select(_STORIES.c.path).where(removed)).scalars().all())
    return paths


@dataclass(slots=True)
class GonePlan:
    """What the files missing from the folder mean: stories to retire, files to forget, new primaries."""

    retire: dict[int, str] = field(default_factory=dict)  # story id -> its primary path
    drop: list[str] = field(default_factory=list)  # gone files of stories that keep other files
    repick: dict[int, str] = field(default_factory=dict)  # story id -> the file to read it from now
    live: int = 0  # live stories before this run's removals


def plan_gone(session: Session, gone: set[str]) -> GonePlan:
    """Sort the live stories' `gone` files into stories to retire, files to drop and new primaries."""
    conn = session.connection()
    plan = GonePlan(
        live=conn.execute(select(func.count()).where(_STORIES.c.removed_at.is_(None))).scalar_one()
    )
    if not gone:
        return plan
    rows = conn.execute(
        select(_FILES.c.story_id, _FILES.c.path, _FILES.c.score, _STORIES.c.path.label("primary"))
        .join(_STORIES, _STORIES.c.id == _FILES.c.story_id)
        .where(_STORIES.c.removed_at.is_(None))
        .order_by(_FILES.c.story_id, _FILES.c.score.desc(), _FILES.c.path)
    ).all()
    by_story: dict[int, list] = {}
    for row in rows:
        by_story.setdefault(row.story_id, []).append(row)
    for story_id, files in by_story.items():
        lost = [f for f in files if f.path in gone]
        if not lost:
            continue
        kept = [f for f in files if f.path not in gone]
        if not kept:
            plan.retire[story_id] = files[0].primary
            continue
        plan.drop += [f.path for f in lost]
        if files[0].primary in gone:
            plan.repick[story_id] = kept[0].path
    return plan


def stories_missing_fingerprints(session: Session, limit: int) -> list[tuple[str, int, str]]:
    """(path, story id, stored text) of primary files with no fingerprint yet (an upgraded archive)."""
    conn = session.connection()
    rows = conn.execute(
        select(_FILES.c.path, _FILES.c.story_id, _TEXTS.c.body)
        .join(_STORIES, and_(_STORIES.c.id == _FILES.c.story_id, _STORIES.c.path == _FILES.c.path))
        .join(_TEXTS, _TEXTS.c.story_id == _FILES.c.story_id)
        .where(_FILES.c.score == UNREAD_SCORE)
        .limit(limit)
    )
    return [(path, sid, body) for path, sid, body in rows]


def set_fingerprints(session: Session, rows: Iterable[tuple[str, str | None]]) -> None:
    """Store fingerprints computed from stored text (the file counts as read from then on)."""
    conn = session.connection()
    for path, fingerprint in rows:
        conn.execute(update(_FILES).where(_FILES.c.path == path).values(fingerprint=fingerprint, score=0))
