"""The personal buttons on story cards, daily rec posts and `/read`'s last part: **Save for later**,
**Mark read** and **Kudos**. Like the other story buttons their state (the story id) lives in the
custom_id, so they keep working after a restart (`DYNAMIC_ITEMS` in `cogs.buttons` registers them).

Owns what a press does and says: only the presser's own shelves or kudos change, the answer is
ephemeral (it is about them), and a Kudos press updates the count on the message everyone sees.
Age gating is checked on every press, against the channel pressed in. It must not touch the
database itself: `service.shelves` and `service.kudos` do.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.utils import escape_markdown

from cogs.errors import report
from cogs.gating import allowed_levels_for
from service import kudos, shelves, stories

if TYPE_CHECKING:
    from service.hits import StoryHit
    from service.library import Library

log = logging.getLogger(__name__)

KUDOS_PREFIX = "librarian:kudos:"


def kudos_label(count: int) -> str:
    """`Kudos` or `Kudos · 3`: the count everyone sees on the message."""
    return f"Kudos · {count:,}" if count else "Kudos"


async def _story(interaction: discord.Interaction, story_id: int) -> tuple[Library, StoryHit]:
    lib: Library = interaction.client.lib  # type: ignore[attr-defined]
    hit = await stories.resolve_story(lib, story_id, allowed_levels=allowed_levels_for(interaction.channel))
    return lib, hit


def _title(hit: StoryHit) -> str:
    return f"*{escape_markdown(hit.title)}*"


class SaveButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"librarian:save:(?P<story>[0-9]+)"
):
    """Put the story on the presser's `to-read` shelf."""

    def __init__(self, story_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Save for later",
                emoji="🔖",
                custom_id=f"librarian:save:{story_id}",
                style=discord.ButtonStyle.secondary,
            )
        )
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> SaveButton:
        return cls(int(match["story"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            lib, hit = await _story(interaction, self.story_id)
            done = await shelves.add(lib, interaction.user.id, hit.id, shelves.TO_READ)
            if done.already:
                text = f"{_title(hit)} is already on your to-read shelf."
            else:
                text = f"Saved {_title(hit)} to your to-read shelf (`/shelf show to-read`)."
            await interaction.response.send_message(text, ephemeral=True)
        except Exception as error:
            await report(interaction, error)


class MarkReadButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"librarian:markread:(?P<story>[0-9]+)"
):
    """Put the story on the presser's `read` shelf (off to-read and reading)."""

    def __init__(self, story_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Mark read",
                emoji="✅",
                custom_id=f"librarian:markread:{story_id}",
                style=discord.ButtonStyle.secondary,
            )
        )
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> MarkReadButton:
        return cls(int(match["story"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            lib, hit = await _story(interaction, self.story_id)
            done = await shelves.add(lib, interaction.user.id, hit.id, shelves.READ)
            if done.already:
                text = f"{_title(hit)} is already on your read shelf."
            else:
                moved = f" (off your {done.left} shelf)" if done.left else ""
                text = f"Marked {_title(hit)} as read{moved}."
            await interaction.response.send_message(text, ephemeral=True)
        except Exception as error:
            await report(interaction, error)


class KudosButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"librarian:kudos:(?P<story>[0-9]+)"
):
    """Give kudos, or take them back; the count on the message follows."""

    def __init__(self, story_id: int, count: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                label=kudos_label(count),
                emoji="❤️",
                custom_id=f"{KUDOS_PREFIX}{story_id}",
                style=discord.ButtonStyle.secondary,
            )
        )
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> KudosButton:
        return cls(int(match["story"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            lib, hit = await _story(interaction, self.story_id)
            state = await kudos.toggle(lib, interaction.user.id, hit.id)
            view = recount(interaction.message, self.story_id, state.count)
            if view is not None:
                await interaction.response.edit_message(view=view)
            if state.given:
                text = f"You gave {_title(hit)} kudos ❤️ (press again to take them back)."
            else:
                text = f"You took back your kudos for {_title(hit)}."
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except Exception as error:
            await report(interaction, error)


def recount(message: discord.Message | None, story_id: int, count: int) -> discord.ui.View | None:
    """The message's buttons with the Kudos count set to `count` (None when there is no message)."""
    if message is None or not message.components:
        return None
    view = discord.ui.View.from_message(message, timeout=None)
    for item in view.children:
        if isinstance(item, discord.ui.Button) and item.custom_id == f"{KUDOS_PREFIX}{story_id}":
            item.label = kudos_label(count)
    view.stop()  # only a new look for the message: its buttons answer as dynamic items, not as this view
    return view


TASTE_ITEMS = (SaveButton, MarkReadButton, KudosButton)


def add_taste_buttons(view: discord.ui.View, story_id: int, kudos_count: int = 0) -> discord.ui.View:
    """Add Save for later, Mark read and Kudos (with its count) to `view`."""
    view.add_item(SaveButton(story_id))
    view.add_item(MarkReadButton(story_id))
    view.add_item(KudosButton(story_id, kudos_count))
    return view
