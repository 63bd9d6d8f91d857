"""A server's daily rec schedule as plain data, and what the service needs from Discord.

Owns `Schedule` (the row detached from the database, with the day rules: which local day a post
belongs to, whether it is still owed, when it is due, the next post, the stories it may post),
`place` (where its history lives), and the `Publisher` protocol with its `PublishError`. The claim,
the pick and the posting are `service/dailyrec.py`'s. It must not touch the database or import
Discord.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from archive.ratings import SAFE_LEVELS
from db.models import DailyRecConfig, aware
from service.dailytime import post_instant, zone
from service.query import SearchQuery

CHANNEL_SAFE_LEVELS: frozenset[str] = SAFE_LEVELS
"""What a channel that is not age-restricted may be posted (the rule `cogs.gating` applies)."""
KIND = "daily"


def place(guild_id: int) -> str:
    """The `rec_history.place` of a server (the same place `/rec` remembers its recs under)."""
    return f"guild:{guild_id}"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A server's daily rec schedule and state, as plain data (detached from the database)."""

    guild_id: int
    channel_id: int
    post_time: str
    timezone: str
    max_rating: str | None = None
    characters: tuple[str, ...] = ()
    pairings: tuple[str, ...] = ()
    enabled: bool = True
    cycle: int = 1
    last_post_date: str | None = None
    last_story_id: int | None = None
    disabled_reason: str | None = None
    updated_by: str | None = None
    since: datetime | None = None  # when it was last set: a post time before this is not owed

    @classmethod
    def of(cls, row: DailyRecConfig) -> Schedule:
        filters = row.filters or {}
        return cls(
            guild_id=row.guild_id,
            channel_id=row.channel_id,
            post_time=row.post_time,
            timezone=row.timezone or "UTC",
            max_rating=row.max_rating,
            characters=tuple(filters.get("characters") or ()),
            pairings=tuple(filters.get("pairings") or ()),
            enabled=bool(row.enabled),
            cycle=row.cycle or 1,
            last_post_date=row.last_post_date,
            last_story_id=row.last_story_id,
            disabled_reason=row.disabled_reason,
            updated_by=row.updated_by,
            since=aware(row.updated_at) if row.updated_at else None,
        )

    def local_date(self, now: datetime) -> date:
        return now.astimezone(zone(self.timezone)).date()

    def instant(self, day: date) -> datetime:
        return post_instant(day, self.post_time, zone(self.timezone))

    def owes(self, day: date) -> bool:
        """Whether `day`'s post is still owed: the day is not claimed, and the schedule was set
        before that day's post time (setting a time already past today starts tomorrow)."""
        claimed = self.last_post_date is not None and self.last_post_date >= day.isoformat()
        return not claimed and (self.since is None or self.since <= self.instant(day))

    def due(self, now: datetime) -> bool:
        """Enabled, today's post still owed, and its time has come (a missed one is still owed)."""
        today = self.local_date(now)
        return self.enabled and self.owes(today) and now >= self.instant(today)

    def next_post(self, now: datetime) -> datetime | None:
        """When the next post goes out (`now` when it is due); None when the schedule is off."""
        if not self.enabled:
            return None
        today = self.local_date(now)
        day = next(
            (today + timedelta(days=n) for n in range(3) if self.owes(today + timedelta(days=n))), None
        )
        return max(now, self.instant(day)) if day else None

    def query(self, nsfw: bool) -> SearchQuery:
        """The stories this schedule may post in a channel that is (or is not) age-restricted."""
        return SearchQuery(
            characters=list(self.characters),
            pairings=list(self.pairings),
            max_rating=self.max_rating,
            allowed_levels=None if nsfw else CHANNEL_SAFE_LEVELS,
        )


class PublishError(Exception):
    """Sending failed: `permanent` (channel gone, no permission) disables the schedule; otherwise
    the day's claim is released and the next tick tries again."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Publisher(Protocol):
    """What the service needs from Discord (the cog provides it; tests provide a fake)."""

    async def channel_nsfw(self, channel_id: int) -> bool: ...
    async def publish(self, config: Schedule, story_id: int, reason: str | None = None) -> None: ...
