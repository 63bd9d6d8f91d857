"""Only the home server curates, end to end: the real bot, started with HOME_GUILD_IDS naming another
server, refuses `/story …` in the fake Discord's guild (privately, saying why and what the host can
set, and never downloading the attachment), while `/dailyrec` and member commands work there."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import E2E
from tests.fakediscord import text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6
ELSEWHERE = "1234567890123"


@pytest.fixture(scope="module")
def bot_settings() -> dict[str, str]:
    return {"HOME_GUILD_IDS": ELSEWHERE}


async def test_a_mod_of_another_server_cannot_curate(e2e: E2E) -> None:
    fake = e2e.fake
    upload = fake.add_attachment(
        "visitor.txt", b"Title: Visitor\n\n" + b"Words of a visitor. " * 50, "text/plain"
    )
    sent = await fake.send_command("story add", file=upload, user="mia")
    reply = await sent.reply()
    assert reply["flags"] & EPHEMERAL and "does not curate" in reply["content"]
    assert "HOME_GUILD_IDS" in reply["content"]
    assert not any(r.route == "attachment" and upload["id"] in r.path for r in fake.requests)
    assert not (e2e.uploads / "visitor.txt").exists()

    removing = await fake.send_command("story remove", story="The Quiet Part", user="mia")
    assert "does not curate" in (await removing.reply())["content"]
    found = await fake.send_command("fic", title="The Quiet Part", channel="general", user="alice")
    assert "Quiet Part" in text(await found.reply())


async def test_dailyrec_is_still_this_servers_own(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("dailyrec show", channel="general", user="alice")
    assert "does not curate" not in text(await sent.reply())
