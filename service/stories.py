"""Single stories: finding one by title or id, its card, body and excerpts.

Owns `StoryCard` (plain data the cogs and the CLI render) and the age-gating rule for one story (a
hidden story is an error naming age-restricted channels, never a silent miss, and naming the story
only when the member typed its title). It must not import Discord or parse files; title matching is
`service.titles`'s job, the archive's totals `service.archive_stats`'s, autocomplete
`service.choices`'s.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Story, StoryText
from service.choices import title_choices
from service.excerpts import Chunk, chunk_from, chunk_text
from service.hits import StoryHit, load_hits
from service.library import Library
from service.query import QueryError
from service.titlekeys import title_key

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StoryCard(StoryHit):
    """Everything a story card shows: the hit's fields plus season, spoilers, notes and file facts."""

    season: str | None = None
    spoilers: str | None = None
    notes: list[str] = field(default_factory=list)
    path: str = ""
    format: str = ""
    language: str | None = None
    removed: bool = False

    def to_json(self) -> dict[str, Any]:  # the whole card, not the search-list form
        data = asdict(self)
        data["rating"] = self.rating.to_json()
        data["series"] = self.series.to_json()
        return data


def _gated(level: str, allowed_levels: frozenset[str] | None) -> bool:
    return allowed_levels is not None and level not in allowed_levels


def hidden_error(title: str | None = None) -> QueryError:
    """The refusal for a story the channel may not show. It names the story only when given a title,
    i.e. when the member typed that title themselves: an id or a near miss never reveals one."""
    if title is None:
        return QueryError("That story is only available in age-restricted channels.")
    return QueryError(f"“{title}” is only available in age-restricted channels.")


def typed_exactly(text: str, title: str) -> bool:
    """Whether `text` is `title` as a member would type it (case, accents, punctuation, articles aside)."""
    return title_key(text)[1] == title_key(title)[1]


async def find_title(
    lib: Library, text: str, *, allowed_levels: frozenset[str] | None = None, limit: int = 10
) -> list[StoryHit]:
    """Stories whose title matches `text`, best first (typos and half-remembered titles welcome)."""
    if not text or not text.strip():
        return []
    index = await lib.views.title_index()
    matches = index.find(text, limit * 3 if allowed_levels is not None else limit)
    scores = {m.story_id: float(m.score) for m in matches}
    async with lib.sessions() as session:
        hits = await load_hits(session, list(scores), scores, people=await lib.views.people())
    return [h for h in hits if not _gated(h.rating.level, allowed_levels)][:limit]


RESOLVE_FLOOR = 60.0
"""A typed title (not an id) is taken as a story only when its best match scores this much (0-100):
below it the member is asked which story, with the closest titles."""
SURE_SCORE = 90.0
SURE_RIVAL = 80.0
"""`strict` (a mod's remove, edit, restore or history): the best match must score `SURE_SCORE` and
no other title `SURE_RIVAL`, unless the title was typed exactly; else the mod is asked which."""


async def resolve_story(
    lib: Library,
    text_or_id: str | int,
    *,
    allowed_levels: frozenset[str] | None = None,
    strict: bool = False,
) -> StoryHit:
    """The one story meant: an id (what autocomplete sends) or a typed title. Raises QueryError.

    A typed title is taken when it matches well enough (`RESOLVE_FLOOR`); with `strict`, for
    actions that change a story, only when it is typed exactly or one title clearly wins
    (`SURE_SCORE`, `SURE_RIVAL`): "Owned" among ten "Owned N" stories asks which."""
    text = str(text_or_id).strip()
    if not text:
        raise QueryError("Which story? Type part of its title.")
    hit: StoryHit | None = None
    if text.isdigit():
        async with lib.sessions() as session:
            found = await load_hits(session, [int(text)], people=await lib.views.people())
        hit = found[0] if found else None
    if hit is None:
        found = await find_title(lib, text, limit=5)
        if not found or (found[0].score or 0.0) < RESOLVE_FLOOR:
            suggestions = await title_choices(lib, text, limit=5, allowed_levels=allowed_levels)
            raise QueryError(
                f"No story title matches {shown_text(text)!r}.", [name for name, _id in suggestions]
            )
        if strict:
            found = _sure(text, found)
        hit = found[0]
        if _gated(hit.rating.level, allowed_levels):
            raise hidden_error(hit.title if typed_exactly(text, hit.title) else None)
    if _gated(hit.rating.level, allowed_levels):
        raise hidden_error()  # asked for by id: the member never typed its title
    return hit


def shown_text(text: str) -> str:
    """What a member typed, as a message quotes it back: at most 120 characters."""
    return text if len(text) <= 120 else text[:119] + "…"


def _sure(text: str, found: list[StoryHit]) -> list[StoryHit]:
    """`found` when its first story is surely the one meant (see `resolve_story`), else QueryError
    naming the candidates with their numbers."""
    exact = [h for h in found if typed_exactly(text, h.title)]
    if len(exact) == 1:
        return exact
    best, *others = found
    if not exact and (best.score or 0.0) >= SURE_SCORE and all((h.score or 0.0) < SURE_RIVAL for h in others):
        return found
    named = exact or found
    raise QueryError(
        f"Which story do you mean by {shown_text(text)!r}? Give its number (or its whole title).",
        [f"{h.title} (#{h.id})" for h in named],
    )


async def _story(session: AsyncSession, story_id: int) -> Story:
    story = await session.get(Story, story_id)
    if story is None:
        raise QueryError(f"There is no story number {story_id}.")
    return story


async def story_card(lib: Library, story_id: int) -> StoryCard:
    """Every field of one story's card (relationships as `Spike/Willow Rosenberg`, `past …`)."""
    async with lib.sessions() as session:
        story = await _story(session, story_id)
        hits = await load_hits(session, [story_id], live_only=False, people=await lib.views.people())
    hit = hits[0]
    meta = story.meta or {}
    return StoryCard(
        **{f.name: getattr(hit, f.name) for f in fields(StoryHit)},
        season=story.season,
        spoilers=story.spoilers,
        notes=[str(n) for n in meta.get("notes") or []],
        path=story.path,
        format=story.format,
        language=story.language,
        removed=story.removed_at is not None,
    )


async def story_body(lib: Library, story_id: int) -> str:
    """The story's clean text (header stripped)."""
    async with lib.sessions() as session:
        await _story(session, story_id)
        body = await session.scalar(select(StoryText.body).where(StoryText.story_id == story_id))
    return body or ""


async def excerpt(lib: Library, story_id: int, *, limit: int = 2000, start: int = 0) -> list[Chunk]:
    """The story cut into chunks that post within `limit` characters, from character offset `start`
    (0: the beginning; a chunk's `end`: "continue reading")."""
    body = await story_body(lib, story_id)
    return chunk_from(body, start, limit) if start else chunk_text(body, limit)
