"""The server's taste end to end: Kudos / Save for later pressed by several members on one card, a
restart of the bot in between, and nothing forgotten (the old card's buttons still work, the counts,
shelves and reading places are still there); `/read` continuing where a member stopped, `/shelf`
privacy, `/top` and `/stats` with their charts, and `/forget-me` after its confirmation.
"""

from __future__ import annotations

import asyncio
import re
import sys

import pytest
import pytest_asyncio

from tests.e2e.checks import assert_safe
from tests.e2e.conftest import E2E, LAUNCHER, READ_FOLLOWUPS, READY_LINE, START_TIMEOUT, BotProcess, bot_env
from tests.e2e.stories import DRABBLE_TITLES, LONG_TITLE
from tests.fakediscord import Sent, button, buttons, embeds, text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6
PER_BATCH = 1 + READ_FOLLOWUPS


async def answer(sent: Sent) -> dict:
    body = await sent.reply()
    await sent.settle(quiet=0.3)
    assert_safe(sent)
    return body


async def private(sent: Sent) -> str:
    body = await answer(sent)
    assert body.get("flags", 0) & EPHEMERAL, f"not ephemeral: {body}"
    return text(body)


async def restart(e2e: E2E) -> None:
    """Stop the bot and start a new process on the same database, as a host's restart would."""
    old = e2e.bot
    code = await old.stop()
    assert code == 0, f"the bot exited with {code}:\n{old.tail()}"
    tmp = e2e.stories.parent
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(LAUNCHER),
        str(e2e.fake.port),
        cwd=str(tmp),
        env=bot_env(e2e.fake, tmp),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    bot = BotProcess(proc, tmp / "bot-restarted.log")
    bot.start_reading()
    await bot.wait_for_line(READY_LINE, START_TIMEOUT)
    e2e.bot = bot
    e2e.checked = 0


@pytest_asyncio.fixture(loop_scope="module", scope="module", autouse=True)
async def stop_restarted(e2e: E2E):  # type: ignore[no-untyped-def]
    first = e2e.bot
    yield
    if e2e.bot is not first:  # the restarted process is ours to stop; the fixture stops the first
        problems = e2e.bot.problems()
        restarted = e2e.bot
        code = await restarted.stop()
        e2e.bot = first
        assert code == 0, f"the restarted bot exited with {code}:\n{restarted.tail()}"
        assert not problems, "the restarted bot logged problems:\n" + "\n".join(problems)


async def kudos(e2e: E2E, card: Sent, label: str, user: str) -> str:
    """Press Kudos as `user`: the card is updated for everyone, the words go to the presser only."""
    pressed = await e2e.fake.press(card.message(), label=label, user=user)
    assert (await pressed.response())["type"] == 7  # the card itself is updated (the count)
    await e2e.fake.wait_for(lambda: len(pressed.message_ids) >= 1, 10, "the kudos reply")
    await pressed.settle(quiet=0.3)
    assert_safe(pressed)
    reply = pressed.last_message()
    assert reply["flags"] & EPHEMERAL
    return text(reply)


def part_number(body: dict) -> int:
    found = re.search(r"part (\d+) of (\d+)", body["content"])
    assert found, body["content"]
    return int(found.group(1))


async def test_kudos_and_shelves_from_several_members_survive_a_restart(e2e: E2E) -> None:
    fake = e2e.fake
    card = await fake.send_command("fic", title=LONG_TITLE, channel="general")
    body = await answer(card)
    assert {b["label"] for b in buttons(body)} >= {"Save for later", "Mark read", "Kudos"}

    said = await kudos(e2e, card, "Kudos", "alice")
    assert "You gave" in said and LONG_TITLE in said
    assert button(card.message(), "Kudos · 1")
    said = await kudos(e2e, card, "Kudos · 1", "bob")
    assert button(card.message(), "Kudos · 2")
    said = await private(await fake.press(card.message(), label="Save for later", user="bob"))
    assert "to-read" in said

    read = await fake.send_command("read", title=LONG_TITLE, channel="general", user="alice")
    await fake.wait_for(lambda: len(read.bodies()) >= PER_BATCH, 15, "the first parts")
    await read.settle(quiet=0.3)
    shelf = await private(await fake.send_command("shelf show", shelf="reading", user="alice"))
    assert LONG_TITLE in shelf and f"part {PER_BATCH} of" in shelf

    await restart(e2e)

    said = await kudos(e2e, card, "Kudos · 2", "mia")
    assert "You gave" in said
    assert button(card.message(), "Kudos · 3"), "the count went on from what was stored"
    said = await kudos(e2e, card, "Kudos · 3", "alice")
    assert "took back" in said and button(card.message(), "Kudos · 2")

    again = await fake.send_command("read", title=LONG_TITLE, channel="general", user="alice")
    first = await answer(again)
    assert part_number(first) == PER_BATCH + 1, "/read without chunk: continues where alice stopped"
    bobs = await private(await fake.send_command("shelf show", user="bob"))
    assert LONG_TITLE in bobs and "to-read" in bobs


async def test_shelves_are_private_until_made_public(e2e: E2E) -> None:
    fake = e2e.fake
    await private(
        await fake.send_command("shelf add", story=DRABBLE_TITLES[0], shelf="Cosy Nights", user="mia")
    )
    refused = await private(await fake.send_command("shelf show", member="mia", user="bob"))
    assert "private" in refused and DRABBLE_TITLES[0] not in refused
    await private(await fake.send_command("shelf privacy", setting="public", user="mia"))
    shown = await private(await fake.send_command("shelf show", member="mia", user="bob"))
    assert DRABBLE_TITLES[0] in shown and "Cosy Nights" in shown


async def test_top_and_stats_attach_charts_and_keep_the_text(e2e: E2E) -> None:
    fake = e2e.fake
    top = await fake.send_command("top", period="ever", channel="general", user="bob")
    body = await answer(top)
    assert LONG_TITLE in text(body) and "kudos" in text(body)
    stored = top.message()
    assert [a["filename"] for a in stored["attachments"]] == ["top.png"]
    assert embeds(stored)[0]["image"]["url"].endswith("top.png")
    stats = await fake.send_command("stats", channel="general")
    await answer(stats)
    assert [a["filename"] for a in stats.message()["attachments"]] == ["stats.png"]
    assert "stories" in text(stats.message())


async def test_forget_me_asks_then_forgets(e2e: E2E) -> None:
    fake = e2e.fake
    asked = await fake.send_command("forget-me", user="bob")
    question = await answer(asked)
    assert question["flags"] & EPHEMERAL and "cannot be undone" in question["content"]
    pressed = await fake.press(asked.message(), label="Forget me", user="bob")
    await pressed.settle(quiet=0.5)
    await asked.settle(quiet=0.5)
    assert "forgotten you" in text(asked.last_message())
    empty = await private(await fake.send_command("shelf show", user="bob"))
    assert LONG_TITLE not in empty and "Nothing here yet" in empty
