"""Backups a host can trust: `bot.py backup FILE` is a consistent copy taken while another process
writes, and `export` / `import` carry everything people made (corrections, removals, the audit
trail, daily rec settings, members' shelves, kudos, reading places and privacy) into a wiped archive
rebuilt by a fresh index of the same stories."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import (
    DailyRecConfig,
    Kudos,
    MemberPrefs,
    Override,
    ReadingPosition,
    RecHistory,
    ShelfEntry,
    Story,
)
from service import curate, kudos, positions, shelves
from service.backup import BackupError, backup_database, export_archive, import_archive
from service.curate import Actor
from service.dailyrec import DailyRecService
from service.indexer import index_directory
from service.library import Library
from service.stories import find_title
from tests.conftest import SAMPLES_DIR, make_settings
from tests.test_dailyrec import FakePublisher
from tests.test_writers import write_archive

MOD = Actor(7001, "Mod Mia", 42)
GUILD, CHANNEL = 42, 555
UPLOAD = (
    "Title: Kept Through the Wipe\nAuthor: Backup Host\nRating: PG\n\n~*~\n\n"
    + "Willow saved every spell twice, once on paper and once on the library computer. " * 30
)


async def _people_made(lib: Library) -> dict[str, object]:
    """What people made, keyed by what the stories are (path), never by database id."""
    async with lib.sessions() as session:
        stories = {s.id: s for s in (await session.scalars(select(Story))).all()}
        overrides = sorted(
            (stories[o.story_id].path, o.field, json.dumps(o.value), o.actor_name)
            for o in (await session.scalars(select(Override))).all()
        )
        removed = sorted(
            (s.path, s.removed_path, s.removed_at.replace(tzinfo=None))
            for s in stories.values()
            if s.removed_at is not None
        )
        daily = [
            (d.guild_id, d.channel_id, d.post_time, d.timezone, d.max_rating, d.filters, d.enabled, d.cycle,
             d.last_post_date, stories[d.last_story_id].path if d.last_story_id else None)
            for d in (await session.scalars(select(DailyRecConfig))).all()
        ]  # fmt: skip
        posts = sorted(
            (h.place, stories[h.story_id].path, h.cycle, h.at.replace(tzinfo=None))
            for h in (await session.scalars(select(RecHistory).where(RecHistory.kind == "daily"))).all()
        )
        titles = sorted((s.path, s.title, s.author) for s in stories.values())
        shelved = sorted(
            (e.member_id, e.shelf, e.label, stories[e.story_id].path, e.added_at.replace(tzinfo=None))
            for e in (await session.scalars(select(ShelfEntry))).all()
        )
        given = sorted(
            (k.member_id, stories[k.story_id].path, k.at.replace(tzinfo=None))
            for k in (await session.scalars(select(Kudos))).all()
        )
        places = sorted(
            (p.member_id, stories[p.story_id].path, p.part, p.total)
            for p in (await session.scalars(select(ReadingPosition))).all()
        )
        prefs = sorted(
            (m.member_id, m.shelves_public) for m in (await session.scalars(select(MemberPrefs))).all()
        )
    trail = [
        (r.at.replace(tzinfo=None), r.actor_name, r.action, r.story_title, r.detail,
         stories[r.story_id].path if r.story_id in stories else None)
        for r in await curate.history(lib)
    ]  # fmt: skip
    return {
        "overrides": overrides,
        "removed": removed,
        "daily": daily,
        "posts": posts,
        "titles": titles,
        "trail": trail,
        "shelves": shelved,
        "kudos": given,
        "positions": places,
        "prefs": prefs,
    }


async def _made_by_people(lib: Library) -> None:
    hits = {t: (await find_title(lib, t))[0].id for t in ("Late Shift", "The Frost Spell", "Second Cup")}
    await curate.edit_story(lib, hits["Late Shift"], "author", "Corrected Author", MOD)
    await curate.edit_story(lib, hits["Late Shift"], "relationships", "Willow/Tara", MOD)
    await curate.edit_story(lib, hits["The Frost Spell"], "title", "The Frost Spell (revised)", MOD)
    for member, shelf in ((501, None), (501, "Comfort Reads"), (502, "to-read")):
        await shelves.add(lib, member, hits["Late Shift"], shelf)
    await shelves.add(lib, 502, hits["Second Cup"], "Cozy")  # a shelved story that is then removed
    await shelves.set_privacy(lib, 501, True)
    for member in (501, 502, 503):
        await kudos.give(lib, member, hits["The Frost Spell"])
    await kudos.give(lib, 502, hits["Second Cup"])
    await positions.remember(lib, 501, hits["The Frost Spell"], 2, 5)
    await curate.remove_story(lib, hits["Second Cup"], MOD)
    upload = await curate.prepare_add(lib, "kept.txt", UPLOAD.encode(), {"rating": "Teen"})
    await curate.commit_add(lib, upload, MOD)
    service = DailyRecService(lib, FakePublisher())
    now = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    await service.configure(
        GUILD, CHANNEL, "09:00", "Europe/London", updated_by="Mod Mia", now=now - timedelta(days=2)
    )
    await service.run_due(now - timedelta(days=1))
    await service.run_due(now)


def _wipe(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def test_export_wipe_fresh_index_import_gives_back_everything(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    shutil.copytree(SAMPLES_DIR, settings.stories_dir / "samples")
    lib = await Library.open(settings)
    try:
        await index_directory(lib)
        await _made_by_people(lib)
        before = await _people_made(lib)
        data = json.loads(json.dumps(await export_archive(lib)))  # through JSON text, as a file
    finally:
        await lib.close()
    assert all(before.values()), [key for key, value in before.items() if not value]

    # The wipe: the database is gone; the stories, the uploads and the removed folder are still there.
    _wipe(Path(settings.database_url.split(":///", 1)[1]))
    lib = await Library.open(settings)
    try:
        fresh = await index_directory(lib)
        assert fresh.failed == []
        report = await import_archive(lib, data)
        assert report.unmatched == [], report.summary()
        after = await _people_made(lib)
        for key in before:
            assert after[key] == before[key], key
        # Search sees the corrections, not the parser's view, and the removed story stays out.
        assert [h.author for h in await find_title(lib, "Late Shift")] == ["Corrected Author"]
        [removed] = [p for p, *_ in after["removed"]]  # type: ignore[misc]
        removed_id = await curate.resolve_removed(lib, "Second Cup")
        assert removed_id not in [h.id for h in await find_title(lib, "Second Cup")]
        restored = await curate.restore_story(lib, removed_id, MOD)
        assert restored.path == removed

        # Importing the same file twice adds nothing twice.
        again = await import_archive(lib, data)
        assert again.counts["audit"] == 0 and again.counts["daily_posts"] == 0
        assert again.counts["shelves"] == 0 and again.counts["kudos"] == 0
        again_made = await _people_made(lib)
        for key in ("shelves", "kudos", "positions", "prefs", "overrides", "daily", "posts"):
            assert again_made[key] == before[key], key
        # The members' lists work again through the service, on the new ids.
        frost = (await find_title(lib, "The Frost Spell (revised)"))[0].id
        assert await kudos.count(lib, frost) == 3
        assert await positions.position(lib, 501, frost) == (2, 5)
        assert await shelves.is_public(lib, 501) and not await shelves.is_public(lib, 502)
    finally:
        await lib.close()


async def test_import_refuses_what_is_not_an_export(library: Library) -> None:
    with pytest.raises(BackupError, match="not a Librarian export"):
        await import_archive(library, {"stories": {}})
    report = await import_archive(
        library,
        {
            "librarian_export": 1,
            "bookmarks": [{"x": 1}],
            "shelves": [{"x": 1}, {"member_id": 5, "story": "s9"}],
            "kudos": [{}, 7],
        },
    )
    assert "'bookmarks' is not known" in report.summary()
    assert report.counts["shelves"] == 0 and report.counts["kudos"] == 0


async def test_backup_is_a_consistent_copy_while_another_process_writes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_archive(settings.stories_dir, 400)
    lib = await Library.open(settings)
    writer = await Library.open(settings)  # the bot, indexing while the host backs up
    try:
        indexing = asyncio.create_task(index_directory(writer))
        await asyncio.sleep(0.5)
        target = tmp_path / "backups" / "librarian-1.db"
        size = await backup_database(lib, target)
        await indexing
        assert size == target.stat().st_size > 0
        copy = sqlite3.connect(target)
        try:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            copy.execute("INSERT INTO story_fts(story_fts, rank) VALUES ('integrity-check', 1)")
            stories = copy.execute("SELECT count(*) FROM stories").fetchone()[0]
            texts = copy.execute("SELECT count(*) FROM story_texts").fetchone()[0]
        finally:
            copy.close()
        assert stories == texts and 0 <= stories <= 400  # whole stories only, however far it got
        with pytest.raises(BackupError, match="exists already"):
            await backup_database(lib, target)
        await backup_database(lib, target, overwrite=True)
        restored = await Library.open(
            make_settings(tmp_path / "restored").with_(database_url=f"sqlite+aiosqlite:///{target}")
        )
        try:
            assert (await find_title(restored, "Counting Book 399"))[0].title == "Counting Book 399"
        finally:
            await restored.close()
    finally:
        await lib.close()
        await writer.close()


async def test_backup_refuses_to_overwrite_the_archive_itself(library: Library) -> None:
    with pytest.raises(BackupError, match="another file"):
        await backup_database(library, Path(library.settings.database_url.split(":///", 1)[1]))
