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
