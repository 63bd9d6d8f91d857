"""The export's shared vocabulary: story keys, timestamps, and how an import finds a story again.

Owns `Refs` (database ids -> the export's story keys `s1`, `s2`…, filled as sections mention
stories), `Import` (one import run: keys -> this archive's ids, matched by what a story is, never by
id) and `ImportReport`. Every section of the export (`service/exchange_curation.py`,
`service/exchange_taste.py`) is an exporter and an importer written over these; `service/backup.py`
lists the sections and runs them. It must not import Discord.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.keys import fold
from db.models import Story, aware
from service.library import Library
from service.uploads import CurateError


class BackupError(CurateError):
    """A backup, export or import could not be done; the message says why (nothing was changed)."""


def to_iso(value: datetime | None) -> str | None:
    """A timestamp as the export writes it (ISO 8601, UTC when the value had no zone)."""
    if value is None:
        return None
    return aware(value).isoformat()


def from_iso(value: str | None) -> datetime | None:
    """A timestamp of the export back (None for none), always with a zone."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return aware(parsed)


class Refs:
    """Story ids <-> the export's story keys (`s1`, `s2`…), filled as sections mention stories."""

    def __init__(self, stories: dict[int, Story]) -> None:
        self._stories = stories
        self.keys: dict[int, str] = {}
        self.table: dict[str, dict[str, Any]] = {}

    def __call__(self, story_id: int | None) -> str | None:
        if story_id is None or story_id not in self._stories:
            return None
        if story_id not in self.keys:
            story = self._stories[story_id]
            key = f"s{len(self.keys) + 1}"
            self.keys[story_id] = key
            self.table[key] = {
                "path": story.path,
                "sha256": story.file_hash,
                "title": story.title,
                "parsed_title": (story.meta or {}).get("title") or story.title,
                "author": story.author,
                "format": story.format,
            }
        return self.keys[story_id]


Exporter = Callable[[AsyncSession, Refs], Awaitable[list[dict[str, Any]]]]
Importer = Callable[["Import", list[dict[str, Any]]], Awaitable[int]]
Sections = dict[str, tuple[Exporter, Importer]]


@dataclass(slots=True)
class ImportReport:
    """What an import did: rows brought in per section, and what could not be placed (with why)."""

    counts: dict[str, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{name}: {count}" for name, count in self.counts.items()]
        lines += [f"not matched: {len(self.unmatched)}"] + [f"  {u}" for u in self.unmatched]
        lines += self.notes
        return "\n".join(lines)


@dataclass(slots=True)
class Import:
    """One import run: the library, the export's story table and the ids it matched."""

    lib: Library
    stories: dict[str, dict[str, Any]]
    report: ImportReport
    ids: dict[str, int | None] = field(default_factory=dict)
    restamp: set[int] = field(default_factory=set)  # stories whose overrides must be applied again

    async def story(self, key: str | None) -> int | None:
        """The story id of an export key in this archive (None when it is not here)."""
        if key is None:
            return None
        if key not in self.ids:
            self.ids[key] = await self._match(self.stories.get(key) or {})
            if self.ids[key] is None:
                ref = self.stories.get(key) or {}
                self.report.unmatched.append(f"{ref.get('title')!r} ({ref.get('path')})")
        return self.ids[key]

    async def same_bytes(self, key: str) -> int | None:
        """The story holding exactly the export's file (its content hash), or None: what a removal
        is applied to, since another story may have taken a removed story's path."""
        if self.ids.get(key) is None:
            self.ids.pop(key, None)
            found = await self._match(self.stories.get(key) or {}, strict=True)
            if found is not None:
                self.ids[key] = found
        return self.ids.get(key)

    async def _match(self, ref: dict[str, Any], *, strict: bool = False) -> int | None:
        path, sha = ref.get("path"), ref.get("sha256")
        author = fold(ref["author"]) if ref.get("author") else None
        conditions = [(Story.path == path) & (Story.file_hash == sha), Story.file_hash == sha]
        if not strict:
            conditions += [
                Story.path == path,
                (Story.title_key == fold(ref.get("parsed_title") or ""))
                & (Story.author_key.is_(None) if author is None else Story.author_key == author),
            ]
        async with self.lib.sessions() as session:
            for condition in conditions:
                found = await session.scalar(select(Story.id).where(condition).order_by(Story.id).limit(1))
                if found is not None:
                    return int(found)
        return None
