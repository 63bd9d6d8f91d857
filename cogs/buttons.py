"""The story buttons that outlive a restart: **Read** and **More like this** on a story card, and
**Continue** under an excerpt (the personal Save for later / Mark read / Kudos are in
`cogs.tastebuttons`). Their state (story id, next part) lives in the custom_id, so the bot registers
them once (`bot.add_dynamic_items(*DYNAMIC_ITEMS)`) and old messages keep working.

Who may press: anyone who can see the message. **Read** and **Continue** post the text publicly in the
channel, naming who asked (no ping); **More like this** answers only the presser (ephemeral), as it is
a personal list. Age gating is checked again on every press, against the channel pressed in.
**Continue** is defined beside the posting it continues (`cogs.reading`) and registered here.
It must not fetch or cut text itself: `service.stories` does; `cogs.reading` posts it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from cogs.errors import report
from cogs.reading import ContinueButton, continue_view, lib_and_levels, post_parts, send_similar
from cogs.tastebuttons import TASTE_ITEMS, add_taste_buttons

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


def _button(custom_id: str, label: str, emoji: str) -> discord.ui.Button[Any]:
    return discord.ui.Button(
        label=label, emoji=emoji, custom_id=custom_id, style=discord.ButtonStyle.secondary
    )


class ReadButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"librarian:read:(?P<story>[0-9]+)"
):
    """On a story card: post the story's opening parts for the presser."""

    def __init__(self, story_id: int) -> None:
        super().__init__(_button(f"librarian:read:{story_id}", "Read", "📖"))
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> ReadButton:
        return cls(int(match["story"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            lib, allowed = lib_and_levels(interaction)
            await post_parts(
                interaction, lib, str(self.story_id), 0, allowed_levels=allowed, for_presser=True
            )
        except Exception as error:
            await report(interaction, error)


class SimilarButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"librarian:similar:(?P<story>[0-9]+)"
):
    """On a story card: a private list of stories like this one, each with why."""

    def __init__(self, story_id: int) -> None:
        super().__init__(_button(f"librarian:similar:{story_id}", "More like this", "🔎"))
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> SimilarButton:
        return cls(int(match["story"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            lib, allowed = lib_and_levels(interaction)
            await interaction.response.defer(ephemeral=True, thinking=True)
            await send_similar(interaction, lib, str(self.story_id), allowed_levels=allowed, ephemeral=True)
        except Exception as error:
            await report(interaction, error)


DYNAMIC_ITEMS = (ReadButton, ContinueButton, SimilarButton, *TASTE_ITEMS)


def card_view(story_id: int, kudos: int = 0) -> discord.ui.View:
    """The buttons under a story card: Read and More like this, then Save for later, Mark read and
    Kudos (showing `kudos`, the story's count)."""
    view = discord.ui.View(timeout=None)
    view.add_item(ReadButton(story_id))
    view.add_item(SimilarButton(story_id))
    return add_taste_buttons(view, story_id, kudos)


__all__ = ["DYNAMIC_ITEMS", "ContinueButton", "ReadButton", "SimilarButton", "card_view", "continue_view"]
