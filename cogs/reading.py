"""Posting story text and "more like this" lists: shared by `/read`, `/rec like:` and the story buttons.

Owns how an excerpt reads in Discord: each part one message of at most 2000 characters with a short
header, neutralised text (no pings, no broken markdown), `read_followups` more parts as follow-ups,
then a Continue button. It must not cut or fetch text itself (`service.stories.excerpt` does) and must
not decide who may see a story (`allowed_levels` comes from the channel, via `cogs.gating`).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.utils import escape_markdown

from cogs.embeds import fit_message, shorten, similar_embed
from cogs.errors import report
from cogs.gating import allowed_levels_for
from cogs.tastebuttons import add_taste_buttons
from cogs.views import send_first
from service import kudos, positions, stories
from service import similar as likeness
from service.excerpts import render_chunk
from service.hits import StoryHit
from service.query import QueryError

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
PART_TEXT_MAX = 1700
"""Characters of (rendered) story text per message; the rest of the 2000 is the header line."""
HEADER_TITLE_MAX = 80


async def _resolved(lib: Library, story: StoryHit | str, allowed_levels: frozenset[str] | None) -> StoryHit:
    """The story itself: already resolved by a `Story` option, or an id from a button (gated again)."""
    if isinstance(story, StoryHit):
        return story
    return await stories.resolve_story(lib, story, allowed_levels=allowed_levels)


def part_header(title: str, number: int, total: int, presser: str | None = None) -> str:
    """`📖 **Title** · part 2 of 9 · for Name` (number is 1-based)."""
    header = f"📖 **{escape_markdown(shorten(title, HEADER_TITLE_MAX))}** · part {number} of {total}"
    if presser:
        header += f" · for {escape_markdown(shorten(presser, 40))}"
    return header


async def post_parts(
    interaction: discord.Interaction,
    lib: Library,
    story: StoryHit | str,
    first: int | None,
    *,
    allowed_levels: frozenset[str] | None,
    for_presser: bool = False,
) -> None:
    """Post part `first` (0-based; None: where the member stopped) of `story` and `read_followups`
    more, then a Continue button, or the taste buttons under the story's last part.

    `story` is the story (from a `Story` option) or an id (from a button), resolved and gated here.
    The first part is the interaction's response (or its follow-up when already answered); the rest
    are follow-ups. The member's reading position is remembered (`service.positions`).
    """
    hit = await _resolved(lib, story, allowed_levels)
    parts = await stories.excerpt(lib, hit.id, limit=PART_TEXT_MAX)
    if not parts:
        raise QueryError(f"“{hit.title}” has no text I can show.")
    total = len(parts)
    member = interaction.user.id
    if first is None:
        first = await positions.resume_part(lib, member, hit.id, total)
    if first >= total:
        raise QueryError(
            f"“{hit.title}” has {total} part{'s' if total != 1 else ''}: ask for part 1 to {total}."
        )
    batch = parts[first : first + 1 + max(lib.settings.read_followups, 0)]
    presser = interaction.user.display_name if for_presser else None
    for offset, part in enumerate(batch):
        number = first + offset + 1
        header = part_header(hit.title, number, total, presser if offset == 0 else None)
        content = fit_message(f"{header}\n{render_chunk(part)}")
        is_last = offset == len(batch) - 1
        extra: dict[str, discord.ui.View] = {}
        if is_last:
            extra["view"] = (
                continue_view(hit.id, number)
                if number < total
                else add_taste_buttons(discord.ui.View(timeout=None), hit.id, await kudos.count(lib, hit.id))
            )
        if offset == 0:
            await send_first(interaction, content=content, allowed_mentions=NO_PINGS, **extra)
        else:
            await interaction.followup.send(content=content, allowed_mentions=NO_PINGS, **extra)
    await positions.remember(lib, member, hit.id, first + len(batch), total)


async def send_similar(
    interaction: discord.Interaction,
    lib: Library,
    story: StoryHit | str,
    *,
    allowed_levels: frozenset[str] | None,
    ephemeral: bool = False,
) -> None:
    """Answer with the stories most like `story`, each with the reason it was picked."""
    hit = await _resolved(lib, story, allowed_levels)
    similar = await likeness.similar(lib, hit.id, limit=5, allowed_levels=allowed_levels)
    await send_first(interaction, embed=similar_embed(hit, similar), ephemeral=ephemeral)


def lib_and_levels(interaction: discord.Interaction) -> tuple[Library, frozenset[str] | None]:
    """The library, and what the channel a button was pressed in may show."""
    return interaction.client.lib, allowed_levels_for(interaction.channel)  # type: ignore[attr-defined]


class ContinueButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"librarian:continue:(?P<story>[0-9]+):(?P<part>[0-9]+)",
):
    """Under an excerpt: post the next parts (anyone may press; the button moves to the newest part)."""

    def __init__(self, story_id: int, part: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Continue",
                emoji="➡️",
                custom_id=f"librarian:continue:{story_id}:{part}",
                style=discord.ButtonStyle.secondary,
            )
        )
        self.story_id = story_id
        self.part = part

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> ContinueButton:
        return cls(int(match["story"]), int(match["part"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            lib, allowed = lib_and_levels(interaction)
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


def continue_view(story_id: int, part: int) -> discord.ui.View:
    """The Continue button under the last part posted (`part` is the next, 0-based)."""
    view = discord.ui.View(timeout=None)
    view.add_item(ContinueButton(story_id, part))
    return view
