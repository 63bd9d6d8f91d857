"""/fic, /read and the story buttons over the bundled test archive: cards, parts, Continue, gating, no pings."""

from __future__ import annotations

import re
from pathlib import Path

import discord
import pytest

from cogs.buttons import ContinueButton, ReadButton, SimilarButton
from cogs.embeds import RATING_COLOURS
from cogs.stories import Stories
from cogs.transformers import title_autocomplete
from service import stories
from service.excerpts import render_chunk
from service.hits import StoryHit
from service.indexer import index_directory
from service.query import QueryError, SearchQuery
from service.search import search
from tests.conftest import assert_within_limits, make_bot, make_interaction

SAFE = frozenset({"general", "teen"})
NO_PINGS = {"parse": []}
HEADER = re.compile(r"^📖 \*\*.+\*\* · part (\d+) of (\d+)( · for .+)?$")


@pytest.fixture
def cog(archive_library: object) -> Stories:
    return Stories(make_bot(archive_library))


async def _story(cog: Stories, **filters: object) -> StoryHit:
    result = await search(cog.lib, SearchQuery(**filters, per_page=1))  # type: ignore[arg-type]
    assert result.hits, f"the archive has a story for {filters}"
    return result.hits[0]


def _parts(sent: list[dict[str, object]]) -> list[tuple[int, int, str]]:
    """(part number, total, text) of each message posted."""
    out = []
    for message in sent:
        header, _, text = str(message["content"]).partition("\n")
        match = HEADER.match(header)
        assert match, header
        out.append((int(match[1]), int(match[2]), text))
    return out


def _buttons(view: discord.ui.View) -> dict[str, str]:
    items = [getattr(child, "item", child) for child in view.children]  # dynamic items wrap a button
    return {item.label: item.custom_id for item in items if isinstance(item, discord.ui.Button)}


async def test_fic_shows_the_card_with_read_and_more_like_this(cog: Stories) -> None:
    hit = await _story(cog, ratings=["teen"], sort="longest")
    interaction = make_interaction()
    await cog.fic.callback(cog, interaction, title=hit.title)
    [sent] = interaction.sent
    embed = sent["embed"]
    assert sent["via"] == "response" and not sent.get("ephemeral")
    assert embed.title == hit.title and embed.colour == RATING_COLOURS["teen"]
    assert any(f.name == "Rating" and f.value.startswith("Teen") for f in embed.fields)
    assert _buttons(sent["view"]) == {
        "Read": f"librarian:read:{hit.id}",
        "More like this": f"librarian:similar:{hit.id}",
        "Save for later": f"librarian:save:{hit.id}",
        "Mark read": f"librarian:markread:{hit.id}",
        "Kudos": f"librarian:kudos:{hit.id}",
    }
    assert_within_limits(interaction.sent)


async def test_fic_accepts_the_id_autocomplete_sends(cog: Stories) -> None:
    hit = await _story(cog, ratings=["general"])
    interaction = make_interaction()
    await cog.fic.callback(cog, interaction, title=str(hit.id))
    assert interaction.sent[0]["embed"].title == hit.title


async def test_a_mature_story_is_refused_outside_nsfw_and_shown_inside(cog: Stories) -> None:
    hit = await _story(cog, ratings=["explicit"])
    with pytest.raises(QueryError, match="age-restricted"):
        await cog.fic.callback(cog, make_interaction(nsfw=False), title=str(hit.id))
    inside = make_interaction(nsfw=True)
    await cog.fic.callback(cog, inside, title=str(hit.id))
    assert inside.sent[0]["embed"].colour == RATING_COLOURS["explicit"]


async def test_read_posts_the_first_part_then_followups_then_continue(cog: Stories) -> None:
    hit = await _story(cog, ratings=["general"], sort="longest")
    interaction = make_interaction()
    await cog.read.callback(cog, interaction, title=str(hit.id))
    followups = cog.lib.settings.read_followups
    assert [s["via"] for s in interaction.sent] == ["response"] + ["followup"] * followups
    parts = _parts(interaction.sent)
    total = parts[0][1]
    assert total > followups + 1, "the longest general story needs several parts"
    assert [p[0] for p in parts] == list(range(1, followups + 2))
    chunks = await stories.excerpt(cog.lib, hit.id, limit=1700)
    assert [p[2] for p in parts] == [render_chunk(c).rstrip() for c in chunks[: followups + 1]]
    assert all(s["allowed_mentions"].to_dict() == NO_PINGS for s in interaction.sent)
    assert "view" not in interaction.sent[0]
    last = interaction.sent[-1]["view"]
    assert _buttons(last) == {"Continue": f"librarian:continue:{hit.id}:{followups + 1}"}
    assert_within_limits(interaction.sent)


async def test_read_from_a_chunk_and_past_the_end(cog: Stories) -> None:
    hit = await _story(cog, ratings=["general"], sort="longest")
    interaction = make_interaction()
    await cog.read.callback(cog, interaction, title=str(hit.id), chunk=2)
    parts = _parts(interaction.sent)
    assert parts[0][0] == 2
    with pytest.raises(QueryError, match=f"ask for part 1 to {parts[0][1]}"):
        await cog.read.callback(cog, make_interaction(), title=str(hit.id), chunk=parts[0][1] + 1)


async def test_continue_moves_the_button_and_posts_the_next_parts_for_the_presser(cog: Stories) -> None:
    hit = await _story(cog, ratings=["general"], sort="longest")
    button = ContinueButton(hit.id, 3)
    press = make_interaction(user_id=4242, client=cog.bot)
    await button.callback(press)
    assert press.sent[0]["via"] == "edit" and press.sent[0]["view"] is None
    parts = _parts(press.sent[1:])
    assert parts[0][0] == 4 and "for Reader One" in press.sent[1]["content"].partition("\n")[0]
    assert [s["via"] for s in press.sent[1:]] == ["followup"] * len(parts)


async def test_continue_on_a_gated_story_outside_nsfw_refuses_and_keeps_the_button(cog: Stories) -> None:
    gated = await _story(cog, ratings=["explicit"])
    press = make_interaction(nsfw=False, client=cog.bot)
    await ContinueButton(gated.id, 1).callback(press)
    [sent] = press.sent
    assert sent["via"] == "response" and sent["ephemeral"] is True and "age-restricted" in sent["content"]


async def test_read_button_posts_publicly_and_is_gated_by_the_channel_pressed_in(cog: Stories) -> None:
    safe = await _story(cog, ratings=["teen"])
    press = make_interaction(client=cog.bot)
    await ReadButton(safe.id).callback(press)
    assert press.sent[0]["via"] == "response" and not press.sent[0].get("ephemeral")
    assert _parts(press.sent)[0][0] == 1

    gated = await _story(cog, ratings=["mature"])
    refused = make_interaction(nsfw=False, client=cog.bot)
    await ReadButton(gated.id).callback(refused)
    [sent] = refused.sent
    assert sent["ephemeral"] is True and "age-restricted" in sent["content"]


async def test_more_like_this_is_private_with_reasons_and_gated(cog: Stories) -> None:
    hit = await _story(cog, fandoms=["Doctor Who"], ratings=["general"])
    press = make_interaction(nsfw=False, client=cog.bot)
    await SimilarButton(hit.id).callback(press)
    assert press.sent[0]["via"] == "defer" and press.sent[0]["ephemeral"] is True
    embed = press.sent[1]["embed"]
    assert press.sent[1]["ephemeral"] is True and hit.title in embed.title
    assert embed.fields and all(f.value.startswith("↳ ") for f in embed.fields)
    for field in embed.fields:
        assert not any(level in field.value for level in ("Mature", "Explicit", "Not Rated"))
    assert_within_limits(press.sent)


async def test_story_text_cannot_ping_anyone(cog: Stories, tmp_path: Path) -> None:
    story = cog.lib.settings.stories_dir / "pings.txt"
    story.write_text(
        "Title: Everyone Gets a Ping\nAuthor: Test Writer\nRating: G\nPairing: Buffy/Faith\n\n"
        + "Hey @everyone and @here, meet <@123456789> in <#42>. # Not a heading\n\n" * 60,
        encoding="utf-8",
    )
    report = await index_directory(cog.lib)
    assert "pings.txt" in report.added, report.summary()
    interaction = make_interaction()
    await cog.read.callback(cog, interaction, title="Everyone Gets a Ping")
    for message in interaction.sent:
        text = message["content"]
        assert "@everyone" not in text and "@here" not in text and "<@123456789>" not in text
        assert message["allowed_mentions"].to_dict() == NO_PINGS
    assert_within_limits(interaction.sent)


async def test_title_autocomplete_offers_ids_and_hides_gated_titles_outside_nsfw(cog: Stories) -> None:
    gated = await _story(cog, ratings=["explicit"])
    word = gated.title.split()[0]
    sfw = make_interaction(nsfw=False, client=cog.bot)
    nsfw = make_interaction(nsfw=True, client=cog.bot)
    inside = await title_autocomplete(nsfw, gated.title)
    outside = await title_autocomplete(sfw, gated.title)
    assert str(gated.id) in {c.value for c in inside}
    assert str(gated.id) not in {c.value for c in outside}
    for choices in (inside, outside, await title_autocomplete(sfw, word), await title_autocomplete(sfw, "")):
        assert len(choices) <= 25 and all(0 < len(c.name) <= 100 and c.value.isdigit() for c in choices)
    visible = {c.value for c in await title_autocomplete(sfw, "")}
    for story_id in visible:
        hit = await stories.resolve_story(cog.lib, story_id)
        assert hit.rating.level in SAFE
