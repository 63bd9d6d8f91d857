"""A bot in two servers with HOME_GUILD_IDS naming the first, end to end: a mod of the home server
adds a story and members of the other server find it, while the other server's mods are refused
(privately, saying curation happens in the host's home server) and its `/dailyrec` still works."""

from __future__ import annotations

import pytest

from tests.e2e.checks import assert_safe
from tests.e2e.conftest import E2E
from tests.e2e.test_e2e_curate import added_reply, confirm
from tests.fakediscord import FakeDiscord, embeds, text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6
TITLE = "Minutes of the Two Councils"
UPLOAD = (
    f"Title: {TITLE}\nAuthor: Home Clerk\nRating: PG\nCharacters: Giles, Willow\n\n~*~\n\n"
    + "Giles read the minutes aloud and Willow corrected every date in them. " * 30
)


@pytest.fixture(scope="module")
def fake_guilds() -> int:
    return 2


@pytest.fixture(scope="module")
def bot_settings() -> dict[str, object]:
    return {"HOME_GUILD_IDS": lambda fake: fake.guild_id}


def visitor(fake: FakeDiscord) -> str:
    return fake.guild_ids[1]


async def test_the_home_server_adds_and_the_other_server_finds_it(e2e: E2E) -> None:
    fake = e2e.fake
    e2e.share_commands()
    upload = fake.add_attachment("two councils.txt", UPLOAD.encode(), "text/plain")
    sent = await fake.send_command("story add", file=upload, user="mia", guild=fake.guild_id)
    await confirm(e2e, sent)
    done = await added_reply(sent, "Added")
    assert embeds(done)[0]["title"] == TITLE
    found = await fake.send_command("fic", title="two councils", user="alice", guild=visitor(fake))
    assert embeds(await found.reply())[0]["title"] == TITLE
    assert_safe(found)


async def test_the_other_servers_mods_are_refused(e2e: E2E) -> None:
    fake = e2e.fake
    upload = fake.add_attachment("elsewhere.txt", b"Title: Elsewhere\n\n" + b"Not from home. " * 60)
    sent = await fake.send_command("story add", file=upload, user="mia", guild=visitor(fake))
    reply = await sent.reply()
    assert reply["flags"] & EPHEMERAL and "does not curate" in reply["content"]
    assert not any(r.route == "attachment" and upload["id"] in r.path for r in fake.requests)
    for command, options in (
        ("story remove", {"story": TITLE}),
        ("story edit", {"story": TITLE, "field": "author", "value": "Visitor"}),
    ):
        refused = await fake.send_command(command, user="mia", guild=visitor(fake), **options)
        assert "does not curate" in text(await refused.reply()), command
    still = await fake.send_command("fic", title=TITLE, user="alice", guild=fake.guild_id)
    assert embeds(await still.reply())[0]["title"] == TITLE


async def test_dailyrec_stays_per_server(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("dailyrec show", user="mia", guild=visitor(e2e.fake))
    assert "does not curate" not in text(await sent.reply())
