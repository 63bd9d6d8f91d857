"""The base every Librarian cog shares: the bot, and the Library it answers from.

Owns nothing else; a cog's commands live in its own module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

if TYPE_CHECKING:
    from service.library import Library


class LibrarianCog(commands.Cog):
    """A cog holding the bot; `self.lib` is the bot's Library (opened in `setup_hook`)."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @property
    def lib(self) -> Library:
        return self.bot.lib  # type: ignore[attr-defined,no-any-return]
