"""/rec and the name autocompletes over the bundled test archive: a card with why, like:, gating, variety."""

from __future__ import annotations

import pytest

from cogs.embeds import RATING_COLOURS
from cogs.filters import AUTOCOMPLETE
from cogs.recs import Recs
from service.query import QueryError, SearchQuery
from service.search import search
from tests.conftest import assert_within_limits, make_bot, make_interaction

GATED_COLOURS = {RATING_COLOURS[k] for k in ("mature", "explicit", "not_rated")}


@pytest.fixture
def cog(archive_library: object) -> Recs:
    return Recs(make_bot(archive_library))


async def test_rec_defers_then_shows_a_card_with_why_and_buttons(cog: Recs) -> None:
    interaction = make_interaction(nsfw=True)
    await cog.rec.callback(cog, interaction, character="Giles")
    assert [s["via"] for s in interaction.sent] == ["defer", "followup"]
    sent = interaction.sent[1]
    matching = await search(cog.lib, SearchQuery(characters=["Giles"], per_page=50))
    titles = {h.title for h in matching.hits}
    for page in range(2, matching.pages + 1):
        more = await search(cog.lib, SearchQuery(characters=["Giles"], per_page=50, page=page))
        titles.update(h.title for h in more.hits)
    assert sent["embed"].title in titles
    assert f"from {matching.total} matching stories" in sent["content"]
    labels = {getattr(c, "item", c).label for c in sent["view"].children}
    assert labels == {"Read", "More like this", "Save for later", "Mark read"} | {
        k for k in labels if k.startswith("Kudos")
    }
    assert_within_limits(interaction.sent)


async def test_rec_outside_nsfw_never_picks_a_gated_story_and_counts_them(cog: Recs) -> None:
    for _ in range(8):
        interaction = make_interaction(nsfw=False)
        await cog.rec.callback(cog, interaction, fandom="Doctor Who")
        sent = interaction.sent[-1]
        assert sent["embed"].colour not in GATED_COLOURS
        assert "age-restricted" in sent["content"]


async def test_recs_in_one_place_vary(cog: Recs) -> None:
    titles = set()
    for _ in range(8):
        interaction = make_interaction(nsfw=True)
        await cog.rec.callback(cog, interaction)
        titles.add(interaction.sent[-1]["embed"].title)
    assert len(titles) >= 6


async def test_rec_like_lists_similar_stories_with_reasons(cog: Recs) -> None:
    seed = (await search(cog.lib, SearchQuery(fandoms=["Doctor Who"], ratings=["general"], per_page=1))).hits[
        0
    ]
    interaction = make_interaction(nsfw=True)
    await cog.rec.callback(cog, interaction, like=str(seed.id))
    embed = interaction.sent[-1]["embed"]
    assert seed.title in embed.title and len(embed.fields) == 5
    assert all(f.value.startswith("↳ ") for f in embed.fields)
    assert seed.title not in [f.name.split(". ", 1)[1] for f in embed.fields]


async def test_rec_with_nothing_matching_is_a_plain_error(cog: Recs) -> None:
    with pytest.raises(QueryError) as caught:
        await cog.rec.callback(cog, make_interaction(), rating="explicit")
    assert "age-restricted" in caught.value.message


@pytest.mark.parametrize(
    ("option", "typed", "expected"),
    [
        ("character", "wil", "Willow Rosenberg"),
        ("pairing", "spuffy", "Buffy Summers/Spike"),
        ("rating", "teen", "teen"),
    ],
)
async def test_name_autocompletes_answer_with_at_most_25_short_choices(
    cog: Recs, option: str, typed: str, expected: str
) -> None:
    interaction = make_interaction(client=cog.bot)
    choices = await AUTOCOMPLETE[option](interaction, typed)
    assert 0 < len(choices) <= 25
    assert all(0 < len(c.name) <= 100 and 0 < len(c.value) <= 100 for c in choices)
    assert expected in [c.value for c in choices]


async def test_author_autocomplete_knows_the_archive_authors(cog: Recs) -> None:
    author = (await search(cog.lib, SearchQuery(per_page=1))).hits[0].author
    assert author
    choices = await AUTOCOMPLETE["author"](make_interaction(client=cog.bot), author[:3])
    assert author in [c.value for c in choices] and len(choices) <= 25
    many = await AUTOCOMPLETE["author"](make_interaction(client=cog.bot), "")
    assert len(many) <= 25
