"""Run the real bot (`bot.main()`) against the local fake Discord instead of discord.com.

Usage: `python tests/e2e/launch_bot.py PORT` (or FAKE_DISCORD_PORT=PORT). Before the bot's own code
is imported it points discord.py's REST base (`Route.BASE`) and gateway (`DEFAULT_GATEWAY`, which a
non-sharded client connects to without asking `/gateway/bot`) at 127.0.0.1:PORT and prints every
thread's stack on SIGUSR1 (the tests ask for it before killing a bot that hangs). It must not change
anything else about the bot.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def point_at_fake(port: int) -> None:
    """Make discord.py talk to the fake on 127.0.0.1:`port` (REST and gateway)."""
    import yarl
    from discord import gateway, http

    http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
    gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{port}/ws")


def main() -> int:
    raw = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FAKE_DISCORD_PORT", "")
    if not raw.isdigit():
        print("usage: launch_bot.py PORT (or set FAKE_DISCORD_PORT)", file=sys.stderr)
        return 2
    point_at_fake(int(raw))
    sys.path.insert(0, str(ROOT))
    # The bot stops cleanly on SIGINT and SIGTERM (service.lifecycle); a test worker that ignores
    # or blocks them must not pass that on to the bot.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # SIGUSR1 prints every thread's stack: the tests ask for it before killing a bot that hangs.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    import bot

    return bot.main([])


if __name__ == "__main__":
    sys.exit(main())
