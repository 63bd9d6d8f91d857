"""`/top [period] [filters]`: the stories the server gave most kudos and shelved most, with a chart.

Owns the command's options (the period, and the same filters as `/rec`), the paged list (the text
answer, which stays for screen readers) and the chart attached to it, drawn by `service.charts` in
the chart process (`service.chartworker`; matplotlib is imported only there). Also `chart_file`, which `/stats` uses to attach
its picture. It must not count or draw itself: `service.top` ranks, `service.charts` draws.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import escape_markdown

from cogs.base import LibrarianCog
from cogs.embeds import LIST_COLOUR, fit, shorten
from cogs.filters import AUTOCOMPLETE, DESCRIPTIONS, build_query, describe_query, pick_filters
from cogs.gating import allowed_levels_for, hidden_note
from cogs.tree import acknowledge
from cogs.views import Paginator, send_first
from service import charts, chartworker, top
from service.top import TopResult

log = logging.getLogger(__name__)

CHART_SECONDS = 10.0
"""The longest a picture may hold up the text answer it goes with."""

PER_PAGE = 10
PERIOD_NAMES = {"week": "this week", "month": "this month", "ever": "of all time"}
Words = app_commands.Range[int, 0, 10_000_000]
TOP_DESCRIPTIONS = {k: v for k, v in DESCRIPTIONS.items() if k != "sort"} | {
    "period": "week (the last 7 days, the default), month (30 days) or ever"
}


async def chart_file(
    render: Callable[..., bytes], *args: Any, filename: str, **kwargs: Any
) -> discord.File | None:
    """A PNG drawn by `render(*args, **kwargs)` in the chart process (`service.chartworker`: the event
    loop keeps answering); None if drawing failed or took longer than CHART_SECONDS, so the text
    answer still goes out."""
    try:
        png = await asyncio.wait_for(chartworker.draw(render, *args, **kwargs), CHART_SECONDS)
    except TimeoutError:
        log.warning("drawing %s took longer than %s s; answering without it", filename, CHART_SECONDS)
        return None
    except Exception:
        log.exception("could not draw %s", filename)
        return None
    return discord.File(io.BytesIO(png), filename=filename, description="A chart of the numbers in the text")


def top_pages(result: TopResult, heading: str, *, gated: bool, image: str | None) -> tuple[int, object]:
    """(page count, render) for the ranking: `**1.** *Title* by Author — ❤️ 5 · 🔖 3`."""
    pages = max((len(result.rows) + PER_PAGE - 1) // PER_PAGE, 1)
    notes = [f"*{r}*" for r in result.resolved]

    async def render(page: int) -> discord.Embed:
        start = (page - 1) * PER_PAGE
        lines = [
            f"**{n}.** *{escape_markdown(shorten(row.hit.title, 90))}* by "
            f"{escape_markdown(row.hit.author or 'anonymous')} — ❤️ {row.kudos:,} kudos · 🔖 {row.shelved:,} shelved"
            for n, row in enumerate(result.rows[start : start + PER_PAGE], start=start + 1)
        ]
        empty = "No kudos or shelvings yet in this period" + (
            ": try `period: ever`." if result.period != "ever" else "."
        )
        embed = discord.Embed(
            title=heading, colour=LIST_COLOUR, description="\n".join(notes + lines) or empty
        )
        footer = [f"Page {page}/{pages}", "kudos count double, shelvings once"]
        if gated and (note := hidden_note(result.hidden)):
            footer.append(note)
        embed.set_footer(text=" · ".join(footer))
        if image and page == 1:
            embed.set_image(url=f"attachment://{image}")
        return fit(embed)

    return pages, render


class Top(LibrarianCog):
    """What the server loves."""

    @app_commands.command(
        name="top", description="The most-kudos'd and most-shelved stories: week, month or ever."
    )
    @app_commands.describe(**TOP_DESCRIPTIONS)
    @app_commands.choices(
        period=[app_commands.Choice(name=name, value=name) for name in ("week", "month", "ever")]
    )
    @app_commands.autocomplete(**AUTOCOMPLETE)
    async def top(
        self,
        interaction: discord.Interaction,
        period: str | None = None,
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
        q = build_query(pick_filters(locals()), allowed_levels=allowed)
        result = await top.top(self.lib, q, period=period or "week")
        heading = f"Top stories {PERIOD_NAMES[result.period]}"
        if filters := describe_query(q):
            heading += f" · {filters}"
        file = (
            await chart_file(charts.render_top, result, title=heading, filename="top.png")
            if result.rows
            else None
        )
        pages, render = top_pages(result, heading, gated=allowed is not None, image=file and file.filename)
        paginator = Paginator(interaction.user.id, pages, render)
        embed = await render(1)
        paginator.interaction = interaction
        extra: dict[str, object] = {"file": file} if file else {}
        if pages > 1:
            extra["view"] = paginator
        else:
            paginator.stop()
        await send_first(interaction, embed=embed, **extra)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Top(bot))
