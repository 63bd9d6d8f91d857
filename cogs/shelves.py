"""`/shelf add|show|remove|move|privacy|export` and `/forget-me`: a member's own lists.

Owns how shelves read in Discord: every answer about a member's own lists is ephemeral; `/shelf
show` pages through a shelf (or all of them) with "part 7 of 21" beside stories being read, and shows
another member's shelves only when they made them public; `/shelf export` attaches a JSON file;
`/forget-me` asks for confirmation, then deletes everything about the member. It must not query the
database: `service.shelves`, `service.members` answer.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import escape_markdown

from cogs.base import LibrarianCog
from cogs.embeds import LIST_COLOUR, fit, joined, shorten
from cogs.gating import allowed_levels_for, hidden_note
from cogs.transformers import Choices, title_autocomplete, to_choices
from cogs.tree import PRIVATE, acknowledge
from cogs.views import Confirm, Paginator, send_first
from service import members, shelves, stories
from service.library import Library
from service.shelves import ShelfItem, ShelfView

log = logging.getLogger(__name__)

PER_PAGE = 10
SHELF_DESCRIPTION = "to-read, reading, read, favourites, or a shelf you name"


async def shelf_autocomplete(interaction: discord.Interaction, current: str) -> Choices:
    """The member's shelves (the four built in first) matching what was typed, and what was typed."""
    try:
        lib: Library = interaction.client.lib  # type: ignore[attr-defined]
        names = await shelves.shelf_names(lib, interaction.user.id, current)
        typed = [current.strip()] if current.strip() and current.strip() not in names else []
        return to_choices((n, n) for n in names + typed)
    except Exception:
        log.exception("shelf autocomplete failed for %r", current)
        return []


def item_line(n: int, item: ShelfItem, *, every_shelf: bool) -> str:
    """`**3.** *Title* by Author · part 7 of 21 · to-read`."""
    hit = item.hit
    bits = [
        f"**{n}.** *{escape_markdown(shorten(hit.title, 90))}* by {escape_markdown(hit.author or 'anonymous')}"
    ]
    if item.progress():
        bits.append(item.progress() or "")
    if every_shelf:
        bits.append(escape_markdown(item.label))
    return " · ".join(bits)


def shelf_pages(view: ShelfView, owner: str, *, gated: bool) -> tuple[int, object]:
    """(page count, render) for a shelf listing, PER_PAGE stories a page."""
    pages = max((len(view.items) + PER_PAGE - 1) // PER_PAGE, 1)
    whose = f"{owner}'s" if owner else "Your"
    title = f"{whose} {view.shelf} shelf" if view.shelf else f"{whose} shelves"
    summary = joined((f"{label}: {n}" for label, n in view.counts), 1000, sep=" · ")

    async def render(page: int) -> discord.Embed:
        start = (page - 1) * PER_PAGE
        lines = [
            item_line(n, item, every_shelf=view.shelf is None)
            for n, item in enumerate(view.items[start : start + PER_PAGE], start=start + 1)
        ]
        empty = "Nothing here yet: `/shelf add`, or **Save for later** on a story card."
        embed = discord.Embed(title=title, colour=LIST_COLOUR, description="\n".join(lines) or empty)
        if summary and view.shelf is None:
            embed.add_field(name="Shelves", value=summary, inline=False)
        footer = [f"Page {page}/{pages}", "public" if view.public else "private: only you can see it"]
        if gated and (note := hidden_note(view.hidden)):
            footer.append(note)
        embed.set_footer(text=" · ".join(footer))
        return fit(embed)

    return pages, render


class Shelves(LibrarianCog):
    """A member's shelves and the data kept about them."""

    shelf = app_commands.Group(
        name="shelf", description="Your reading lists: to-read, reading, read, favourites…", extras=PRIVATE
    )

    @shelf.command(name="add", description="Put a story on one of your shelves (default: to-read).")
    @app_commands.describe(
        story="The story (pick one from the list, or type its title)", shelf=SHELF_DESCRIPTION
    )
    @app_commands.autocomplete(story=title_autocomplete, shelf=shelf_autocomplete)
    async def add(self, interaction: discord.Interaction, story: str, shelf: str | None = None) -> None:
        hit = await stories.resolve_story(
            self.lib, story, allowed_levels=allowed_levels_for(interaction.channel)
        )
        done = await shelves.add(self.lib, interaction.user.id, hit.id, shelf)
        title = f"*{escape_markdown(hit.title)}*"
        if done.already:
            text = f"{title} is already on your {escape_markdown(done.label)} shelf."
        else:
            left = f" (off your {done.left} shelf)" if done.left else ""
            text = f"Put {title} on your {escape_markdown(done.label)} shelf{left}."
        await send_first(interaction, content=text, ephemeral=True)

    @shelf.command(name="show", description="Show your shelves, or a member's public ones (paged).")
    @app_commands.describe(
        member="Whose shelves (default: yours)", shelf="Which shelf (default: all of them)"
    )
    @app_commands.autocomplete(shelf=shelf_autocomplete)
    async def show(
        self, interaction: discord.Interaction, member: discord.User | None = None, shelf: str | None = None
    ) -> None:
        owner = member or interaction.user
        allowed = allowed_levels_for(interaction.channel)
        view = await shelves.show(
            self.lib, owner.id, shelf, viewer_id=interaction.user.id, allowed_levels=allowed
        )
        name = "" if owner.id == interaction.user.id else escape_markdown(owner.display_name)
        pages, render = shelf_pages(view, name, gated=allowed is not None)
        await Paginator(interaction.user.id, pages, render).start(interaction, ephemeral=True)

    @shelf.command(name="remove", description="Take a story off a shelf (or off all your shelves).")
    @app_commands.describe(story="The story", shelf="Which shelf (default: every shelf it is on)")
    @app_commands.autocomplete(story=title_autocomplete, shelf=shelf_autocomplete)
    async def remove(self, interaction: discord.Interaction, story: str, shelf: str | None = None) -> None:
        hit = await stories.resolve_story(
            self.lib, story, allowed_levels=allowed_levels_for(interaction.channel)
        )
        left = await shelves.remove(self.lib, interaction.user.id, hit.id, shelf)
        where = ", ".join(escape_markdown(label) for label in left)
        await send_first(
            interaction,
            content=f"Took *{escape_markdown(hit.title)}* off your {where} shelf.",
            ephemeral=True,
        )

    @shelf.command(name="move", description="Move a story from one of your shelves to another.")
    @app_commands.describe(
        story="The story", to=SHELF_DESCRIPTION, from_shelf="The shelf it is on (needed when on several)"
    )
    @app_commands.rename(from_shelf="from")
    @app_commands.autocomplete(story=title_autocomplete, to=shelf_autocomplete, from_shelf=shelf_autocomplete)
    async def move(
        self, interaction: discord.Interaction, story: str, to: str, from_shelf: str | None = None
    ) -> None:
        hit = await stories.resolve_story(
            self.lib, story, allowed_levels=allowed_levels_for(interaction.channel)
        )
        source, done = await shelves.move(self.lib, interaction.user.id, hit.id, to, from_shelf)
        title = f"*{escape_markdown(hit.title)}*"
        if done.already and source == done.label:
            text = f"{title} is already on your {escape_markdown(done.label)} shelf."
        else:
            text = f"Moved {title} from {escape_markdown(source)} to {escape_markdown(done.label)}."
        await send_first(interaction, content=text, ephemeral=True)

    @shelf.command(
        name="privacy", description="Let other members see your shelves, or keep them to yourself."
    )
    @app_commands.describe(setting="public: anyone can /shelf show them; private (the default): only you")
    @app_commands.choices(
        setting=[
            app_commands.Choice(name="public", value="public"),
            app_commands.Choice(name="private", value="private"),
        ]
    )
    async def privacy(self, interaction: discord.Interaction, setting: app_commands.Choice[str]) -> None:
        public = setting.value == "public"
        await shelves.set_privacy(self.lib, interaction.user.id, public)
        text = (
            "Your shelves are now **public**: any member can see them with `/shelf show member:`."
            if public
            else "Your shelves are now **private**: only you can see them."
        )
        await send_first(interaction, content=text, ephemeral=True)

    @shelf.command(name="export", description="Everything Librarian keeps about you, as a file.")
    async def export(self, interaction: discord.Interaction) -> None:
        await acknowledge(interaction, ephemeral=True)
        data = await members.export(self.lib, interaction.user.id)
        raw = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        stamp = datetime.now().astimezone().strftime("%Y-%m-%d")
        file = discord.File(io.BytesIO(raw), filename=f"librarian-{stamp}.json")
        shelved = sum(len(v) for v in data["shelves"].values())
        text = (
            f"Your shelves ({shelved} entries), kudos ({len(data['kudos'])}) and reading places "
            f"({len(data['reading'])}), as JSON."
        )
        await send_first(interaction, content=text, file=file, ephemeral=True)

    @app_commands.command(
        name="forget-me",
        description="Delete your shelves, kudos and reading places (asks first).",
        extras=PRIVATE,
    )
    async def forget_me(self, interaction: discord.Interaction) -> None:
        confirm = Confirm(interaction.user.id, confirm_label="Forget me")
        answer = await confirm.ask(
            interaction,
            "This deletes **everything** Librarian keeps about you: your shelves, kudos and where you "
            "stopped reading. It cannot be undone (`/shelf export` first if you want a copy). Go ahead?",
        )
        if not answer:
            what = "Nothing was deleted." if answer is False else "No answer, so nothing was deleted."
            await interaction.followup.send(what, ephemeral=True)
            return
        removed = await members.forget(self.lib, interaction.user.id)
        total = sum(removed.values())
        await interaction.followup.send(
            f"Done: I have forgotten you ({total} record{'s' if total != 1 else ''} deleted).", ephemeral=True
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Shelves(bot))
