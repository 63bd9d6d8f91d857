"""Every slash command acknowledged first: the command tree Librarian runs.

Owns `LibrarianTree` (the bot's `tree_cls`), whose `interaction_check` defers each slash command
("Librarian is thinking…") before anything else runs: before the command's checks, before its
options are transformed (a `Story` option reads the database) and before its callback. However
busy the bot is (a burst of commands, a start-up index), Discord's three-second deadline is met by
one small request, and the answer follows as the deferred message. In a burst, a command's work
waits (a second at most) until the acknowledgements already under way have gone out, so fifty
commands arriving together are all acknowledged before the first of them starts searching. A command whose answers are
only for the member who ran it says so with `extras=PRIVATE` (on the command or on its group):
its acknowledgement is then ephemeral too, so no part of the answer shows in the channel.
Autocomplete is answered by its own callback and is not touched here. Callbacks send their first
message with `cogs.views.send_first` (the follow-up once deferred) and may call `acknowledge`
themselves, which does nothing when the tree already has. It must not decide what a command
answers, nor hold any command logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
from discord import app_commands

log = logging.getLogger(__name__)

ACK_FIRST_SECONDS = 1.0
"""The longest a command's work waits for other commands' acknowledgements to go out first."""
PRIVATE_KEY = "librarian_private"
PRIVATE: dict[str, Any] = {PRIVATE_KEY: True}
"""`extras=PRIVATE` on a command or group: its acknowledgement and answers are ephemeral."""


def is_private(command: object) -> bool:
    """True when `command` (or a group it belongs to) answers only the member who ran it."""
    while command is not None:
        extras = getattr(command, "extras", None) or {}
        if extras.get(PRIVATE_KEY):
            return True
        command = getattr(command, "parent", None)
    return False


async def acknowledge(interaction: discord.Interaction, *, ephemeral: bool | None = None) -> None:
    """Defer the interaction ("thinking…") unless it was already answered or deferred.

    `ephemeral` defaults to what the command declares (`PRIVATE`). A failed acknowledgement (the
    interaction expired) is logged; the command still runs and its answer says what it can.
    """
    if interaction.response.is_done():
        return
    if ephemeral is None:
        ephemeral = is_private(interaction.command)
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    except discord.HTTPException as exc:
        log.warning("could not acknowledge a command of %s (%s)", interaction.user, exc)


class LibrarianTree(app_commands.CommandTree):
    """The command tree: acknowledges every slash command before its checks, options and callback,
    and lets the acknowledgements under way go out before any command's work begins (a burst of
    fifty is acknowledged first, then answered)."""

    def __init__(self, client: discord.Client, **options: Any) -> None:
        super().__init__(client, **options)
        self._acknowledging = 0
        self._acknowledged = asyncio.Event()
        self._acknowledged.set()

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.type is not discord.InteractionType.application_command:
            return True
        self._acknowledging += 1
        self._acknowledged.clear()
        try:
            await acknowledge(interaction)
        finally:
            self._acknowledging -= 1
            if not self._acknowledging:
                self._acknowledged.set()
        with contextlib.suppress(TimeoutError):  # never starve a command behind a stream of others
            await asyncio.wait_for(self._acknowledged.wait(), ACK_FIRST_SECONDS)
        return True
