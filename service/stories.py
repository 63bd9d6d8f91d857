"""Single stories and the archive as a whole: finding a story by title or id, its card, body and
excerpts, archive statistics, the most-written characters and pairings, and autocomplete choices.

Owns `StoryCard` and `ArchiveStats` (plain data the cogs and the CLI render) and the age-gating
rule for one story (a hidden story is an error naming age-restricted channels, never a silent
miss). It must not import Discord or parse files; title matching is `service.titles`'s job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from archive.roster import Roster
from db.keys import fold
from db.models import IndexFailure, Story, StoryTag, StoryText
from service.excerpts import Chunk, chunk_from, chunk_text
from service.hits import StoryHit, load_hits
from service.library import Library
from service.query import QueryError, resolve_pairing
from service.titlekeys import title_key
from service.vocabulary import count_characters, count_pairings

log = logging.getLogger(__name__)

MAX_CHOICES = 25
MAX_CHOICE_LEN = 100


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


@dataclass(slots=True)
class ArchiveStats:
    """What the archive holds (only what the asking channel may see)."""

    stories: int
    words: int
    by_rating: dict[str, int]
    by_fandom: list[tuple[str, int]]
    by_format: dict[str, int]
    authors: int
    failures: int
    hidden: int = 0
    removed: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["by_fandom"] = dict(self.by_fandom)
        return data


def _gated(level: str, allowed_levels: frozenset[str] | None) -> bool:
    return allowed_levels is not None and level not in allowed_levels


def hidden_error(title: str | None = None) -> QueryError:
    """The refusal for a story the channel may not show. It names the story only when given a title,
    i.e. when the member typed that title themselves: an id or a near miss never reveals one."""
    if title is None:
        return QueryError("That story is only available in age-restricted channels.")
    return QueryError(f"“{title}” is only available in age-restricted channels.")


def _typed(text: str, title: str) -> bool:
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
        hits = await load_hits(session, list(scores), scores)
    return [h for h in hits if not _gated(h.rating.level, allowed_levels)][:limit]


async def resolve_story(
    lib: Library, text_or_id: str | int, *, allowed_levels: frozenset[str] | None = None
) -> StoryHit:
    """The one story meant: an id (what autocomplete sends) or a typed title. Raises QueryError."""
    text = str(text_or_id).strip()
    if not text:
        raise QueryError("Which story? Type part of its title.")
    hit: StoryHit | None = None
    if text.isdigit():
        async with lib.sessions() as session:
            found = await load_hits(session, [int(text)])
        hit = found[0] if found else None
    if hit is None:
        found = await find_title(lib, text, limit=5)
        if not found:
            suggestions = await title_choices(lib, text, limit=5, allowed_levels=allowed_levels)
            raise QueryError(f"No story title matches {text!r}.", [name for name, _id in suggestions])
        hit = found[0]
        if _gated(hit.rating.level, allowed_levels):
            raise hidden_error(hit.title if _typed(text, hit.title) else None)
    if _gated(hit.rating.level, allowed_levels):
        raise hidden_error()  # asked for by id: the member never typed its title
    return hit


async def _story(session: AsyncSession, story_id: int) -> Story:
    story = await session.get(Story, story_id)
    if story is None:
        raise QueryError(f"There is no story number {story_id}.")
    return story


async def story_card(lib: Library, story_id: int) -> StoryCard:
    """Every field of one story's card (relationships as `Spike/Willow Rosenberg`, `past …`)."""
    async with lib.sessions() as session:
        story = await _story(session, story_id)
        hits = await load_hits(session, [story_id], live_only=False)
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


def fandom_groups(roster: Roster, labels: Iterable[str]) -> dict[str, list[str]]:
    """The stored fandom labels grouped by the fandom the roster reads them as (`BtVS`, `Buffy: The
    Vampire Slayer` and `Buffy the Vampire Slayer (TV)` are one fandom); unknown labels stand alone."""
    groups: dict[str, list[str]] = {}
    for label in labels:
        groups.setdefault(roster.fandom_of(label) or label, []).append(label)
    return groups


async def stats(lib: Library, allowed_levels: frozenset[str] | None = None) -> ArchiveStats:
    """Totals, words, counts by rating level / fandom / format, authors and index failures; kept
    with the vocabulary snapshot, so they are counted again only after the archive changed."""
    return await lib.views.figure("stats", allowed_levels, lambda _session: count_stats(lib, allowed_levels))


async def count_stats(lib: Library, allowed_levels: frozenset[str] | None = None) -> ArchiveStats:
    """`stats`, counted now from the database (seven scans of the stories table)."""
    live = Story.removed_at.is_(None)
    seen = [live] + ([Story.rating_level.in_(sorted(allowed_levels))] if allowed_levels is not None else [])
    async with lib.sessions() as session:
        n, words, authors = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Story.words), 0),
                    func.count(func.distinct(Story.author)),
                ).where(*seen)
            )
        ).one()
        every = int(await session.scalar(select(func.count()).select_from(Story).where(live)) or 0)
        removed = int(await session.scalar(select(func.count()).select_from(Story).where(~live)) or 0)
        by_rating = dict(
            (
                await session.execute(
                    select(Story.rating_level, func.count()).where(*seen).group_by(Story.rating_level)
                )
            ).all()
        )
        by_format = dict(
            (
                await session.execute(select(Story.format, func.count()).where(*seen).group_by(Story.format))
            ).all()
        )
        fandom_tag = [StoryTag.kind == "fandom", Story.id == StoryTag.story_id, *seen]
        per_label = dict(
            (
                await session.execute(
                    select(StoryTag.label, func.count()).where(*fandom_tag).group_by(StoryTag.label)
                )
            ).all()
        )
        by_fandom = []
        for fandom, labels in fandom_groups(lib.roster, per_label).items():
            if len(labels) == 1:
                n_fandom = int(per_label[labels[0]])
            else:  # a story may carry two spellings of one fandom: count it once
                distinct = select(func.count(func.distinct(StoryTag.story_id))).where(
                    *fandom_tag, StoryTag.label.in_(labels)
                )
                n_fandom = int(await session.scalar(distinct) or 0)
            by_fandom.append((fandom, n_fandom))
        by_fandom.sort(key=lambda kv: (-kv[1], kv[0]))
        failures = int(await session.scalar(select(func.count()).select_from(IndexFailure)) or 0)
    return ArchiveStats(
        stories=int(n),
        words=int(words),
        by_rating={k: int(v) for k, v in by_rating.items()},
        by_fandom=by_fandom,
        by_format={k: int(v) for k, v in sorted(by_format.items(), key=lambda kv: -kv[1])},
        authors=int(authors),
        failures=failures,
        hidden=every - int(n),
        removed=removed,
    )


async def top_characters(
    lib: Library, limit: int = 25, allowed_levels: frozenset[str] | None = None
) -> list[tuple[str, int]]:
    """The most-written characters (header, or named often enough in the text), with story counts."""
    rows = await lib.views.figure("characters", allowed_levels, lambda s: count_characters(s, allowed_levels))
    return list(rows[:limit])


async def top_pairings(
    lib: Library, limit: int = 25, allowed_levels: frozenset[str] | None = None
) -> list[tuple[str, int]]:
    """The most-written relationships (`Spike/Willow Rosenberg`, `Buffy Summers & Faith Lehane`)."""
    rows = await lib.views.figure("pairings", allowed_levels, lambda s: count_pairings(s, allowed_levels))
    return list(rows[:limit])


def _choice(name: str, value: str) -> tuple[str, str]:
    shown = name if len(name) <= MAX_CHOICE_LEN else name[: MAX_CHOICE_LEN - 1] + "…"
    return shown, value[:MAX_CHOICE_LEN]


@lru_cache(maxsize=200_000)
def _folded(name: str) -> str:
    return fold(name)


def _rank_names(prefix: str, names: list[str], limit: int) -> list[str]:
    """Names starting with the typed text, then with a word starting with it, then containing it,
    then close to it; `names` order (most used first) kept within each group."""
    key = fold(prefix)
    if not key:
        return names[:limit]
    starts: list[str] = []
    words: list[str] = []
    within: list[str] = []
    for name in names:
        folded = _folded(name)
        if folded.startswith(key):
            starts.append(name)
            if len(starts) >= limit:
                break
        elif any(w.startswith(key) for w in folded.split()):
            words.append(name)
        elif key in folded:
            within.append(name)
    picked = (starts + words + within)[:limit]
    if len(picked) < limit:
        folded_names = [_folded(n) for n in names]
        close = process.extract(key, folded_names, scorer=fuzz.WRatio, limit=limit, score_cutoff=70)
        picked += [names[i] for _f, _s, i in close if names[i] not in picked]
    return picked[:limit]


async def character_choices(lib: Library, prefix: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """Autocomplete for a character: roster names, the most-written first."""
    vocab = await lib.views.vocabulary()
    written = [n for n, _c in vocab.characters]
    names = list(dict.fromkeys(written + sorted(lib.roster.names)))
    exact = lib.roster.resolve(prefix) if prefix.strip() else None
    picked = ([exact] if exact else []) + _rank_names(prefix, names, min(limit, MAX_CHOICES))
    return [_choice(n, n) for n in dict.fromkeys(picked)][: min(limit, MAX_CHOICES)]


async def pairing_choices(lib: Library, prefix: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """Autocomplete for a pairing: what was typed (resolved), ship names, the most-written pairings."""
    limit = min(limit, MAX_CHOICES)
    vocab = await lib.views.vocabulary()
    out: list[tuple[str, str]] = []
    if any(sep in prefix for sep in "/&") or lib.roster.ship(prefix):
        try:
            spec = resolve_pairing(lib.roster, prefix)
            out.append(_choice(spec.display, spec.display))
        except QueryError:
            pass
    ships = {name: "/".join(members) for name, members in _ships(lib).items()}
    pairs = [k for k, _c in vocab.pairings]
    key = fold(prefix)
    tokens = [t for t in fold(prefix.replace("/", " ").replace("&", " ")).split()]
    for name in _rank_names(prefix, sorted(ships), limit) if key else []:
        out.append(_choice(f"{name} ({ships[name]})", ships[name]))
    for pair in pairs:
        words = _folded(pair).split()
        if all(any(w.startswith(t) for w in words) for t in tokens):
            out.append(_choice(pair, pair))
        if len(out) >= limit * 2:
            break
    return list(dict.fromkeys(out))[:limit]


def _ships(lib: Library) -> dict[str, tuple[str, ...]]:
    """Ship names as written, when the roster offers them (`Roster.ships`); typed ones resolve anyway."""
    return dict(getattr(lib.roster, "ships", None) or {})


async def author_choices(lib: Library, prefix: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """Autocomplete for an author: authors in the archive, the most prolific first."""
    vocab = await lib.views.vocabulary()
    names = [a for a, _c in vocab.authors]
    return [_choice(n, n) for n in _rank_names(prefix, names, min(limit, MAX_CHOICES))]


# --- title autocomplete, age gated (added by the bot engineer for cogs/transformers.py) ----------


async def title_choices(
    lib: Library, prefix: str, *, limit: int = MAX_CHOICES, allowed_levels: frozenset[str] | None = None
) -> list[tuple[str, str]]:
    """Autocomplete for a title: (title shortened to 100 characters, story id as text) pairs.

    Stories rated beyond `allowed_levels` are not suggested (a channel that may not show them).
    """
    allowed = None
    if allowed_levels is not None:
        levels = await lib.views.rating_levels()

        def allowed(story_id: int) -> bool:
            return levels.get(story_id) in allowed_levels

    index = await lib.views.title_index()
    matches = index.complete(prefix, min(limit, MAX_CHOICES), allowed=allowed)
    return [_choice(m.display, str(m.story_id)) for m in matches]
