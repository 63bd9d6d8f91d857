"""Mods curating the archive, end to end: the real bot process against the fake Discord.

An attachment added through `/story add` and Confirm is then found by `/fic`; a plain member is
refused privately and the file is never downloaded; a duplicate is refused with a pointer; a story
removed with `/story remove` leaves `/fic` and comes back with `/story restore`; `/story history`
shows who did it. The uploaded story is original text written here.
"""

from __future__ import annotations

import pytest

from tests.e2e.checks import assert_safe
from tests.e2e.conftest import E2E
from tests.e2e.stories import LONG_TITLE
from tests.fakediscord import Sent, button, embeds, text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6
TITLE = "The Overdue Books of Room 113"
UPLOAD = (
    f"Title: {TITLE}\nAuthor: Return Slip\nRating: PG\nPairing: Giles/Jenny\n"
    "Summary: Giles chases a library book three years overdue.\n\n~*~*~\n\n"
    + "Giles stamped the card twice and Jenny laughed at the date on it. "
    * 25
)


async def added_reply(sent: Sent, word: str) -> dict:
    """The follow-up containing `word` (the bot's answer after Confirm)."""
    await sent.fake.wait_for(
        lambda: any(word in text(b) for b in sent.bodies()), 15, f"a reply saying {word!r}"
    )
    return next(b for b in sent.bodies() if word in text(b))


async def confirm(e2e: E2E, sent: Sent, *, user: str = "mia") -> Sent:
    preview = await sent.reply()
    assert preview["flags"] & EPHEMERAL or sent.message()["flags"] & EPHEMERAL
    assert not button(sent.message(), "Confirm").get("disabled")
    pressed = await e2e.fake.press(sent.message(), label="Confirm", user=user)
    assert (await pressed.response())["type"] == 7
    return pressed


async def fic(e2e: E2E, title: str) -> dict:
    sent = await e2e.fake.send_command("fic", title=title, channel="general", user="alice")
    body = await sent.reply()
    assert_safe(sent)
    return body


async def test_a_member_is_refused_and_the_file_is_never_fetched(e2e: E2E) -> None:
    fake = e2e.fake
    upload = fake.add_attachment("sneaky.txt", UPLOAD.encode(), "text/plain")
    sent = await fake.send_command("story add", file=upload, user="alice")
    reply = await sent.reply()
    assert reply["flags"] & EPHEMERAL and "Only moderators" in reply["content"]
    assert not any(r.route == "attachment" and upload["id"] in r.path for r in fake.requests)
    assert not (e2e.uploads).exists()


async def test_a_mod_adds_an_attachment_and_fic_finds_it(e2e: E2E) -> None:
    fake = e2e.fake
    upload = fake.add_attachment("..room 113.txt", UPLOAD.encode(), "text/plain")
    sent = await fake.send_command("story add", file=upload, user="mia", rating="Teen And Up Audiences")
    preview = await sent.reply()
    assert TITLE in text(preview) and "Confirm" in str(preview.get("components"))
    assert "nothing is saved" in text(preview) and not (e2e.uploads).exists()
    await confirm(e2e, sent)
    done = await added_reply(sent, "Added")
    assert embeds(done)[0]["title"] == TITLE
    assert button(done, "Read") and button(done, "More like this")
    assert_safe(sent)
    assert (e2e.uploads / "room 113.txt").read_text(encoding="utf-8") == UPLOAD
    card = embeds(await fic(e2e, "overdue books room"))[0]
    assert card["title"] == TITLE and "Teen" in text({"embeds": [card]})


async def test_a_duplicate_is_refused_with_a_pointer(e2e: E2E) -> None:
    fake = e2e.fake
    again = fake.add_attachment("copy.md", UPLOAD.encode())
    sent = await fake.send_command("story add", file=again, user="mia")
    reply = await sent.reply()
    assert f"same file as “{TITLE}”" in reply["content"]
    long_story = (e2e.stories / "e2e" / "quiet_hours.txt").read_bytes() + b"\nA different ending.\n"
    sent = await fake.send_command("story add", file=fake.add_attachment("q.txt", long_story), user="mia")
    assert f"same story as “{LONG_TITLE}”" in (await sent.reply())["content"]


async def test_remove_and_restore_then_history(e2e: E2E) -> None:
    fake = e2e.fake
    sent = await fake.send_command("story remove", story=TITLE, user="mia")
    await confirm(e2e, sent)
    await added_reply(sent, "Removed")
    assert not (e2e.uploads / "room 113.txt").exists()
    gone = await fic(e2e, TITLE)
    assert not embeds(gone) or embeds(gone)[0]["title"] != TITLE

    choices = await (
        await fake.send_autocomplete("story restore", "story", story="overdue", user="mia")
    ).response()
    [choice] = choices["data"]["choices"]
    assert choice["name"] == TITLE
    restored = await fake.send_command("story restore", story=choice["value"], user="mia")
    assert "Restored" in text(await restored.reply())
    assert embeds(await fic(e2e, TITLE))[0]["title"] == TITLE

    history = await fake.send_command("story history", story=choice["value"], user="mia")
    lines = embeds(await history.reply())[0]["description"].splitlines()
    assert [line.split("** ")[1].split()[0] for line in lines] == ["restored", "removed", "added"]
    assert all("<t:" in line and "Mia" in line for line in lines)
