"""Smoke: the real bot logs in to the fake Discord, syncs its commands to the test guild and answers.

Owns the start-up contract seen from outside: login, IDENTIFY, guild sync, `/stats` answered.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import E2E
from tests.fakediscord import text

NAME_LIKE = {"title", "character", "pairing", "author", "like"}

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_bot_logs_in_and_syncs_to_the_test_guild(e2e: E2E) -> None:
    fake = e2e.fake
    routes = [r.route for r in fake.requests]
    assert "users_me" in routes and "application" in routes
    assert fake.session is not None and fake.session.identify is not None
    assert fake.session.identify["token"] == fake.bot_token
    synced = fake.commands[fake.guild_id]
    assert {"search", "fic", "read", "rec", "stats"} <= set(synced)
    assert None not in fake.commands, "a normal start must not sync globally"
    for command in synced.values():
        assert command["description"], f"/{command['name']} has no description"
        for option in command.get("options") or []:
            assert option.get("description"), f"/{command['name']} {option['name']} has no description"
            if option["name"] in NAME_LIKE:
                assert option.get("autocomplete"), f"/{command['name']} {option['name']} has no autocomplete"


async def test_stats_answers(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("stats")
    body = await sent.reply()
    assert "stor" in text(body).lower()
