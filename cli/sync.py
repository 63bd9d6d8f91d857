"""The host's `sync` command: publish the slash commands to every server Discord has the bot in.

`sync` logs in with DISCORD_TOKEN, syncs the command tree globally (Discord takes up to an hour to
show a global change everywhere) and exits; it needs no database. `TEST_GUILD_ID` does not matter
here: the bot syncs to the test guild by itself on every start. This module owns the flags and the
one-line answers to a missing or rejected token and an unreachable Discord; the command tree is the
bot's (`bot.py`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli.common import settings_from_args


def register(subparsers: Any) -> None:
    """Add `sync` to the command line."""
    sync = subparsers.add_parser(
        "sync",
        help="publish the slash commands to every server (global sync; needs DISCORD_TOKEN)",
        description="Log in, sync the slash commands globally and exit. Global changes can take up to "
        "an hour to show in every server; the bot syncs TEST_GUILD_ID by itself on every start.",
    )
    sync.set_defaults(handler=run_sync)


async def run_sync(args: argparse.Namespace) -> int:
    """`bot.py sync`: 0 when synced; 2 with one line when the token is missing or Discord refuses."""
    settings = settings_from_args(args)
    from bot import NO_TOKEN, discord_problem, sync_globally

    if not settings.discord_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    try:
        return await sync_globally(settings)
    except Exception as exc:
        problem = discord_problem(exc)
        if problem is None:
            raise
        print(problem, file=sys.stderr)
        return 2
