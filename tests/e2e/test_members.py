"""Start-up and every member command, run against the real bot process through the fake Discord, in a
channel that is not age-restricted (`general`) and in one that is (`after-dark`).

Owns the smoke test (login, IDENTIFY, commands synced to the test guild only, `/stats` answered) and
what a member sees: search by character and pairing with age gating and its "hidden" note,
paging (Next, and another member's press refused), `/fic` and title autocomplete, `/read` with the
Continue button, `/rec` and `/rec like:`, `/characters`, `/pairings`, `/stats`.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.checks import assert_safe
from tests.e2e.conftest import E2E, READ_FOLLOWUPS
from tests.e2e.stories import AUTHOR, DRABBLE_TITLES, EXPLICIT_TITLE, LONG_TITLE, PING_LINE, RARE_WORD
from tests.fakediscord import Sent, button, buttons, embeds, text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6
NAME_LIKE = {"title", "character", "pairing", "author", "like"}


async def answer(sent: Sent) -> dict:
    """The first message the member sees, after checking everything sent is safe."""
    body = await sent.reply()
    await sent.settle(quiet=0.3)
    assert_safe(sent)
    return body


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
    body = await answer(sent)
    assert "stor" in text(body).lower()


def total(body: dict) -> int:
    """The number of matches a result page's footer reports."""
    found = re.search(r"([\d,]+) stor(?:y|ies)", embeds(body)[0]["footer"]["text"])
    assert found, embeds(body)[0]["footer"]
    return int(found.group(1).replace(",", ""))


def hidden(body: dict) -> int:
    """How many matches the reply says age gating hid (0 when it says nothing)."""
    found = re.search(r"([\d,]+) more stor(?:y|ies) .*hidden", text(body))
    return int(found.group(1).replace(",", "")) if found else 0


async def test_search_character_hides_explicit_outside_nsfw(e2e: E2E) -> None:
    general = await answer(await e2e.fake.send_command("search", character="Willow", channel="general"))
    nsfw = await answer(await e2e.fake.send_command("search", character="Willow", channel="after-dark"))
    assert EXPLICIT_TITLE not in text(general)
    assert total(nsfw) > total(general) >= len(DRABBLE_TITLES) + 1
    assert hidden(general) == total(nsfw) - total(general)
    assert hidden(nsfw) == 0
    assert len(embeds(general)) == 1


async def test_search_pairing_in_nsfw_channel_shows_explicit(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("search", pairing="Willow/Tara", channel="after-dark")
    words = text(await answer(sent))
    assert EXPLICIT_TITLE in words and LONG_TITLE in words
    assert "hidden" not in words
    assert not any(title in words for title in DRABBLE_TITLES), "drabbles have no pairing"


async def test_search_pairing_outside_nsfw_says_how_many_were_hidden(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("search", pairing="Willow/Tara", channel="general")
    body = await answer(sent)
    words = text(body)
    assert LONG_TITLE in words and EXPLICIT_TITLE not in words
    assert hidden(body) >= 1, words


async def test_full_text_search_finds_the_rare_word(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("search", text=RARE_WORD, channel="general")
    assert (await sent.response())["type"] == 5  # full text defers first
    assert LONG_TITLE in text(await answer(sent))


async def test_next_page_and_a_press_by_someone_else(e2e: E2E) -> None:
    fake = e2e.fake
    sent = await fake.send_command("search", character="Willow", channel="after-dark")
    first = await answer(sent)
    assert button(first, "previous").get("disabled") is True
    assert not button(first, "next").get("disabled")
    page_one = text(sent.message())

    refused = await fake.press(sent.message(), label="Next", user="bob")
    reply = await answer(refused)
    assert reply["flags"] & EPHEMERAL, "the refusal is for the presser only"
    assert "belong" in reply["content"]
    assert text(sent.message()) == page_one, "someone else's press must not turn the page"

    pressed = await fake.press(sent.message(), label="Next")
    assert (await pressed.response())["type"] == 7
    assert_safe(pressed)
    page_two = sent.message()
    assert text(page_two) != page_one
    assert "Page 2/" in embeds(page_two)[0]["footer"]["text"]
    assert not button(page_two, "previous").get("disabled")


async def test_fic_shows_a_card_with_read_and_similar_buttons(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("fic", title=LONG_TITLE, channel="general")
    body = await answer(sent)
    card = embeds(body)[0]
    assert LONG_TITLE in card["title"]
    assert {b["label"] for b in buttons(body)} >= {"Read", "More like this"}


async def test_card_buttons_read_for_the_presser_and_similar_privately(e2e: E2E) -> None:
    fake = e2e.fake
    card = await fake.send_command("fic", title=LONG_TITLE, channel="general")
    await answer(card)
    read = await fake.press(card.message(), label="Read", user="bob")
    first = await answer(read)
    assert "part 1 of" in first["content"] and "for Bob" in first["content"].splitlines()[0]
    assert not first.get("flags", 0) & EPHEMERAL, "Read posts the story in the channel"
    similar = await fake.press(card.message(), label="More like this", user="bob")
    listing = await answer(similar)
    assert similar.message()["flags"] & EPHEMERAL, "More like this answers the presser only"
    assert LONG_TITLE in text(listing)


async def test_unknown_character_is_explained_privately(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("search", character="Zzyzx Qwertyuiop", channel="general")
    body = await answer(sent)
    # acknowledged publicly first (the tree defers every command); the explanation is ephemeral and
    # the public "thinking…" placeholder is deleted, so nothing stays in the channel
    assert body["flags"] & EPHEMERAL
    assert sent.message().get("deleted") or sent.message()["flags"] & EPHEMERAL
    assert "Zzyzx" in text(body)


async def test_fic_of_an_explicit_story_is_refused_outside_nsfw(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("fic", title=EXPLICIT_TITLE, channel="general")
    body = await answer(sent)
    assert body.get("flags", 0) & EPHEMERAL
    assert "age-restricted" in text(body)
    assert not embeds(body) and not buttons(body), "no card, no Read button"


async def title_choices(e2e: E2E, typed: str, channel: str) -> list[dict]:
    """What title autocomplete offers for `typed` in `channel` (checked against Discord's limits)."""
    callback = await (
        await e2e.fake.send_autocomplete("fic", "title", title=typed, channel=channel)
    ).response()
    assert callback["type"] == 8
    return callback["data"]["choices"]


async def test_title_autocomplete_then_fic_by_the_chosen_value(e2e: E2E) -> None:
    choices = await title_choices(e2e, "quiet hours", "general")
    assert 1 <= len(choices) <= 25
    chosen = next(c for c in choices if LONG_TITLE in c["name"])
    card = await answer(await e2e.fake.send_command("fic", title=chosen["value"], channel="general"))
    assert LONG_TITLE in embeds(card)[0]["title"]


async def test_title_autocomplete_leaves_out_explicit_outside_nsfw(e2e: E2E) -> None:
    assert not any(EXPLICIT_TITLE in c["name"] for c in await title_choices(e2e, "Lanterns", "general"))
    assert any(EXPLICIT_TITLE in c["name"] for c in await title_choices(e2e, "Lanterns", "after-dark"))


async def parts(sent: Sent, count: int) -> list[dict]:
    """The message bodies of `sent` once at least `count` have arrived and the bot has gone quiet."""
    await sent.fake.wait_for(
        lambda: len(sent.bodies()) >= count, 15, f"{count} messages for {sent.describe()}"
    )
    bodies = await sent.settle(quiet=0.3)
    assert_safe(sent)
    return bodies


async def test_read_posts_parts_and_continue_goes_on(e2e: E2E) -> None:
    fake = e2e.fake
    per_batch = 1 + READ_FOLLOWUPS
    sent = await fake.send_command("read", title=LONG_TITLE, channel="general")
    bodies = await parts(sent, per_batch)
    assert len(bodies) == per_batch
    headers = [b["content"].splitlines()[0] for b in bodies]
    total = int(re.search(r"part 1 of (\d+)", headers[0]).group(1))
    assert total > per_batch, "the long story must need a Continue button"
    for number, header in enumerate(headers, start=1):
        assert f"part {number} of {total}" in header
    all_text = "\n".join(b["content"] for b in bodies)
    assert "Giles wrote" in all_text and PING_LINE not in all_text, "the @everyone line is neutralised"
    assert not any(buttons(b) for b in bodies[:-1]), "only the last part carries Continue"
    last = sent.last_message()
    assert button(last, "continue")

    pressed = await fake.press(last, label="Continue", user="bob")  # anyone may continue
    callback = await pressed.response()
    assert callback["type"] == 7 and not (callback["data"].get("components") or []), "Continue moves on"
    more = await parts(pressed, 1 + min(per_batch, total - per_batch))
    assert f"part {per_batch + 1} of {total}" in more[1]["content"].splitlines()[0]
    assert "for Bob" in more[1]["content"].splitlines()[0]


async def test_rec_outside_nsfw_never_offers_the_explicit_story(e2e: E2E) -> None:
    # Only the two fixture stories match; in a channel that is not age-restricted one of them remains.
    sent = await e2e.fake.send_command("rec", pairing="Willow/Tara", author=AUTHOR, channel="general")
    assert (await sent.response())["type"] == 5
    body = await answer(sent)
    assert LONG_TITLE in embeds(body)[0]["title"]
    assert body["content"], "a rec says why it was picked"


async def test_rec_like_lists_similar_stories(e2e: E2E) -> None:
    sent = await e2e.fake.send_command("rec", like=LONG_TITLE, channel="after-dark")
    body = await answer(sent)
    words = text(body)
    assert LONG_TITLE in words
    assert EXPLICIT_TITLE in words, "the same pairing makes the explicit story the closest match here"


async def test_characters_pairings_and_stats(e2e: E2E) -> None:
    fake = e2e.fake
    characters = text(await answer(await fake.send_command("characters")))
    pairings = text(await answer(await fake.send_command("pairings")))
    stats = await answer(await fake.send_command("stats"))
    assert "Willow" in characters and "Tara" in characters
    assert re.search(r"Tara.*Willow|Willow.*Tara", pairings)
    field_names = {f["name"] for f in embeds(stats)[0].get("fields") or []}
    assert "By rating" in field_names
