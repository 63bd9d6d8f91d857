"""Who may run the mods' commands (`/story …`, `/dailyrec set|off|now`): the one mod check, and
where curation may happen.

Owns the rule: a member with the configured `MOD_ROLE` (by name or id) or the Manage Server
permission (administrators have it too). Commands call it themselves, because `default_permissions`
only hides a command and a server can change that. `curation_refused` applies the home-server rule
(`service.curators`) to an interaction. It must not reply or query anything.
"""

from __future__ import annotations

import discord
from discord.utils import escape_markdown

from service.curators import curation_refusal
from settings import Settings


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


def curation_refused(interaction: discord.Interaction, settings: Settings) -> str | None:
    """Why `/story …` may not change the shared archive from this server (None: it may)."""
    guilds = getattr(interaction.client, "guilds", None)
    count = len(guilds) if isinstance(guilds, list | tuple) else 1
    return curation_refusal(settings, interaction.guild_id, count)
