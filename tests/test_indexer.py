"""The incremental indexer: the whole archive indexes, re-runs only do what changed, broken files
are reported with a reason while the rest indexes, and a run killed midway leaves a consistent
index that the next run completes."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import IndexFailure, Story, StoryFile, utcnow
from service.indexer import STORY_SUFFIXES, index_directory
from settings import ROOT
from tests.conftest import fill_corpus
from tests.sample_archive import ARCHIVE_DIR, TRIO


def story_files(stories: Path) -> set[str]:
    """Every file the indexer should pick up, walked independently of the indexer (files the
    parser's classifier calls no story, such as licences, are skipped)."""
    from archive.nonstory import non_story_reason

    return {
        p.relative_to(stories).as_posix()
        for p in stories.rglob("*")
        if p.is_file()
        and p.suffix.lower() in STORY_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(stories).parts)
        and non_story_reason(p.read_bytes(), p.name) is None
    }


async def indexed_paths(lib: Any) -> list[str]:
    """Every file of a story members can see (one work in two files: both paths)."""
    async with lib.sessions() as s:
        live = select(StoryFile.path).join(Story, Story.id == StoryFile.story_id)
        return list(await s.scalars(live.where(Story.removed_at.is_(None))))


async def failures(lib: Any) -> dict[str, str]:
    async with lib.sessions() as s:
        return dict((await s.execute(select(IndexFailure.path, IndexFailure.reason))).all())


def check_integrity(db_file: Path) -> None:
    conn = sqlite3.connect(db_file)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO story_fts(story_fts, rank) VALUES ('integrity-check', 1)")
        texts, stories = conn.execute(
            "SELECT (SELECT count(*) FROM story_texts), (SELECT count(*) FROM stories)"
        ).fetchone()
        assert texts == stories
        dupes = conn.execute("SELECT path FROM stories GROUP BY path HAVING count(*) > 1").fetchall()
        assert dupes == []
    finally:
        conn.close()


def seed_archive(lib: Any) -> Path:
    stories = lib.settings.stories_dir
    shutil.copytree(TRIO, stories / "seeds")
    return stories


@pytest.mark.corpus
async def test_whole_archive_indexes_and_a_second_run_changes_nothing(corpus_library: Any) -> None:
    lib = corpus_library
    stories = lib.settings.stories_dir
    on_disk = story_files(stories)
    assert len([p for p in on_disk if p.startswith("antennapedia/") and p.endswith(".md")]) == 208
    assert len([p for p in on_disk if p.startswith("ao3/") and p.endswith((".html", ".epub"))]) == 6
    assert sorted(await indexed_paths(lib)) == sorted(on_disk)
    assert await failures(lib) == {}
    check_integrity(Path(lib.settings.database_url.split(":///", 1)[1]))

    again = await index_directory(lib)
    assert (again.added, again.updated, again.removed, again.failed) == ([], [], [], [])
    assert again.unchanged == len(on_disk)


async def test_touch_edit_delete_and_add(library: Any) -> None:
    stories = seed_archive(library)
    first = await index_directory(library)
    assert sorted(first.added) == sorted(story_files(stories)) and first.failed == []
    assert first.bytes_parsed == sum(p.stat().st_size for p in stories.rglob("*.txt"))
    async with library.sessions() as s:
        before = {row.path: row for row in await s.scalars(select(Story))}
    touched, edited, deleted = sorted(before)

    os.utime(stories / touched, (time.time() + 60, time.time() + 60))
    (stories / edited).write_text(
        "Title: A Different Story\nAuthor: Someone\n\nBuffy and Faith patrol the town.\n"
    )
    (stories / deleted).unlink()
    shutil.copy(stories / touched, stories / "seeds" / "copy.md")  # the same work again: one story
    (stories / "seeds" / "new.txt").write_text("Title: Brand New\n\nDawn kept the diary under the bed.\n")

    second = await index_directory(library)
    assert second.unchanged == 1 and second.updated == [edited] and second.removed == [deleted]
    assert second.added == ["seeds/new.txt"] and second.failed == []
    assert [path for path, _ in second.same_work] == ["seeds/copy.md"]
    async with library.sessions() as s:
        after = {row.path: row for row in await s.scalars(select(Story).where(Story.removed_at.is_(None)))}
    assert after[touched].indexed_at == before[touched].indexed_at  # not re-parsed
    assert after[touched].file_mtime == pytest.approx((stories / touched).stat().st_mtime)
    assert after[edited].id == before[edited].id and after[edited].title == "A Different Story"
    assert deleted not in after and "seeds/copy.md" not in after
    assert library.titles.title_of(after[edited].id) == "A Different Story"
    assert before[deleted].id not in library.titles
    assert library.titles.title_of(after["seeds/new.txt"].id) == "Brand New"

    third = await index_directory(library)
    assert (third.added, third.updated, third.removed, third.unchanged) == ([], [], [], 4)


async def test_reread_parses_unchanged_files_again_and_keeps_corrections(library: Any) -> None:
    """`index --reread` (after an upgrade whose parser reads better) reads every file again, changed
    or not, and keeps the mods' corrections laid over what it reads."""
    from sqlalchemy import update

    from service import curate
    from service.curate import Actor

    seed_archive(library)
    await index_directory(library)
    async with library.sessions() as s:
        first, second = sorted((await s.execute(select(Story.path, Story.id))).all())[:2]
    # what an older parser read differently: the stored row disagrees with what the file now gives
    async with library.sessions() as s, s.begin():
        await s.execute(update(Story).where(Story.id == first[1]).values(author="An Older Reading"))
    await curate.edit_story(library, second[1], "title", "A Mod's Title", Actor(7001, "Mod Mia", 42))

    plain = await index_directory(library)
    assert plain.updated == [] and plain.unchanged == 3  # nothing changed on disk: nothing read
    again = await index_directory(library, reread=True)
    assert len(again.updated) == 3 and {first[0], second[0]} <= set(again.updated)
    assert again.unchanged == 0 and again.failed == [] and again.added == []
    async with library.sessions() as s:
        rows = {r.id: r for r in await s.scalars(select(Story))}
    assert rows[first[1]].author != "An Older Reading"
    assert rows[second[1]].title == "A Mod's Title"  # the correction stays over the new reading


async def test_broken_files_are_reported_and_the_rest_indexes(library: Any) -> None:
    stories = seed_archive(library)
    html = (ARCHIVE_DIR / "ao3" / "the_library_card.html").read_bytes()
    broken = stories / "broken"
    broken.mkdir()
    (broken / "empty.txt").write_bytes(b"")
    (broken / "noise.epub").write_bytes(os.urandom(4096))
    (broken / "cut.html").write_bytes(html[: html.index(b"</head>")])  # a download cut off in its head

    report = await index_directory(library)
    failed = dict(report.failed)
    assert sorted(failed) == ["broken/cut.html", "broken/empty.txt", "broken/noise.epub"]
    assert all(reason.strip() for reason in failed.values())
    assert "empty" in failed["broken/empty.txt"] and "zip" in failed["broken/noise.epub"]
    assert sorted(report.added) == sorted(f"seeds/{p.name}" for p in TRIO.iterdir())
    assert await failures(library) == failed
    assert "failed: 3" in report.summary() and "broken/noise.epub: " in report.summary()

    (broken / "empty.txt").write_text("Title: Mended\n\nWillow fixed the spell at last, and Tara laughed.\n")
    (broken / "noise.epub").unlink()
    mended = await index_directory(library)
    assert mended.added == ["broken/empty.txt"]
    assert await failures(library) == {"broken/cut.html": failed["broken/cut.html"]}


async def test_skips_hidden_removed_and_foreign_files_and_keeps_mod_removed_rows(library: Any) -> None:
    stories = seed_archive(library)
    settings = library.settings
    for folder in (stories / ".git", settings.removed_dir):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(next(TRIO.iterdir()), folder / "hidden.txt")
    shutil.copy(next(TRIO.iterdir()), stories / ".draft.txt")
    (stories / "cover.jpg").write_bytes(b"\xff\xd8not a story")
    report = await index_directory(library)
    assert sorted(report.added) == sorted(f"seeds/{p.name}" for p in TRIO.iterdir())

    gone = report.added[0]
    async with library.transaction() as s:
        story = await s.scalar(select(Story).where(Story.path == gone))
        story.removed_at = utcnow()
    (stories / gone).unlink()
    again = await index_directory(library)
    assert again.removed == [] and again.added == []
    async with library.sessions() as s:
        assert await s.scalar(select(func.count()).where(Story.path == gone)) == 1
    # the file put back by hand is left alone, and the report says why (it was counted nowhere)
    shutil.copy(TRIO / PurePosixPath(gone).name, stories / gone)
    back = await index_directory(library)
    assert back.added == [] and back.updated == []
    assert (gone, "its story was removed by a mod (`/story restore` brings it back)") in back.skipped


async def test_removed_dir_inside_stories_is_skipped(library: Any) -> None:
    stories = seed_archive(library)
    library.settings = library.settings.with_(removed_dir=stories / "attic")
    (stories / "attic").mkdir()
    shutil.copy(next(TRIO.iterdir()), stories / "attic" / "old.txt")
    report = await index_directory(library)
    assert not any(p.startswith("attic/") for p in report.added)


async def test_index_a_subfolder_only_touches_that_subfolder(library: Any) -> None:
    stories = seed_archive(library)
    (stories / "other").mkdir()
    for seed in TRIO.iterdir():  # other works (not copies: a copy is the same story)
        ending = (
            b"\n\nAnother ending, all its own: Willow and Tara walked home the long way round, talking.\n"
        )
        (stories / "other" / seed.name).write_bytes(seed.read_bytes() + ending)
    await index_directory(library)
    for p in (stories / "other").iterdir():
        p.unlink()
    (stories / "seeds" / next(TRIO.iterdir()).name).unlink()
    report = await index_directory(library, stories / "seeds")
    assert [p.split("/")[0] for p in report.removed] == ["seeds"]
    still = [p for p in await indexed_paths(library) if p.startswith("other/")]
    assert len(still) == len(list(TRIO.iterdir()))  # outside this run's folder: left alone


@pytest.mark.corpus
def test_killed_run_leaves_a_consistent_index(tmp_path: Path) -> None:
    stories = tmp_path / "stories"
    fill_corpus(stories)
    db_file = tmp_path / "lib.db"
    command = [
        sys.executable,
        str(ROOT / "bot.py"),
        "--db",
        str(db_file),
        "--stories",
        str(stories),
        "index",
        "--quiet",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if db_file.exists():
                try:
                    with sqlite3.connect(db_file, timeout=1) as conn:
                        stored = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
                except sqlite3.OperationalError:  # schema not there yet
                    stored = 0
            if stored >= 20:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"the index run ended before it could be killed: {proc.stderr.read()!r}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    check_integrity(db_file)
    with sqlite3.connect(db_file) as conn:
        partial = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
        partial_files = conn.execute("SELECT count(*) FROM story_files").fetchone()[0]
    assert 20 <= partial < len(story_files(stories))

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    check_integrity(db_file)
    with sqlite3.connect(db_file) as conn:
        paths = [row[0] for row in conn.execute("SELECT path FROM story_files")]
        stored = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
        fts_rows = conn.execute("SELECT count(*) FROM story_fts").fetchone()[0]
    assert sorted(paths) == sorted(story_files(stories))
    assert fts_rows == stored
    assert f"added: {stored - partial}" in done.stdout
    assert f"unchanged: {partial_files}" in done.stdout


async def test_a_missing_story_folder_is_an_error_not_a_mass_delete(library: Any) -> None:
    stories = seed_archive(library)
    await index_directory(library)
    shutil.rmtree(stories)
    with pytest.raises(FileNotFoundError):
        await index_directory(library)
    with pytest.raises(FileNotFoundError):
        await index_directory(library, library.settings.removed_dir)  # outside the story folder
    assert len(await indexed_paths(library)) == len(list(TRIO.iterdir()))


async def test_worker_processes_parse_like_the_thread(
    library: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import service.parsing

    stories = seed_archive(library)
    in_thread = await index_directory(library)
    async with library.sessions() as s:
        expected = {row.path: (row.title, row.meta) for row in await s.scalars(select(Story))}
    for p in stories.rglob("*.txt"):
        p.write_bytes(p.read_bytes() + b"\n")
    monkeypatch.setattr(service.parsing, "PROCESS_POOL_BYTES", 0)  # big-run mode for a small run
    with caplog.at_level("WARNING", logger="service.parsing"):
        in_processes = await index_directory(library)
    assert "thread" not in caplog.text  # no fallback: the worker processes did the parsing
    assert sorted(in_processes.updated) == sorted(in_thread.added) and in_processes.failed == []
    async with library.sessions() as s:
        got = {row.path: (row.title, row.meta) for row in await s.scalars(select(Story))}
    assert {p: t for p, (t, _) in got.items()} == {p: t for p, (t, _) in expected.items()}
    assert all(got[p][1]["relationships"] == expected[p][1]["relationships"] for p in got)

    for n in range(12):  # new stories get ids in path order, even from parallel workers
        shutil.copy(next(TRIO.iterdir()), stories / f"batch-{n:02d}.txt")
    await index_directory(library)
    async with library.sessions() as s:
        rows = (await s.execute(select(Story.path, Story.id).where(Story.path.like("batch-%")))).all()
    assert [sid for _, sid in sorted(rows)] == sorted(sid for _, sid in rows)
