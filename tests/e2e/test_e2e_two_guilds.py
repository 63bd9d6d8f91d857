"""A bot in two servers that share one archive, end to end, with HOME_GUILD_IDS unset: neither
server's mods may curate (each is told the exact line the host sets, with its own server id) and
no attachment is downloaded, while members read and search in both and each server keeps its own
daily rec."""

from __future__ import annotations

import pytest

from tests.e2e.checks import assert_safe
from tests.e2e.conftest import E2E
from tests.fakediscord import text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6


@pytest.fixture(scope="module")
def fake_guilds() -> int:
    return 2


async def test_with_no_home_named_neither_server_curates(e2e: E2E) -> None:
    fake = e2e.fake
    e2e.share_commands()
    for guild in fake.guild_ids:
        upload = fake.add_attachment("visitor.txt", b"Title: Visitor\n\n" + b"A visitor writes. " * 60)
        sent = await fake.send_command("story add", file=upload, user="mia", guild=guild)
        reply = await sent.reply()
        assert reply["flags"] & EPHEMERAL, reply
        assert f"HOME_GUILD_IDS={guild}" in reply["content"] and "2 servers" in reply["content"]
        assert not any(r.route == "attachment" and upload["id"] in r.path for r in fake.requests)
        removing = await fake.send_command("story remove", story="The Quiet Part", user="mia", guild=guild)
        assert f"HOME_GUILD_IDS={guild}" in (await removing.reply())["content"]
    assert not e2e.uploads.exists()


async def test_members_of_both_servers_read_the_one_archive(e2e: E2E) -> None:
    e2e.share_commands()  # each test on its own: `-k` may run it without the first
    for guild in e2e.fake.guild_ids:
        sent = await e2e.fake.send_command("fic", title="The Quiet Part", user="alice", guild=guild)
        assert "Quiet Part" in text(await sent.reply())
        assert_safe(sent)


async def test_each_server_sets_its_own_daily_rec(e2e: E2E) -> None:
    fake = e2e.fake
    e2e.share_commands()
    first, second = fake.guild_ids
    for guild, time in ((first, "08:15"), (second, "21:40")):
        sent = await fake.send_command(
            "dailyrec set", {"channel": "recs", "time": time}, user="mia", guild=guild
        )
        assert "does not curate" not in text(await sent.reply())
    for guild, time, other in ((first, "08:15", "21:40"), (second, "21:40", "08:15")):
        shown = text(await (await fake.send_command("dailyrec show", user="mia", guild=guild)).reply())
        assert time in shown and other not in shown, shown
