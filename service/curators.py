"""Which servers may curate the one shared archive: the home-server rule behind every `/story …`.

Owns the decision, in plain data: curation happens only in the servers the host names in
`HOME_GUILD_IDS`; with none named, only while the bot is in a single server (a second server's admins
must not edit or remove the first one's stories), and otherwise it is refused with the line telling
the host what to set. `/dailyrec` is per server and is not ruled here. It must not import Discord:
`cogs/checks.py` asks it with the interaction's server id and the number of servers the bot is in.
"""

from __future__ import annotations

from settings import Settings


def curation_refusal(settings: Settings, guild_id: int | None, guild_count: int) -> str | None:
    """None when `/story …` may change the archive from `guild_id`; otherwise what to answer."""
    homes = settings.home_guild_ids
    if guild_id is None:
        return "The archive is curated from a server, not from direct messages."
    if homes:
        if guild_id in homes:
            return None
        return (
            "This server does not curate the shared archive: stories are added, corrected and removed "
            "in the host's home server. (Host: add this server's id to HOME_GUILD_IDS to let it curate.)"
        )
    if guild_count <= 1:
        return None
    return (
        f"Curation is off: the bot is in {guild_count} servers, and every one of them shares one "
        "archive. Host: name the server(s) that may curate by setting "
        f"HOME_GUILD_IDS={guild_id} (this server's id; separate several with commas) in .env, "
        "then restart the bot."
    )
