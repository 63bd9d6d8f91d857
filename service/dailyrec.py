"""The daily rec: each server's schedule, when its post is due, which story it gets, and the
restart-safe state that keeps it to one post per server per local day.

Owns the schedule's rules: the post goes out at the configured local time (zoneinfo; a time inside a
spring-forward gap posts at the first valid instant after it, a fall-back repeated hour posts once),
the day is claimed in the database *before* sending (a crash never double-posts; a transient send
failure releases the claim so the next tick retries; a deleted channel or a missing permission
disables the schedule with a reason), a post missed while the bot was down goes out when it comes
back the same local day and never the next, and no story repeats in a server until every eligible
story has been posted there once (then a new cycle starts). Age gating follows the channel: outside
an age-restricted channel only general and teen stories are eligible, whatever the filters say.

It must not import Discord: sending goes through a `Publisher` the cog provides, and time comes from
an injectable clock (`Callable[[], datetime]`, aware UTC), so tests move time without sleeping.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.crashpoint import crash_point
from db.models import DailyRecConfig, RecHistory, Story, aware
from service import dailypick
from service.dailyschedule import CHANNEL_SAFE_LEVELS, KIND, Publisher, PublishError, Schedule, place
from service.dailytime import parse_post_time, parse_timezone, utc_now
from service.library import Library
from service.query import QueryError, SearchQuery, rating_filter
from service.search import compile_query, matching_ids

__all__ = [
    "CHANNEL_SAFE_LEVELS",
    "DailyRecService",
    "Outcome",
    "PublishError",
    "Publisher",
    "Schedule",
    "Status",
    "place",
]

log = logging.getLogger(__name__)

OutcomeKind = Literal["posted", "retry", "disabled", "empty"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one server's turn came to: posted, retry (transient failure), disabled, or empty pool."""

    guild_id: int
    kind: OutcomeKind
    story_id: int | None = None
    day: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """What `/dailyrec show` reads: the schedule, the next post, the last post, cycle progress."""

    schedule: Schedule
    next_post: datetime | None
    eligible: int
    posted_this_cycle: int
    last_story_id: int | None = None
    last_title: str | None = None
    last_at: datetime | None = None
    problem: str | None = None  # why the pool could not be counted (filters no longer resolve)


@dataclass(slots=True)
class _Claim:
    schedule: Schedule  # as it was before the claim
    story_id: int | None
    history_id: int | None
    cycle: int
    day: str | None  # the local date claimed (None for `/dailyrec now`)
    empty_reason: str | None = None
    reason: str | None = None  # why this story was picked (the post says it)


class DailyRecService:
    """Schedules, state and the due check; `run_due(now)` is the whole job a scheduler tick runs."""

    def __init__(self, lib: Library, publisher: Publisher, *, rng: random.Random | None = None) -> None:
        self.lib = lib
        self.publisher = publisher
        self.rng = rng or random.Random()

    # -- configuration -----------------------------------------------------------------------------

    async def configure(
        self,
        guild_id: int,
        channel_id: int,
        post_time: str,
        timezone: str | None = None,
        *,
        max_rating: str | None = None,
        characters: list[str] | tuple[str, ...] = (),
        pairings: list[str] | tuple[str, ...] = (),
        updated_by: str | None = None,
        now: datetime | None = None,
    ) -> Schedule:
        """Create or replace a server's schedule (enabled). Raises QueryError in plain words.

        The cycle, its history and the day's claim are kept (changing the time after today's post
        never posts twice). A post time already past today is not owed: the first post is
        tomorrow's (setting a schedule never posts at once).
        """
        hhmm = parse_post_time(post_time)
        tz_name = parse_timezone(timezone)
        level = rating_filter(max_rating)[0] if max_rating and max_rating.strip() else None
        chars = [c.strip() for c in characters if c.strip()]
        pairs = [p.strip() for p in pairings if p.strip()]
        probe = SearchQuery(characters=chars, pairings=pairs, max_rating=level)
        now = now or utc_now()
        async with self.lib.transaction() as session:
            await compile_query(self.lib, session, probe)  # unknown names fail here, not at post time
            row = await session.get(DailyRecConfig, guild_id)
            if row is None:
                row = DailyRecConfig(guild_id=guild_id, cycle=1)
                session.add(row)
            row.channel_id = channel_id
            row.post_time = hhmm
            row.timezone = tz_name
            row.max_rating = level
            row.filters = {"characters": chars, "pairings": pairs}
            row.enabled = True
            row.disabled_reason = None
            row.updated_by = updated_by
            row.updated_at = now
            await session.flush()
            schedule = Schedule.of(row)
        log.info("daily rec for guild %s set to %s %s in channel %s", guild_id, hhmm, tz_name, channel_id)
        return schedule

    async def disable(self, guild_id: int, reason: str | None = None, *, by: str | None = None) -> bool:
        """Turn a server's daily rec off (with the reason mods will read); False when none was set."""
        async with self.lib.transaction() as session:
            result = await session.execute(
                update(DailyRecConfig)
                .where(DailyRecConfig.guild_id == guild_id)
                .values(enabled=False, disabled_reason=reason, updated_by=by or DailyRecConfig.updated_by)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def schedule(self, guild_id: int) -> Schedule | None:
        async with self.lib.sessions() as session:
            row = await session.get(DailyRecConfig, guild_id)
            return Schedule.of(row) if row else None

    async def status(self, guild_id: int, now: datetime) -> Status | None:
        """The schedule, when it posts next, the last post and this cycle's progress."""
        schedule = await self.schedule(guild_id)
        if schedule is None:
            return None
        try:
            nsfw = await self.publisher.channel_nsfw(schedule.channel_id)
        except PublishError:
            nsfw = False
        problem = None
        async with self.lib.sessions() as session:
            try:
                eligible = set(await self._eligible(session, schedule, nsfw))
            except QueryError as exc:
                eligible, problem = set(), str(exc)
            posted = await self._posted(session, guild_id, schedule.cycle)
            last = (
                await session.execute(
                    select(RecHistory.story_id, RecHistory.at, Story.title)
                    .join(Story, Story.id == RecHistory.story_id, isouter=True)
                    .where(RecHistory.place == place(guild_id), RecHistory.kind == KIND)
                    .order_by(RecHistory.at.desc(), RecHistory.id.desc())
                    .limit(1)
                )
            ).first()
        return Status(
            schedule=schedule,
            next_post=schedule.next_post(now),
            eligible=len(eligible),
            posted_this_cycle=len(posted & eligible),
            last_story_id=last[0] if last else None,
            last_title=last[2] if last else None,
            last_at=aware(last[1]) if last else None,
            problem=problem,
        )

    # -- the job -----------------------------------------------------------------------------------

    async def run_due(self, now: datetime, owns: Callable[[int], bool] | None = None) -> list[Outcome]:
        """Post every server's daily rec that is due at `now`; one outcome per server acted on.

        `owns(guild_id)` narrows the servers to this process's shards; with several processes on
        one database the day's claim still makes each post happen once.
        """
        async with self.lib.sessions() as session:
            rows = (await session.scalars(select(DailyRecConfig).where(DailyRecConfig.enabled))).all()
            schedules = [Schedule.of(r) for r in rows]
        outcomes: list[Outcome] = []
        for schedule in schedules:
            if not schedule.due(now) or (owns is not None and not owns(schedule.guild_id)):
                continue
            try:
                outcome = await self._post(schedule, now, claim_day=True)
            except Exception:
                log.exception("daily rec for guild %s failed; the next tick retries", schedule.guild_id)
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    async def post_now(self, guild_id: int, now: datetime) -> Outcome:
        """Post one rec at once (`/dailyrec now`): counts toward the cycle, not as the day's post."""
        schedule = await self.schedule(guild_id)
        if schedule is None:
            raise QueryError("This server has no daily rec yet: set one with /dailyrec set.")
        if not schedule.enabled:
            why = f" ({schedule.disabled_reason})" if schedule.disabled_reason else ""
            raise QueryError(f"The daily rec is off{why}: /dailyrec set turns it on again.")
        outcome = await self._post(schedule, now, claim_day=False)
        return outcome or Outcome(guild_id, "retry", reason="the schedule changed while posting")

    async def _post(self, schedule: Schedule, now: datetime, *, claim_day: bool) -> Outcome | None:
        guild = schedule.guild_id
        try:
            nsfw = await self.publisher.channel_nsfw(schedule.channel_id)
        except PublishError as exc:
            if not exc.permanent:
                return Outcome(guild, "retry", reason=exc.reason)
            await self.disable(guild, exc.reason)
            log.warning("daily rec for guild %s disabled: %s", guild, exc.reason)
            return Outcome(guild, "disabled", reason=exc.reason)
        day = schedule.local_date(now).isoformat() if claim_day else None
        try:
            claim = await self._claim(schedule, nsfw, day, now)
        except QueryError as exc:
            reason = f"its filters no longer match the archive: {exc}"
            await self.disable(guild, reason)
            log.warning("daily rec for guild %s disabled: %s", guild, reason)
            return Outcome(guild, "disabled", day=day, reason=reason)
        if claim is None:
            return None  # another tick claimed the day first
        if claim.story_id is None:
            log.warning("daily rec for guild %s: %s", guild, claim.empty_reason)
            return Outcome(guild, "empty", day=day, reason=claim.empty_reason)
        crash_point(self.lib.settings, "dailyrec:after-claim")
        try:
            await self.publisher.publish(schedule, claim.story_id, claim.reason)
        except PublishError as exc:
            await self._release(claim, disable_reason=exc.reason if exc.permanent else None)
            if exc.permanent:
                log.warning("daily rec for guild %s disabled: %s", guild, exc.reason)
                return Outcome(guild, "disabled", claim.story_id, day, exc.reason)
            log.warning("daily rec for guild %s not sent (%s); will retry", guild, exc.reason)
            return Outcome(guild, "retry", claim.story_id, day, exc.reason)
        except Exception:
            await self._release(claim)
            raise
        log.info("daily rec for guild %s: story %s (cycle %s, %s)", guild, claim.story_id, claim.cycle, day)
        return Outcome(guild, "posted", claim.story_id, day)

    async def _claim(self, schedule: Schedule, nsfw: bool, day: str | None, now: datetime) -> _Claim | None:
        """In one transaction: claim the day (when `day`), pick a story, record it in the history."""
        guild = schedule.guild_id
        async with self.lib.transaction() as session:
            row = await session.get(DailyRecConfig, guild)
            if row is None or not row.enabled:
                return None
            before = Schedule.of(row)  # what a release restores
            if day is not None:
                claimed = await session.execute(
                    update(DailyRecConfig)
                    .where(
                        DailyRecConfig.guild_id == guild,
                        DailyRecConfig.enabled,
                        or_(DailyRecConfig.last_post_date.is_(None), DailyRecConfig.last_post_date < day),
                    )
                    .values(last_post_date=day)
                )
                if not claimed.rowcount:  # type: ignore[attr-defined]
                    return None
            eligible = await self._eligible(session, before, nsfw)
            if not eligible:
                why = "no story matches its filters" + (
                    "" if nsfw else " in a channel that is not age-restricted"
                )
                return _Claim(before, None, None, before.cycle, day, why)
            cycle = before.cycle
            remaining = sorted(set(eligible) - await self._posted(session, guild, cycle))
            if not remaining:  # everything eligible went out once: a new cycle
                cycle += 1
                remaining = sorted(set(eligible) - {before.last_story_id}) or sorted(eligible)
                log.info("daily rec for guild %s starts cycle %s", guild, cycle)
            pick = await dailypick.choose(session, remaining, self.rng)
            history = RecHistory(place=place(guild), story_id=pick.story_id, kind=KIND, cycle=cycle, at=now)
            session.add(history)
            row.cycle = cycle
            row.last_story_id = pick.story_id
            await session.flush()
            return _Claim(before, pick.story_id, history.id, cycle, day, reason=pick.reason)

    async def _release(self, claim: _Claim, *, disable_reason: str | None = None) -> None:
        """Undo a claim whose post did not go out (and disable the schedule when it never can)."""
        before = claim.schedule
        async with self.lib.transaction() as session:
            if claim.history_id is not None:
                await session.execute(delete(RecHistory).where(RecHistory.id == claim.history_id))
            values: dict[str, object] = {"cycle": before.cycle, "last_story_id": before.last_story_id}
            if claim.day is not None:
                values["last_post_date"] = before.last_post_date
            if disable_reason is not None:
                values |= {"enabled": False, "disabled_reason": disable_reason}
            await session.execute(
                update(DailyRecConfig).where(DailyRecConfig.guild_id == before.guild_id).values(**values)
            )

    async def _eligible(self, session: AsyncSession, schedule: Schedule, nsfw: bool) -> list[int]:
        compiled = await compile_query(self.lib, session, schedule.query(nsfw))
        return await matching_ids(self.lib, session, compiled.filters, compiled.gate)

    async def _posted(self, session: AsyncSession, guild_id: int, cycle: int) -> set[int]:
        stmt = select(func.distinct(RecHistory.story_id)).where(
            RecHistory.place == place(guild_id), RecHistory.kind == KIND, RecHistory.cycle == cycle
        )
        return set((await session.scalars(stmt)).all())
