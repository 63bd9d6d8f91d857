"""`/dailyrec set|off|show|now`: a story posted in a channel every day, and the scheduler that posts it.

Owns the commands' options and replies (`set`, `off` and `now` are for mods, checked in the command;
`show` is for everyone, privately), the post itself (the story card, its opening excerpt and the Read
button, in one message), how Discord failures map to the service's `PublishError` (a deleted channel
or a missing permission is permanent, anything else is retried), and the `discord.ext.tasks` loop
whose body only calls `DailyRecService.run_due(clock())`. It must not decide when to post, what to
post or what was posted: `service.dailyrec` does, with an injectable clock.

Test hook: with `LIBRARIAN_FAKE_NOW_FILE` set (settings.fake_now_file) the clock reads "now" from that
file, and `DAILYREC_TICK_SECONDS` makes the loop tick faster; the end-to-end tests use both.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands, tasks
from discord.utils import escape_markdown, format_dt

from archive.model import RATING_LEVELS
from archive.ratings import choice_name, level_words
from cogs.base import LibrarianCog
from cogs.buttons import card_view
from cogs.checks import mod_only
from cogs.embeds import card_embed, fit_message, notice_embed, shorten
from cogs.errors import reply_ephemeral
from cogs.gating import GATED_WORDS, is_age_restricted
from cogs.reading import PART_TEXT_MAX, part_header
from cogs.transformers import TimeZone, character_autocomplete, pairing_autocomplete, timezone_autocomplete
from cogs.tree import PRIVATE, acknowledge
from cogs.views import send_first
from service import kudos, stories
from service.dailyrec import DailyRecService, Outcome, Publisher, PublishError, Schedule, Status
from service.dailytime import Clock, file_clock, utc_now
from service.excerpts import render_chunk
from service.query import QueryError

log = logging.getLogger(__name__)
__all__ = ["ChannelPublisher", "DailyRec", "timezone_autocomplete"]

NO_PINGS = discord.AllowedMentions.none()
MAX_RATING_CHOICES = [
    app_commands.Choice(name=choice_name(level), value=level)
    for level in RATING_LEVELS
    if level != "not_rated"
] + [app_commands.Choice(name="Anything, not rated included", value="not_rated")]
SHUTDOWN_WAIT = 10.0
"""Seconds unloading waits for a tick in progress to end its cancellation (its database work)."""


def story_post(
    card: Any, opening: str | None, kudos_count: int = 0, reason: str | None = None
) -> dict[str, Any]:
    """The daily post: a heading (and why this story), the story's opening, its card, and the
    card's buttons."""
    content = "☀️ **Today's rec**" + (f" · *{escape_markdown(reason)}*" if reason else "")
    if opening:
        content += f"\n{opening}"
    return {
        "content": fit_message(content),
        "embed": card_embed(card),
        "view": card_view(card.id, kudos_count),
        "allowed_mentions": NO_PINGS,
    }


class ChannelPublisher:
    """The service's `Publisher` over a real channel: NotFound / Forbidden are permanent failures."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def _channel(self, channel_id: int) -> Any:
        channel = self.bot.get_channel(channel_id)
        if channel is not None:
            return channel
        try:
            return await self.bot.fetch_channel(channel_id)
        except discord.NotFound:
            raise PublishError("its channel was deleted", permanent=True) from None
        except discord.Forbidden:
            raise PublishError(f"I can no longer see <#{channel_id}>", permanent=True) from None
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise PublishError(f"Discord did not answer ({exc})", permanent=False) from exc

    async def channel_nsfw(self, channel_id: int) -> bool:
        return is_age_restricted(await self._channel(channel_id))

    async def publish(self, config: Schedule, story_id: int, reason: str | None = None) -> None:
        channel = await self._channel(config.channel_id)
        lib = self.bot.lib  # type: ignore[attr-defined]
        card = await stories.story_card(lib, story_id)
        parts = await stories.excerpt(lib, story_id, limit=PART_TEXT_MAX)
        opening = f"{part_header(card.title, 1, len(parts))}\n{render_chunk(parts[0])}" if parts else None
        try:
            await channel.send(**story_post(card, opening, await kudos.count(lib, story_id), reason))
        except discord.NotFound:
            raise PublishError("its channel was deleted", permanent=True) from None
        except discord.Forbidden:
            raise PublishError(
                f"I am not allowed to post in <#{config.channel_id}>", permanent=True
            ) from None
        except discord.HTTPException as exc:
            permanent = 400 <= exc.status < 500 and exc.status != 429
            raise PublishError(
                f"Discord refused the post ({exc.status} {exc.text})", permanent=permanent
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PublishError(f"Discord did not answer ({exc})", permanent=False) from exc


def missing_permissions(channel: Any) -> str | None:
    """What the bot lacks to post the daily rec in `channel` ("Send Messages, Embed Links"), if anything."""
    me = getattr(getattr(channel, "guild", None), "me", None)
    perms = channel.permissions_for(me) if me is not None else None
    if not isinstance(perms, discord.Permissions):  # not known from the cache: the first post will tell
        return None
    needed = {"view_channel": "View Channel", "send_messages": "Send Messages", "embed_links": "Embed Links"}
    lacking = [label for name, label in needed.items() if not getattr(perms, name)]
    return ", ".join(lacking) or None


def schedule_lines(status: Status, nsfw: bool) -> list[str]:
    """`/dailyrec show`'s lines: where and when, filters, next and last post, cycle, any problem."""
    s = status.schedule
    lines = [f"Posts in <#{s.channel_id}> every day at **{s.post_time}** ({s.timezone})."]
    filters = [*(f"character {c}" for c in s.characters), *(f"pairing {p}" for p in s.pairings)]
    if s.max_rating:
        filters.append(f"rating at most {level_words(s.max_rating)}")
    lines.append("Filters: " + (escape_markdown(", ".join(filters)) if filters else "none (every story)"))
    if status.next_post is not None:
        lines.append(f"Next post: {format_dt(status.next_post, 'F')} ({format_dt(status.next_post, 'R')})")
    else:
        reason = f": {s.disabled_reason}" if s.disabled_reason else ""
        lines.append(f"⚠️ **Off**{reason}. A mod can turn it on again with `/dailyrec set`.")
    if status.last_story_id is not None and status.last_at is not None:
        title = escape_markdown(shorten(status.last_title or f"story #{status.last_story_id}", 100))
        lines.append(f"Last post: “{title}” {format_dt(status.last_at, 'R')}")
    lines.append(f"{status.posted_this_cycle:,} of {status.eligible:,} posted this cycle (cycle {s.cycle}).")
    if status.problem:
        lines.append(f"⚠️ {status.problem}")
    if not nsfw:
        lines.append(f"Stories {GATED_WORDS} are never posted there: the channel is not age-restricted.")
    return lines


class DailyRec(LibrarianCog):
    """The daily rec: its commands and the scheduler loop."""

    dailyrec = app_commands.Group(
        name="dailyrec",
        description="A story recommended in a channel every day.",
        guild_only=True,
        extras=PRIVATE,
    )

    def __init__(
        self, bot: commands.Bot, *, clock: Clock | None = None, publisher: Publisher | None = None
    ) -> None:
        super().__init__(bot)
        settings = self.lib.settings
        self.clock: Clock = clock or (
            file_clock(settings.fake_now_file) if settings.fake_now_file else utc_now
        )
        self.publisher: Publisher = publisher or ChannelPublisher(bot)
        self.service = DailyRecService(self.lib, self.publisher)
        self.tick.change_interval(seconds=settings.dailyrec_tick_seconds)

    async def cog_load(self) -> None:
        self.tick.start()

    async def cog_unload(self) -> None:
        # Cancel the scheduler AND wait for it: a tick cancelled inside a query is still closing its
        # SQLite connection, and the bot closes the database right after unloading the cogs.
        task = self.tick.get_task()
        self.tick.cancel()
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait({task}, timeout=SHUTDOWN_WAIT)

    @tasks.loop(seconds=30)
    async def tick(self) -> None:
        await self.run_once()

    @tick.before_loop
    async def before_tick(self) -> None:
        await self.bot.wait_until_ready()
        done = getattr(self.bot, "index_done", None)
        if done is not None:
            await done.wait()

    async def run_once(self) -> list[Outcome]:
        """One scheduler tick: every server whose post is due gets it (never raises)."""
        now = self.clock()
        try:
            settings = getattr(self.bot, "settings", None)
            if settings is not None and settings.shard_ids is not None:  # only this process's shards
                return await self.service.run_due(now, owns=settings.owns_guild)
            return await self.service.run_due(now)
        except Exception:
            log.exception("the daily rec tick failed; the next tick tries again")
            return []
        finally:
            hook = self.lib.settings.fake_now_file
            if hook is not None:  # TEST HOOK: tell the end-to-end tests which "now" a tick has finished
                hook.with_name(hook.name + ".ticked").write_text(now.isoformat(), encoding="utf-8")

    async def _nsfw(self, channel_id: int) -> bool:
        try:
            return await self.publisher.channel_nsfw(channel_id)
        except PublishError:
            return False

    async def _show(self, interaction: discord.Interaction, heading: str | None = None) -> None:
        assert interaction.guild_id is not None
        status = await self.service.status(interaction.guild_id, self.clock())
        if status is None:
            text = "This server has no daily rec yet. A mod can start one with `/dailyrec set`."
            await reply_ephemeral(interaction, text)
            return
        lines = schedule_lines(status, await self._nsfw(status.schedule.channel_id))
        embed = notice_embed("\n".join(lines), title="Daily rec")
        if interaction.response.is_done():
            await interaction.followup.send(heading, embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(heading, embed=embed, ephemeral=True)

    @dailyrec.command(name="set", description="Mods: post a story in a channel every day at a set time.")
    @app_commands.describe(
        channel="The channel to post in",
        time="The time of day, HH:MM (24 hours), e.g. 09:00",
        timezone="The time zone of that time, e.g. Europe/London (default UTC)",
        max_rating="The highest rating to post (outside age-restricted channels: at most teen anyway)",
        character="Only stories featuring these characters (separate several with commas)",
        pairing="Only stories with this pairing, e.g. Spike/Willow",
    )
    @app_commands.choices(max_rating=MAX_RATING_CHOICES)
    @app_commands.autocomplete(character=character_autocomplete, pairing=pairing_autocomplete)
    @mod_only("change the daily rec")
    async def set_(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: TimeZone | None = None,
        max_rating: str | None = None,
        character: str | None = None,
        pairing: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        missing = missing_permissions(channel)
        if missing:
            raise QueryError(f"I can't post in {channel.mention}: I need {missing} there first.")
        await acknowledge(interaction, ephemeral=True)
        await self.service.configure(
            interaction.guild_id,
            channel.id,
            time,
            timezone,
            max_rating=getattr(max_rating, "value", max_rating),
            characters=(character or "").split(","),
            pairings=[pairing] if pairing else [],
            updated_by=getattr(interaction.user, "display_name", None) or interaction.user.name,
            now=self.clock(),
        )
        await self._show(interaction, "✅ Daily rec saved.")

    @dailyrec.command(name="off", description="Mods: stop the daily rec (its history is kept).")
    @mod_only("change the daily rec")
    async def off(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        who = getattr(interaction.user, "display_name", None) or interaction.user.name
        if await self.service.disable(interaction.guild_id, f"turned off by {who}", by=who):
            await send_first(interaction, content="The daily rec is off.", ephemeral=True)
        else:
            await send_first(interaction, content="This server has no daily rec to turn off.", ephemeral=True)

    @dailyrec.command(
        name="show", description="When the daily rec posts next, what it posted last, and more."
    )
    async def show(self, interaction: discord.Interaction) -> None:
        await self._show(interaction)

    @dailyrec.command(
        name="now", description="Mods: post a daily rec right away (the daily one still comes)."
    )
    @mod_only("post the daily rec")
    async def now(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await acknowledge(interaction, ephemeral=True)
        outcome = await self.service.post_now(interaction.guild_id, self.clock())
        schedule = await self.service.schedule(interaction.guild_id)
        where = f"<#{schedule.channel_id}>" if schedule else "the channel"
        if outcome.kind == "posted" and outcome.story_id is not None:
            card = await stories.story_card(self.lib, outcome.story_id)
            text = f"Posted “{escape_markdown(shorten(card.title, 200))}” in {where}."
        elif outcome.kind == "disabled":
            text = (
                f"I could not post: {outcome.reason}. The daily rec is now off; fix it, then `/dailyrec set`."
            )
        elif outcome.kind == "empty":
            text = f"Nothing to post: {outcome.reason}."
        else:
            text = f"Discord did not take the post ({outcome.reason}); try again in a minute."
        await interaction.followup.send(text, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(DailyRec(bot))
