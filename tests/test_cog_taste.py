"""/shelf, /forget-me, /top, /stats' chart, /read's remembered place and the Save / Mark read /
Kudos buttons, called through the cogs with spec'd Interaction mocks over a real SQLite archive."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands

import cogs.top
from cogs.archive import Archive
from cogs.buttons import card_view
from cogs.recs import Recs
from cogs.shelves import Shelves
from cogs.stories import Stories
from cogs.tastebuttons import KudosButton, MarkReadButton, SaveButton, recount
from cogs.top import Top
from cogs.views import Confirm
from service import kudos, shelves
from service.query import QueryError
from tests.conftest import assert_within_limits, make_bot, make_interaction
from tests.e2e.stories import DRABBLE_TITLES, EXPLICIT_TITLE, LONG_TITLE
from tests.taste_fixtures import ids_by_title, lib, taste_archive  # noqa: F401

EPHEMERAL = {"ephemeral": True}
ALICE, BOB = 1001, 2002


@pytest.fixture
def bot(lib: object) -> Any:  # noqa: F811
    return make_bot(lib)


def user(interaction: MagicMock, member_id: int, name: str) -> MagicMock:
    interaction.user = MagicMock(spec=discord.Member, id=member_id, display_name=name)
    return interaction


def labels(view: discord.ui.View) -> list[str]:
    return [getattr(c, "item", c).label for c in view.children]


async def test_shelf_add_show_move_remove_are_private_replies(bot: Any) -> None:
    cog = Shelves(bot)
    ids = await ids_by_title(bot.lib)
    first = make_interaction(user_id=ALICE)
    await cog.add.callback(cog, first, story=str(ids[LONG_TITLE]))
    assert first.sent[-1]["ephemeral"] and "to-read shelf" in first.sent[-1]["content"]
    await cog.move.callback(cog, make_interaction(user_id=ALICE), story=LONG_TITLE, to="favourites")
    shown = make_interaction(user_id=ALICE)
    await cog.show.callback(cog, shown)
    embed = shown.sent[-1]["embed"]
    assert shown.sent[-1]["ephemeral"] and LONG_TITLE in embed.description
    assert "private" in embed.footer.text
    gone = make_interaction(user_id=ALICE)
    await cog.remove.callback(cog, gone, story=LONG_TITLE)
    assert "favourites" in gone.sent[-1]["content"]
    assert_within_limits(first.sent + shown.sent + gone.sent)


async def test_another_members_shelf_only_when_public(bot: Any) -> None:
    cog = Shelves(bot)
    ids = await ids_by_title(bot.lib)
    await shelves.add(bot.lib, ALICE, ids[DRABBLE_TITLES[0]], "Cosy")
    alice = MagicMock(spec=discord.Member, id=ALICE, display_name="Alice")
    with pytest.raises(QueryError, match="private"):
        await cog.show.callback(cog, make_interaction(user_id=BOB), member=alice)
    public = make_interaction(user_id=ALICE)
    await cog.privacy.callback(cog, public, setting=app_commands.Choice(name="public", value="public"))
    assert "public" in public.sent[-1]["content"]
    seen = make_interaction(user_id=BOB)
    await cog.show.callback(cog, seen, member=alice, shelf="cosy")
    embed = seen.sent[-1]["embed"]
    assert embed.title == "Alice's Cosy shelf" and DRABBLE_TITLES[0] in embed.description


async def test_shelf_outside_nsfw_hides_gated_titles(bot: Any) -> None:
    cog = Shelves(bot)
    ids = await ids_by_title(bot.lib)
    await shelves.add(bot.lib, ALICE, ids[EXPLICIT_TITLE], "favourites")
    shown = make_interaction(user_id=ALICE, nsfw=False)
    await cog.show.callback(cog, shown, shelf="favourites")
    embed = shown.sent[-1]["embed"]
    assert EXPLICIT_TITLE not in embed.description and "hidden" in embed.footer.text


async def test_export_attaches_a_json_file(bot: Any) -> None:
    cog = Shelves(bot)
    ids = await ids_by_title(bot.lib)
    await shelves.add(bot.lib, ALICE, ids[LONG_TITLE])
    await kudos.give(bot.lib, ALICE, ids[LONG_TITLE])
    interaction = make_interaction(user_id=ALICE)
    await cog.export.callback(cog, interaction)
    sent = interaction.sent[-1]
    assert sent["ephemeral"] and isinstance(sent["file"], discord.File)
    data = json.loads(sent["file"].fp.read())
    assert data["shelves"]["to-read"][0]["title"] == LONG_TITLE and len(data["kudos"]) == 1


@pytest.mark.parametrize("answer", [True, False, None])
async def test_forget_me_deletes_only_after_confirm(bot: Any, monkeypatch: Any, answer: bool | None) -> None:
    cog = Shelves(bot)
    ids = await ids_by_title(bot.lib)
    await kudos.give(bot.lib, ALICE, ids[LONG_TITLE])
    await kudos.give(bot.lib, BOB, ids[LONG_TITLE])

    async def ask(self: Confirm, interaction: Any, content: str, **_kw: Any) -> bool | None:
        assert "cannot be undone" in content
        return answer

    monkeypatch.setattr(Confirm, "ask", ask)
    interaction = make_interaction(user_id=ALICE)
    await cog.forget_me.callback(cog, interaction)
    assert interaction.sent[-1]["ephemeral"]
    assert await kudos.gave(bot.lib, ALICE, ids[LONG_TITLE]) is (answer is not True)
    assert await kudos.gave(bot.lib, BOB, ids[LONG_TITLE])


async def test_card_buttons_change_only_the_pressers_state(bot: Any) -> None:
    ids = await ids_by_title(bot.lib)
    story = ids[LONG_TITLE]
    assert labels(card_view(story, 3)) == [
        "Read",
        "More like this",
        "Save for later",
        "Mark read",
        "Kudos · 3",
    ]
    save = make_interaction(user_id=ALICE, client=bot)
    await SaveButton(story).callback(save)
    assert save.sent[-1]["ephemeral"] and "to-read" in save.sent[-1]["content"]
    mark = make_interaction(user_id=ALICE, client=bot)
    await MarkReadButton(story).callback(mark)
    assert "off your to-read shelf" in mark.sent[-1]["content"]
    assert [i.label for i in (await shelves.show(bot.lib, ALICE)).items] == ["read"]
    assert not (await shelves.show(bot.lib, BOB)).items


async def test_kudos_button_toggles_and_recounts_the_message(bot: Any) -> None:
    story = (await ids_by_title(bot.lib))[LONG_TITLE]
    message = MagicMock(spec=discord.Message)
    message.components = [
        discord.ActionRow(
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": "Read", "custom_id": f"librarian:read:{story}"},
                    {"type": 2, "style": 2, "label": "Kudos", "custom_id": f"librarian:kudos:{story}"},
                ],
            }
        )
    ]
    presses = (
        (ALICE, "Kudos · 1", "You gave"),
        (BOB, "Kudos · 2", "You gave"),
        (ALICE, "Kudos · 1", "took back"),
    )
    for member, expected, said in presses:
        press = make_interaction(user_id=member, client=bot)
        press.message = message
        await KudosButton(story).callback(press)
        edit, reply = press.sent
        assert edit["via"] == "edit" and labels(edit["view"]) == ["Read", expected]
        assert reply["ephemeral"] and said in reply["content"]
    assert not await kudos.gave(bot.lib, ALICE, story) and await kudos.gave(bot.lib, BOB, story)
    assert recount(None, story, 4) is None


async def test_kudos_on_a_gated_story_outside_nsfw_is_refused(bot: Any) -> None:
    story = (await ids_by_title(bot.lib))[EXPLICIT_TITLE]
    press = make_interaction(user_id=ALICE, client=bot, nsfw=False)
    press.message = None
    await KudosButton(story).callback(press)
    assert "age-restricted" in press.sent[-1]["content"] and press.sent[-1]["ephemeral"]
    assert await kudos.count(bot.lib, story) == 0


async def test_read_without_chunk_continues_where_the_member_stopped(bot: Any) -> None:
    cog = Stories(bot)
    per_batch = 1 + bot.settings.read_followups
    first = make_interaction(user_id=ALICE)
    await cog.read.callback(cog, first, title=LONG_TITLE)
    assert "part 1 of" in first.sent[0]["content"]
    again = make_interaction(user_id=ALICE)
    await cog.read.callback(cog, again, title=LONG_TITLE)
    assert f"part {per_batch + 1} of" in again.sent[0]["content"]
    other = make_interaction(user_id=BOB)
    await cog.read.callback(cog, other, title=LONG_TITLE)
    assert "part 1 of" in other.sent[0]["content"]
    view = await shelves.show(bot.lib, ALICE, "reading")
    total = view.items[0].total
    assert view.items[0].progress() == f"part {2 * per_batch} of {total}"
    last = make_interaction(user_id=ALICE)
    await cog.read.callback(cog, last, title=LONG_TITLE, chunk=total)
    assert labels(last.sent[-1]["view"]) == ["Save for later", "Mark read", "Kudos"]


async def test_rec_says_why_from_the_servers_taste(bot: Any) -> None:
    ids = await ids_by_title(bot.lib)
    for member in (1, 2, 3):
        await kudos.give(bot.lib, member, ids[LONG_TITLE])
        await kudos.give(bot.lib, member, ids[DRABBLE_TITLES[4]])
    await kudos.give(bot.lib, ALICE, ids[LONG_TITLE])
    for title in DRABBLE_TITLES[:4] + DRABBLE_TITLES[5:]:  # read: only the 5th is new to Alice
        await shelves.add(bot.lib, ALICE, ids[title], "read")
    cog = Recs(bot)
    interaction = make_interaction(user_id=ALICE)
    await cog.rec.callback(cog, interaction)
    sent = interaction.sent[-1]
    assert sent["embed"].title == DRABBLE_TITLES[4]
    assert f"Liked by 3 members who also liked *{LONG_TITLE}*" in sent["content"]
    assert labels(sent["view"])[-1] == "Kudos · 3"


async def test_top_and_stats_attach_a_chart_and_keep_the_text(
    bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first chart starts the chart process and loads matplotlib there: on a loaded test machine
    # that may pass the 10 s a member waits (then the answer goes without it: the
    # next test). Here the chart itself is under test, so it may take its time.
    monkeypatch.setattr(cogs.top, "CHART_SECONDS", 300.0)
    ids = await ids_by_title(bot.lib)
    await kudos.give(bot.lib, ALICE, ids[DRABBLE_TITLES[0]])
    cog = Top(bot)
    interaction = make_interaction(user_id=ALICE)
    await cog.top.callback(cog, interaction, period="week")
    sent = interaction.sent[-1]
    assert DRABBLE_TITLES[0] in sent["embed"].description and "1 kudos" in sent["embed"].description
    assert sent["file"].filename == "top.png" and sent["embed"].image.url == "attachment://top.png"
    stats = Archive(bot)
    asked = make_interaction()
    await stats.stats.callback(stats, asked)
    sent = asked.sent[-1]
    assert sent["file"].filename == "stats.png" and "stories" in sent["embed"].description
    assert_within_limits(interaction.sent + asked.sent)


async def test_a_chart_that_takes_too_long_is_left_off_and_the_text_still_goes_out(
    bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stuck(*args: Any, **kwargs: Any) -> bytes:
        await asyncio.sleep(30)
        return b""

    monkeypatch.setattr(cogs.top.chartworker, "draw", stuck)
    monkeypatch.setattr(cogs.top, "CHART_SECONDS", 0.2)
    ids = await ids_by_title(bot.lib)
    await kudos.give(bot.lib, ALICE, ids[DRABBLE_TITLES[0]])
    cog = Top(bot)
    interaction = make_interaction(user_id=ALICE)
    await cog.top.callback(cog, interaction, period="week")
    sent = interaction.sent[-1]
    assert DRABBLE_TITLES[0] in sent["embed"].description and "file" not in sent
    assert sent["embed"].image.url is None
