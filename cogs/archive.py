"""Archive overview commands: `/stats`, `/characters`, `/pairings`.

Owns how the archive's totals and its most-written characters and pairings are shown (`/stats`
attaches a chart, see `cogs.top.chart_file`). Counts are age
gated like everything else: outside age-restricted channels they cover general and teen stories only,
and the reply says so. It must not count anything itself: `service.archive_stats` does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.base import LibrarianCog
from cogs.embeds import LIST_COLOUR, RATING_NAMES, fit, shorten
from cogs.gating import GATED_WORDS, allowed_levels_for, hidden_note
from cogs.top import chart_file
from cogs.tree import acknowledge
from cogs.views import ListPages, Paginator
from service import archive_stats, charts
from service.archive_stats import ArchiveStats, plural

log = logging.getLogger(__name__)

PER_PAGE = 15
TOP_LIMIT = 100
SFW_FOOTER = (
    f"Counting general and teen stories only: stories {GATED_WORDS} are counted in age-restricted channels."
)


def ranking_pages(title: str, rows: Sequence[tuple[str, int]], *, footer: str | None) -> ListPages[Any]:
    """A numbered "name — N stories" list, PER_PAGE rows a page."""

    def render(shown: Sequence[tuple[str, int]], page: int, pages: int) -> discord.Embed:
        start = (page - 1) * PER_PAGE
        lines = [
            f"**{n}.** {discord.utils.escape_markdown(name)} — {count:,} {'story' if count == 1 else 'stories'}"
            for n, (name, count) in enumerate(shown, start=start + 1)
        ]
        embed = discord.Embed(title=title, colour=LIST_COLOUR, description="\n".join(lines) or "Nothing yet.")
        text = f"Page {page}/{pages}" + (f" · {footer}" if footer else "")
        embed.set_footer(text=text)
        return fit(embed)

    return ListPages(rows, PER_PAGE, render)


class Archive(LibrarianCog):
    """What is in the archive, in numbers."""

    @app_commands.command(
        name="stats", description="How many stories the archive holds, by rating and fandom."
    )
    async def stats(self, interaction: discord.Interaction) -> None:
        await acknowledge(interaction)
        allowed = allowed_levels_for(interaction.channel)
        result = await archive_stats.stats(self.lib, allowed_levels=allowed)
        embed = stats_embed(result, gated=allowed is not None)
        figures = await charts.stats_figures(self.lib, allowed_levels=allowed)
        file = await chart_file(charts.render_stats, figures, filename="stats.png")
        if file is not None:  # the picture; the text above it stays for screen readers
            embed.set_image(url=f"attachment://{file.filename}")
        await interaction.followup.send(embed=embed, **({"file": file} if file else {}))

    @app_commands.command(name="characters", description="The most-written characters, with story counts.")
    async def characters(self, interaction: discord.Interaction) -> None:
        await self._ranking(interaction, "Most-written characters", archive_stats.top_characters)

    @app_commands.command(name="pairings", description="The most-written pairings, with story counts.")
    async def pairings(self, interaction: discord.Interaction) -> None:
        await self._ranking(interaction, "Most-written pairings", archive_stats.top_pairings)

    async def _ranking(self, interaction: discord.Interaction, title: str, fetch: Any) -> None:
        await acknowledge(interaction)  # counting over every story can pass 200 ms
        allowed = allowed_levels_for(interaction.channel)
        rows = await fetch(self.lib, limit=TOP_LIMIT, allowed_levels=allowed)
        footer = SFW_FOOTER if allowed is not None else None
        await Paginator(interaction.user.id, ranking_pages(title, rows, footer=footer)).start(interaction)


def _count_lines(
    rows: Sequence[tuple[str, int]], names: dict[str, str] | None = None, limit: int = 12
) -> str:
    """`name: **N**` lines, in the order given, stopping with "… and N more"."""
    rows = [(k, v) for k, v in rows if v]
    lines = [f"{(names or {}).get(k, k)}: **{v:,}**" for k, v in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"… and {len(rows) - limit} more")
    return shorten("\n".join(lines), 1024) or "—"


def stats_embed(result: ArchiveStats, *, gated: bool) -> discord.Embed:
    """Totals, words, authors; stories by rating level and by fandom."""
    embed = discord.Embed(title="The archive", colour=LIST_COLOUR)
    embed.description = " · ".join(
        f"**{n:,}** {plural(n, one, many)}"
        for n, one, many in (
            (result.stories, "story", "stories"),
            (result.words, "word", "words"),
            (result.authors, "author", "authors"),
        )
    )
    by_rating = [(level, result.by_rating.get(level, 0)) for level in RATING_NAMES]  # strictness order
    embed.add_field(name="By rating", value=_count_lines(by_rating, RATING_NAMES), inline=True)
    embed.add_field(name="By fandom", value=_count_lines(result.by_fandom), inline=True)
    footer = []
    if gated:
        footer.append(hidden_note(result.hidden) or SFW_FOOTER)
    if result.failures:
        footer.append(f"{result.failures:,} files could not be read.")
    if footer:
        embed.set_footer(text=" ".join(footer))
    return fit(embed)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Archive(bot))
