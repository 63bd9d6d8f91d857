"""/search over the bundled test archive: pages of five, buttons, age gating, empty and bad queries."""

from __future__ import annotations

import pytest
from discord import app_commands

from cogs.errors import on_tree_error
from cogs.search import Search
from cogs.views import Paginator
from service.query import QueryError, SearchQuery
from service.search import search
from tests.conftest import assert_within_limits, make_bot, make_interaction

GATED = ("Mature", "Explicit", "Not Rated")


@pytest.fixture
def cog(archive_library: object) -> Search:
    return Search(make_bot(archive_library))


def _titles(embed: object) -> list[str]:
    return [f.name.split(". ", 1)[1] for f in embed.fields]  # type: ignore[attr-defined]


async def test_results_come_five_a_page_with_the_card_essentials(cog: Search) -> None:
    interaction = make_interaction(nsfw=True)
    await cog.search.callback(cog, interaction, character="Giles")
    [sent] = interaction.sent
    embed, view = sent["embed"], sent["view"]
    assert len(embed.fields) == 5
    for field in embed.fields:
        facts = field.value.splitlines()[0]
        assert facts.startswith("by ") and "words" in facts
        assert any(level in facts for level in ("General", "Teen", *GATED))
    expected = await search(cog.lib, SearchQuery(characters=["Giles"], per_page=5))
    assert _titles(embed) == [h.title for h in expected.hits]
    assert f"{expected.total:,} stories" in embed.footer.text and f"1/{expected.pages}" in embed.footer.text
    assert isinstance(view, Paginator) and view.pages == expected.pages
    assert_within_limits(interaction.sent)


async def test_next_and_previous_show_the_neighbouring_pages(cog: Search) -> None:
    interaction = make_interaction(nsfw=True)
    await cog.search.callback(cog, interaction, character="Giles", sort="title")
    view: Paginator = interaction.sent[0]["view"]
    first = _titles(interaction.sent[0]["embed"])
    press = make_interaction(nsfw=True)
    await view.next.callback(press)
    second = press.sent[-1]
    assert second["via"] == "edit"
    assert second["embed"].fields[0].name.startswith("6. ")
    assert set(_titles(second["embed"])).isdisjoint(first)
    assert not view.previous.disabled
    back = make_interaction(nsfw=True)
    await view.previous.callback(back)
    assert _titles(back.sent[-1]["embed"]) == first and view.previous.disabled


async def test_outside_nsfw_no_gated_story_shows_and_the_reply_counts_them(cog: Search) -> None:
    sfw, nsfw = make_interaction(nsfw=False), make_interaction(nsfw=True)
    await cog.search.callback(cog, sfw, fandom="Doctor Who")
    await cog.search.callback(cog, nsfw, fandom="Doctor Who")
    safe = sfw.sent[0]["embed"]
    for field in safe.fields:
        assert not any(level in field.value.splitlines()[0] for level in GATED)
    every = await search(cog.lib, SearchQuery(fandoms=["Doctor Who"]))
    gated = await search(
        cog.lib, SearchQuery(fandoms=["Doctor Who"], allowed_levels=frozenset({"general", "teen"}))
    )
    assert gated.hidden == every.total - gated.total > 0
    assert f"{gated.hidden:,} more stories" in safe.description and "age-restricted" in safe.description
    assert "hidden" not in (nsfw.sent[0]["embed"].description or "")


async def test_no_results_says_which_filter_emptied_the_list(cog: Search) -> None:
    interaction = make_interaction(nsfw=True)
    await cog.search.callback(cog, interaction, character="Giles", pairing="Spike/Willow")
    [sent] = interaction.sent
    embed = sent["embed"]
    assert embed.title == "Nothing found" and "view" not in sent
    assert embed.description and "match" in embed.description.casefold()
    assert_within_limits(interaction.sent)


async def test_every_match_gated_says_they_are_only_in_age_restricted_channels(cog: Search) -> None:
    interaction = make_interaction(nsfw=False)
    await cog.search.callback(cog, interaction, rating="explicit")
    embed = interaction.sent[0]["embed"]
    assert embed.title == "Nothing found" and "age-restricted" in embed.description


async def test_text_search_defers_first_then_follows_up(cog: Search) -> None:
    interaction = make_interaction(nsfw=True)
    await cog.search.callback(cog, interaction, text="vampire")
    assert [s["via"] for s in interaction.sent] == ["defer", "followup"]
    assert interaction.sent[1]["embed"].fields
    assert_within_limits(interaction.sent)


async def test_an_unknown_character_gets_an_ephemeral_did_you_mean(cog: Search) -> None:
    interaction = make_interaction()
    with pytest.raises(QueryError) as caught:
        await cog.search.callback(cog, interaction, character="Qqqzzz Xyxyx")
    assert not interaction.sent
    await on_tree_error(interaction, app_commands.CommandInvokeError(cog.search, caught.value))
    [sent] = interaction.sent
    assert sent["via"] == "response" and sent["ephemeral"] is True
    assert caught.value.message in sent["content"]


async def test_an_error_after_a_public_defer_is_not_shown_to_everyone(cog: Search) -> None:
    interaction = make_interaction()
    with pytest.raises(QueryError) as caught:
        await cog.search.callback(cog, interaction, text="ghosts", character="Nobody At All Qqq")
    await on_tree_error(interaction, app_commands.CommandInvokeError(cog.search, caught.value))
    assert [s["via"] for s in interaction.sent] == ["defer", "delete_original", "followup"]
    assert interaction.sent[-1]["ephemeral"] is True


async def test_random_sort_keeps_one_order_across_pages(cog: Search) -> None:
    interaction = make_interaction(nsfw=True)
    await cog.search.callback(cog, interaction, sort="random")
    view: Paginator = interaction.sent[0]["view"]
    seen = set(_titles(interaction.sent[0]["embed"]))
    for _ in range(2):
        press = make_interaction(nsfw=True)
        await view.next.callback(press)
        page = _titles(press.sent[-1]["embed"])
        assert seen.isdisjoint(page)
        seen.update(page)


@pytest.mark.parametrize(
    ("options", "query"),
    [
        ({"rating": "PG-13"}, {"ratings": ["PG-13"]}),
        ({"rating": "at most teen"}, {"max_rating": "at most teen"}),
        ({"character": "Giles, Buffy"}, {"characters": ["Giles", "Buffy"]}),
        (
            {"exclude_character": "Giles", "fandom": "BTVS"},
            {"exclude_characters": ["Giles"], "fandoms": ["BTVS"]},
        ),
        (
            {"exclude_pairing": "Buffy/Giles", "character": "Giles"},
            {"exclude_pairings": ["Buffy/Giles"], "characters": ["Giles"]},
        ),
        (
            {"words_min": 3000, "words_max": 9000, "sort": "shortest"},
            {"words_min": 3000, "words_max": 9000, "sort": "shortest"},
        ),
        ({"complete": True, "sort": "longest"}, {"complete": True, "sort": "longest"}),
        ({"tag": "angst", "exclude_tag": "fluff"}, {"tags": ["angst"], "exclude_tags": ["fluff"]}),
    ],
)
async def test_every_option_reaches_the_search_as_typed(cog: Search, options: dict, query: dict) -> None:
    interaction = make_interaction(nsfw=True)
    await cog.search.callback(cog, interaction, **options)
    expected = await search(cog.lib, SearchQuery(**query, per_page=5))
    embed = interaction.sent[-1]["embed"]
    if expected.total:
        assert _titles(embed) == [h.title for h in expected.hits]
        assert f"{expected.total:,} " in embed.footer.text
    else:
        assert embed.title == "Nothing found"
