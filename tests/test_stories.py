"""Single stories and archive-wide answers: title lookup, resolving a story (ids, titles, age
gating), cards, bodies, excerpts, stats, top characters / pairings and autocomplete choices."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select

from db.models import ArchiveChanges, StoryTag
from service.archive_stats import fandom_groups, stats, top_characters, top_pairings
from service.choices import author_choices, character_choices, pairing_choices
from service.library import Library
from service.query import QueryError, SearchQuery
from service.search import search
from service.stories import excerpt, find_title, resolve_story, story_body, story_card
from tests.test_search import MINI, Mini, fill_mini
from tests.test_search import mini as mini

SFW = frozenset({"general", "teen"})


async def test_find_title_tolerates_typos(mini: Mini) -> None:
    hits = await find_title(mini.lib, "red thred")
    assert hits and hits[0].id == mini.ids["A"]
    assert all(h.id != mini.ids["L"] for h in await find_title(mini.lib, "Gone Girl"))  # removed


async def test_find_title_respects_age_gating(mini: Mini) -> None:
    assert any(h.id == mini.ids["B"] for h in await find_title(mini.lib, "Quiet Hours"))
    assert all(h.id != mini.ids["B"] for h in await find_title(mini.lib, "Quiet Hours", allowed_levels=SFW))


async def test_resolve_story_by_id_and_by_title(mini: Mini) -> None:
    assert (await resolve_story(mini.lib, str(mini.ids["D"]))).title == "Library Dust"
    assert (await resolve_story(mini.lib, "library dust")).id == mini.ids["D"]


async def test_resolve_story_errors_in_plain_words(mini: Mini) -> None:
    with pytest.raises(QueryError) as hidden:
        await resolve_story(mini.lib, "Quiet Hours", allowed_levels=SFW)
    assert "age-restricted" in hidden.value.message
    with pytest.raises(QueryError) as hidden_id:
        await resolve_story(mini.lib, str(mini.ids["B"]), allowed_levels=SFW)
    assert "age-restricted" in hidden_id.value.message
    with pytest.raises(QueryError):
        await resolve_story(mini.lib, "zqxj vvkw pplm")
    with pytest.raises(QueryError):
        await resolve_story(mini.lib, "   ")


async def test_story_card_carries_every_field(mini: Mini) -> None:
    card = await story_card(mini.lib, mini.ids["H"])
    assert card.title == "Past Tense" and card.author == "Orrin"
    assert card.rating.level == "teen" and card.rating.raw == "T"
    assert card.relationships == ["past Angel/Buffy Summers"]
    assert "Spike" not in card.characters  # one passing mention
    assert card.tags == ["angst"] and card.fandoms == ["Buffy the Vampire Slayer"]
    assert card.words == 2500 and card.status == "complete" and card.published == "2007-01-01"
    series = await story_card(mini.lib, mini.ids["E"])
    assert (series.series.name, series.series.part) == ("Dust", 2)
    assert (await story_card(mini.lib, mini.ids["L"])).removed
    assert set(card.to_json()) >= {"title", "season", "spoilers", "notes", "warnings", "summary"}
    with pytest.raises(QueryError):
        await story_card(mini.lib, 999_999)


async def test_body_and_excerpts(mini: Mini) -> None:
    body = await story_body(mini.lib, mini.ids["A"])
    assert body == MINI["A"].body
    chunks = await excerpt(mini.lib, mini.ids["A"], limit=500)
    assert len(chunks) > 1 and all(len(c.text) <= 500 for c in chunks)
    assert "".join(c.text for c in chunks).split() == body.split()
    later = await excerpt(mini.lib, mini.ids["A"], limit=500, start=chunks[0].end)
    assert later[0].text == chunks[1].text


async def test_stats_counts_what_the_channel_may_see(mini: Mini) -> None:
    everything = await stats(mini.lib)
    assert everything.stories == 11 and everything.removed == 1
    assert everything.words == sum(m.words for k, m in MINI.items() if k != "L")
    assert everything.by_rating["teen"] == 5 and everything.by_rating["explicit"] == 1
    assert everything.authors == 4  # one story has no author
    assert dict(everything.by_fandom) == {"Buffy the Vampire Slayer": 10, "Angel": 1}
    sfw = await stats(mini.lib, allowed_levels=SFW)
    assert sfw.stories == 8 and sfw.hidden == 3 and "explicit" not in sfw.by_rating


async def test_top_characters_and_pairings(mini: Mini) -> None:
    chars = dict(await top_characters(mini.lib))
    assert chars["Willow Rosenberg"] == 6 and chars["Xander Harris"] == 1
    pairs = await top_pairings(mini.lib, 3)
    assert pairs[0] == ("Spike/Willow Rosenberg", 3)
    sfw = dict(await top_pairings(mini.lib, allowed_levels=SFW))
    assert sfw["Spike/Willow Rosenberg"] == 2


async def test_choices_are_short_few_and_relevant(mini: Mini) -> None:
    for fn in (character_choices, pairing_choices, author_choices):
        for prefix in ("", "w", "sp", "x" * 300, "🧛"):
            choices = await fn(mini.lib, prefix)
            assert len(choices) <= 25
            assert all(len(name) <= 100 and len(value) <= 100 for name, value in choices)
    assert (await character_choices(mini.lib, "wil"))[0][1] == "Willow Rosenberg"
    assert (await character_choices(mini.lib, "Dawnie"))[0][1] == "Dawn Summers"  # an alias
    assert (await pairing_choices(mini.lib, "Spillow"))[0][1] == "Spike/Willow Rosenberg"
    assert "Spike/Willow Rosenberg" in [v for _n, v in await pairing_choices(mini.lib, "spi")]
    assert (await author_choices(mini.lib, "pen"))[0][1] == "Penelope Quill"


async def test_author_cache_follows_new_stories(library: Any) -> None:
    assert await author_choices(library, "pen") == []
    await fill_mini(library)
    await library.refresh()
    assert (await author_choices(library, "pen"))[0][1] == "Penelope Quill"


async def test_a_lost_change_counter_row_is_put_back_when_the_archive_opens(library: Any) -> None:
    # Without the counter's row every trigger's UPDATE matches nothing: new stories would never
    # reach the title index or autocomplete. Opening the archive puts the row back.
    async with library.transaction() as session:
        await session.execute(delete(ArchiveChanges))
    await library.close()
    reopened = await Library.open(library.settings)
    try:
        await fill_mini(reopened)
        await reopened.refresh()
        assert (await author_choices(reopened, "pen"))[0][1] == "Penelope Quill"
        assert (await find_title(reopened, "library dust"))[0].title == "Library Dust"
    finally:
        await reopened.close()


def test_fandom_groups_fold_the_rosters_spellings(mini: Mini) -> None:
    labels = ["BtVS", "Buffy the Vampire Slayer (TV)", "Buffy: The Vampire Slayer", "Firefly"]
    assert fandom_groups(mini.lib.roster, labels) == {
        "Buffy the Vampire Slayer": ["BtVS", "Buffy the Vampire Slayer (TV)", "Buffy: The Vampire Slayer"],
        "Firefly": ["Firefly"],
    }


async def test_pairing_autocomplete_offers_ship_names_from_a_prefix(mini: Mini) -> None:
    choices = await pairing_choices(mini.lib, "Spu")
    assert ("Spuffy (Buffy Summers/Spike)", "Buffy Summers/Spike") in choices


async def test_stats_count_each_story_once_per_fandom(any_archive: Any) -> None:
    lib = any_archive
    async with lib.sessions() as session:
        rows = (
            await session.execute(select(StoryTag.story_id, StoryTag.label).where(StoryTag.kind == "fandom"))
        ).all()
    expected: dict[str, set[int]] = {}
    for story_id, label in rows:
        expected.setdefault(lib.roster.fandom_of(label) or label, set()).add(story_id)
    result = await stats(lib)
    assert dict(result.by_fandom) == {name: len(ids) for name, ids in expected.items()}
    assert len(dict(result.by_fandom)) < len({label for _id, label in rows})  # spellings were folded


async def test_cached_totals_and_rankings_follow_a_mod_removal(archive_library: Any) -> None:
    """Stats and rankings are kept with the snapshot: a removal (from any process) shows at once."""
    from service.curate import Actor, remove_story

    lib = archive_library
    sfw = frozenset({"general", "teen"})
    before, pairs_before = await stats(lib), dict(await top_pairings(lib, 500, allowed_levels=sfw))
    victim = next(
        h for h in (await search(lib, SearchQuery(per_page=50, allowed_levels=sfw))).hits if h.relationships
    )
    await remove_story(lib, victim.id, Actor(1, "mod"))
    after, pairs_after = await stats(lib), dict(await top_pairings(lib, 500, allowed_levels=sfw))
    assert after.stories == before.stories - 1
    key = victim.relationships[0]
    assert pairs_after.get(key, 0) == pairs_before[key] - 1
