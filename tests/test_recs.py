"""Recommendations and "more like this": variety, avoiding recent repeats per place, weighting
toward well-formed entries, age gating, and similarity that follows shared pairings and tags."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import RecHistory
from service.archive_stats import stats
from service.query import QueryError, SearchQuery
from service.recs import RECENT_WINDOW, rec
from service.similar import similar
from tests.test_search import Mini
from tests.test_search import mini as mini

SFW = frozenset({"general", "teen"})


async def test_recs_vary_and_avoid_recent_repeats(mini: Mini) -> None:
    rng = random.Random(1)
    picks = [(await rec(mini.lib, SearchQuery(), place="guild:1", rng=rng)).hit.id for _ in range(30)]
    assert len(set(picks)) >= 9  # 11 live stories
    assert mini.ids["L"] not in picks  # removed
    window = min(RECENT_WINDOW, 11 * 3 // 4)
    for i in range(len(picks) - window):
        run = picks[i : i + window + 1]
        assert len(set(run)) == len(run), f"a story came back within {window} recs: {run}"


async def test_rec_history_is_per_place(mini: Mini) -> None:
    q = SearchQuery(pairings=["Spike/Willow"])
    first = await rec(mini.lib, q, place="channel:1", rng=random.Random(3))
    second = await rec(mini.lib, q, place="channel:1", rng=random.Random(3))
    assert first.hit.id != second.hit.id  # same dice, but the first is now recent here
    elsewhere = await rec(mini.lib, q, place="channel:2", rng=random.Random(3))
    assert elsewhere.hit.id == first.hit.id  # another place has its own history
    async with mini.lib.sessions() as session:
        n = await session.scalar(
            select(func.count()).select_from(RecHistory).where(RecHistory.place == "channel:1")
        )
    assert n == 2
    assert first.matched == 3 and "3 matching stories" in first.line


async def test_rec_prefers_well_formed_entries(mini: Mini) -> None:
    rng = random.Random(5)
    counts: Counter[int] = Counter()
    for i in range(600):  # a fresh place each time: no recent-avoidance, only the weights
        counts[(await rec(mini.lib, SearchQuery(characters=["Willow"]), place=f"p{i}", rng=rng)).hit.id] += 1
    bare = counts[mini.ids["J"]]  # no author, no rating, no summary
    assert all(counts[mini.ids[x]] > bare for x in "ACDE")


async def test_rec_age_gating_and_empty(mini: Mini) -> None:
    q = SearchQuery(pairings=["Spillow"], allowed_levels=SFW)
    for i in range(10):
        result = await rec(mini.lib, q, place=f"sfw{i}")
        assert result.hit.rating.level in SFW and result.hidden == 1
        assert "age-restricted" in result.line
    with pytest.raises(QueryError) as err:
        await rec(mini.lib, SearchQuery(pairings=["Spillow"], ratings=["general"]), place="x")
    assert "rating general" in err.value.message


async def test_similar_follows_shared_pairings_and_tags(mini: Mini) -> None:
    like_a = await similar(mini.lib, mini.ids["A"], limit=3)
    assert {s.hit.id for s in like_a[:2]} == {mini.ids["B"], mini.ids["C"]}
    assert "also Spike/Willow Rosenberg" in like_a[0].reason
    assert all(s.hit.id not in (mini.ids["A"], mini.ids["L"]) for s in like_a)
    like_d = await similar(mini.lib, mini.ids["D"], limit=3)
    assert like_d[0].hit.id == mini.ids["E"]
    assert "Tara Maclay/Willow Rosenberg" in like_d[0].reason and "post-Tabula Rasa" in like_d[0].reason
    scores = [s.score for s in like_a]
    assert scores == sorted(scores, reverse=True)


async def test_similar_puts_shared_people_before_shared_tags(library: Any) -> None:
    """A story sharing none of the asked story's people counts half of what it shares: two rare tags
    and the author in common never put a Buffy story above a Doctor Who story with the same Doctor and
    companion (it came first before)."""
    from service import curate
    from service.curate import Actor

    mod = Actor(7001, "Mod Mia", 42)
    nouns = [
        "lantern",
        "harbour",
        "gravel",
        "orchard",
        "kettle",
        "ribbon",
        "meadow",
        "thimble",
        "anchor",
        "violin",
    ]

    async def add(n: int, title: str, fandom: str, characters: str, tags: str, author: str) -> int:
        line = f"They carried the {nouns[n]} up the hill and argued about it the whole way. "
        text = (
            f"Title: {title}\nAuthor: {author}\nFandom: {fandom}\nCharacters: {characters}\n"
            f"Tags: {tags}\nRating: G\n\n~~~\n\n" + line * 30
        )
        upload = await curate.prepare_add(library, f"s{n}.txt", text.encode(), {})
        return (await curate.commit_add(library, upload, mod)).id

    asked = await add(
        0, "Lipstick", "Doctor Who", "Clara Oswald, Twelfth Doctor", "kettle club, lantern society", "Quill"
    )
    same_people = await add(1, "Stars", "Doctor Who", "Clara Oswald, Twelfth Doctor", "angst", "Another")
    same_tags = await add(2, "Fussed Over", "Buffy the Vampire Slayer", "Buffy Summers, Rupert Giles",
                          "kettle club, lantern society", "Quill")  # fmt: skip
    for n, (fandom, who) in enumerate(
        [("Merlin", "Merlin, Arthur"), ("Sherlock", "John Watson, Sherlock Holmes"), ("Merlin", "Gwen, Lancelot"),
         ("Supernatural", "Dean, Sam"), ("Harry Potter", "Ron Weasley, Hermione Granger"),
         ("Sherlock", "Molly Hooper, Mycroft Holmes"), ("Supernatural", "Castiel, Bobby")], start=3
    ):  # fmt: skip
        await add(n, f"Filler {n}", fandom, who, f"tag {n}", f"Writer {n}")
    found = await similar(library, asked, limit=3)
    assert found[0].hit.id == same_people, [(s.hit.title, round(s.score, 2), s.reason) for s in found]
    assert same_tags in {s.hit.id for s in found}  # still offered, after


async def test_similar_respects_age_gating(mini: Mini) -> None:
    found = await similar(mini.lib, mini.ids["A"], limit=10, allowed_levels=SFW)
    assert found and all(s.hit.rating.level in SFW for s in found)
    with pytest.raises(QueryError):
        await similar(mini.lib, 999_999)


async def test_real_archive_recs_and_similar(any_archive: Any) -> None:
    rng = random.Random(9)
    live = (await stats(any_archive)).stories
    picks = [(await rec(any_archive, SearchQuery(), place="corpus", rng=rng)).hit for _ in range(20)]
    assert len({p.id for p in picks}) >= min(15, live)
    for hit in picks[:5]:
        for s in await similar(any_archive, hit.id):
            assert s.hit.id != hit.id and s.reason
