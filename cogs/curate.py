"""`/story add|edit|reset|remove|restore|history`: mods curate the archive from Discord.

Every command carries `@mod_only()` (`cogs.checks`: who is a mod, refused through the one error
handler) and its story options autocomplete for mods only. Owns the upload's size check before
downloading, the preview with Confirm / Cancel, and how the audit trail reads (Discord timestamps,
paged). Every reply is private to the mod. It must not check, parse, store or move anything itself:
`service.curate` and `service.uploads` do, and say why when they refuse.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import escape_markdown

from archive.ratings import LEVEL_NAMES
from cogs.attachments import download
from cogs.base import LibrarianCog
from cogs.buttons import card_view
from cogs.checks import curator_only, is_mod, mod_autocomplete
from cogs.embeds import LIST_COLOUR, card_embed, fit, shorten
from cogs.errors import reply_ephemeral
from cogs.transformers import (
    Choices,
    author_autocomplete,
    pairing_autocomplete,
    service_autocomplete,
)
from cogs.tree import PRIVATE, acknowledge
from cogs.views import Confirm, ListPages, Paginator, send_first
from db.overrides import OVERRIDE_FIELDS
from service import choices, curate, stories
from service.curate import Actor, AuditRecord

log = logging.getLogger(__name__)

HISTORY_PER_PAGE = 10
RATING_CHOICES = [app_commands.Choice(name=name, value=name) for name in LEVEL_NAMES.values()]
FIELD_CHOICES = [app_commands.Choice(name=f, value=f) for f in OVERRIDE_FIELDS]
removed_autocomplete = mod_autocomplete(service_autocomplete(curate.removed_choices, "removed story"))
any_title_autocomplete = mod_autocomplete(service_autocomplete(choices.title_choices, "title"))
"""Every live title, whatever the channel, for mods only: mods curate stories of every rating (replies
are private); a member typing here sees nothing."""

__all__ = ["Curate", "is_mod"]


def when(at: datetime, style: str = "R") -> str:
    """A Discord timestamp (`<t:1700000000:R>` reads "in 3 hours" in each reader's own time zone)."""
    return f"<t:{int(at.timestamp())}:{style}>"


def preview_embed(upload: curate.Upload) -> discord.Embed:
    """The story card of an upload not saved yet, plus the first lines of its text."""
    embed = card_embed(upload.card)
    opening = shorten(escape_markdown(upload.opening), 1000)
    if opening:
        embed.add_field(name="Opening", value=opening, inline=False)
    if upload.meta.problems:  # what the parser could not make sense of (bytes not valid UTF-8 …)
        problems = "\n".join(f"⚠️ {escape_markdown(p)}" for p in upload.meta.problems[:5])
        embed.add_field(name="Problems reading the file", value=shorten(problems, 1000), inline=False)
    embed.set_footer(text=f"Preview of {upload.name} · nothing is saved until you press Confirm")
    return fit(embed)


def history_line(record: AuditRecord) -> str:
    """`<t:…:R> · **Mia** edited “Title” — rating: Mature (#12)`."""
    story = f" (#{record.story_id})" if record.story_id is not None else ""
    what = escape_markdown(record.describe())
    return f"{when(record.at)} · **{escape_markdown(record.actor_name)}** {what}{story}"


async def new_title_autocomplete(interaction: discord.Interaction, current: str) -> Choices:
    """A new title is free text: offer back what was typed, so it can be picked as it is."""
    return [app_commands.Choice(name=shorten(current, 100), value=current[:100])] if current.strip() else []


class Curate(LibrarianCog):
    """Mods add, correct, remove and restore stories, and read who did what."""

    story = app_commands.Group(
        name="story",
        description="Mods: add, correct, remove and restore stories.",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
        extras=PRIVATE,
    )

    @staticmethod
    def _actor(interaction: discord.Interaction) -> Actor:
        """The mod running the command (`@mod_only()` has let them through)."""
        user = interaction.user
        return Actor(user.id, getattr(user, "display_name", None) or user.name, interaction.guild_id)

    @story.command(name="add", description="Add a story file (txt, md, html, epub); you see a preview first.")
    @app_commands.describe(
        file="The story file: .txt, .md, .html/.htm or .epub",
        title="The title, when the file gets it wrong or has none",
        author="The author, when the file gets it wrong or has none",
        rating="The rating, when the file gets it wrong or has none",
        pairing="Pairings, e.g. Spike/Willow, Buffy & Faith",
        characters="Characters, separated by commas",
        tags="Tags, separated by commas",
        summary="A summary, when the file has none",
    )
    @app_commands.choices(rating=RATING_CHOICES)
    @app_commands.autocomplete(
        title=new_title_autocomplete, author=author_autocomplete, pairing=pairing_autocomplete
    )
    @curator_only()
    async def add(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        title: str | None = None,
        author: str | None = None,
        rating: str | None = None,
        pairing: str | None = None,
        characters: str | None = None,
        tags: str | None = None,
        summary: str | None = None,
    ) -> None:
        actor = self._actor(interaction)
        left, until = await curate.adds_left(self.lib, actor)
        if not left:
            later = f" You can add again {when(until)}." if until else ""
            per_day = self.lib.settings.adds_per_day
            await reply_ephemeral(
                interaction, f"You have added {per_day} stories in the last 24 hours.{later}"
            )
            return
        limit = self.lib.settings.upload_max_bytes
        if file.size > limit:
            await reply_ephemeral(
                interaction,
                f"{file.filename} is {file.size:,} bytes; stories may be at most {limit:,} bytes.",
            )
            return
        await acknowledge(interaction, ephemeral=True)
        data = await download(file, limit=limit)  # bounded in time and size; says why it stopped
        options = {
            "title": title,
            "author": author,
            "rating": rating,
            "relationships": pairing,
            "characters": characters,
            "tags": tags,
            "summary": summary,
        }
        upload = await curate.prepare_add(self.lib, file.filename, data, options)
        question = "Add this story to the archive?"
        answer = await Confirm(interaction.user.id).ask(interaction, question, embed=preview_embed(upload))
        if not answer:
            why = "Cancelled" if answer is False else "No answer in time"
            await interaction.followup.send(f"{why}: nothing was added.", ephemeral=True)
            return
        card = await curate.commit_add(self.lib, upload, actor)
        await interaction.followup.send(
            f"Added “{escape_markdown(card.title)}” as story #{card.id}.",
            embed=card_embed(card),
            view=card_view(card.id),
            ephemeral=True,
        )

    @story.command(
        name="edit", description="Correct one field of a story; the correction survives re-indexing."
    )
    @app_commands.describe(
        story="The story (pick one from the list, or type its title)",
        field="Which field to correct",
        value="The right value (lists: separated by commas; pairings like Spike/Willow)",
    )
    @app_commands.choices(field=FIELD_CHOICES)
    @app_commands.autocomplete(story=any_title_autocomplete)
    @curator_only()
    async def edit(self, interaction: discord.Interaction, story: str, field: str, value: str) -> None:
        actor = self._actor(interaction)
        await acknowledge(interaction, ephemeral=True)
        story_id = await curate.resolve_any(self.lib, story)
        card = await curate.edit_story(self.lib, story_id, field, value, actor)
        await send_first(
            interaction,
            content=f"Corrected the {field} of story #{card.id}.",
            embed=card_embed(card),
            ephemeral=True,
        )

    @story.command(
        name="reset", description="Drop every correction of a story: show what its file says again."
    )
    @app_commands.describe(story="The story (pick one from the list, or type its title)")
    @app_commands.autocomplete(story=any_title_autocomplete)
    @curator_only()
    async def reset(self, interaction: discord.Interaction, story: str) -> None:
        actor = self._actor(interaction)
        await acknowledge(interaction, ephemeral=True)
        card = await curate.reset_story(self.lib, await curate.resolve_any(self.lib, story), actor)
        await send_first(
            interaction,
            content="Dropped the corrections; this is what the file says.",
            embed=card_embed(card),
            ephemeral=True,
        )

    @story.command(name="remove", description="Take a story out of the archive (its file is kept aside).")
    @app_commands.describe(story="The story (pick one from the list, or type its title)")
    @app_commands.autocomplete(story=any_title_autocomplete)
    @curator_only()
    async def remove(self, interaction: discord.Interaction, story: str) -> None:
        actor = self._actor(interaction)
        card = await stories.story_card(
            self.lib, (await stories.resolve_story(self.lib, story, strict=True)).id
        )
        question = "Remove this story? It leaves search at once; `/story restore` can bring it back."
        answer = await Confirm(interaction.user.id).ask(interaction, question, embed=card_embed(card))
        if not answer:
            why = "Cancelled" if answer is False else "No answer in time"
            await interaction.followup.send(f"{why}: nothing was removed.", ephemeral=True)
            return
        await curate.remove_story(self.lib, card.id, actor)
        await interaction.followup.send(
            f"Removed “{escape_markdown(card.title)}” (story #{card.id}).", ephemeral=True
        )

    @story.command(name="restore", description="Bring a removed story back into the archive.")
    @app_commands.describe(story="The removed story (pick one from the list, or type its title)")
    @app_commands.autocomplete(story=removed_autocomplete)
    @curator_only()
    async def restore(self, interaction: discord.Interaction, story: str) -> None:
        actor = self._actor(interaction)
        await acknowledge(interaction, ephemeral=True)
        card = await curate.restore_story(self.lib, await curate.resolve_removed(self.lib, story), actor)
        content = f"Restored story #{card.id}."
        await send_first(interaction, content=content, embed=card_embed(card), ephemeral=True)

    @story.command(name="history", description="Who added, corrected, removed or restored what, and when.")
    @app_commands.describe(story="Only this story's history (default: the whole archive)")
    @app_commands.autocomplete(story=any_title_autocomplete)
    @curator_only()
    async def history(self, interaction: discord.Interaction, story: str | None = None) -> None:
        story_id = await curate.resolve_any(self.lib, story) if story else None
        records = await curate.history(self.lib, story_id)
        heading = f"History of story #{story_id}" if story_id is not None else "Archive history"

        def render(rows: Sequence[AuditRecord], page: int, pages: int) -> discord.Embed:
            lines = "\n".join(history_line(r) for r in rows) or "Nothing has happened yet."
            embed = discord.Embed(title=heading, description=lines, colour=LIST_COLOUR)
            embed.set_footer(text=f"Page {page}/{pages} · {len(records):,} entries")
            return fit(embed)

        source = ListPages(records, HISTORY_PER_PAGE, render)
        await Paginator(interaction.user.id, source).start(interaction, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Curate(bot))
