"""Shelves, kudos, reading positions, export and forget-me, over a real SQLite archive."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from db.models import Base
from service import kudos, members, positions, shelves
from service.query import QueryError
from tests.e2e.stories import DRABBLE_TITLES, EXPLICIT_TITLE, LONG_TITLE
from tests.taste_fixtures import ids_by_title, lib, taste_archive  # noqa: F401

SAFE = frozenset({"general", "teen"})
ALICE, BOB = 101, 202


async def test_add_defaults_to_to_read_and_status_shelves_exclude_each_other(lib) -> None:  # noqa: F811
    ids = await ids_by_title(lib)
    story = ids[LONG_TITLE]
    assert (await shelves.add(lib, ALICE, story)).label == "to-read"
    assert (await shelves.add(lib, ALICE, story)).already
    done = await shelves.add(lib, ALICE, story, "Read")
    assert (done.label, done.left) == ("read", "to-read")
    await shelves.add(lib, ALICE, story, "favorites")  # favourites sits beside a status shelf
    view = await shelves.show(lib, ALICE)
    assert sorted(i.label for i in view.items) == ["favourites", "read"]
    assert dict(view.counts) == {"read": 1, "favourites": 1}


async def test_member_made_shelves_fold_names_and_move(lib) -> None:  # noqa: F811
    ids = await ids_by_title(lib)
    story = ids[DRABBLE_TITLES[0]]
    assert (await shelves.add(lib, ALICE, story, "Comfort  Fics")).label == "Comfort Fics"
    assert (await shelves.add(lib, ALICE, story, "comfort-fics")).already
    source, done = await shelves.move(lib, ALICE, story, "want to read")
    assert (source, done.label) == ("Comfort Fics", "to-read")
    assert [i.label for i in (await shelves.show(lib, ALICE, "to read")).items] == ["to-read"]
    with pytest.raises(QueryError, match="not on your read shelf"):
        await shelves.remove(lib, ALICE, story, "read")
    assert await shelves.remove(lib, ALICE, story) == ["to-read"]
    with pytest.raises(QueryError, match="any of your shelves"):
        await shelves.remove(lib, ALICE, story)
    with pytest.raises(QueryError, match="at most 40"):
        await shelves.add(lib, ALICE, story, "x" * 41)
    with pytest.raises(QueryError, match="Which shelf"):
        await shelves.add(lib, ALICE, story, "!!!")


async def test_moving_a_story_on_several_shelves_asks_which(lib) -> None:  # noqa: F811
    story = (await ids_by_title(lib))[LONG_TITLE]
    await shelves.add(lib, ALICE, story, "read")
    await shelves.add(lib, ALICE, story, "favourites")
    with pytest.raises(QueryError, match="several shelves"):
        await shelves.move(lib, ALICE, story, "to-read")
    source, done = await shelves.move(lib, ALICE, story, "Cosy", "favourites")
    assert (source, done.label) == ("favourites", "Cosy")


async def test_shelves_are_private_until_made_public(lib) -> None:  # noqa: F811
    story = (await ids_by_title(lib))[LONG_TITLE]
    await shelves.add(lib, ALICE, story)
    with pytest.raises(QueryError, match="private"):
        await shelves.show(lib, ALICE, viewer_id=BOB)
    await shelves.set_privacy(lib, ALICE, True)
    view = await shelves.show(lib, ALICE, viewer_id=BOB)
    assert view.public and [i.hit.title for i in view.items] == [LONG_TITLE]
    await shelves.set_privacy(lib, ALICE, False)
    with pytest.raises(QueryError):
        await shelves.show(lib, ALICE, viewer_id=BOB)


async def test_a_gated_story_is_counted_not_listed_outside_nsfw(lib) -> None:  # noqa: F811
    ids = await ids_by_title(lib)
    await shelves.add(lib, ALICE, ids[EXPLICIT_TITLE], "favourites")
    await shelves.add(lib, ALICE, ids[LONG_TITLE], "favourites")
    view = await shelves.show(lib, ALICE, "favourites", allowed_levels=SAFE)
    assert [i.hit.title for i in view.items] == [LONG_TITLE] and view.hidden == 1
    assert len((await shelves.show(lib, ALICE, "favourites")).items) == 2


async def test_reading_position_shows_on_the_reading_shelf_and_resumes(lib) -> None:  # noqa: F811
    story = (await ids_by_title(lib))[LONG_TITLE]
    await shelves.add(lib, ALICE, story)  # to-read: reading moves it to reading
    await positions.remember(lib, ALICE, story, 7, 21)
    view = await shelves.show(lib, ALICE, "reading")
    assert [i.progress() for i in view.items] == ["part 7 of 21"]
    assert await positions.resume_part(lib, ALICE, story, 21) == 7  # 0-based: part 8 next
    assert await positions.resume_part(lib, BOB, story, 21) == 0
    await positions.remember(lib, ALICE, story, 21, 21)
    assert await positions.resume_part(lib, ALICE, story, 21) == 0  # finished: starts again
    await shelves.add(lib, ALICE, story, "read")
    await positions.remember(lib, ALICE, story, 3, 21)  # a re-read keeps it on read
    assert [i.label for i in (await shelves.show(lib, ALICE)).items] == ["read"]


async def test_kudos_toggle_once_per_member(lib) -> None:  # noqa: F811
    story = (await ids_by_title(lib))[LONG_TITLE]
    assert await kudos.toggle(lib, ALICE, story) == kudos.KudosState(True, 1)
    assert await kudos.toggle(lib, BOB, story) == kudos.KudosState(True, 2)
    assert await kudos.toggle(lib, ALICE, story) == kudos.KudosState(False, 1)
    assert await kudos.give(lib, BOB, story) == kudos.KudosState(True, 1)
    assert await kudos.count(lib, story) == 1
    with pytest.raises(QueryError):
        await kudos.toggle(lib, ALICE, 999_999)


async def test_export_then_forget_removes_only_that_member(lib) -> None:  # noqa: F811
    ids = await ids_by_title(lib)
    for member in (ALICE, BOB):
        await shelves.add(lib, member, ids[LONG_TITLE], "favourites")
        await kudos.give(lib, member, ids[LONG_TITLE])
        await positions.remember(lib, member, ids[DRABBLE_TITLES[1]], 1, 2)
    await shelves.set_privacy(lib, ALICE, True)
    data = await members.export(lib, ALICE)
    assert data["shelves_public"] is True
    assert [s["title"] for s in data["shelves"]["favourites"]] == [LONG_TITLE]
    assert data["kudos"][0]["title"] == LONG_TITLE and data["reading"][0]["part"] == 1
    removed = await members.forget(lib, ALICE)
    assert removed == {"shelf_entries": 2, "kudos": 1, "reading_positions": 1, "member_prefs": 1}
    after = await members.export(lib, ALICE)
    assert (after["shelves"], after["kudos"], after["reading"], after["shelves_public"]) == (
        {},
        [],
        [],
        False,
    )
    assert await kudos.count(lib, ids[LONG_TITLE]) == 1
    assert (await shelves.show(lib, BOB)).items


def test_every_table_with_member_data_is_exported_and_forgotten() -> None:
    holding = {t.name for t in Base.metadata.sorted_tables if "member_id" in t.columns}
    assert holding == {m.__tablename__ for m in members.PERSONAL}
    assert all(inspect(m).primary_key for m in members.PERSONAL)
