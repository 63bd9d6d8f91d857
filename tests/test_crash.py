"""Crash anywhere, consistent after: a real process is killed (SIGKILL, through the
LIBRARIAN_CRASH_AT test hook) in the middle of an add, a remove, a restore, an index run and a daily
rec post; after a restart `bot.py check --repair` (what the bot runs at start) brings the files and
the index back into agreement, the full-text index checks out, and no daily rec goes out twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from db.fts import FTS_TABLE
from db.models import AuditEntry, Story
from service import curate
from service.check import check_archive
from service.curate import Actor
from service.dailyrec import DailyRecService
from service.indexer import index_directory
from service.library import Library
from service.stories import find_title, story_card
from settings import ROOT
from tests.conftest import SAMPLES_DIR, make_settings
from tests.test_dailyrec import CHANNEL, GUILD, FakePublisher, add_stories
from tests.test_writers import write_archive

KILLED = -signal.SIGKILL
MOD = Actor(7001, "Mod Mia", 42)
STORY = (
    "Title: Interrupted Twice\nAuthor: Crash Tester\nRating: PG\n\n~*~\n\n"
    + "Buffy held the door while the lights went out across the whole of Sunnydale. " * 30
)


def bot(tmp: Path, *args: str | Path, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """`bot.py ARGS` over the archive in `tmp`, killing itself at `crash_at` when given."""
    env = {**os.environ, "DATA_DIR": str(tmp), "REMOVED_DIR": str(tmp / "removed")}
    env.pop("LIBRARIAN_CRASH_AT", None)
    if crash_at:
        env["LIBRARIAN_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--db", tmp / "librarian.db", "--stories", tmp / "stories"]
        + [str(a) for a in args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        stdin=subprocess.DEVNULL,
    )


async def _open(tmp: Path) -> Library:
    return await Library.open(make_settings(tmp))


async def _samples(tmp: Path) -> None:
    settings = make_settings(tmp)
    shutil.copytree(SAMPLES_DIR, settings.stories_dir / "samples")
    lib = await Library.open(settings)
    try:
        await index_directory(lib)
    finally:
        await lib.close()


async def _fts_ok(lib: Library) -> None:
    async with lib.transaction() as session:
        await session.execute(
            text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
        )


async def _count(lib: Library) -> int:
    async with lib.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Story)) or 0)


@pytest.mark.parametrize("point", ["add:after-write", "add:before-commit"])
async def test_killed_during_an_add_the_upload_is_stored_at_restart(tmp_path: Path, point: str) -> None:
    await _samples(tmp_path)
    incoming = tmp_path / "interrupted.txt"
    incoming.write_text(STORY, encoding="utf-8")
    died = bot(tmp_path, "add", incoming, "--yes", crash_at=point)
    assert died.returncode == KILLED, died.stderr
    assert (tmp_path / "uploads" / "interrupted.txt").exists()  # the file, and no story for it

    found = bot(tmp_path, "check")
    assert found.returncode == 1 and "unstored-upload" in found.stdout, found.stdout
    mended = bot(tmp_path, "check", "--repair")
    assert mended.returncode == 0, mended.stdout + mended.stderr
    again = bot(tmp_path, "check")
    assert again.returncode == 0 and "consistent" in again.stdout

    lib = await _open(tmp_path)
    try:
        [hit] = await find_title(lib, "Interrupted Twice")
        history = await curate.history(lib, hit.id)
        assert [(r.actor_name, r.action) for r in history] == [("librarian:check", "add")]
        assert (await index_directory(lib)).removed == []
        await _fts_ok(lib)
    finally:
        await lib.close()


async def test_a_half_written_upload_is_cleared(tmp_path: Path) -> None:
    lib = await _open(tmp_path)
    try:
        part = lib.settings.uploads_dir / ".cut-short.txt.part"
        part.parent.mkdir(parents=True)
        part.write_text(STORY[:100], encoding="utf-8")
        report = await check_archive(lib, repair=True)
        assert [f.kind for f in report.findings] == ["partial-upload"] and report.clean
        assert not part.exists() and await _count(lib) == 0
    finally:
        await lib.close()


async def test_killed_during_a_remove_the_story_keeps_its_file_and_stays(tmp_path: Path) -> None:
    """Before: the file sat in the removed folder while the story stayed live; the next index took
    the story (and its corrections) out of the archive as deleted."""
    await _samples(tmp_path)
    lib = await _open(tmp_path)
    try:
        [hit] = await find_title(lib, "Late Shift")
        await curate.edit_story(lib, hit.id, "author", "Corrected Author", MOD)
        path = (await story_card(lib, hit.id)).path
    finally:
        await lib.close()
    died = bot(tmp_path, "remove", str(hit.id), "--yes", crash_at="remove:after-move")
    assert died.returncode == KILLED, died.stdout + died.stderr
    assert not (tmp_path / "stories" / path).exists()  # moved aside, the row not yet changed

    mended = bot(tmp_path, "check", "--repair")
    assert mended.returncode == 0 and "interrupted-remove" in mended.stdout, mended.stdout

    lib = await _open(tmp_path)
    try:
        assert (tmp_path / "stories" / path).exists()
        report = await index_directory(lib)
        assert report.removed == [] and report.added == [], report.summary()
        [again] = await find_title(lib, "Late Shift")
        assert again.id == hit.id and again.author == "Corrected Author"
        await _fts_ok(lib)
    finally:
        await lib.close()
    assert bot(tmp_path, "remove", str(hit.id), "--yes").returncode == 0  # and removing works again


async def test_killed_during_a_restore_the_story_can_be_restored_again(tmp_path: Path) -> None:
    await _samples(tmp_path)
    lib = await _open(tmp_path)
    try:
        [hit] = await find_title(lib, "Late Shift")
        path = (await story_card(lib, hit.id)).path
        await curate.remove_story(lib, hit.id, MOD)
    finally:
        await lib.close()
    died = bot(tmp_path, "restore", str(hit.id), crash_at="restore:after-move")
    assert died.returncode == KILLED, died.stdout + died.stderr
    assert (tmp_path / "stories" / path).exists()  # back in place, the row still removed

    mended = bot(tmp_path, "check", "--repair")
    assert mended.returncode == 0 and "interrupted-restore" in mended.stdout, mended.stdout
    assert not (tmp_path / "stories" / path).exists()
    restored = bot(tmp_path, "restore", str(hit.id))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    lib = await _open(tmp_path)
    try:
        assert [h.id for h in await find_title(lib, "Late Shift")] == [hit.id]
        assert (await check_archive(lib)).clean
    finally:
        await lib.close()


@pytest.mark.parametrize("point", ["index:mid-batch", "index:after-batch"])
async def test_killed_during_an_index_the_next_run_completes_it(tmp_path: Path, point: str) -> None:
    settings = make_settings(tmp_path)
    write_archive(settings.stories_dir, 150)  # two batches
    died = bot(tmp_path, "index", "--quiet", crash_at=point)
    assert died.returncode == KILLED, died.stdout + died.stderr
    lib = await _open(tmp_path)
    try:
        assert await _count(lib) == (0 if point == "index:mid-batch" else 100)
        report = await check_archive(lib)
        assert report.clean, report.summary()
        await _fts_ok(lib)
        again = await index_directory(lib)
        assert again.failed == [] and len(again.added) == 150 - (0 if point == "index:mid-batch" else 100)
        assert await _count(lib) == 150
        await _fts_ok(lib)
    finally:
        await lib.close()


async def test_the_full_text_index_out_of_step_is_rebuilt(tmp_path: Path) -> None:
    await _samples(tmp_path)
    lib = await _open(tmp_path)
    try:
        [hit] = await find_title(lib, "Late Shift")
        async with lib.transaction() as session:  # as a crash between the two writes would leave it
            await session.execute(text("DROP TRIGGER story_texts_au"))
            await session.execute(
                text("UPDATE story_texts SET body = 'nothing here' WHERE story_id = :id"), {"id": hit.id}
            )
        report = await check_archive(lib, repair=True)
        assert [f.kind for f in report.findings] == ["fts-out-of-step"] and report.clean
        await _fts_ok(lib)
    finally:
        await lib.close()


async def test_the_start_up_check_reads_the_full_text_rows_and_never_takes_the_write_lock(
    tmp_path: Path,
) -> None:
    """The bot's check (`thorough=False`) leaves FTS5's integrity check out while the full-text
    rows agree with the stories: that check is a write statement, and for its whole run (87 s at
    100,000 stories) every command that writes waited behind it. Read-only statements only."""
    await _samples(tmp_path)
    lib = await _open(tmp_path)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(lib.engine.sync_engine, "before_cursor_execute", record)
    try:
        report = await check_archive(lib, repair=True, files=False, thorough=False)
        assert report.clean and not report.findings
        assert any("quick_check" in s for s in statements) and any("_docsize" in s for s in statements)
        assert not [s for s in statements if "integrity-check" in s or "IMMEDIATE" in s or "INSERT" in s]
    finally:
        event.remove(lib.engine.sync_engine, "before_cursor_execute", record)
        await lib.close()


async def test_the_start_up_check_rebuilds_a_full_text_index_missing_a_story(tmp_path: Path) -> None:
    """When the rows disagree (a story without its full-text entry), the start-up check runs the
    integrity check after all, finds it out of step and rebuilds it."""
    await _samples(tmp_path)
    lib = await _open(tmp_path)
    try:
        [hit] = await find_title(lib, "Late Shift")
        async with lib.transaction() as session:  # the entry goes, the story stays
            await session.execute(
                text(
                    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, author, summary, tags, body) "
                    "SELECT 'delete', story_id, title, author, summary, tags, body FROM story_texts "
                    "WHERE story_id = :id"
                ),
                {"id": hit.id},
            )
        report = await check_archive(lib, repair=True, files=False, thorough=False)
        assert [f.kind for f in report.findings] == ["fts-out-of-step"] and report.clean
        await _fts_ok(lib)
        assert [h.title for h in await find_title(lib, "Late Shift")] == ["Late Shift"]
    finally:
        await lib.close()


DAILY = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import datetime
    from service.dailyrec import DailyRecService
    from service.library import Library
    from tests.conftest import make_settings
    from tests.test_dailyrec import FakePublisher
    from pathlib import Path

    async def main():
        settings = make_settings(Path(sys.argv[1])).with_(crash_at="dailyrec:after-claim")
        lib = await Library.open(settings)
        publisher = FakePublisher()
        await DailyRecService(lib, publisher).run_due(datetime.fromisoformat(sys.argv[2]))
        print("posted", publisher.posts)

    asyncio.run(main())
    """
)


def _daily_process(tmp: Path, now: datetime) -> subprocess.CompletedProcess[str]:
    """A process running the daily rec job that kills itself after claiming the day."""
    return subprocess.run(
        [sys.executable, "-c", DAILY, str(tmp), now.isoformat()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "LIBRARIAN_CRASH_AT"},
    )


async def test_killed_during_a_daily_post_it_never_goes_out_twice(tmp_path: Path) -> None:
    now = datetime(2026, 5, 4, 9, 5, tzinfo=UTC)
    lib = await _open(tmp_path)
    try:
        await add_stories(lib, ["general", "teen", "general"])
        service = DailyRecService(lib, FakePublisher())
        await service.configure(GUILD, CHANNEL, "09:00", "UTC", now=now - timedelta(days=1))
    finally:
        await lib.close()
    died = _daily_process(tmp_path, now)
    assert died.returncode == KILLED and "posted" not in died.stdout, died.stdout + died.stderr

    lib = await _open(tmp_path)
    try:
        publisher = FakePublisher()
        service = DailyRecService(lib, publisher)
        assert await service.run_due(now + timedelta(minutes=1)) == []  # the day was claimed
        assert publisher.posts == []
        await service.run_due(now + timedelta(days=1))
        assert len(publisher.posts) == 1  # the next day posts as usual, once
        await service.run_due(now + timedelta(days=1, minutes=5))
        assert len(publisher.posts) == 1
    finally:
        await lib.close()


async def test_a_clean_archive_checks_clean_and_lists_nothing(tmp_path: Path) -> None:
    await _samples(tmp_path)
    run = bot(tmp_path, "check")
    assert run.returncode == 0 and run.stdout.startswith("consistent:"), run.stdout + run.stderr
    lib = await _open(tmp_path)
    try:
        async with lib.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    finally:
        await lib.close()
