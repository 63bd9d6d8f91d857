"""`/fic` (a story's card, with Read and More like this buttons) and `/read` (the story itself, in parts).

Owns the two commands' options and replies. A title option is a `Story` (`cogs.transformers`): what
autocomplete offered (a story id) or any typed title, resolved and age gated before the command runs.
It must not fetch or cut text itself: `cogs.reading` posts parts the service cut.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs.base import LibrarianCog
from cogs.buttons import card_view
from cogs.embeds import card_embed
from cogs.gating import allowed_levels_for
from cogs.reading import post_parts
from cogs.transformers import Story
from cogs.views import send_first
from service import kudos, stories

log = logging.getLogger(__name__)

Part = app_commands.Range[int, 1, 100_000]


class Stories(LibrarianCog):
    """Looking at and reading one story."""

    @app_commands.command(name="fic", description="Show a story's card: rating, pairings, tags, summary.")
    @app_commands.describe(title="The story's title (pick one from the list, or type it)")
    async def fic(self, interaction: discord.Interaction, title: Story) -> None:
        card = await stories.story_card(self.lib, title.id)
        count = await kudos.count(self.lib, title.id)
        await send_first(interaction, embed=card_embed(card), view=card_view(title.id, count))

    @app_commands.command(
        name="read", description="Read a story here, one part (up to 2000 characters) at a time."
    )
    @app_commands.describe(
        title="The story's title (pick one from the list, or type it)",
        chunk="Which part to start from (default: where you stopped, or the first)",
    )
    async def read(self, interaction: discord.Interaction, title: Story, chunk: Part | None = None) -> None:
        allowed = allowed_levels_for(interaction.channel)
        first = None if chunk is None else chunk - 1  # None: continue where this member stopped
        await post_parts(interaction, self.lib, title, first, allowed_levels=allowed)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Stories(bot))
