"""The daily rec service over simulated days: one post a day at the local time, no repeats until the
pool is exhausted, restarts, missed posts, daylight saving, age gating and failures.

Time is moved by passing `now` to `run_due` (the scheduler's injectable clock); stories are rows in a
real SQLite file; Discord is a small recording `Publisher`.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import DailyRecConfig, RecHistory, Story, StoryCharacter, StoryText
from service.dailyrec import DailyRecService, PublishError, Schedule
from service.dailytime import file_clock, parse_post_time, parse_timezone, post_instant, zone
from service.library import Library
from service.query import QueryError

GUILD, CHANNEL = 42, 555
LEVELS = ("general", "teen", "mature", "explicit", "not_rated")


@dataclass
class FakePublisher:
    """Records what would be posted; `nsfw` says which channels are age-restricted; queued
    `failures` are raised by the next publishes, in order."""

    nsfw: set[int] = field(default_factory=set)
    posts: list[tuple[int, int, int]] = field(default_factory=list)  # (guild, channel, story)
    failures: list[BaseException] = field(default_factory=list)
    gone: set[int] = field(default_factory=set)

    async def channel_nsfw(self, channel_id: int) -> bool:
        if channel_id in self.gone:
            raise PublishError("the channel was deleted", permanent=True)
        return channel_id in self.nsfw

    async def publish(self, config: Schedule, story_id: int, reason: str | None = None) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.posts.append((config.guild_id, config.channel_id, story_id))

    def stories(self) -> list[int]:
        return [story for _g, _c, story in self.posts]


async def add_stories(lib: Library, levels: list[str], character: str | None = None) -> list[int]:
    """Stories rated `levels` (one each), optionally featuring `character` in their header."""
    async with lib.transaction() as session:
        base = await session.scalar(select(Story.id).order_by(Story.id.desc()).limit(1)) or 0
        made = []
        for n, level in enumerate(levels, start=base + 1):
            story = Story(
                path=f"s/{n}.txt",
                file_hash=f"{n:064d}",
                format="text",
                title=f"Story {n}",
                title_key=f"story {n}",
                rating_level=level,
                rating_rank=LEVELS.index(level),
            )
            story.text = StoryText(title=story.title, body=f"Story {n} begins here.\n\n" + "And on. " * 400)
            if character:
                story.characters = [StoryCharacter(name=character, source="header")]
            session.add(story)
            made.append(story)
        await session.flush()
        return [s.id for s in made]


def at(day: date, hh: int, mm: int = 0, tz: str = "UTC", ss: int = 0) -> datetime:
    """Local wall time on `day` in `tz`, as aware UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=zone(tz)).astimezone(UTC)


DAY1 = date(2026, 5, 4)


async def service(lib: Library, publisher: FakePublisher, seed: int = 7) -> DailyRecService:
    return DailyRecService(lib, publisher, rng=random.Random(seed))


async def configure(svc: DailyRecService, **kw: object) -> Schedule:
    options: dict[str, object] = {"post_time": "09:00", "timezone": "UTC", "now": at(DAY1, 0)} | kw
    return await svc.configure(GUILD, CHANNEL, **options)  # type: ignore[arg-type]


async def run_days(svc: DailyRecService, days: int, start: date = DAY1, hh: int = 9, mm: int = 0) -> None:
    """Tick before, at, and twice after the post time on each of `days` days."""
    for offset in range(days):
        day = start + timedelta(days=offset)
        for moment in (at(day, hh, mm) - timedelta(seconds=1), at(day, hh, mm), at(day, hh + 1), at(day, 23)):
            await svc.run_due(moment)


async def test_one_post_a_day_without_repeats_then_a_new_cycle(library: Library) -> None:
    ids = await add_stories(library, ["general"] * 5)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc)
    await run_days(svc, 5)
    assert sorted(pub.stories()) == ids, "each story once before any repeat"
    status = await svc.status(GUILD, at(DAY1 + timedelta(days=4), 12))
    assert status and (status.posted_this_cycle, status.eligible, status.schedule.cycle) == (5, 5, 1)
    await run_days(svc, 5, DAY1 + timedelta(days=5))
    second = pub.stories()[5:]
    assert sorted(second) == ids, "the second cycle posts every story once again"
    assert second[0] != pub.stories()[4], "a new cycle does not start with the story just posted"
    schedule = await svc.schedule(GUILD)
    assert schedule and schedule.cycle == 2


async def test_nothing_before_the_time_and_once_however_often_it_ticks(library: Library) -> None:
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc, post_time="18:30")
    assert await svc.run_due(at(DAY1, 18, 29, ss=59)) == []
    outcomes = await svc.run_due(at(DAY1, 18, 30))
    assert [o.kind for o in outcomes] == ["posted"] and outcomes[0].day == DAY1.isoformat()
    for minute in range(31, 60):
        assert await svc.run_due(at(DAY1, 18, minute)) == []
    assert len(pub.posts) == 1 and pub.posts[0][:2] == (GUILD, CHANNEL)


async def test_a_restart_continues_the_cycle_and_never_posts_twice_a_day(library: Library) -> None:
    ids = await add_stories(library, ["general"] * 4)
    pub = FakePublisher()
    await configure(await service(library, pub))
    await run_days(await service(library, pub, seed=1), 2)
    again = await Library.open(library.settings)  # a new process over the same database
    try:
        restarted = await service(again, pub, seed=1)  # same seed: it would repeat if it forgot
        assert await restarted.run_due(at(DAY1 + timedelta(days=1), 20)) == []
        await run_days(restarted, 2, DAY1 + timedelta(days=2))
    finally:
        await again.close()
    assert sorted(pub.stories()) == ids


async def test_a_missed_post_goes_out_later_the_same_day_but_not_the_next(library: Library) -> None:
    await add_stories(library, ["general"] * 5)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc, timezone="Europe/Paris")
    # Down from 08:00 to 15:00 local on day 1: the post goes out once, on the first tick back.
    outcomes = await svc.run_due(at(DAY1, 15, tz="Europe/Paris"))
    assert [o.kind for o in outcomes] == ["posted"]
    assert await svc.run_due(at(DAY1, 16, tz="Europe/Paris")) == []
    # Down for all of day 2: nothing is owed on day 3 before its own time, and only one post then.
    day3 = DAY1 + timedelta(days=2)
    assert await svc.run_due(at(day3, 0, 5, tz="Europe/Paris")) == []
    assert await svc.run_due(at(day3, 8, 59, tz="Europe/Paris")) == []
    assert len(await svc.run_due(at(day3, 9, 0, tz="Europe/Paris"))) == 1
    assert await svc.run_due(at(day3, 22, tz="Europe/Paris")) == []
    assert len(pub.posts) == 2


async def test_a_crash_after_the_claim_never_posts_twice(library: Library) -> None:
    await add_stories(library, ["general"] * 3)

    class ChecksTheClaim(FakePublisher):
        async def publish(self, config: Schedule, story_id: int, reason: str | None = None) -> None:
            async with library.sessions() as session:
                row = await session.get(DailyRecConfig, GUILD)
                assert row and row.last_post_date == DAY1.isoformat(), "the day is claimed before sending"
            raise asyncio.CancelledError  # the process is killed mid-send

    svc = await service(library, ChecksTheClaim())
    await configure(svc)
    with pytest.raises(asyncio.CancelledError):
        await svc.run_due(at(DAY1, 9))
    pub = FakePublisher()
    after = await service(library, pub)
    assert await after.run_due(at(DAY1, 9, 5)) == []
    assert pub.posts == []
    assert len(await after.run_due(at(DAY1 + timedelta(days=1), 9))) == 1


async def test_a_transient_failure_releases_the_claim_and_the_next_tick_retries(library: Library) -> None:
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher(failures=[PublishError("Discord is having a moment", permanent=False)])
    svc = await service(library, pub)
    await configure(svc)
    first = await svc.run_due(at(DAY1, 9))
    assert [o.kind for o in first] == ["retry"] and pub.posts == []
    status = await svc.status(GUILD, at(DAY1, 9))
    assert status and status.posted_this_cycle == 0 and status.last_story_id is None
    assert [o.kind for o in await svc.run_due(at(DAY1, 9, 0, ss=30))] == ["posted"]
    assert await svc.run_due(at(DAY1, 9, 1)) == []
    assert len(pub.posts) == 1


@pytest.mark.parametrize("where", ["publish", "channel"])
async def test_a_deleted_channel_disables_the_schedule_with_a_reason(library: Library, where: str) -> None:
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    if where == "publish":
        pub.failures.append(PublishError("the channel was deleted", permanent=True))
    else:
        pub.gone.add(CHANNEL)
    svc = await service(library, pub)
    await configure(svc)
    outcomes = await svc.run_due(at(DAY1, 9))
    assert [(o.kind, o.reason) for o in outcomes] == [("disabled", "the channel was deleted")]
    status = await svc.status(GUILD, at(DAY1, 10))
    assert status and not status.schedule.enabled and status.next_post is None
    assert status.schedule.disabled_reason == "the channel was deleted"
    assert status.posted_this_cycle == 0 and status.last_story_id is None
    await run_days(svc, 3, DAY1 + timedelta(days=1))
    assert pub.posts == []
    # A mod points it at a channel that works: it posts again from the next day on.
    pub.gone.clear()
    await configure(svc, now=at(DAY1 + timedelta(days=4), 12))
    await run_days(svc, 1, DAY1 + timedelta(days=4))
    assert pub.posts == []
    await run_days(svc, 1, DAY1 + timedelta(days=5))
    assert len(pub.posts) == 1


async def test_outside_an_age_restricted_channel_only_general_and_teen_are_posted(library: Library) -> None:
    ids = await add_stories(library, list(LEVELS) * 2)
    safe = {i for i, level in zip(ids, list(LEVELS) * 2, strict=True) if level in ("general", "teen")}
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc, max_rating="explicit")  # the filters allow it; the channel does not
    await run_days(svc, 8)
    assert set(pub.stories()) == safe and len(pub.stories()) == 8
    status = await svc.status(GUILD, at(DAY1 + timedelta(days=8), 12))
    assert status and status.eligible == len(safe)


async def test_an_age_restricted_channel_gets_everything_under_the_ceiling(library: Library) -> None:
    ids = await add_stories(library, list(LEVELS))
    pub = FakePublisher(nsfw={CHANNEL})
    svc = await service(library, pub)
    await configure(svc)
    await run_days(svc, 5)
    assert sorted(pub.stories()) == ids
    capped = FakePublisher(nsfw={CHANNEL})
    svc = await service(library, capped)
    await configure(svc, max_rating="Mature", now=at(DAY1 + timedelta(days=5), 0))
    await run_days(svc, 6, DAY1 + timedelta(days=5))
    assert set(capped.stories()) == set(ids[:3])


async def test_character_and_pairing_filters_narrow_the_pool(library: Library) -> None:
    willow = await add_stories(library, ["general"] * 2, character="Willow Rosenberg")
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    svc = await service(library, pub)
    schedule = await configure(svc, characters=["willow"])
    assert schedule.characters == ("willow",)
    await run_days(svc, 4)
    assert set(pub.stories()) == set(willow) and len(pub.stories()) == 4
    with pytest.raises(QueryError):
        await configure(svc, characters=["Zzyzx Qwertyuiop"])


async def test_an_empty_pool_claims_the_day_without_posting(library: Library) -> None:
    await add_stories(library, ["explicit"] * 2)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc)
    outcomes = await svc.run_due(at(DAY1, 9))
    assert [o.kind for o in outcomes] == ["empty"] and "age-restricted" in (outcomes[0].reason or "")
    assert await svc.run_due(at(DAY1, 10)) == []
    assert pub.posts == []


# --- daylight saving ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "post_time", "posts_at"),
    [
        # Spring forward: 02:30 does not exist; it posts when the clocks jump (03:00 EDT = 07:00 UTC).
        ("America/New_York", date(2026, 3, 8), "02:30", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        # Fall back: 01:30 happens twice (05:30 and 06:30 UTC); it posts at the first, once.
        ("America/New_York", date(2026, 11, 1), "01:30", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        # London: 01:30 does not exist on 29 March (posts at 02:00 BST = 01:00 UTC) ...
        ("Europe/London", date(2026, 3, 29), "01:30", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # ... and happens twice on 25 October (00:30 and 01:30 UTC).
        ("Europe/London", date(2026, 10, 25), "01:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
async def test_daylight_saving_changes_post_once_at_the_right_instant(
    library: Library, tz: str, day: date, post_time: str, posts_at: datetime
) -> None:
    assert post_instant(day, post_time, zone(tz)) == posts_at
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    svc = await service(library, pub)
    # Set the evening before, after that day's time: the first post is the one across the change.
    await configure(svc, post_time=post_time, timezone=tz, now=posts_at - timedelta(hours=12))
    assert (await svc.schedule(GUILD)) is not None
    status = await svc.status(GUILD, posts_at - timedelta(hours=3))
    assert status and status.next_post == posts_at
    assert await svc.run_due(posts_at - timedelta(seconds=1)) == []
    assert len(await svc.run_due(posts_at)) == 1
    for minutes in range(15, 181, 15):  # through the repeated hour and beyond
        assert await svc.run_due(posts_at + timedelta(minutes=minutes)) == []
    assert len(pub.posts) == 1
    next_day = day + timedelta(days=1)
    assert len(await svc.run_due(at(next_day, *map(int, post_time.split(":")), tz=tz))) == 1


async def test_the_same_local_time_moves_in_utc_across_a_change(library: Library) -> None:
    await add_stories(library, ["general"] * 4)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc, timezone="Europe/London", now=datetime(2026, 10, 23, tzinfo=UTC))
    summer, winter = date(2026, 10, 24), date(2026, 10, 26)
    assert await svc.run_due(datetime(2026, 10, 24, 8, 0, tzinfo=UTC)) != []  # 09:00 BST
    assert await svc.run_due(datetime(2026, 10, 26, 8, 30, tzinfo=UTC)) == []  # 08:30 GMT: not yet
    assert await svc.run_due(datetime(2026, 10, 26, 9, 0, tzinfo=UTC)) != []  # 09:00 GMT
    assert at(summer, 9, tz="Europe/London").hour == 8 and at(winter, 9, tz="Europe/London").hour == 9


# --- commands' service side -----------------------------------------------------------------------


async def test_setting_a_time_already_past_today_starts_tomorrow(library: Library) -> None:
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc, post_time="09:00", now=at(DAY1, 12))
    assert await svc.run_due(at(DAY1, 12, 1)) == []
    status = await svc.status(GUILD, at(DAY1, 12, 1))
    assert status and status.next_post == at(DAY1 + timedelta(days=1), 9)
    assert len(await svc.run_due(at(DAY1 + timedelta(days=1), 9))) == 1


async def test_post_now_counts_toward_the_cycle_but_not_as_the_days_post(library: Library) -> None:
    ids = await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc)
    first = await svc.post_now(GUILD, at(DAY1, 7))
    assert first.kind == "posted" and first.day is None
    await run_days(svc, 2)
    assert sorted(pub.stories()) == ids
    status = await svc.status(GUILD, at(DAY1 + timedelta(days=1), 12))
    assert status and status.posted_this_cycle == 3 and status.last_title == f"Story {pub.stories()[-1]}"
    async with library.sessions() as session:
        kinds = (await session.scalars(select(RecHistory.kind))).all()
    assert kinds == ["daily"] * 3


async def test_post_now_without_a_schedule_is_a_plain_error(library: Library) -> None:
    svc = await service(library, FakePublisher())
    with pytest.raises(QueryError, match="/dailyrec set"):
        await svc.post_now(GUILD, at(DAY1, 9))


async def test_off_stops_the_posts(library: Library) -> None:
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc)
    assert await svc.disable(GUILD, by="mia") is True
    await run_days(svc, 2)
    assert pub.posts == []
    assert await svc.disable(GUILD + 1) is False


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("9:05", "09:05"), ("21:30", "21:30"), ("07.00", "07:00"), ("9pm", "21:00"), ("12 am", "00:00")],
)
def test_post_times_people_type(typed: str, expected: str) -> None:
    assert parse_post_time(typed) == expected


@pytest.mark.parametrize("typed", ["25:00", "9", "noon", "12:60", "13pm", ""])
def test_post_times_that_are_refused(typed: str) -> None:
    with pytest.raises(QueryError, match="HH:MM"):
        parse_post_time(typed)


def test_time_zones_are_validated() -> None:
    assert parse_timezone(None) == "UTC" and parse_timezone("europe/london") == "Europe/London"
    with pytest.raises(QueryError) as caught:
        parse_timezone("London")
    assert "Europe/London" in caught.value.suggestions


def test_the_file_clock_test_hook(tmp_path) -> None:
    path = tmp_path / "now"
    fixed = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    clock = file_clock(path, fallback=lambda: fixed)
    assert clock() == fixed
    path.write_text("2026-03-08T06:59:50+00:00")
    assert clock() == datetime(2026, 3, 8, 6, 59, 50, tzinfo=UTC)


async def test_changing_the_time_after_todays_post_waits_for_tomorrow(library: Library) -> None:
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc)
    assert len(await svc.run_due(at(DAY1, 9))) == 1
    await configure(svc, post_time="18:00", now=at(DAY1, 10))
    assert await svc.run_due(at(DAY1, 18)) == []
    assert len(await svc.run_due(at(DAY1 + timedelta(days=1), 18))) == 1


async def test_moving_to_a_zone_where_the_time_is_still_ahead_posts_there_today(library: Library) -> None:
    await add_stories(library, ["general"] * 3)
    pub = FakePublisher()
    svc = await service(library, pub)
    await configure(svc, post_time="02:30", now=datetime(2026, 3, 8, 4, 0, tzinfo=UTC))  # past in UTC
    await configure(
        svc, post_time="02:30", timezone="America/New_York", now=datetime(2026, 3, 8, 4, 5, tzinfo=UTC)
    )
    assert await svc.run_due(datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC)) == []
    assert len(await svc.run_due(datetime(2026, 3, 8, 7, 0, tzinfo=UTC))) == 1


async def test_two_processes_ticking_together_post_once_a_day(library: Library) -> None:
    """Two bot processes share one database (shards): the day's claim in the database, not a flag
    in either process, makes exactly one of them post, however their ticks interleave."""
    ids = await add_stories(library, ["general"] * 6)
    other = await Library.open(library.settings, load_titles=False)  # the second process
    try:
        pubs = [FakePublisher(), FakePublisher()]
        services = [await service(library, pubs[0], seed=1), await service(other, pubs[1], seed=2)]
        await configure(services[0])
        for offset in range(6):
            moment = at(DAY1 + timedelta(days=offset), 9, 0, ss=1)
            for _ in range(3):
                await asyncio.gather(*(svc.run_due(moment) for svc in services))
        posted = pubs[0].stories() + pubs[1].stories()
        assert sorted(posted) == ids, "one post a day in all, each story once"
    finally:
        await other.close()
