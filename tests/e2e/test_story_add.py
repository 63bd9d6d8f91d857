"""`/story add` end to end: a mod uploads a file (served by the fake, downloaded by the bot), sees a
private preview, presses Confirm, and `/fic` then finds the story; Cancel adds nothing; a member who
is not a mod is refused.

Owns the upload flow as Discord shows it. The mods' other commands and the daily post belong in
their own modules (one bot each) next to this one.
"""

from __future__ import annotations

import pytest

from tests.e2e.checks import assert_safe
from tests.e2e.conftest import E2E
from tests.fakediscord import Sent, button, embeds, text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6


def upload_text(title: str) -> bytes:
    """A small story file of our own, in the mailing-list header style."""
    body = "\n\n".join(
        f"Dawn counted the steps of the tower, time number {n}, and wrote the number in her diary."
        for n in range(1, 9)
    )
    header = f"Title: {title}\nAuthor: Upload Fixture\nRating: PG\nPairing: Dawn & Buffy\n"
    return f"{header}\n~*~*~\n\n{body}\n".encode()


async def preview(e2e: E2E, title: str, *, user: str = "mia") -> Sent:
    upload = e2e.fake.add_attachment(
        f"{title.lower().replace(' ', '_')}.txt", upload_text(title), "text/plain"
    )
    sent = await e2e.fake.send_command("story add", file=upload, user=user, channel="general")
    await sent.reply()
    return sent


async def test_a_mod_adds_a_story_and_fic_finds_it(e2e: E2E) -> None:
    fake = e2e.fake
    title = "The Tower Steps"
    since = len(fake.requests)
    sent = await preview(e2e, title)
    asked = sent.message()
    assert asked["flags"] & EPHEMERAL, "the preview is for the mod only"
    assert title in text(asked)
    assert any(r.route == "attachment" and r.status == 200 for r in fake.requests[since:]), "downloaded"

    confirm = await fake.press(asked, label="Confirm", user="mia")
    assert (await confirm.response())["type"] == 7
    assert button(sent.message(), "confirm").get("disabled"), "the buttons are disabled once answered"
    await fake.wait_for(lambda: len(sent.bodies()) >= 2, 15, "the confirmation that it was added")
    added = sent.bodies()[-1]
    assert "Added" in added["content"] and title in added["content"]
    assert_safe(sent)

    card = await fake.send_command("fic", title=title, channel="general", user="alice")
    assert title in embeds(await card.reply())[0]["title"]
    assert_safe(card)


async def test_cancel_adds_nothing(e2e: E2E) -> None:
    fake = e2e.fake
    title = "The Unsent Letter Upload"
    sent = await preview(e2e, title)
    await fake.press(sent.message(), label="Cancel", user="mia")
    await fake.wait_for(lambda: len(sent.bodies()) >= 2, 15, "the word that nothing was added")
    assert "nothing was added" in sent.bodies()[-1]["content"]
    card = await fake.send_command("fic", title=title, channel="general")
    body = await card.reply()
    assert body.get("flags", 0) & EPHEMERAL and not embeds(body), "no such story"


async def test_someone_else_cannot_confirm_a_mods_upload(e2e: E2E) -> None:
    fake = e2e.fake
    sent = await preview(e2e, "The Borrowed Button")
    refused = await fake.press(sent.message(), label="Confirm", user="bob")
    assert (await refused.reply())["flags"] & EPHEMERAL
    assert not button(sent.message(), "confirm").get("disabled"), "bob's press changed nothing"
    await fake.press(sent.message(), label="Cancel", user="mia")
    await fake.wait_for(lambda: len(sent.bodies()) >= 2, 15, "the cancel")


async def test_a_member_who_is_not_a_mod_is_refused(e2e: E2E) -> None:
    since = len(e2e.fake.requests)
    upload = e2e.fake.add_attachment("nope.txt", upload_text("Not Allowed Here"), "text/plain")
    sent = await e2e.fake.send_command("story add", file=upload, user="alice")
    body = await sent.reply()
    assert body["flags"] & EPHEMERAL
    assert "moderator" in body["content"].lower()
    await sent.settle(quiet=0.3)
    assert not any(r.route == "attachment" for r in e2e.fake.requests[since:]), (
        "nothing downloaded for a non-mod"
    )
