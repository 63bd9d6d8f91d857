"""What a mod sends before it becomes a story: safe file names, the format, size, readability and
duplicate checks, the cleaned shape of a correction, the preview card, and the daily add quota.

Owns `CurateError` (a refusal in plain words), `RateLimited`, `Actor` and `Upload`. Nothing here
writes to disk or to the database: `service.curate` does that once the mod confirms. It must not
import Discord.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from archive.model import Series, StoryMeta
from archive.parse import parse_story, unreadable_reason
from archive.ratings import level_of
from db.files import UPLOAD_FOLDER
from db.keys import fold
from db.models import AuditEntry, Story, aware, utcnow
from db.overrides import OVERRIDE_FIELDS, apply_overrides
from service.hits import features, relationship_display
from service.library import Library
from service.parsing import NotAStory, ParseLimit, parse_untrusted
from service.query import QueryError
from service.stories import StoryCard
from service.walk import STORY_SUFFIXES

log = logging.getLogger(__name__)

ADD_WINDOW = timedelta(hours=24)
MAX_NAME = 120
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
_UNSAFE = re.compile(r'[<>:"|?*\\/]+')
_SERIES_PART = re.compile(r"^(?P<name>.*?)[\s,;#:-]*(?:part|pt\.?|#|book|no\.?)\s*(?P<part>\d+)\s*$", re.I)


class CurateError(QueryError):
    """A curation step refused, with the reason in plain words (nothing was changed)."""


class RateLimited(CurateError):
    """The actor added their daily share already; `until` is when the next add frees up (aware UTC)."""

    def __init__(self, per_day: int, until: datetime | None) -> None:
        when = f" (next one frees up at {until:%Y-%m-%d %H:%M} UTC)" if until else ""
        super().__init__(f"You have added {per_day} stories in the last 24 hours, the most allowed{when}.")
        self.per_day = per_day
        self.until = until


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a Discord member (id, display name, guild) or the host (`cli:<user>`)."""

    id: int | None
    name: str
    guild_id: int | None = None

    @classmethod
    def cli(cls) -> Actor:
        """The host at the command line, as the audit trail records them."""
        try:
            user = getpass.getuser()
        except Exception:  # no login name (containers): still say it came from the CLI
            user = "unknown"
        return cls(None, f"cli:{user}")


@dataclass(slots=True)
class Upload:
    """A parsed upload waiting for Confirm: nothing about it is on disk or in the database yet."""

    name: str  # the safe file name it will be saved under (before any numeric suffix)
    data: bytes
    sha256: str
    meta: StoryMeta  # what the parser found
    overrides: dict[str, Any]  # the mod's options, cleaned
    card: StoryCard  # what the story will look like (overrides applied); id 0

    @property
    def opening(self) -> str:
        """The first lines of the story's text."""
        return "\n".join(self.meta.body.strip().splitlines()[:8])[:600]


# ---- files ------------------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """`../../etc/passwd.txt` -> `passwd.txt`: no folders, `..`, control characters or reserved names."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"\s+", " ", stem).strip(" .") or "story"
    if stem.split(".")[0].casefold() in _RESERVED:
        stem = f"_{stem}"
    suffix = suffix.strip().lower()
    return f"{stem[:MAX_NAME]}.{suffix}" if suffix else stem[:MAX_NAME]


async def taken_paths(session: AsyncSession, prefix: str) -> set[str]:
    """Story paths (removed stories' too) starting with `prefix`: names a new file must not take."""
    rows = await session.scalars(select(Story.path).where(Story.path.startswith(prefix, autoescape=True)))
    return set(rows)


def free_path(folder: Path, name: str, taken: set[str] | None = None, root: Path | None = None) -> Path:
    """`folder/name`, or `name-2`, `name-3`… when a file (or a story whose path below `root` is in
    `taken`) already has it."""
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    for n in range(1, 10_000):
        candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        key = candidate.relative_to(root).as_posix() if root else None
        if not candidate.exists() and key not in (taken or set()):
            return candidate
    raise CurateError(f"Too many files are called {name!r} already.")


def write_new_file(file: Path, data: bytes) -> None:
    """Write `data` to `file`, which must not exist yet (FileExistsError), all or nothing: the bytes
    go to a hidden `.<name>.part` first and are linked into place once complete (a crash leaves at
    most the hidden part, which `bot.py check --repair` deletes)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    part = file.with_name(f".{file.name}.part")
    with part.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(part, file)  # never overwrite: fails if the name was taken meanwhile
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: "x" still refuses to overwrite
        with file.open("xb") as out:
            out.write(data)
    finally:
        part.unlink(missing_ok=True)


def move_file(src: Path, dest: Path) -> None:
    """Move a file (creating the destination's folder); its bytes and mtime are kept."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(src, dest)


# ---- checks ----------------------------------------------------------------------------------------


def clean_override(lib: Library, field_name: str, value: Any) -> Any:
    """A mod's value for `field_name` checked and put in the shape `apply_overrides` stores."""
    if field_name not in OVERRIDE_FIELDS:
        raise CurateError(f"{field_name!r} cannot be edited; pick one of: {', '.join(OVERRIDE_FIELDS)}.")
    text = re.sub(r"\s+", " ", str(value or "")).strip()
    if field_name == "title":
        if not text:
            raise CurateError("A story needs a title; give one.")
        return text[:300]
    if field_name in ("author", "summary"):
        return text or None
    if field_name == "rating":
        if level_of(text) is None:
            raise CurateError(
                f"I don't know the rating {text!r}: use G, PG, PG-13, R, NC-17, General, Teen, Mature or Explicit."
            )
        return text
    if field_name == "relationships":
        if text and not lib.roster.parse_relationships(text):
            raise CurateError(
                f"I could not read a pairing in {text!r}; write it like `Spike/Willow, Buffy & Faith`."
            )
        return text
    names = [n.strip() for n in text.replace(";", ",").split(",") if n.strip()]
    if field_name == "characters":
        return list(dict.fromkeys(lib.roster.resolve_fuzzy(n) or lib.roster.character(n) for n in names))
    if field_name == "tags":
        return list(dict.fromkeys(names))
    found = _SERIES_PART.match(text)  # series: "Second Best, part 12"
    if found and found.group("name").strip():
        return {"name": found.group("name").strip(" ,;:-"), "part": int(found.group("part"))}
    return {"name": text or None, "part": None}


def card_of(meta: StoryMeta, story_id: int = 0) -> StoryCard:
    """A story card for parsed (not yet stored) metadata: what the preview shows."""
    return StoryCard(
        id=story_id,
        title=meta.title,
        author=meta.author,
        rating=meta.rating,
        relationships=[relationship_display(r.key, r.past) for r in meta.relationships],
        characters=[c.name for c in meta.characters if features(c.source, c.mentions, meta.words)],
        words=meta.words,
        summary=meta.summary,
        tags=list(meta.tags),
        warnings=list(meta.warnings),
        fandoms=list(meta.fandoms),
        series=Series(meta.series.name, meta.series.part),
        status=meta.status,
        published=meta.published,
        season=meta.season,
        spoilers=meta.spoilers,
        notes=list(meta.notes),
        path=meta.path,
        format=meta.format,
        language=meta.language,
    )


async def duplicate_of(session: AsyncSession, sha256: str, meta: StoryMeta) -> None:
    """Refuse a story already in the archive: the same bytes, or the same folded title and author.

    Retired stories (their files left the folder) are not refused: storing the upload brings the
    same work back under its old id."""
    same = Story.file_hash == sha256
    author = Story.author_key == fold(meta.author) if meta.author else Story.author_key.is_(None)
    for cond, why in (
        (same, "the same file"),
        ((Story.title_key == fold(meta.title)) & author, "the same story"),
    ):
        live_or_removed = cond & Story.retired_at.is_(None)
        query = select(Story).where(live_or_removed).order_by(Story.id).limit(1)
        story = (await session.scalars(query)).first()
        if story is not None:
            where = " (removed: /story restore brings it back)" if story.removed_at else ""
            raise CurateError(
                f"That is {why} as “{story.title}” (story #{story.id}), already in the archive{where}."
            )


def parse_upload(lib: Library, data: bytes, name: str) -> StoryMeta:
    """Parse a file's bytes as the story at `name`; CurateError with the reason when it is no story."""
    meta = parse_story(data, name, lib.roster)
    reason = unreadable_reason(meta) or (None if meta.body.strip() else "no story text found")
    if reason:
        raise CurateError(f"I could not read {PurePosixPath(name).name} as a story: {reason}.")
    return meta


async def parse_sent(lib: Library, data: bytes, name: str) -> StoryMeta:
    """`parse_upload` for bytes a member sent: in a process of its own with a time and memory
    limit, so no file can stall the bot; CurateError with the reason when it is no story."""
    try:
        meta = await parse_untrusted(data, name, lib.roster)
    except ParseLimit as exc:
        raise CurateError(f"I could not read {PurePosixPath(name).name} as a story: {exc}.") from None
    except NotAStory as exc:
        raise CurateError(f"I won't add {PurePosixPath(name).name}: it reads as {exc}.") from None
    reason = unreadable_reason(meta) or (None if meta.body.strip() else "no story text found")
    if reason:
        raise CurateError(f"I could not read {PurePosixPath(name).name} as a story: {reason}.")
    return meta


async def adds_left(lib: Library, actor: Actor, now: datetime | None = None) -> tuple[int, datetime | None]:
    """How many more stories `actor` may add now, and when the next one frees up (None: not limited)."""
    if actor.id is None:  # the host at the command line is not rate limited
        return lib.settings.adds_per_day or 1, None
    now = now or utcnow()
    async with lib.sessions() as session:
        times = list(
            await session.scalars(
                select(AuditEntry.at)
                .where(
                    AuditEntry.action == "add",
                    AuditEntry.actor_id == actor.id,
                    AuditEntry.at > now - ADD_WINDOW,
                )
                .order_by(AuditEntry.at)
            )
        )
    left = max(lib.settings.adds_per_day - len(times), 0)
    return left, (aware(times[0]) + ADD_WINDOW if times and not left else None)


async def prepare_add(
    lib: Library, filename: str, data: bytes, options: Mapping[str, Any] | None = None
) -> Upload:
    """Check and parse an upload and show what it would be; nothing is written. Raises CurateError."""
    name = safe_filename(filename)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in STORY_SUFFIXES:
        kinds = ", ".join(sorted(s.lstrip(".") for s in STORY_SUFFIXES))
        raise CurateError(f"{name or 'That file'} is not a story file I can read: send one of {kinds}.")
    limit = lib.settings.upload_max_bytes
    if len(data) > limit:
        raise CurateError(f"{name} is {len(data):,} bytes; stories may be at most {limit:,} bytes.")
    if not data.strip():
        raise CurateError(f"{name} is empty.")
    meta = await parse_sent(lib, data, f"{UPLOAD_FOLDER}/{name}")
    overrides = {k: clean_override(lib, k, v) for k, v in (options or {}).items() if v not in (None, "")}
    effective = apply_overrides(meta, overrides, lib.roster)
    sha256 = hashlib.sha256(data).hexdigest()
    async with lib.sessions() as session:
        await duplicate_of(session, sha256, effective)
    return Upload(name, data, sha256, meta, overrides, card_of(effective))
