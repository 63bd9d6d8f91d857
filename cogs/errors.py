"""The one error handler: every failed slash command, button or autocomplete ends here.

Owns what a member reads when something goes wrong: a `QueryError` or a failed check becomes plain,
ephemeral words (with "did you mean" suggestions); anything unexpected is logged with its traceback
and answered with a short apology. It must not decide what counts as an error: the service raises,
this module only explains.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs.embeds import fit_message
from service.query import QueryError

log = logging.getLogger(__name__)

ANSWERED = "librarian_answered"
"""`interaction.extras` key set once a command has sent its first message (see `cogs.views.send_first`)."""
APOLOGY = "Sorry, something went wrong on my side while answering that. It has been logged; please try again."


def explain(error: BaseException) -> str | None:
    """Plain words for an error a member can act on, or None when it is a bug of ours."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        error = getattr(error, "original", None) or error.__cause__ or error
    if isinstance(error, QueryError):
        text = error.message
        if error.suggestions:
            text += "\nDid you mean: " + ", ".join(f"**{s}**" for s in error.suggestions[:5]) + "?"
        return text
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try that again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.MissingRole | app_commands.MissingAnyRole):
        return "You need the moderator role to use that command."
    if isinstance(error, app_commands.MissingPermissions):
        return "You don't have the permissions that command needs."
    if isinstance(error, app_commands.BotMissingPermissions):
        return "I am missing permissions in this channel: " + ", ".join(error.missing_permissions) + "."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command works only in a server, not in direct messages."
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return (
            "That command has just changed or gone away; give Discord a minute to catch up, then try again."
        )
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use that command here."
    return None


async def reply_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Send `text` only to the member: as the response if none was sent yet, else as a follow-up.

    When the command had deferred publicly and sent nothing yet, the "thinking…" placeholder is
    deleted first: the first follow-up would replace it and so be public, whatever its flags.
    """
    text = fit_message(text)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True)
            return
        placeholder = interaction.response.type is discord.InteractionResponseType.deferred_channel_message
        if placeholder and not interaction.extras.get(ANSWERED):
            await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell %s about an error (interaction expired?)", interaction.user)


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    """Explain `error` to the member who caused it; log the traceback when it is unexpected."""
    text = explain(error)
    if text is None:
        command = interaction.command.qualified_name if interaction.command else "a component"
        log.error("error in %s for %s", command, interaction.user, exc_info=error)
        text = APOLOGY
    await reply_ephemeral(interaction, text)


async def on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    await report(interaction, error)


async def setup(bot: commands.Bot) -> None:
    bot.tree.on_error = on_tree_error  # type: ignore[method-assign]


async def teardown(bot: commands.Bot) -> None:
    bot.tree.on_error = app_commands.CommandTree.on_error.__get__(bot.tree)  # type: ignore[method-assign]
