"""Members' shelves: `to-read`, `reading`, `read`, `favourites` and shelves a member names, plus
whether others may look at them (private unless the member says otherwise).

Owns the shelf rules: a shelf name is matched folded (`To Read`, `to-read`, `want to read` are one
shelf; `favorites` is `favourites`), a member-made name is 1-40 characters; `to-read`, `reading` and
`read` are a reading status, so putting a story on one takes it off the other two, while favourites
and member-made shelves sit beside them; another member's shelves are shown only when they made them
public. Removed stories stay on a shelf but are not shown (they come back if restored).
It must not import Discord, and never shows a story a channel's age gate hides (it counts them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.keys import fold
from db.models import MemberPrefs, ReadingPosition, ShelfEntry, aware, utcnow
from service.hits import StoryHit, load_hits
from service.library import Library
from service.query import QueryError

log = logging.getLogger(__name__)

TO_READ, READING, READ, FAVOURITES = "to-read", "reading", "read", "favourites"
BUILT_IN: tuple[str, ...] = (TO_READ, READING, READ, FAVOURITES)
STATUS: frozenset[str] = frozenset({TO_READ, READING, READ})
"""A story is on at most one of these for a member (its reading status)."""
ALIASES: dict[str, str] = {
    "to-read": TO_READ, "toread": TO_READ, "want-to-read": TO_READ, "later": TO_READ, "tbr": TO_READ,
    "reading": READING, "currently-reading": READING, "read": READ, "finished": READ, "done": READ,
    "favourites": FAVOURITES, "favorites": FAVOURITES, "favourite": FAVOURITES, "favorite": FAVOURITES,
    "faves": FAVOURITES, "favs": FAVOURITES, "fav": FAVOURITES,
}  # fmt: skip
NAME_MAX = 40
SHELVES_MAX = 50
"""Shelves a member may make (besides the four built in)."""


@dataclass(slots=True)
class ShelfItem:
    """A story on a shelf, when it was put there and, while reading, where the member stopped."""

    hit: StoryHit
    shelf: str
    label: str
    added_at: datetime
    part: int | None = None
    total: int | None = None

    def progress(self) -> str | None:
        """`part 7 of 21`, or None when the member has not read any of it here."""
        return f"part {self.part} of {self.total}" if self.part and self.total else None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.hit.to_json(),
            "shelf": self.label,
            "added_at": self.added_at.isoformat(),
            "part": self.part,
            "total": self.total,
        }


@dataclass(slots=True)
class ShelfView:
    """What `/shelf show` lists: the member's stories (one shelf or all), what gating hid, who owns it."""

    member_id: int
    shelf: str | None  # the label, or None for every shelf
    items: list[ShelfItem]
    hidden: int = 0
    counts: list[tuple[str, int]] = field(default_factory=list)  # (label, stories) per shelf
    public: bool = False


@dataclass(slots=True)
class Shelved:
    """What `add` or `move` did: the shelf, whether it was there already, the status shelf it left."""

    label: str
    already: bool = False
    left: str | None = None


def shelf_key(name: str | None) -> tuple[str, str]:
    """(key, label) of a shelf name as typed: `Want to Read` -> (`to-read`, `to-read`). Raises
    QueryError for a name that is empty or too long."""
    typed = " ".join((name or "").split())
    key = fold(typed).replace(" ", "-")
    if key in ALIASES:
        return ALIASES[key], ALIASES[key]
    if not key:
        raise QueryError("Which shelf? Name it with letters or numbers (e.g. `to-read`, `comfort fics`).")
    if len(typed) > NAME_MAX:
        raise QueryError(f"A shelf name can be at most {NAME_MAX} characters long.")
    return key, typed


async def _labels(session: AsyncSession, member_id: int) -> dict[str, str]:
    rows = await session.execute(
        select(ShelfEntry.shelf, func.min(ShelfEntry.label))
        .where(ShelfEntry.member_id == member_id)
        .group_by(ShelfEntry.shelf)
    )
    return {key: label for key, label in rows}


async def _entry(session: AsyncSession, member_id: int, key: str, story_id: int) -> ShelfEntry | None:
    return await session.scalar(
        select(ShelfEntry).where(
            ShelfEntry.member_id == member_id, ShelfEntry.shelf == key, ShelfEntry.story_id == story_id
        )
    )


async def put(session: AsyncSession, member_id: int, story_id: int, shelf: str = TO_READ) -> Shelved:
    """Put a story on a shelf within an open transaction (what `add`, the buttons and `/read` share)."""
    key, label = shelf_key(shelf)
    known = await _labels(session, member_id)
    label = known.get(key, label)
    if key not in BUILT_IN and key not in known and len(set(known) - set(BUILT_IN)) >= SHELVES_MAX:
        raise QueryError(f"You have {SHELVES_MAX} shelves already: remove one before making another.")
    if await _entry(session, member_id, key, story_id) is not None:
        return Shelved(label, already=True)
    left = None
    if key in STATUS:
        others = sorted(STATUS - {key})
        left = await session.scalar(
            select(ShelfEntry.shelf).where(
                ShelfEntry.member_id == member_id,
                ShelfEntry.story_id == story_id,
                ShelfEntry.shelf.in_(others),
            )
        )
        await session.execute(
            delete(ShelfEntry).where(
                ShelfEntry.member_id == member_id,
                ShelfEntry.story_id == story_id,
                ShelfEntry.shelf.in_(others),
            )
        )
    session.add(ShelfEntry(member_id=member_id, shelf=key, label=label, story_id=story_id, added_at=utcnow()))
    await session.flush()
    return Shelved(label, left=left)


async def add(lib: Library, member_id: int, story_id: int, shelf: str | None = None) -> Shelved:
    """Put `story_id` on the member's `shelf` (default `to-read`)."""
    async with lib.transaction() as session:
        return await put(session, member_id, story_id, shelf or TO_READ)


async def remove(lib: Library, member_id: int, story_id: int, shelf: str | None = None) -> list[str]:
    """Take a story off one shelf (or every shelf); the labels it left. Raises QueryError when it
    was not there."""
    async with lib.transaction() as session:
        where = [ShelfEntry.member_id == member_id, ShelfEntry.story_id == story_id]
        if shelf:
            where.append(ShelfEntry.shelf == shelf_key(shelf)[0])
        labels = list((await session.scalars(select(ShelfEntry.label).where(*where))).all())
        if not labels:
            place = f"your {shelf_key(shelf)[1]} shelf" if shelf else "any of your shelves"
            raise QueryError(f"That story is not on {place}.")
        await session.execute(delete(ShelfEntry).where(*where))
    return sorted(labels)


async def move(
    lib: Library, member_id: int, story_id: int, to: str, from_shelf: str | None = None
) -> tuple[str, Shelved]:
    """Move a story from a shelf (default: the one it is on, when it is on exactly one) to `to`;
    (the shelf it left, what `put` did)."""
    async with lib.transaction() as session:
        where = [ShelfEntry.member_id == member_id, ShelfEntry.story_id == story_id]
        current = {
            key: label
            for key, label in await session.execute(select(ShelfEntry.shelf, ShelfEntry.label).where(*where))
        }
        if not current:
            raise QueryError("That story is not on any of your shelves: use /shelf add.")
        if from_shelf:
            source = shelf_key(from_shelf)[0]
            if source not in current:
                raise QueryError(f"That story is not on your {shelf_key(from_shelf)[1]} shelf.")
        elif len(current) == 1:
            source = next(iter(current))
        else:
            names = ", ".join(sorted(current.values()))
            raise QueryError(f"That story is on several shelves ({names}): say which one to move it from.")
        target = shelf_key(to)[0]
        if target == source:
            return current[source], Shelved(current[source], already=True)
        await session.execute(delete(ShelfEntry).where(*where, ShelfEntry.shelf == source))
        done = await put(session, member_id, story_id, to)
    return current[source], done


async def is_public(lib: Library, member_id: int) -> bool:
    async with lib.sessions() as session:
        prefs = await session.get(MemberPrefs, member_id)
        return bool(prefs and prefs.shelves_public)


async def set_privacy(lib: Library, member_id: int, public: bool) -> None:
    """Let everyone see the member's shelves (`public`), or only the member (the default)."""
    async with lib.transaction() as session:
        prefs = await session.get(MemberPrefs, member_id)
        if prefs is None:
            session.add(MemberPrefs(member_id=member_id, shelves_public=public, updated_at=utcnow()))
        else:
            prefs.shelves_public = public
            prefs.updated_at = utcnow()


async def shelf_names(lib: Library, member_id: int, prefix: str = "", limit: int = 25) -> list[str]:
    """The member's shelves (built-in ones first), starting with / containing what was typed."""
    async with lib.sessions() as session:
        known = await _labels(session, member_id)
    names = list(BUILT_IN) + sorted((v for k, v in known.items() if k not in BUILT_IN), key=str.casefold)
    typed = fold(prefix)
    return [n for n in names if typed in fold(n)][:limit] if typed else names[:limit]


async def show(
    lib: Library,
    member_id: int,
    shelf: str | None = None,
    *,
    viewer_id: int | None = None,
    allowed_levels: frozenset[str] | None = None,
) -> ShelfView:
    """The member's stories on `shelf` (or all), newest first. A `viewer_id` other than the member
    sees them only when the member made their shelves public (QueryError otherwise)."""
    key = shelf_key(shelf)[0] if shelf else None
    async with lib.sessions() as session:
        prefs = await session.get(MemberPrefs, member_id)
        public = bool(prefs and prefs.shelves_public)
        if viewer_id is not None and viewer_id != member_id and not public:
            raise QueryError("Their shelves are private: only they can see them.")
        where = [ShelfEntry.member_id == member_id] + ([ShelfEntry.shelf == key] if key else [])
        rows = (
            await session.execute(
                select(ShelfEntry.story_id, ShelfEntry.shelf, ShelfEntry.label, ShelfEntry.added_at)
                .where(*where)
                .order_by(ShelfEntry.added_at.desc(), ShelfEntry.id.desc())
            )
        ).all()
        ids = list(dict.fromkeys(r[0] for r in rows))
        hits = {h.id: h for h in await load_hits(session, ids, people=await lib.views.people())}
        positions = {
            p.story_id: p
            for p in await session.scalars(
                select(ReadingPosition).where(
                    ReadingPosition.member_id == member_id, ReadingPosition.story_id.in_(ids)
                )
            )
        }
        labels = await _labels(session, member_id)
        counts = dict(
            (
                await session.execute(
                    select(ShelfEntry.shelf, func.count())
                    .where(ShelfEntry.member_id == member_id)
                    .group_by(ShelfEntry.shelf)
                )
            ).all()
        )
    items: list[ShelfItem] = []
    hidden: set[int] = set()
    for story_id, key_, label, added in rows:
        hit = hits.get(story_id)
        if hit is None:
            continue
        if allowed_levels is not None and hit.rating.level not in allowed_levels:
            hidden.add(story_id)
            continue
        pos = positions.get(story_id)
        reading = pos is not None and key_ in (READING, TO_READ)
        items.append(
            ShelfItem(
                hit,
                key_,
                label,
                aware(added),
                part=pos.part if reading and pos else None,
                total=pos.total if reading and pos else None,
            )
        )
    order = list(BUILT_IN) + sorted((k for k in labels if k not in BUILT_IN), key=str.casefold)
    shelf_counts = [(labels.get(k, k), int(counts[k])) for k in order if counts.get(k)]
    label = labels.get(key, shelf_key(shelf)[1]) if key else None
    return ShelfView(member_id, label, items, len(hidden), shelf_counts, public)
