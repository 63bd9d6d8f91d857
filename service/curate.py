"""Mods curate the archive: add a confirmed upload, correct a story's metadata, reset it, remove it
(the file is moved aside, never destroyed), restore it, and read the audit trail.

Owns each change and its `audit_log` entry, written in one transaction, then `lib.refresh()` so
every in-memory view (`service.views`) has it. Corrections are stored as overrides, so they survive re-indexing and
edits of the file. The checks on what is sent (names, formats, duplicates, quota) are
`service.uploads`'s. The bot and the CLI call the same functions with an `Actor`. It must not import
Discord: who counts as a mod is the cog's decision; this module trusts the actor it is given.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from archive.model import StoryMeta
from db.crashpoint import crash_point
from db.files import free_story_path, home_of, story_file
from db.keys import fold
from db.models import AuditEntry, Override, Story, aware, utcnow
from db.overrides import apply_overrides
from service.library import Library
from service.query import QueryError
from service.stories import StoryCard, find_title, resolve_story, story_card, typed_exactly
from service.storing import refresh_views, store_file
from service.uploads import (
    UPLOAD_FOLDER,
    Actor,
    CurateError,
    RateLimited,
    Upload,
    adds_left,
    clean_override,
    duplicate_of,
    free_path,
    move_file,
    parse_upload,
    prepare_add,
    taken_paths,
    write_new_file,
)

__all__ = [
    "Actor",
    "AuditRecord",
    "CurateError",
    "RateLimited",
    "Upload",
    "adds_left",
    "commit_add",
    "edit_story",
    "history",
    "prepare_add",
    "remove_story",
    "reset_story",
    "restore_story",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit trail."""

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    story_id: int | None
    story_title: str
    detail: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """`edited rating: Mature` — what happened, in words (no timestamp, no actor)."""
        verb = {"add": "added", "edit": "edited", "reset": "reset", "remove": "removed"}
        words = f"{verb.get(self.action, self.action + 'd')} “{self.story_title}”"
        if self.action == "edit":
            words += f" — {self.detail.get('field')}: {_shown(self.detail.get('value'))}"
        elif self.action == "reset" and self.detail.get("dropped"):
            words += " — dropped " + ", ".join(sorted(self.detail["dropped"]))
        return words


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", part ".join(str(v) for v in (value.get("name"), value.get("part")) if v)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return "(cleared)" if value in (None, "") else str(value)


def _audit(
    session: AsyncSession, actor: Actor, action: str, story_id: int, title: str, **detail: Any
) -> None:
    session.add(
        AuditEntry(
            guild_id=actor.guild_id,
            actor_id=actor.id,
            actor_name=actor.name[:128],
            action=action,
            story_id=story_id,
            story_title=title[:512],
            detail=detail,
        )
    )


async def _in_step(lib: Library) -> None:
    """Every in-memory view learns of the change at once (other processes within seconds), and a
    story added or restored has the archive's learned people counted in its text, as an index run
    would count them (`service.storing.refresh_views`)."""
    await refresh_views(lib)


async def commit_add(lib: Library, upload: Upload, actor: Actor) -> StoryCard:
    """Save the confirmed upload in the uploads folder (UPLOADS_DIR, never the tracked `stories/`),
    index it with its overrides, audit it."""
    left, until = await adds_left(lib, actor)
    if not left:
        raise RateLimited(lib.settings.adds_per_day, until)
    async with lib.sessions() as session:
        await duplicate_of(session, upload.sha256, apply_overrides(upload.meta, upload.overrides, lib.roster))
        taken = await taken_paths(session, f"{UPLOAD_FOLDER}/")
    try:
        path = free_story_path(lib.settings, f"{UPLOAD_FOLDER}/{upload.name}", taken)
    except FileExistsError as exc:
        raise CurateError(f"Too many files are called {upload.name!r} already.") from exc
    file = home_of(lib.settings, path)
    await asyncio.to_thread(write_new_file, file, upload.data)
    crash_point(lib.settings, "add:after-write")
    try:
        async with lib.transaction() as session:
            story = await store_file(session, lib, upload.meta, path, file, upload.sha256)
            for name, value in upload.overrides.items():
                session.add(
                    Override(
                        story_id=story.id, field=name, value=value, actor_id=actor.id, actor_name=actor.name
                    )
                )
            if upload.overrides:
                await session.flush()
                story = await store_file(session, lib, upload.meta, path, file, upload.sha256)
            _audit(session, actor, "add", story.id, story.title, path=path, overrides=upload.overrides)
            await session.flush()
            crash_point(lib.settings, "add:before-commit")
    except BaseException:
        file.unlink(missing_ok=True)
        raise
    log.info("%s added story %s (%s) as %s", actor.name, story.id, story.title, path)
    await _in_step(lib)
    return await story_card(lib, story.id)


# ---- changing stories that exist -------------------------------------------------------------------


async def _live(lib: Library, story_id: int) -> tuple[Story, StoryMeta, Path, str]:
    """The live story, its file parsed afresh (overrides are re-applied on top when stored), the
    file and its sha256."""
    async with lib.sessions() as session:
        story = await session.get(Story, story_id)
    if story is None or story.removed_at is not None:
        raise CurateError(f"There is no story #{story_id} in the archive (removed stories: /story restore).")
    file = story_file(lib.settings, story.path)
    try:
        data = await asyncio.to_thread(file.read_bytes)
    except OSError as exc:
        raise CurateError(
            f"The file of “{story.title}” ({story.path}) cannot be read: {exc.strerror or exc}."
        ) from exc
    meta = await asyncio.to_thread(parse_upload, lib, data, story.path)
    return story, meta, file, hashlib.sha256(data).hexdigest()


async def edit_story(lib: Library, story_id: int, field_name: str, value: Any, actor: Actor) -> StoryCard:
    """Store a mod's correction of one field (kept through re-indexing) and show the new card."""
    clean = clean_override(lib, field_name, value)
    story, meta, file, sha = await _live(lib, story_id)
    async with lib.transaction() as session:
        old = await session.scalar(
            select(Override).where(Override.story_id == story_id, Override.field == field_name)
        )
        previous = old.value if old is not None else None
        if old is None:
            session.add(
                Override(
                    story_id=story_id, field=field_name, value=clean, actor_id=actor.id, actor_name=actor.name
                )
            )
        else:
            old.value, old.actor_id, old.actor_name, old.at = clean, actor.id, actor.name, utcnow()
        await session.flush()
        stored = await store_file(session, lib, meta, story.path, file, sha)
        _audit(
            session, actor, "edit", story_id, stored.title, field=field_name, value=clean, previous=previous
        )
    await _in_step(lib)
    return await story_card(lib, story_id)


async def reset_story(lib: Library, story_id: int, actor: Actor) -> StoryCard:
    """Drop every correction of a story: it shows what the parser found again."""
    story, meta, file, sha = await _live(lib, story_id)
    async with lib.transaction() as session:
        rows = (
            await session.execute(select(Override.field, Override.value).where(Override.story_id == story_id))
        ).all()
        if not rows:
            raise CurateError(f"“{story.title}” has no corrections to drop.")
        await session.execute(delete(Override).where(Override.story_id == story_id))
        stored = await store_file(session, lib, meta, story.path, file, sha)
        _audit(session, actor, "reset", story_id, stored.title, dropped={f: v for f, v in rows})
    await _in_step(lib)
    return await story_card(lib, story_id)


async def remove_story(lib: Library, story_id: int, actor: Actor) -> StoryCard:
    """Take a story out of the archive at once; its file is moved into `removed_dir`, not deleted."""
    async with lib.sessions() as session:
        story = await session.get(Story, story_id)
    if story is None or story.removed_at is not None:
        raise CurateError(f"Story #{story_id} is not in the archive (already removed?).")
    src = story_file(lib.settings, story.path)
    attic = lib.settings.removed_dir
    dest = free_path(attic / PurePosixPath(story.path).parent, PurePosixPath(story.path).name)
    moved = src.exists()
    try:
        async with lib.transaction() as session:
            row = await session.get(Story, story_id)
            assert row is not None
            row.removed_at = utcnow()
            row.removed_path = dest.relative_to(attic).as_posix() if moved else None
            _audit(session, actor, "remove", story_id, row.title, path=story.path, moved_to=row.removed_path)
            await session.flush()
            crash_point(lib.settings, "remove:before-move")
            if moved:
                await asyncio.to_thread(move_file, src, dest)
            crash_point(lib.settings, "remove:after-move")
    except BaseException:
        if moved and dest.exists() and not src.exists():
            move_file(dest, src)
        raise
    log.info("%s removed story %s (%s)", actor.name, story_id, story.title)
    await _in_step(lib)
    return await story_card(lib, story_id)


async def restore_story(lib: Library, story_id: int, actor: Actor) -> StoryCard:
    """Bring a removed story back: its file returns to the story folder, re-indexed, overrides kept."""
    async with lib.sessions() as session:
        story = await session.get(Story, story_id)
        taken = await taken_paths(session, "")
    if story is None or story.removed_at is None:
        raise CurateError(f"Story #{story_id} is not a removed story.")
    if story.retired_at is not None:
        raise CurateError(
            f"“{story.title}” left the archive because its file is gone from the story folder; "
            "put the file back (any name, any format) and index: it returns with its corrections."
        )
    src = lib.settings.removed_dir / (story.removed_path or "\0")
    if not story.removed_path or not src.is_file():
        raise CurateError(
            f"The file of “{story.title}” is no longer in the removed folder; it cannot be restored."
        )
    taken.discard(story.path)
    path = free_story_path(lib.settings, story.path, taken)
    dest = home_of(lib.settings, path)
    data = await asyncio.to_thread(src.read_bytes)
    meta = await asyncio.to_thread(parse_upload, lib, data, path)
    try:
        async with lib.transaction() as session:
            row = await session.get(Story, story_id)
            assert row is not None
            row.path, row.removed_at, row.removed_path = path, None, None
            await session.flush()
            await asyncio.to_thread(move_file, src, dest)
            stored = await store_file(session, lib, meta, path, dest, hashlib.sha256(data).hexdigest())
            _audit(session, actor, "restore", story_id, stored.title, path=path)
            await session.flush()
            crash_point(lib.settings, "restore:after-move")
    except BaseException:
        if dest.exists() and not src.exists():
            move_file(dest, src)
        raise
    log.info("%s restored story %s (%s)", actor.name, story_id, stored.title)
    await _in_step(lib)
    return await story_card(lib, story_id)


# ---- finding stories and reading the trail ---------------------------------------------------------


async def removed_choices(lib: Library, typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """Autocomplete over removed stories: (title, story id), closest to what was typed first."""
    async with lib.sessions() as session:
        rows = (
            await session.execute(
                select(Story.id, Story.title).where(Story.removed_at.is_not(None), Story.retired_at.is_(None))
            )
        ).all()
    titles = {str(sid): title for sid, title in rows}
    if typed.strip():
        found = process.extract(
            typed, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit, score_cutoff=50
        )
        ordered = [key for _title, _score, key in found]
    else:
        ordered = sorted(titles, key=lambda k: fold(titles[k]))[:limit]
    return [(titles[k][:100], k) for k in ordered]


async def resolve_removed(lib: Library, typed: str) -> int:
    """The removed story meant by an id (what autocomplete sends) or a typed title: its exact title,
    or the one removed story close to it; with several close, the mod is asked which."""
    text = typed.strip()
    if text.isdigit():
        return int(text)
    choices = await removed_choices(lib, text, limit=5)
    if not choices:
        raise CurateError(f"No removed story is called {text[:120]!r}.")
    exact = [c for c in choices if typed_exactly(text, c[0])]
    if len(exact) == 1 or (not exact and len(choices) == 1):
        return int((exact or choices)[0][1])
    raise CurateError(
        f"Which removed story do you mean by {text[:120]!r}? Give its number (or its whole title).",
        [f"{title} (#{sid})" for title, sid in exact or choices],
    )


async def resolve_any(lib: Library, typed: str) -> int:
    """A story id from an id or a title, for the history and resets: a title typed exactly (a live
    story's or a removed one's), else a live story surely meant (`resolve_story`'s `strict`), else
    a removed one."""
    text = typed.strip()
    if text.isdigit():
        return int(text)
    live = [h for h in await find_title(lib, text, limit=5) if typed_exactly(text, h.title)]
    removed = [c for c in await removed_choices(lib, text, limit=5) if typed_exactly(text, c[0])]
    if len(live) + len(removed) == 1:
        return live[0].id if live else int(removed[0][1])
    if live or removed:
        raise CurateError(
            f"Several stories are called {text[:120]!r}: give the number of the one you mean.",
            [f"{h.title} (#{h.id})" for h in live] + [f"{t} (#{sid}, removed)" for t, sid in removed],
        )
    try:
        return (await resolve_story(lib, text, strict=True)).id
    except QueryError as not_live:
        try:
            return await resolve_removed(lib, text)
        except CurateError:
            raise not_live from None


async def history(lib: Library, story_id: int | None = None, limit: int = 500) -> list[AuditRecord]:
    """The audit trail, newest first; only one story's entries when `story_id` is given."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if story_id is not None:
        query = query.where(AuditEntry.story_id == story_id)
    async with lib.sessions() as session:
        rows = (await session.scalars(query)).all()
    return [
        AuditRecord(
            r.id,
            aware(r.at),
            r.actor_id,
            r.actor_name,
            r.action,
            r.story_id,
            r.story_title,
            dict(r.detail or {}),
        )
        for r in rows
    ]
