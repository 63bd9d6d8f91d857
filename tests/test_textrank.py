"""Common words' impacts (`db.textrank`): a search for common words ranks exactly as FTS5 does, to
the last bit, for one word and for words joined by AND, OR and NOT; every page of a search is the
same; and it stays so while stories are added, edited and deleted after the build (SQLite only).

The archive here is small, so the threshold is lowered to make its words "common".
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from db import textrank
from db.fts import fts_search, ranked_matches
from db.rawsql import fetch_all
from service.indexer import index_directory
from service.query import SearchQuery
from service.search import search

pytestmark = pytest.mark.sqlite_only

FILLER = (
    "The library was quiet after dark. Giles sorted the books by the window while the rain kept on. "
    "Willow read aloud from a heavy volume and Xander made the coffee too strong again. "
)
RATINGS = ("General Audiences", "Teen And Up Audiences", "Mature", "Explicit")


def _write(stories: Path, n: int, rng: random.Random, first: int = 0) -> None:
    for i in range(first, first + n):
        body = " ".join(
            FILLER if rng.random() < 0.8 else "She held the stake tight and waited by the gate."
            for _ in range(rng.randint(2, 30))
        )
        title = f"Night Watch {i}" + (" and the Stake" if i % 7 == 0 else "")
        (stories / f"watch-{i:03}.txt").write_text(
            f"Title: {title}\nAuthor: Writer {i % 5}\nRating: {RATINGS[i % 4]}\n\nNight {i} of the watch. {body}\n",
            encoding="utf-8",
        )


async def _built_then_left_fresh(
    library: Any, monkeypatch: pytest.MonkeyPatch, n: int, seed: int
) -> random.Random:
    """`n` stories indexed with their impacts built; later index runs leave the impacts alone (no
    patch), so what changes next stays fresh, as between runs. Returns the generator, to write more."""
    rng = random.Random(seed)
    _write(library.settings.stories_dir, n, rng)
    await index_directory(library)
    monkeypatch.setattr(textrank, "due", lambda conn: None)
    return rng


async def _all_best(lib: Any, words: str, **query: Any) -> list[int]:
    """Every page of a "best" search, in order."""
    ids: list[int] = []
    page = 1
    while True:
        result = await search(lib, SearchQuery(text=words, sort="best", per_page=4, page=page, **query))
        ids += [h.id for h in result.hits]
        if page >= result.pages:
            return ids
        page += 1


async def _reference(lib: Any, words: str, allowed: set[int] | None = None) -> list[int]:
    async with lib.sessions() as session:
        ranked = await fts_search(session, words)
    return [i for i, _ in ranked if allowed is None or i in allowed]


@pytest.fixture
def small_impacts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textrank, "MIN_STORIES", 10)
    monkeypatch.setattr(textrank, "MIN_REBUILD", 10_000)  # these tests add and edit without a rebuild


async def _uses_impacts(lib: Any, words: str) -> bool:
    async with lib.sessions() as session:
        return await textrank.ranked_matches(session, words) is not None


async def test_one_common_word_pages_exactly_as_full_ranking(library: Any, small_impacts: None) -> None:
    rng = random.Random(3)
    _write(library.settings.stories_dir, 40, rng)
    await index_directory(library)
    assert await _uses_impacts(library, "stake"), "the index run should have built the impacts"
    assert await _uses_impacts(library, '"Stake"')
    assert await _uses_impacts(library, '"stake tight"'), "a phrase of common words: the pairs index"
    assert not await _uses_impacts(library, "stake*"), "a prefix is FTS5's"
    assert not await _uses_impacts(library, "stake OR tight NOT gate"), "OR with NOT is FTS5's"
    for words in ("stake", "library", "Stake"):
        assert await _all_best(library, words) == await _reference(library, words)
    teen = await search(library, SearchQuery(max_rating="teen", per_page=100))
    allowed = {h.id for h in teen.hits}
    assert await _all_best(library, "stake", max_rating="teen") == await _reference(library, "stake", allowed)


async def test_added_and_edited_stories_rank_exactly_before_a_rebuild(
    library: Any, small_impacts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = await _built_then_left_fresh(library, monkeypatch, 30, 5)
    stories = library.settings.stories_dir
    before = await _reference(library, "stake")
    # a new story full of the word, and an old one rewritten around it: both fresh, no rebuild
    _write(stories, 1, rng, first=30)
    (stories / "watch-030.txt").write_text(
        "Title: All Stakes\nAuthor: Writer 9\nRating: Mature\n\n" + "The stake, the stake, the stake. " * 40,
        encoding="utf-8",
    )
    last = before[-1]
    async with library.sessions() as session:
        path = (
            await session.execute(text("SELECT path FROM story_files WHERE story_id = :i"), {"i": last})
        ).scalar()
    (stories / Path(path).name).write_text(
        "Title: Rewritten\nAuthor: Writer 8\nRating: General Audiences\n\n" + "A stake by the gate. " * 60,
        encoding="utf-8",
    )
    await index_directory(library)
    async with library.sessions() as session:
        fresh = (
            await session.execute(text(f"SELECT count(DISTINCT story_id) FROM {textrank.FRESH_TABLE}"))
        ).scalar()
    assert fresh == 2
    assert await _uses_impacts(library, "stake")
    after = await _reference(library, "stake")
    assert after != before and after[:2] != before[:2]
    assert await _all_best(library, "stake") == after


QUERIES = (
    "{a}",
    "{a} {b}",
    "{a} AND {b} NOT {c}",
    "{a} NOT {b} AND {c}",
    "{a} OR {b}",
    "{a} OR {b} OR {c}",
    "{a} OR {b} -{c}",
    "{a} -{b}",
    "{a} OR {a}",
    "{a} {rare}",
    "{rare} OR {a}",
)


async def _check_every_word(lib: Any, rng: random.Random) -> int:
    """For every word with impacts, alone and in AND/OR/NOT queries with other words: the same
    stories as FTS5 finds, each with FTS5's own bm25 rank to the last bit. Returns how many words."""
    async with lib.sessions() as session:
        stored = await fetch_all(session, f"SELECT term FROM {textrank.IMPACTS_TABLE}")
        words = [r[0] for r in stored if r[0] not in ("and", "or", "not") and " " not in r[0]]  # no pair
        for a in words:
            b, c = rng.sample(words, 2)
            for shape in QUERIES:
                query = shape.format(a=a, b=b, c=c, rare="tight")
                mine = await textrank.ranked_matches(session, query)
                assert mine is not None, query
                theirs = sorted(await ranked_matches(session, query))
                assert mine[0].tolist() == [i for i, _ in theirs], query
                assert mine[1].tolist() == [r for _, r in theirs], query
    return len(words)


async def test_impacts_rank_as_fts5_does_before_and_after_changes(
    library: Any, small_impacts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = await _built_then_left_fresh(library, monkeypatch, 30, 11)
    stories = library.settings.stories_dir
    assert await _check_every_word(library, rng) > 20
    async with library.sessions() as session:  # the best "stake" stories are edited after the build
        best = [i for i, _ in (await fts_search(session, "stake"))[:3]]
        paths = await fetch_all(
            session, f"SELECT path FROM story_files WHERE story_id IN ({best[0]}, {best[1]}, {best[2]})"
        )
    for (path,) in paths:
        named = stories / Path(path).name
        named.write_text(
            named.read_text(encoding="utf-8") + "\nNo stake here: a gate, a gate.\n", encoding="utf-8"
        )
    _write(stories, 2, rng, first=30)
    await index_directory(library)
    async with library.sessions() as session:
        await session.execute(text("DELETE FROM story_texts WHERE story_id = :i"), {"i": best[-1]})
        await session.commit()
        fresh = (
            await session.execute(text(f"SELECT count(DISTINCT story_id) FROM {textrank.FRESH_TABLE}"))
        ).scalar()
    assert fresh == 5  # three edited (one then deleted), two added
    assert await _check_every_word(library, rng) > 20


async def test_too_many_edits_leave_the_ranking_to_fts5(
    library: Any, small_impacts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(textrank, "MAX_EDITED", 1)
    await _built_then_left_fresh(library, monkeypatch, 20, 2)
    stories = library.settings.stories_dir
    for path in sorted(stories.glob("*.txt"))[:3]:
        path.write_text(path.read_text(encoding="utf-8") + "\nThe library again.\n", encoding="utf-8")
    await index_directory(library)
    assert not await _uses_impacts(library, "library")
    assert await _all_best(library, "library") == await _reference(library, "library")


async def test_a_full_text_rebuild_drops_the_impacts_until_the_next_index_run(
    library: Any, small_impacts: None
) -> None:
    from service.check import check_archive

    rng = random.Random(4)
    _write(library.settings.stories_dir, 20, rng)
    await index_directory(library)
    assert await _uses_impacts(library, "library")
    async with library.transaction() as session:  # the full-text index out of step, as a crash leaves it
        await session.execute(text("DROP TRIGGER story_texts_au"))
        await session.execute(text("UPDATE story_texts SET body = 'the library' WHERE story_id = 1"))
    report = await check_archive(library, repair=True)
    assert [f.kind for f in report.findings] == ["fts-out-of-step"] and report.clean
    assert not await _uses_impacts(library, "library"), "impacts read from the old index must go"
    await index_directory(library)
    assert await _uses_impacts(library, "library")
    async with library.sessions() as session:
        mine = await textrank.ranked_matches(session, "library")
        theirs = sorted(await ranked_matches(session, "library"))
    assert mine is not None and mine[1].tolist() == [r for _, r in theirs]


async def test_a_build_that_cannot_write_leaves_the_index_run_whole(
    library: Any, small_impacts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    def locked(database_url: str, *, force: bool = False) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr("service.indexer.refresh_impacts", locked)
    _write(library.settings.stories_dir, 12, random.Random(8))
    report = await index_directory(library)
    assert len(report.added) == 12 and report.ranked_words == 0
    assert await _all_best(library, "library") == await _reference(library, "library")


async def test_many_changed_stories_or_none_left_leave_it_to_fts5(
    library: Any, small_impacts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(library.settings.stories_dir, 14, random.Random(9))
    await index_directory(library)
    assert await _uses_impacts(library, "library")
    monkeypatch.setattr(textrank, "MAX_LOOKED_UP", 2)
    async with library.transaction() as session:
        await session.execute(text("UPDATE story_texts SET summary = 'changed' WHERE story_id <= 3"))
    assert not await _uses_impacts(library, "library"), "three changed stories: more than it looks up"
    async with library.transaction() as session:
        await session.execute(text("DELETE FROM story_texts"))
    assert not await _uses_impacts(library, "library"), "no story left"


async def test_a_read_snapshot_sees_one_state(library: Any) -> None:
    import sqlite3

    from db.rawsql import read_snapshot

    _write(library.settings.stories_dir, 3, random.Random(1))
    await index_directory(library)
    path = library.settings.data_dir / "librarian.db"
    async with library.sessions() as session:
        async with read_snapshot(session):
            before = await fetch_all(session, "SELECT count(*) FROM story_texts")
            other = sqlite3.connect(path)
            other.execute("DELETE FROM story_texts WHERE story_id = 1")
            other.commit()
            other.close()
            assert await fetch_all(session, "SELECT count(*) FROM story_texts") == before
        assert await fetch_all(session, "SELECT count(*) FROM story_texts") != before


async def test_an_index_run_patches_changed_stories_in(library: Any, small_impacts: None) -> None:
    rng = random.Random(6)
    stories = library.settings.stories_dir
    _write(stories, 16, rng)
    assert (await index_directory(library)).ranked_words > 0
    for path in sorted(stories.glob("*.txt"))[:3]:  # edited, one of them now without "library"
        path.write_text(path.read_text(encoding="utf-8") + "\nThe library, later. Stake.\n", encoding="utf-8")
    gone = sorted(stories.glob("*.txt"))[3]
    gone.write_text(
        "Title: Elsewhere\nAuthor: Writer 3\n\nA stake by the gate, and nothing else.\n", encoding="utf-8"
    )
    _write(stories, 2, rng, first=16)
    report = await index_directory(library)
    assert report.ranking_patched == len(report.added) + len(report.updated) == 6
    assert "changed stories brought into" in report.summary()
    async with library.transaction() as session:  # and a story deleted outright
        await session.execute(text("DELETE FROM story_texts WHERE story_id = 2"))
    assert (await index_directory(library)).ranking_patched == 1
    async with library.sessions() as session:
        fresh = await fetch_all(session, f"SELECT count(*) FROM {textrank.FRESH_TABLE}")
        newest = await fetch_all(session, f"SELECT newest FROM {textrank.LENGTHS_TABLE}")
    assert fresh == [(0,)] and newest == [(18,)]
    assert await _check_every_word(library, rng) > 20
    for words in ("library", "stake", "library OR stake"):
        assert await _all_best(library, words) == await _reference(library, words)


async def test_the_bot_between_runs_patches_but_never_builds(
    library: Any, small_impacts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = library.settings.database_url
    real_due = textrank.due
    monkeypatch.setattr(textrank, "due", lambda conn: None)  # an index run that leaves it all to the bot
    _write(library.settings.stories_dir, 12, random.Random(12))
    await index_directory(library)
    monkeypatch.setattr(textrank, "due", real_due)
    assert textrank.refresh(url, build_ok=False) is None, "no impacts yet: only a build would do"
    assert not await _uses_impacts(library, "library")
    assert textrank.refresh(url) is not None
    async with library.transaction() as session:  # a mod's edit, as `bot.py edit` makes it
        await session.execute(
            text("UPDATE story_texts SET summary = 'the library at night' WHERE story_id = 4")
        )
    patched = textrank.refresh(url, build_ok=False)
    assert patched is not None and patched.patched == 1
    async with library.sessions() as session:
        mine = await textrank.ranked_matches(session, "library")
        theirs = sorted(await ranked_matches(session, "library"))
    assert mine is not None and mine[1].tolist() == [r for _, r in theirs]
