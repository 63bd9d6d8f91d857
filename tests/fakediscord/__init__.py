"""A small fake Discord for end-to-end tests: REST (`/api/v10`) and gateway on 127.0.0.1, enough for
discord.py 2.7 to log in, sync slash commands and answer interactions the tests send.

Owns nothing the bot imports: tests start `FakeDiscord`, point the bot process at it (see
`tests/e2e/launch_bot.py`), then drive it with `send_command`, `send_autocomplete`, `press` and
read what the bot sent through the returned `Sent` and `FakeDiscord.requests`.
"""

from tests.fakediscord.commands import CommandUsageError
from tests.fakediscord.sent import Sent, button, buttons, embeds, text
from tests.fakediscord.server import FakeDiscord, Recorded

__all__ = ["CommandUsageError", "FakeDiscord", "Recorded", "Sent", "button", "buttons", "embeds", "text"]
