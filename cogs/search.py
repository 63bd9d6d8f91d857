"""`/search`: find stories by character, pairing, rating, author, tags and words, five to a page.

Owns the command's options (names are the product's interface) and how results are paged (Previous /
Next re-ask the service for page N). It must not build SQL or resolve names: `service.search` does,
raising `QueryError` (answered by the error handler) when a name means nothing.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace

import discord
from discord import app_commands
from discord.ext import commands

from cogs.base import LibrarianCog
from cogs.embeds import notice_embed, results_embed
from cogs.filters import AUTOCOMPLETE, DESCRIPTIONS, SORT_CHOICES, build_query, describe_query, pick_filters
from cogs.gating import allowed_levels_for, hidden_note
from cogs.tree import acknowledge
from cogs.views import Paginator, RenderedPages, send_first
from service.library import Library
from service.query import SearchQuery
from service.search import SearchResult
from service.search import search as run_search

log = logging.getLogger(__name__)

PER_PAGE = 5
Words = app_commands.Range[int, 0, 10_000_000]


def result_notes(result: SearchResult) -> list[str]:
    """Lines leading a result page: how names were understood, and what age gating left out."""
    notes = [f"*{note}*" for note in result.resolved]
    hidden = hidden_note(result.hidden)
    if hidden:
        notes.append(f"🔞 {hidden}")
    return notes


def empty_text(result: SearchResult) -> str:
    """Why nothing matched: which filter emptied the list (or that age gating hid every match)."""
    reason = result.empty_reason or hidden_note(result.hidden) or "No stories match all of those filters."
    return "\n".join([reason, *(f"*{note}*" for note in result.resolved)])


async def send_results(
    interaction: discord.Interaction, lib: Library, q: SearchQuery, first: SearchResult, *, heading: str
) -> None:
    """Send page one of `first` with a paginator that asks the service again for later pages."""
    if first.total == 0:
        await send_first(interaction, embed=notice_embed(empty_text(first), title="Nothing found"))
        return
    pages: dict[int, SearchResult] = {first.page: first}

    async def render(page: int) -> discord.Embed:
        result = pages.get(page) or await run_search(lib, replace(q, page=page))
        pages[page] = result
        what = "story" if result.total == 1 else "stories"
        footer = f"Page {result.page}/{result.pages} · {result.total:,} {what} · sorted by {q.sort}"
        return results_embed(
            result.hits,
            heading=heading,
            first_number=(result.page - 1) * q.per_page + 1,
            footer=footer,
            notes=result_notes(result),
        )

    await Paginator(interaction.user.id, RenderedPages(first.pages, render)).start(interaction)


class Search(LibrarianCog):
    """Searching the archive."""

    @app_commands.command(
        name="search", description="Find stories by character, pairing, rating, author or words."
    )
    @app_commands.describe(**DESCRIPTIONS)
    @app_commands.autocomplete(**AUTOCOMPLETE)
    @app_commands.choices(sort=SORT_CHOICES)
    async def search(
        self,
        interaction: discord.Interaction,
        character: str | None = None,
        pairing: str | None = None,
        rating: str | None = None,
        author: str | None = None,
        text: str | None = None,
        sort: str | None = None,
        tag: str | None = None,
        fandom: str | None = None,
        exclude_character: str | None = None,
        exclude_pairing: str | None = None,
        exclude_tag: str | None = None,
        words_min: Words | None = None,
        words_max: Words | None = None,
        complete: bool | None = None,
    ) -> None:
        if text:  # full text takes longer than Discord's three seconds on a big archive
            await acknowledge(interaction)
        q = build_query(
            pick_filters(locals()), allowed_levels=allowed_levels_for(interaction.channel), per_page=PER_PAGE
        )
        if q.sort == "random":
            q.seed = random.randrange(1 << 30)  # the same shuffle on every page
        first = await run_search(self.lib, q)
        heading = "Search: " + (describe_query(q) or "every story")
        await send_results(interaction, self.lib, q, first, heading=heading)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Search(bot))
