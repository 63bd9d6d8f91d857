"""Posting story text and "more like this" lists: shared by `/read`, `/rec like:` and the story buttons.

Owns how an excerpt reads in Discord: each part one message of at most 2000 characters with a short
header, neutralised text (no pings, no broken markdown), `read_followups` more parts as follow-ups,
then a Continue button. It must not cut or fetch text itself (`service.stories.excerpt` does) and must
not decide who may see a story (`allowed_levels` comes from the channel, via `cogs.gating`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.utils import escape_markdown

from cogs.buttons import continue_view
from cogs.embeds import fit_message, shorten, similar_embed
from cogs.tastebuttons import add_taste_buttons
from cogs.views import send_first
from service import kudos, positions, recs, stories
from service.excerpts import render_chunk
from service.query import QueryError

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
PART_TEXT_MAX = 1700
"""Characters of (rendered) story text per message; the rest of the 2000 is the header line."""
HEADER_TITLE_MAX = 80


def part_header(title: str, number: int, total: int, presser: str | None = None) -> str:
    """`📖 **Title** · part 2 of 9 · for Name` (number is 1-based)."""
    header = f"📖 **{escape_markdown(shorten(title, HEADER_TITLE_MAX))}** · part {number} of {total}"
    if presser:
        header += f" · for {escape_markdown(shorten(presser, 40))}"
    return header


async def post_parts(
    interaction: discord.Interaction,
    lib: Library,
    story: str,
    first: int | None,
    *,
    allowed_levels: frozenset[str] | None,
    for_presser: bool = False,
) -> None:
    """Post part `first` (0-based; None: where the member stopped) of `story` and `read_followups`
    more, then a Continue button, or the taste buttons under the story's last part.

    `story` is an id (from autocomplete or a button) or a typed title. The first part is the
    interaction's response (or its follow-up when already answered); the rest are follow-ups. The
    member's reading position is remembered (`service.positions`).
    """
    hit = await stories.resolve_story(lib, story, allowed_levels=allowed_levels)
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
    story: str,
    *,
    allowed_levels: frozenset[str] | None,
    ephemeral: bool = False,
) -> None:
    """Answer with the stories most like `story`, each with the reason it was picked."""
    hit = await stories.resolve_story(lib, story, allowed_levels=allowed_levels)
    similar = await recs.similar(lib, hit.id, limit=5, allowed_levels=allowed_levels)
    await send_first(interaction, embed=similar_embed(hit, similar), ephemeral=ephemeral)
