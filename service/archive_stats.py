"""The archive as a whole: its totals (`ArchiveStats`), the most-written characters and pairings,
and fandom spellings grouped the way the roster reads them.

Owns what `/stats`, `/characters`, `/pairings` and `bot.py stats` count, and that each figure is
counted once per archive state (through `lib.views.figure`, see `service.views`). It must not
import Discord; it only reads the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select

from archive.roster import Roster
from db.models import IndexFailure, Story, StoryTag
from service.library import Library
from service.vocabulary import count_characters, count_pairings


def plural(n: int, one: str, many: str | None = None) -> str:
    """The noun for `n` of them: `story` for 1, else `stories` (`many`, or `one` + s)."""
    return one if n == 1 else many or one + "s"


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
    people = await lib.views.people()  # one person one count, as search reads names (`Clara` = Clara Oswald)
    rows = await lib.views.figure(
        "characters", allowed_levels, lambda s: count_characters(s, allowed_levels, people)
    )
    return list(rows[:limit])


async def top_pairings(
    lib: Library, limit: int = 25, allowed_levels: frozenset[str] | None = None
) -> list[tuple[str, int]]:
    """The most-written relationships (`Spike/Willow Rosenberg`, `Buffy Summers & Faith Lehane`)."""
    people = await lib.views.people()
    rows = await lib.views.figure(
        "pairings", allowed_levels, lambda s: count_pairings(s, allowed_levels, people)
    )
    return list(rows[:limit])
