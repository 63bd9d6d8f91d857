"""Recs that learn, the daily pick's taste, /top and the charts, over a real SQLite archive."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import update

from db.models import Kudos, utcnow
from service import charts, dailypick, kudos, positions, shelves, tasterecs, top
from service.query import QueryError, SearchQuery
from settings import ROOT
from tests.e2e.stories import DRABBLE_TITLES, EXPLICIT_TITLE, LONG_TITLE
from tests.taste_fixtures import ids_by_title, lib, taste_archive  # noqa: F401

SAFE = frozenset({"general", "teen"})
NEWCOMER = 999


def test_score_leans_toward_what_overlapping_members_liked() -> None:
    likes = {1: {10, 11}, 2: {10, 20}, 3: {10, 20, 30}, 4: {11, 20}, 5: {40}}
    scored = tasterecs.score(1, likes, skip={30})
    assert set(scored) == {20}  # 30 skipped, 40 liked by nobody who shares a like, own likes left out
    assert scored[20].liked_together
    assert tasterecs.sources(1, likes, 20) == [(10, 2), (11, 1)]  # two members liked 10 and 20
    near = tasterecs.score(1, likes, skip={30}, content={40: 5.0, 11: 9.0})
    assert set(near) == {20, 40} and not near[40].liked_together  # content adds 40; 11 is liked
    assert tasterecs.score(99, likes) == {}


async def _server(lib: object) -> dict[str, int]:  # noqa: F811
    """Four members who love the long story also love drabble 1; the newcomer loved the long story."""
    ids = await ids_by_title(lib)
    for member in (1, 2, 3, 4):
        await kudos.give(lib, member, ids[LONG_TITLE])
        await kudos.give(lib, member, ids[DRABBLE_TITLES[0]])
    await shelves.add(lib, 5, ids[DRABBLE_TITLES[5]], "favourites")
    await kudos.give(lib, NEWCOMER, ids[LONG_TITLE])
    return ids


async def test_rec_for_a_member_says_why_and_skips_what_they_read(lib) -> None:  # noqa: F811
    ids = await _server(lib)
    for title in DRABBLE_TITLES[1:]:  # read already: left are drabble 1 and the explicit story
        await shelves.add(lib, NEWCOMER, ids[title], "read")
    rng = random.Random(5)  # the pick is a weighted draw from the shortlist: fixed, so the test is too
    picks = [
        await tasterecs.rec_for_member(lib, SearchQuery(), NEWCOMER, place="t", rng=rng) for _ in range(6)
    ]
    titles = [p.hit.title for p in picks]
    assert titles[0] == DRABBLE_TITLES[0]  # 4 members' likes outweigh content
    assert all(a != b for a, b in itertools.pairwise(titles))  # no repeat in one place
    result = next(p for p in picks if p.hit.title == DRABBLE_TITLES[0])
    assert result.line == f"Liked by 4 members who also liked *{LONG_TITLE}*."
    await shelves.add(lib, NEWCOMER, ids[DRABBLE_TITLES[0]], "read")
    again = await tasterecs.rec_for_member(lib, SearchQuery(), NEWCOMER, place="test")
    assert again.hit.title != DRABBLE_TITLES[0]  # read now: never offered again
    assert again.line.startswith("Close to what you liked: ")  # nobody else's likes left: its content


async def test_recs_in_one_place_do_not_repeat_while_others_fit(lib) -> None:  # noqa: F811
    ids = await _server(lib)
    for member in (1, 2, 3, 4):
        await kudos.give(lib, member, ids[DRABBLE_TITLES[1]])
    rng = random.Random(1)
    picks = [
        (await tasterecs.rec_for_member(lib, SearchQuery(), NEWCOMER, place="p", rng=rng)).hit.title
        for _ in range(4)
    ]
    assert all(a != b for a, b in itertools.pairwise(picks))
    assert {DRABBLE_TITLES[0], DRABBLE_TITLES[1]} <= set(picks)


async def test_rec_for_a_member_keeps_filters_and_the_age_gate(lib) -> None:  # noqa: F811
    ids = await _server(lib)
    for member in (1, 2, 3, 4):
        await kudos.give(lib, member, ids[EXPLICIT_TITLE])
    for _ in range(6):
        gated = await tasterecs.rec_for_member(lib, SearchQuery(allowed_levels=SAFE), NEWCOMER, place="t")
        assert gated.hit.title != EXPLICIT_TITLE
    filtered = await tasterecs.rec_for_member(lib, SearchQuery(pairings=["Willow/Tara"]), NEWCOMER, place="t")
    assert filtered.hit.title == EXPLICIT_TITLE  # the only Willow/Tara story left for them
    with pytest.raises(QueryError):
        await tasterecs.rec_for_member(
            lib, SearchQuery(ratings=["explicit"], allowed_levels=SAFE), 1, place="t"
        )


async def test_the_reason_never_names_a_gated_story_outside_nsfw(lib) -> None:  # noqa: F811
    ids = await ids_by_title(lib)
    for member in (1, 2, 3):
        await kudos.give(lib, member, ids[EXPLICIT_TITLE])
        await kudos.give(lib, member, ids[DRABBLE_TITLES[2]])
    await kudos.give(lib, NEWCOMER, ids[EXPLICIT_TITLE])
    for title in (LONG_TITLE, *DRABBLE_TITLES[:2], *DRABBLE_TITLES[3:]):  # read: the third is left
        await shelves.add(lib, NEWCOMER, ids[title], "read")
    result = await tasterecs.rec_for_member(lib, SearchQuery(allowed_levels=SAFE), NEWCOMER, place="t")
    assert result.hit.title == DRABBLE_TITLES[2]
    assert EXPLICIT_TITLE not in result.line and result.line.startswith("Close to what you liked: Willow")


async def test_cold_start_falls_back_to_todays_rec(lib) -> None:  # noqa: F811
    result = await tasterecs.rec_for_member(lib, SearchQuery(), NEWCOMER, place="t")
    assert "Give kudos or add favourites" in result.line and "Picked at random" in result.line


async def test_daily_pick_prefers_loved_stories_but_explores(lib) -> None:  # noqa: F811
    ids = await ids_by_title(lib)
    loved, liked_once = ids[DRABBLE_TITLES[0]], ids[DRABBLE_TITLES[1]]
    for member in (1, 2, 3):
        await kudos.give(lib, member, loved)
    await kudos.give(lib, 1, liked_once)
    await positions.remember(lib, 4, ids[DRABBLE_TITLES[2]], 1, 1)
    remaining = sorted(ids.values())
    rng = random.Random(7)
    async with lib.sessions() as session:
        chosen = [await dailypick.choose(session, remaining, rng) for _ in range(200)]
    picks = [pick.story_id for pick in chosen]
    assert {p.reason for p in chosen if p.story_id == loved} == {"3 members gave it kudos"}
    assert {p.reason for p in chosen if p.story_id != loved} == {"nobody here has opened it yet"}
    share = picks.count(loved) / len(picks)
    assert 0.55 < share < 0.85  # 1 - EXPLORE of the picks, give or take chance
    explored = [p for p in picks if p != loved]
    assert explored and liked_once not in explored and ids[DRABBLE_TITLES[2]] not in explored


async def test_top_ranks_by_kudos_and_shelvings_within_the_period(lib) -> None:  # noqa: F811
    ids = await ids_by_title(lib)
    for member in (1, 2):
        await kudos.give(lib, member, ids[DRABBLE_TITLES[0]])
    for member in (1, 2, 3):
        await shelves.add(lib, member, ids[DRABBLE_TITLES[1]])
    await kudos.give(lib, 1, ids[EXPLICIT_TITLE])
    old = ids[DRABBLE_TITLES[3]]
    for member in (1, 2, 3, 4):
        await kudos.give(lib, member, old)
    async with lib.transaction() as session:
        await session.execute(
            update(Kudos).where(Kudos.story_id == old).values(at=utcnow() - timedelta(days=20))
        )
    week = await top.top(lib, SearchQuery(allowed_levels=SAFE), period="week")
    assert [(r.hit.title, r.kudos, r.shelved) for r in week.rows] == [
        (DRABBLE_TITLES[0], 2, 0),
        (DRABBLE_TITLES[1], 0, 3),
    ]
    assert week.hidden == 1 and sum(n for _d, n in week.kudos_by_day) == 3
    month = await top.top(lib, SearchQuery(), period="month")
    assert month.rows[0].hit.title == DRABBLE_TITLES[3] and month.hidden == 0
    with pytest.raises(QueryError, match="week, month or ever"):
        await top.top(lib, SearchQuery(), period="fortnight")


async def test_charts_are_png_images(lib) -> None:  # noqa: F811
    figures = await charts.stats_figures(lib)
    assert figures.by_rating and figures.pairings
    png = charts.render_stats(figures)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    ids = await ids_by_title(lib)
    await kudos.give(lib, 1, ids[LONG_TITLE])
    empty_and_full = [await top.top(lib, SearchQuery(), period=p) for p in ("week", "ever")]
    for result in empty_and_full:
        assert charts.render_top(result, title="Top").startswith(b"\x89PNG")
    assert charts.render_stats(charts.StatsFigures({}, [], [])).startswith(b"\x89PNG")


def test_the_bot_does_not_import_matplotlib_until_a_chart_is_drawn() -> None:
    code = "import sys, bot, cogs.top, cogs.archive, service.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
