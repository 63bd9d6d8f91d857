"""`/rec`: a story recommendation matching the same filters as `/search`, or `like:` a story you name.

Owns the command's options and reply: the recommended story's card (with Read and More like this),
a line saying why it was picked, and what age gating left out. It must not pick stories itself:
`service.tasterecs` chooses for the member who asked (what members with overlapping taste liked),
falling back to `service.recs` (which remembers what it recommended where, to avoid repeats).
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs.base import LibrarianCog
from cogs.buttons import card_view
from cogs.embeds import card_embed, fit_message
from cogs.filters import AUTOCOMPLETE, DESCRIPTIONS, build_query, pick_filters
from cogs.gating import allowed_levels_for
from cogs.reading import send_similar
from cogs.transformers import Story
from cogs.tree import acknowledge
from cogs.views import send_first
from service import kudos, stories, tasterecs

log = logging.getLogger(__name__)

Words = app_commands.Range[int, 0, 10_000_000]
REC_DESCRIPTIONS = {k: v for k, v in DESCRIPTIONS.items() if k != "sort"} | {
    "like": "Stories like this one instead of a random pick (other filters are then ignored)"
}


def place_of(interaction: discord.Interaction) -> str:
    """Where a rec is remembered, so the same place is not offered the same story again soon."""
    if interaction.guild_id is not None:
        return f"guild:{interaction.guild_id}"
    return f"channel:{interaction.channel_id}"


class Recs(LibrarianCog):
    """Recommendations."""

    @app_commands.command(
        name="rec", description="Recommend a story: any filters, or like: a story you enjoyed."
    )
    @app_commands.describe(**REC_DESCRIPTIONS)
    @app_commands.autocomplete(**AUTOCOMPLETE)
    async def rec(
        self,
        interaction: discord.Interaction,
        like: Story | None = None,
        character: str | None = None,
        pairing: str | None = None,
        rating: str | None = None,
        author: str | None = None,
        text: str | None = None,
        tag: str | None = None,
        fandom: str | None = None,
        exclude_character: str | None = None,
        exclude_pairing: str | None = None,
        exclude_tag: str | None = None,
        words_min: Words | None = None,
        words_max: Words | None = None,
        complete: bool | None = None,
    ) -> None:
        await acknowledge(interaction)
        allowed = allowed_levels_for(interaction.channel)
        if like:
            await send_similar(interaction, self.lib, like, allowed_levels=allowed)
            return
        q = build_query(pick_filters(locals()), allowed_levels=allowed, per_page=1)
        result = await tasterecs.rec_for_member(self.lib, q, interaction.user.id, place=place_of(interaction))
        card = await stories.story_card(self.lib, result.hit.id)
        why = [f"Why: {result.reason}"] if result.reason else []
        note = "\n".join([f"✨ {result.line}", *why, *(f"*{r}*" for r in result.resolved)])
        count = await kudos.count(self.lib, card.id)
        await send_first(
            interaction, content=fit_message(note), embed=card_embed(card), view=card_view(card.id, count)
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Recs(bot))
