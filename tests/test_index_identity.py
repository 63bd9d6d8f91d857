"""A story outlives its file, and indexing never removes by surprise (issue 11), and one work in
two files is one story (issue 13).

Each test first reproduces the loss the issue describes (`index` of an empty or other folder printed
`removed: N`; re-indexing the right folder brought the stories back with new ids and no
corrections; the same work as HTML and TXT was two stories), then checks what happens now.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import AuditEntry, Override, Story, StoryFile
from service.archive_stats import stats
from service.curate import Actor, edit_story, history
from service.indexer import index_directory
from service.indexreport import removal_limit
from service.search import SearchQuery, search
from service.similar import similar
from service.stories import find_title
from tests.conftest import CORPUS_DIR

WORDS = [
    "stake",
    "library",
    "tea",
    "vampire",
    "night",
    "watcher",
    "slayer",
    "crypt",
    "moon",
    "quiet",
    "window",
    "candle",
    "rain",
    "street",
    "door",
    "book",
    "spell",
    "coffee",
    "silver",
    "road",
    "river",
    "garden",
    "letter",
    "kitchen",
    "morning",
    "shadow",
    "smile",
    "promise",
]


def story_text(title: str, seed: int, *, words: int = 220, author: str = "Anne Writer") -> str:
    """A mailing-list story with a body of its own (seeded), long enough to be fingerprinted."""
    rng = random.Random(seed)
    body = " ".join(rng.choice(WORDS) for _ in range(words))
    sentences = [s.strip().capitalize() + "." for s in body.split(" night ") if s.strip()]
    return (
        f"Title: {title}\nAuthor: {author}\nRating: PG\nPairing: Buffy/Faith\n\n"
        + "\n\n".join(sentences)
        + "\n"
    )


def write_stories(folder: Path, n: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(start, start + n):
        file = folder / f"story-{i:03}.txt"
        file.write_text(story_text(f"Story Number {i}", i), encoding="utf-8")
        files.append(file)
    return files


async def live(lib: Any) -> dict[str, int]:
    """path -> id of every story a member can see."""
    async with lib.sessions() as s:
        rows = await s.execute(select(Story.path, Story.id).where(Story.removed_at.is_(None)))
        return dict(rows.all())


async def story_row(lib: Any, story_id: int) -> Story:
    async with lib.sessions() as s:
        story = await s.get(Story, story_id)
        assert story is not None
        return story


async def test_an_empty_or_missing_folder_removes_nothing(library: Any) -> None:
    stories = library.settings.stories_dir
    write_stories(stories / "fic", 5)
    assert len((await index_directory(library)).added) == 5
    aside = stories.parent / "aside"
    shutil.move(stories / "fic", aside)  # the disk is not mounted: the folder is there, empty

    report = await index_directory(library)
    assert report.removed == [], "an empty folder must not read as 'every story was deleted'"
    assert report.stopped and "no story files" in report.stopped
    assert len(await live(library)) == 5

    shutil.move(aside, stories / "fic")
    again = await index_directory(library)
    assert again.removed == [] and again.added == [] and again.unchanged == 5


async def test_indexing_another_folder_adds_but_never_removes(library: Any, tmp_path: Path) -> None:
    write_stories(library.settings.stories_dir, 4)
    await index_directory(library)
    before = await live(library)
    other = tmp_path / "elsewhere"
    write_stories(other, 2, start=100)

    report = await index_directory(library, other)
    assert report.removed == [] and len(report.added) == 2
    assert any("not the archive folder" in note for note in report.notes)
    after = await live(library)
    assert all(after.get(path) == sid for path, sid in before.items())


async def test_a_big_removal_stops_unless_pruned(library: Any) -> None:
    files = write_stories(library.settings.stories_dir, 30)
    await index_directory(library)
    for file in files[:25]:  # 25 > max(5 % of 30, 20)
        file.unlink()

    stopped = await index_directory(library)
    assert stopped.removed == [] and len(stopped.held_back) == 25
    assert stopped.stopped and "--prune" in stopped.stopped
    assert len(await live(library)) == 30

    pruned = await index_directory(library, prune=True)
    assert len(pruned.removed) == 25 and pruned.stopped is None
    assert len(await live(library)) == 5


async def test_a_small_removal_goes_ahead_and_retires_the_story(library: Any) -> None:
    files = write_stories(library.settings.stories_dir, 10)
    await index_directory(library)
    assert removal_limit(10) == 20
    files[0].unlink()
    report = await index_directory(library)
    assert report.removed == [files[0].name]
    assert files[0].name not in await live(library)
    async with library.sessions() as s:  # retired, not deleted: the row is kept, hidden
        row = (await s.scalars(select(Story).where(Story.path == files[0].name))).one()
    assert row.retired_at is not None and row.removed_at is not None
    assert row.id not in {hit.id for hit in await find_title(library, "Story Number 0")}
    result = await search(library, SearchQuery(text="Story Number 0"))
    assert row.id not in {hit.id for hit in result.hits}


async def test_a_retired_story_comes_back_with_its_id_corrections_and_history(library: Any) -> None:
    stories = library.settings.stories_dir
    (file,) = write_stories(stories / "fic", 1)
    others = write_stories(stories / "more", 5, start=50)
    await index_directory(library)
    story_id = (await live(library))["fic/story-000.txt"]
    await edit_story(library, story_id, "title", "The Corrected Title", Actor.cli())
    await edit_story(library, story_id, "rating", "Mature", Actor.cli())

    text = file.read_text(encoding="utf-8")
    file.unlink()
    assert (await index_directory(library)).removed == ["fic/story-000.txt"]

    # the same path again
    file.write_text(text, encoding="utf-8")
    back = await index_directory(library)
    assert back.returned == ["fic/story-000.txt"] and back.added == []
    row = await story_row(library, story_id)
    assert (row.removed_at, row.retired_at, row.title, row.rating_level) == (
        None,
        None,
        "The Corrected Title",
        "mature",
    )

    # gone again, then the same text under a new name, as HTML
    file.unlink()
    await index_directory(library)
    html = "<html><head><title>x</title></head><body>" + "".join(
        f"<p>{line}</p>" for line in text.split("\n\n")[1:]
    )
    (stories / "renamed.html").write_text(html + "</body></html>", encoding="utf-8")
    again = await index_directory(library)
    assert again.returned == ["renamed.html"], again.summary()
    row = await story_row(library, story_id)
    assert row.path == "renamed.html" and row.title == "The Corrected Title" and row.removed_at is None
    async with library.sessions() as s:
        kept = await s.scalar(select(func.count()).select_from(Override).where(Override.story_id == story_id))
    assert kept == 2
    assert {r.action for r in await history(library, story_id)} >= {"edit"}
    assert len(await live(library)) == 1 + len(others)


async def test_renaming_or_moving_a_file_keeps_the_id(library: Any) -> None:
    stories = library.settings.stories_dir
    files = write_stories(stories, 3)
    await index_directory(library)
    ids = await live(library)
    (stories / "moved").mkdir()
    files[0].rename(stories / "moved" / "new-name.txt")

    report = await index_directory(library)
    assert report.removed == [] and report.added == [], report.summary()
    after = await live(library)
    assert after["moved/new-name.txt"] == ids[files[0].name]
    assert files[0].name not in after


async def test_one_work_in_two_files_is_one_story(library: Any) -> None:
    stories = library.settings.stories_dir
    text = story_text("Twice Downloaded", 7)
    (stories / "twice.txt").write_text(text, encoding="utf-8")
    paras = text.split("\n\n")[1:]
    html = (
        "<html><head><title>Twice Downloaded</title></head><body><h1>Twice Downloaded</h1>"
        "<p>by Anne Writer</p><p>Rating: PG</p>" + "".join(f"<p>{p}</p>" for p in paras) + "</body></html>"
    )
    (stories / "twice.html").write_text(html, encoding="utf-8")
    write_stories(stories / "others", 3, start=20)

    report = await index_directory(library)
    assert len(report.added) == 4 and len(report.same_work) == 1, report.summary()
    async with library.sessions() as s:
        twice = (await s.scalars(select(Story).where(Story.title == "Twice Downloaded"))).all()
        assert len(twice) == 1
        files = set(await s.scalars(select(StoryFile.path).where(StoryFile.story_id == twice[0].id)))
    assert files == {"twice.txt", "twice.html"}
    found = [hit.title for hit in await find_title(library, "Twice Downloaded")]
    assert found.count("Twice Downloaded") == 1
    assert twice[0].id not in {s.hit.id for s in await similar(library, twice[0].id)}
    assert (await stats(library)).stories == 4
    assert (await index_directory(library)).unchanged == 5  # both files known: nothing to do


@pytest.mark.corpus
async def test_the_shared_corpus_ao3_works_are_three_stories_with_both_files(library: Any) -> None:
    shutil.copytree(CORPUS_DIR / "ao3-downloads", library.settings.stories_dir / "ao3")
    report = await index_directory(library)
    works = [p for p in report.added if not p.endswith("LICENSE.txt")]  # the licence: see below
    assert len(works) == 3 and len(report.same_work) == 3, report.summary()
    async with library.sessions() as s:
        rows = (await s.execute(select(StoryFile.story_id, StoryFile.path))).all()
    by_story: dict[int, set[str]] = {}
    for sid, path in rows:
        if not path.endswith("LICENSE.txt"):
            by_story.setdefault(sid, set()).add(Path(path).suffix)
    assert sorted(by_story.values(), key=sorted) == [{".epub", ".html"}] * 3


async def test_an_upgraded_archive_keeps_its_ids_and_gains_fingerprints(tmp_path: Path) -> None:
    """An archive indexed before story files existed: the 0003 migration keeps every story and id,
    and the next run fingerprints them so a later rename is recognised."""
    from db.engine import create_engine
    from db.migrate import upgrade
    from service.library import Library
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    write_stories(settings.stories_dir, 3)
    engine = create_engine(settings.database_url)
    await upgrade(engine, "0001")
    async with engine.begin() as conn:
        for i in range(3):
            await conn.exec_driver_sql(
                "INSERT INTO stories (path, file_size, file_mtime, file_hash, format, title, title_key, "
                "rating_level, rating_rank, words, meta, problems, added_at, indexed_at) VALUES "
                f"('story-{i:03}.txt', 1, 0, 'x', 'text', 'Old {i}', 'old {i}', 'teen', 1, 10, '{{}}', '[]', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        await conn.exec_driver_sql(
            "INSERT INTO story_texts (story_id, title, author, summary, tags, body) "
            "SELECT id, title, '', '', '', 'placeholder' FROM stories"
        )
    await engine.dispose()
    lib = await Library.open(settings)
    try:
        before = await live(lib)
        report = await index_directory(lib)
        assert report.removed == [] and report.added == [] and len(report.updated) == 3
        assert await live(lib) == before
        async with lib.sessions() as s:
            audit = await s.scalar(select(func.count()).select_from(AuditEntry))
        assert audit == 0
    finally:
        await lib.close()


async def test_files_that_are_not_stories_are_skipped_with_reasons(library: Any) -> None:
    pytest.importorskip("archive.nonstory", reason="the parser's non-story classifier is not in archive/ yet")
    stories = library.settings.stories_dir
    write_stories(stories, 2)
    (stories / "LICENSE.txt").write_text(
        "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of "
        'this software, to deal in the Software without restriction. THE SOFTWARE IS PROVIDED "AS IS", '
        "WITHOUT WARRANTY OF ANY KIND. IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR ANY CLAIM.\n",
        encoding="utf-8",
    )
    (stories / "works.csv").write_text("title,author\nA,B\n", encoding="utf-8")
    report = await index_directory(library)
    skipped = dict(report.skipped)
    assert skipped.get("LICENSE.txt")
    assert "works.csv" in skipped
    assert sorted(report.added) == ["story-000.txt", "story-001.txt"]
    assert "skipped: 2" in report.summary() and "LICENSE.txt: " in report.summary()
    assert {s["path"] for s in report.to_json()["skipped"]} == {"LICENSE.txt", "works.csv"}


async def test_the_bots_start_up_index_follows_the_same_rule(library: Any) -> None:
    from tests.conftest import make_bot

    files = write_stories(library.settings.stories_dir, 30)
    await index_directory(library)
    for file in files[:25]:
        file.unlink()
    bot: Any = make_bot(library)
    await bot._index_on_start()
    assert bot.index_done.is_set()
    assert len(await live(library)) == 30, "the start-up index removed more than a run may"
