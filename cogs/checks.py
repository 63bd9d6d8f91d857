"""Who may run the mods' commands (`/story …`, `/dailyrec set|off|now`): the one mod check, and
where curation may happen.

Owns the rule (a member with the configured `MOD_ROLE`, by name or id, or the Manage Server
permission; administrators have it too) and `@mod_only(what)`, the `app_commands.check` every mods'
command carries: a member who is not a mod gets `NotMod` (a `CheckFailure`), which the tree's one
error handler (`cogs.errors`) turns into a private, plain refusal. Checks run before a command, and
`default_permissions` only hides a command (a server can change that), so this is what holds.
`MOD_RULES` is where a further rule goes (e.g. curation only in the host's home guilds): each rule
returns a refusal or None. `mod_autocomplete` answers mods only, so a member typing into a mods'
option sees no titles. It must not query the archive or reply itself.
`curation_refused` (in `CURATION_RULES`, which `/story` checks) applies the home-server rule
(`service.curators`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sized
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.utils import escape_markdown

from service.curators import curation_refusal
from settings import Settings

T = TypeVar("T")
Rule = Callable[[discord.Interaction, Settings, str], "str | None"]


class NotMod(app_commands.CheckFailure):
    """A member who may not run a mods' command; the message says why in plain words."""


def is_mod(interaction: discord.Interaction, mod_role: str | None) -> bool:
    """A member with the mod role (name or id) or the Manage Server permission (admins have it too)."""
    perms = interaction.permissions
    if isinstance(perms, discord.Permissions) and (perms.manage_guild or perms.administrator):
        return True
    wanted = (mod_role or "").strip().casefold()
    roles = getattr(interaction.user, "roles", None)
    if not wanted or not isinstance(roles, list):
        return False
    return any(str(role.id) == wanted or role.name.casefold() == wanted for role in roles)


def mods_only(mod_role: str | None, what: str) -> str:
    """What a member who is not a mod reads: `Only moderators can <what>: it takes …`."""
    role = f"the **{escape_markdown(mod_role)}** role or " if mod_role else ""
    return f"Only moderators can {what}: it takes {role}the Manage Server permission."


def _moderator(interaction: discord.Interaction, settings: Settings, what: str) -> str | None:
    return None if is_mod(interaction, settings.mod_role) else mods_only(settings.mod_role, what)


MOD_RULES: list[Rule] = [_moderator]
"""Every rule a mods' command must pass, in order; the first refusal is what the member reads."""


def refusal(interaction: discord.Interaction, what: str, rules: list[Rule] | None = None) -> str | None:
    """Why this member may not run a mods' command (None: they may)."""
    settings: Settings = interaction.client.lib.settings  # type: ignore[attr-defined]
    for rule in MOD_RULES if rules is None else rules:
        reason = rule(interaction, settings, what)
        if reason is not None:
            return reason
    return None


def mod_only(what: str = "change the archive", *, rules: list[Rule] | None = None) -> Callable[[T], T]:
    """`@mod_only("post the daily rec")`: the command runs for mods only (`MOD_RULES`, or `rules`)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        reason = refusal(interaction, what, rules)
        if reason is not None:
            raise NotMod(reason)
        return True

    return app_commands.check(predicate)


Autocomplete = Callable[[discord.Interaction, str], Awaitable[list[app_commands.Choice[Any]]]]


def mod_autocomplete(inner: Autocomplete) -> Autocomplete:
    """`inner`, answering mods only: anyone else gets no choices (no titles leak to members)."""

    async def autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[Any]]:
        if refusal(interaction, "curate", CURATION_RULES) is not None:
            return []
        return await inner(interaction, current)

    autocomplete.__name__ = f"mods_{getattr(inner, '__name__', 'autocomplete')}"
    return autocomplete


def curation_refused(interaction: discord.Interaction, settings: Settings) -> str | None:
    """Why `/story …` may not change the shared archive from this server (None: it may)."""
    guilds = getattr(interaction.client, "guilds", None)  # discord.py's is a SequenceProxy, not a list
    count = len(guilds) if isinstance(guilds, Sized) else 1
    return curation_refusal(settings, interaction.guild_id, count)


def _home_server(interaction: discord.Interaction, settings: Settings, what: str) -> str | None:
    return curation_refused(interaction, settings)


CURATION_RULES: list[Rule] = [*MOD_RULES, _home_server]
"""What `/story …` must pass: a mod, in a server that curates the shared archive."""


def curator_only() -> Callable[[T], T]:
    """`@curator_only()`: `/story …` runs for mods in a curating server only (`CURATION_RULES`)."""
    return mod_only("change the archive", rules=CURATION_RULES)
