"""The story buttons that outlive a restart: **Read** and **More like this** on a story card, and
**Continue** under an excerpt (the personal Save for later / Mark read / Kudos are in
`cogs.tastebuttons`). Their state (story id, next part) lives in the custom_id, so the bot registers
them once (`bot.add_dynamic_items(*DYNAMIC_ITEMS)`) and old messages keep working.

Who may press: anyone who can see the message. **Read** and **Continue** post the text publicly in the
channel, naming who asked (no ping); **More like this** answers only the presser (ephemeral), as it is
a personal list. Age gating is checked again on every press, against the channel pressed in.
It must not fetch or cut text itself: `service.stories` does; `cogs.reading` posts it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from cogs.errors import report
from cogs.gating import allowed_levels_for
from cogs.tastebuttons import TASTE_ITEMS, add_taste_buttons
from service import stories

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)


def _button(custom_id: str, label: str, emoji: str) -> discord.ui.Button[Any]:
    return discord.ui.Button(
        label=label, emoji=emoji, custom_id=custom_id, style=discord.ButtonStyle.secondary
    )


def _lib_and_levels(interaction: discord.Interaction) -> tuple[Library, frozenset[str] | None]:
    """The library, and what the channel pressed in may show."""
    return interaction.client.lib, allowed_levels_for(interaction.channel)  # type: ignore[attr-defined]


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
        from cogs.reading import post_parts

        try:
            lib, allowed = _lib_and_levels(interaction)
            await post_parts(
                interaction, lib, str(self.story_id), 0, allowed_levels=allowed, for_presser=True
            )
        except Exception as error:
            await report(interaction, error)


class ContinueButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"librarian:continue:(?P<story>[0-9]+):(?P<part>[0-9]+)",
):
    """Under an excerpt: post the next parts (anyone may press; the button moves to the newest part)."""

    def __init__(self, story_id: int, part: int) -> None:
        super().__init__(_button(f"librarian:continue:{story_id}:{part}", "Continue", "➡️"))
        self.story_id = story_id
        self.part = part

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> ContinueButton:
        return cls(int(match["story"]), int(match["part"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs.reading import post_parts

        try:
            lib, allowed = _lib_and_levels(interaction)
            await stories.resolve_story(
                lib, self.story_id, allowed_levels=allowed
            )  # may refuse: keep the button
            # Take the button off the message it was pressed on, so the story continues from the end.
            await interaction.response.edit_message(view=None)
            await post_parts(
                interaction, lib, str(self.story_id), self.part, allowed_levels=allowed, for_presser=True
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
        from cogs.reading import send_similar

        try:
            lib, allowed = _lib_and_levels(interaction)
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


def continue_view(story_id: int, part: int) -> discord.ui.View:
    """The Continue button under the last part posted (`part` is the next, 0-based)."""
    view = discord.ui.View(timeout=None)
    view.add_item(ContinueButton(story_id, part))
    return view
