"""`/dailyrec set|off|show|now` through the cog's callbacks with spec'd Interaction mocks, the post the
channel publisher sends, and how Discord failures map to permanent or transient ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from cogs.dailyrec import ChannelPublisher, DailyRec, timezone_autocomplete
from service.dailyrec import PublishError, Schedule
from service.library import Library
from service.query import QueryError
from tests.conftest import assert_within_limits, invoke, make_bot, make_interaction
from tests.test_dailyrec import CHANNEL, GUILD, FakePublisher, add_stories

NOW = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def setup(library: Library) -> tuple[DailyRec, FakePublisher, Clock, list[int]]:
    ids = await add_stories(library, ["general", "teen", "explicit"])
    publisher, clock = FakePublisher(), Clock(NOW)
    return DailyRec(make_bot(library), clock=clock, publisher=publisher), publisher, clock, ids


def who(*, mod: bool) -> MagicMock:
    interaction = make_interaction(guild_id=GUILD)
    interaction.permissions = discord.Permissions(manage_guild=mod, send_messages=True)
    interaction.user.roles = []
    interaction.user.name = "mia" if mod else "alice"
    return interaction


def target(nsfw: bool = False) -> MagicMock:
    channel = MagicMock(spec=discord.TextChannel, id=CHANNEL)
    channel.is_nsfw.return_value = nsfw
    return channel


def described(interaction: MagicMock) -> str:
    """Everything the member read: contents and embed descriptions."""
    parts = []
    for sent in interaction.sent:
        parts.append(sent.get("content") or "")
        embed = sent.get("embed")
        if embed is not None:
            parts.append(embed.description or "")
    return "\n".join(parts)


async def set_schedule(cog: DailyRec, **options: Any) -> MagicMock:
    interaction = who(mod=True)
    values = {"time": "09:00", "timezone": "Europe/London"} | options
    await cog.set_.callback(cog, interaction, target(), **values)
    return interaction


@pytest.mark.parametrize("command", ["set_", "off", "now"])
async def test_members_may_not_change_or_post_the_daily_rec(setup: Any, command: str) -> None:
    cog, publisher, _clock, _ids = setup
    interaction = who(mod=False)
    args = (target(), "09:00") if command == "set_" else ()
    await invoke(getattr(cog, command), cog, interaction, *args)
    [reply] = interaction.sent
    assert reply["ephemeral"] is True and "Manage Server" in reply["content"]
    assert await cog.service.schedule(GUILD) is None and publisher.posts == []


async def test_a_mod_sets_the_schedule_and_sees_when_it_posts(setup: Any) -> None:
    cog, _publisher, _clock, _ids = setup
    interaction = await set_schedule(cog, character="Willow", max_rating="explicit")
    assert [s["via"] for s in interaction.sent] == ["defer", "followup"]
    assert interaction.sent[1]["ephemeral"] is True
    text = described(interaction)
    assert "saved" in text and "09:00" in text and "Europe/London" in text
    first = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert f"<t:{int(first.timestamp())}:F>" in text
    assert "0 of 0 posted this cycle" in text, "no story features Willow"
    assert "not age-restricted" in text
    assert_within_limits(interaction.sent)
    schedule = await cog.service.schedule(GUILD)
    assert schedule and schedule.channel_id == CHANNEL and schedule.updated_by == "Reader One"
    assert schedule.characters == ("Willow",) and schedule.max_rating == "explicit"


async def test_a_bad_time_or_zone_is_refused_in_plain_words(setup: Any) -> None:
    cog, *_ = setup
    with pytest.raises(QueryError, match="HH:MM"):
        await set_schedule(cog, time="quarter past nine")
    with pytest.raises(QueryError, match="time zone"):
        await set_schedule(cog, timezone="Mars/Olympus_Mons")
    assert await cog.service.schedule(GUILD) is None


async def test_a_channel_the_bot_cannot_post_in_is_refused(setup: Any) -> None:
    cog, *_ = setup
    channel = target()
    channel.mention = f"<#{CHANNEL}>"
    channel.permissions_for.return_value = discord.Permissions(view_channel=True, send_messages=True)
    with pytest.raises(QueryError, match="I need Embed Links there"):
        await cog.set_.callback(cog, who(mod=True), channel, "09:00")
    assert await cog.service.schedule(GUILD) is None


async def test_show_for_everyone_with_cycle_progress_and_the_last_post(setup: Any) -> None:
    cog, publisher, clock, _ids = setup
    nothing = who(mod=False)
    await cog.show.callback(cog, nothing)
    assert "no daily rec yet" in described(nothing) and nothing.sent[0]["ephemeral"] is True
    await set_schedule(cog, timezone=None)
    clock.now = NOW.replace(hour=9, minute=0, second=5)
    assert [o.kind for o in await cog.run_once()] == ["posted"]
    interaction = who(mod=False)
    await cog.show.callback(cog, interaction)
    text = described(interaction)
    posted = publisher.stories()[0]
    assert f"“Story {posted}”" in text and "1 of 2 posted this cycle (cycle 1)" in text
    tomorrow = NOW.replace(hour=9, minute=0) + timedelta(days=1)
    assert f"<t:{int(tomorrow.timestamp())}:F>" in text
    assert interaction.sent[0]["ephemeral"] is True
    assert_within_limits(interaction.sent)


async def test_off_then_show_says_why_and_the_ticks_stop(setup: Any) -> None:
    cog, _publisher, clock, _ids = setup
    await set_schedule(cog)
    off = who(mod=True)
    await cog.off.callback(cog, off)
    assert off.sent[0]["content"] == "The daily rec is off."
    clock.now = NOW + timedelta(hours=5)
    assert await cog.run_once() == []
    shown = who(mod=False)
    await cog.show.callback(cog, shown)
    assert "Off**: turned off by Reader One" in described(shown)


async def test_a_deleted_channel_is_reported_by_the_next_show(setup: Any) -> None:
    cog, publisher, clock, _ids = setup
    await set_schedule(cog)
    publisher.gone.add(CHANNEL)
    clock.now = NOW + timedelta(hours=3)
    assert [o.kind for o in await cog.run_once()] == ["disabled"]
    shown = who(mod=True)
    await cog.show.callback(cog, shown)
    assert "Off**: the channel was deleted" in described(shown)


async def test_now_posts_at_once_for_a_mod(setup: Any) -> None:
    cog, publisher, _clock, _ids = setup
    await set_schedule(cog)
    interaction = who(mod=True)
    await cog.now.callback(cog, interaction)
    [(guild, channel, story)] = publisher.posts
    assert (guild, channel) == (GUILD, CHANNEL)
    assert interaction.sent[-1]["content"] == f"Posted “Story {story}” in <#{CHANNEL}>."
    assert interaction.sent[-1]["ephemeral"] is True


async def test_the_scheduler_ticks_at_the_configured_pace(library: Library) -> None:
    bot = make_bot(library)
    bot.settings = library.settings.with_(dailyrec_tick_seconds=2)
    bot.lib.settings = bot.settings
    cog = DailyRec(bot, clock=Clock(NOW), publisher=FakePublisher())
    assert cog.tick.seconds == 2 and not cog.tick.is_running()


async def test_time_zone_autocomplete() -> None:
    london = await timezone_autocomplete(make_interaction(), "london")
    assert [c.value for c in london] == ["Europe/London"]
    new = await timezone_autocomplete(make_interaction(), "America/New")
    assert "America/New_York" in [c.value for c in new] and len(new) <= 25
    assert next(c.value for c in await timezone_autocomplete(make_interaction(), "")) == "UTC"
    assert len(await timezone_autocomplete(make_interaction(), "a")) == 25


# --- the channel publisher -----------------------------------------------------------------------


def publisher_over(library: Library, channel: Any) -> ChannelPublisher:
    bot = MagicMock(spec=discord.Client)
    bot.lib = library
    bot.get_channel.return_value = channel
    bot.fetch_channel = AsyncMock(side_effect=discord.NotFound(MagicMock(status=404, reason="gone"), "gone"))
    return ChannelPublisher(bot)


def schedule() -> Schedule:
    return Schedule(guild_id=GUILD, channel_id=CHANNEL, post_time="09:00", timezone="UTC")


async def test_the_post_is_the_card_its_opening_and_the_read_button(library: Library) -> None:
    [story] = await add_stories(library, ["teen"])
    channel = target(nsfw=False)
    channel.send = AsyncMock()
    publisher = publisher_over(library, channel)
    assert await publisher.channel_nsfw(CHANNEL) is False
    await publisher.publish(schedule(), story, "2 members gave it *kudos*")
    sent = channel.send.await_args.kwargs
    assert "Today's rec** · *2 members gave it \\*kudos\\**" in sent["content"]  # escaped
    assert sent["embed"].title == f"Story {story}"
    assert "Today's rec" in sent["content"] and f"Story {story} begins here." in sent["content"]
    assert "part 1 of" in sent["content"]
    labels = {getattr(c, "item", c).label for c in sent["view"].children}
    assert "Read" in labels
    assert sent["allowed_mentions"].to_dict() == {"parse": []}
    assert_within_limits([{"via": "channel", **sent}])


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (discord.NotFound(MagicMock(status=404, reason="Not Found"), "Unknown Channel"), True),
        (discord.Forbidden(MagicMock(status=403, reason="Forbidden"), "Missing Access"), True),
        (discord.HTTPException(MagicMock(status=503, reason="Unavailable"), "try later"), False),
        (discord.HTTPException(MagicMock(status=429, reason="Too Many"), "slow down"), False),
        (TimeoutError(), False),
    ],
)
async def test_discord_failures_are_permanent_or_transient(
    library: Library, error: Exception, permanent: bool
) -> None:
    [story] = await add_stories(library, ["general"])
    channel = target()
    channel.send = AsyncMock(side_effect=error)
    with pytest.raises(PublishError) as caught:
        await publisher_over(library, channel).publish(schedule(), story)
    assert caught.value.permanent is permanent


async def test_a_channel_no_longer_known_is_a_permanent_failure(library: Library) -> None:
    with pytest.raises(PublishError) as caught:
        await publisher_over(library, None).channel_nsfw(CHANNEL)
    assert caught.value.permanent and "deleted" in caught.value.reason
