"""The two reusable views: a Previous/Next paginator and a Confirm/Cancel confirmation, and the one
shape a paginator pages through (`PageSource`: a page count and `render(page)`; `ListPages` cuts a
list into pages, `RenderedPages` wraps a render callback).

Owns who may press (only the member who ran the command; anyone else gets a polite ephemeral
refusal) and what happens on timeout (the buttons are disabled by editing the message). It must not
know what a page holds: the paginator asks its page source for page N.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import discord

from cogs.errors import ANSWERED, report

log = logging.getLogger(__name__)

PageRenderer = Callable[[int], Awaitable[discord.Embed]]
Row = TypeVar("Row")


class PageSource(Protocol):
    """What a paginator pages through: how many pages, and page N (1-based) as an embed."""

    @property
    def pages(self) -> int: ...

    async def render(self, page: int) -> discord.Embed: ...


@dataclass(slots=True)
class RenderedPages:
    """`pages` pages, each rendered on demand by `render_page(page)` (e.g. asking the service again)."""

    pages: int
    render_page: PageRenderer

    async def render(self, page: int) -> discord.Embed:
        return await self.render_page(page)


@dataclass(slots=True)
class ListPages(Generic[Row]):
    """`rows` cut into pages of `per_page`; `render_rows(rows, page, pages)` draws one page."""

    rows: Sequence[Row]
    per_page: int
    render_rows: Callable[[Sequence[Row], int, int], discord.Embed]

    @property
    def pages(self) -> int:
        return max((len(self.rows) + self.per_page - 1) // self.per_page, 1)

    async def render(self, page: int) -> discord.Embed:
        start = (page - 1) * self.per_page
        return self.render_rows(self.rows[start : start + self.per_page], page, self.pages)


class OwnedView(discord.ui.View):
    """A view only its owner may use, which disables itself when it times out."""

    refusal = "These buttons belong to the member who ran the command; run it yourself to get your own."

    def __init__(self, owner_id: int, *, timeout: float | None = 180.0) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.interaction: discord.Interaction | None = None  # whose original response holds the view

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(self.refusal, ephemeral=True)
        return False

    def disable_all(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True

    async def on_timeout(self) -> None:
        self.disable_all()
        if self.interaction is None:
            return
        try:
            await self.interaction.edit_original_response(view=self)
        except discord.HTTPException:
            log.debug("could not disable a timed-out view (message gone?)")

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report(interaction, error)


async def send_first(interaction: discord.Interaction, **kwargs: Any) -> None:
    """Send the command's first message: the response, or a follow-up when the command deferred."""
    interaction.extras[ANSWERED] = True
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


class Paginator(OwnedView):
    """Previous / Next through a `PageSource` (or `pages` pages drawn by a `render(page)` callback)."""

    def __init__(
        self,
        owner_id: int,
        source: PageSource | int,
        render: PageRenderer | None = None,
        *,
        page: int = 1,
        timeout: float = 300.0,
    ):
        super().__init__(owner_id, timeout=timeout)
        if isinstance(source, int):
            assert render is not None, "Paginator(owner, pages, render) or Paginator(owner, source)"
            source = RenderedPages(source, render)
        self.source = source
        self.pages = max(source.pages, 1)
        self.page = min(max(page, 1), self.pages)
        self._refresh()

    async def render(self, page: int) -> discord.Embed:
        return await self.source.render(page)

    def _refresh(self) -> None:
        self.previous.disabled = self.page <= 1
        self.next.disabled = self.page >= self.pages
        self.position.label = f"{self.page} / {self.pages}"

    async def start(self, interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
        """Send page one (with the buttons only when there is more than one page)."""
        embed = await self.render(self.page)
        self.interaction = interaction
        if self.pages > 1:
            await send_first(interaction, embed=embed, view=self, ephemeral=ephemeral)
        else:
            self.stop()
            await send_first(interaction, embed=embed, ephemeral=ephemeral)

    async def show(self, interaction: discord.Interaction, page: int) -> None:
        self.page = min(max(page, 1), self.pages)
        self._refresh()
        embed = await self.render(self.page)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]) -> None:
        await self.show(interaction, self.page - 1)

    @discord.ui.button(label="1 / 1", style=discord.ButtonStyle.secondary, disabled=True)
    async def position(self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]) -> None:
        await interaction.response.defer()  # a label, never enabled

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]) -> None:
        await self.show(interaction, self.page + 1)


class Confirm(OwnedView):
    """Confirm / Cancel for a mod's destructive command; `await view.wait()` then read `value`."""

    def __init__(self, owner_id: int, *, confirm_label: str = "Confirm", timeout: float = 60.0) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.value: bool | None = None  # None: nobody answered before the timeout
        self.confirm.label = confirm_label

    async def ask(
        self, interaction: discord.Interaction, content: str, *, embed: discord.Embed | None = None
    ) -> bool | None:
        """Ask privately (ephemeral) and wait: True confirmed, False cancelled, None timed out."""
        self.interaction = interaction
        extra = {"embed": embed} if embed is not None else {}
        await send_first(interaction, content=content, view=self, ephemeral=True, **extra)
        await self.wait()
        return self.value

    async def _answer(self, interaction: discord.Interaction, value: bool) -> None:
        self.value = value
        self.disable_all()
        await interaction.response.edit_message(view=self)
        self.stop()

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]) -> None:
        await self._answer(interaction, True)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]) -> None:
        await self._answer(interaction, False)
