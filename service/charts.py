"""Chart images for `/stats` and `/top` (PNG bytes), and the few figures only the charts need.

Owns how the charts look: matplotlib's object API on the Agg canvas (no pyplot, no display, safe in
a worker thread), imported only when a chart is drawn so the bot's start-up and memory never pay for
it; a solid slate card with light text and saturated bars, so the image reads the same in Discord's
dark and light themes; sizes Discord previews well (1200x675). The text answer always stays beside
the image (screen readers). It must not import Discord; callers run `render_*` in a thread.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Story
from service.hits import snapshot_figure
from service.library import Library

if TYPE_CHECKING:
    from service.top import TopResult

log = logging.getLogger(__name__)

BACKGROUND = "#2B2D31"  # a slate card: not Discord's dark grey, not white, so it frames itself in both
PANEL = "#313338"
TEXT = "#F2F3F5"
MUTED = "#B5BAC1"
ACCENT = "#5865F2"
SECOND = "#EB459E"
RATING_COLOURS = {
    "general": "#6AA84F",
    "teen": "#F1C232",
    "mature": "#E69138",
    "explicit": "#CC0000",
    "not_rated": "#B7B7B7",
}
RATING_NAMES = {
    "general": "General",
    "teen": "Teen",
    "mature": "Mature",
    "explicit": "Explicit",
    "not_rated": "Not rated",
}
SIZE = (12.0, 6.75)
DPI = 100
LABEL_MAX = 34


@dataclass(slots=True)
class StatsFigures:
    """What the `/stats` chart draws."""

    by_rating: dict[str, int]
    words_by_year: list[tuple[int, int]]
    pairings: list[tuple[str, int]] = field(default_factory=list)


async def words_by_year(lib: Library, allowed_levels: frozenset[str] | None = None) -> list[tuple[int, int]]:
    """Words published per year (stories with a known date), kept with the vocabulary snapshot."""

    async def count(session: AsyncSession) -> list[tuple[int, int]]:
        year = func.substr(Story.published, 1, 4)
        where = [Story.removed_at.is_(None), Story.published.is_not(None)]
        if allowed_levels is not None:
            where.append(Story.rating_level.in_(sorted(allowed_levels)))
        rows = await session.execute(
            select(year, func.coalesce(func.sum(Story.words), 0)).where(*where).group_by(year)
        )
        return sorted((int(y), int(w)) for y, w in rows if y and str(y).isdigit() and 1900 < int(y) < 2200)

    return await snapshot_figure(lib, "words_by_year", allowed_levels, count)


async def stats_figures(lib: Library, allowed_levels: frozenset[str] | None = None) -> StatsFigures:
    from service import stories

    result = await stories.stats(lib, allowed_levels=allowed_levels)
    pairings = await stories.top_pairings(lib, limit=8, allowed_levels=allowed_levels)
    return StatsFigures(dict(result.by_rating), await words_by_year(lib, allowed_levels), list(pairings))


def _short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _figure(title: str) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE, dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(fig)
    fig.suptitle(title, color=TEXT, fontsize=17, fontweight="bold", x=0.02, ha="left")
    return fig


def _style(ax: Any, title: str) -> None:
    ax.set_facecolor(PANEL)
    ax.set_title(title, color=TEXT, fontsize=12, loc="left")
    ax.tick_params(colors=MUTED, labelsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor=BACKGROUND)
    return buffer.getvalue()


def _hbars(ax: Any, rows: Sequence[tuple[str, int]], colour: str | list[str]) -> None:
    labels = [_short(name) for name, _n in rows][::-1]
    values = [n for _name, n in rows][::-1]
    colours = colour[::-1] if isinstance(colour, list) else colour
    ax.barh(range(len(values)), values, color=colours)
    ax.set_yticks(range(len(values)), labels, color=TEXT, fontsize=9)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,}", va="center", color=TEXT, fontsize=9)
    ax.margins(x=0.18)


def _empty(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, what, ha="center", va="center", color=MUTED, fontsize=11, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def render_stats(figures: StatsFigures, *, title: str = "The archive") -> bytes:
    """Stories by rating, words per year and the most-written pairings, as one PNG."""
    fig = _figure(title)
    grid = fig.add_gridspec(2, 2, left=0.06, right=0.97, top=0.86, bottom=0.08, hspace=0.45, wspace=0.45)
    ratings = fig.add_subplot(grid[0, 0])
    _style(ratings, "Stories by rating")
    rows = [(RATING_NAMES[k], figures.by_rating.get(k, 0)) for k in RATING_NAMES if figures.by_rating.get(k)]
    colours = [RATING_COLOURS[k] for k in RATING_NAMES if figures.by_rating.get(k)]
    if rows:
        _hbars(ratings, rows, colours)
    else:
        _empty(ratings, "No stories yet")
    pairs = fig.add_subplot(grid[:, 1])
    _style(pairs, "Most-written pairings")
    if figures.pairings:
        _hbars(pairs, figures.pairings, SECOND)
    else:
        _empty(pairs, "No pairings yet")
    years = fig.add_subplot(grid[1, 0])
    _style(years, "Words published per year")
    if figures.words_by_year:
        xs = [y for y, _w in figures.words_by_year]
        ys = [w for _y, w in figures.words_by_year]
        years.bar(xs, ys, color=ACCENT)
        years.yaxis.set_major_formatter(_compact())
        years.xaxis.get_major_locator().set_params(integer=True)
    else:
        _empty(years, "No publication dates")
    return _png(fig)


def render_top(result: TopResult, *, title: str) -> bytes:
    """The top stories' kudos and shelvings side by side, and kudos per day over the period."""
    fig = _figure(title)
    grid = fig.add_gridspec(1, 2, left=0.2, right=0.97, top=0.86, bottom=0.1, wspace=0.3, width_ratios=[3, 2])
    bars = fig.add_subplot(grid[0, 0])
    _style(bars, "Kudos and shelvings")
    rows = result.rows[:10][::-1]
    if rows:
        ys = list(range(len(rows)))
        bars.barh([y + 0.2 for y in ys], [r.kudos for r in rows], height=0.4, color=SECOND, label="kudos")
        bars.barh([y - 0.2 for y in ys], [r.shelved for r in rows], height=0.4, color=ACCENT, label="shelved")
        bars.set_yticks(ys, [_short(r.hit.title) for r in rows], color=TEXT, fontsize=9)
        legend = bars.legend(loc="lower right", facecolor=PANEL, edgecolor=MUTED, fontsize=9)
        for text in legend.get_texts():
            text.set_color(TEXT)
        bars.xaxis.get_major_locator().set_params(integer=True)
    else:
        _empty(bars, "No kudos or shelvings yet")
    line = fig.add_subplot(grid[0, 1])
    _style(line, "Kudos per day")
    days = result.kudos_by_day
    if days and any(n for _d, n in days):
        xs: list[date] = [d for d, _n in days]
        line.fill_between(xs, [n for _d, n in days], color=SECOND, alpha=0.35, step="mid")
        line.plot(xs, [n for _d, n in days], color=SECOND, drawstyle="steps-mid")
        line.yaxis.get_major_locator().set_params(integer=True)
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator(maxticks=6)
        line.xaxis.set_major_locator(locator)
        line.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        _empty(line, "No kudos in this period")
    return _png(fig)


def _compact() -> Any:
    from matplotlib.ticker import FuncFormatter

    def fmt(value: float, _pos: int) -> str:
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{value / size:g}{suffix}"
        return f"{value:g}"

    return FuncFormatter(fmt)
