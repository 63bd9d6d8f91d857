"""`bot.py copy-archive`: an archive with curation, an audit trail, rec history and daily rec state
moves from SQLite to PostgreSQL and back unchanged (counts and checksums), searches the same on
the copy, and a target that already holds an archive is refused unless replaced."""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

import cli.copy
from db.copy import CopyError, copy_archive
from db.engine import create_engine, create_sessionmaker
from db.fts import PG_INDEX, check_index
from db.models import IndexFailure, RecHistory, Story
from service import curate
from service.dailyrec import DailyRecService
from service.library import Library
from service.query import SearchQuery
from service.search import search
from service.uploads import Actor
from tests.conftest import make_settings
from tests.pg import create_database, drop_database

MOD = Actor(7001, "Mod Mia", 42)
# the source archive is SQLite; the PostgreSQL targets are explicit
pytestmark = [pytest.mark.sqlite_only, pytest.mark.postgres]


class _Publisher:
    async def channel_nsfw(self, channel_id: int) -> bool:
        return False

    async def publish(self, config: Any, story_id: int, reason: str | None = None) -> None:
        return None


async def _curated(lib: Library) -> None:
    """Give the archive everything a server accumulates besides stories."""
    async with lib.sessions() as s:
        ids = list(await s.scalars(select(Story.id).order_by(Story.id).limit(3)))
    await curate.edit_story(lib, ids[0], "rating", "Mature", MOD)
    await curate.edit_story(lib, ids[1], "characters", "Willow Rosenberg, Dawn Summers", MOD)
    await curate.remove_story(lib, ids[2], MOD)
    svc = DailyRecService(lib, _Publisher(), rng=random.Random(3))
    await svc.configure(42, 555, "09:00", "Europe/London", now=datetime(2026, 5, 4, tzinfo=UTC))
    await svc.run_due(datetime(2026, 5, 5, 9, 0, 1, tzinfo=UTC))
    async with lib.transaction() as s:
        s.add(RecHistory(place="channel:9", story_id=ids[0], kind="rec", cycle=0))
        s.add(IndexFailure(path="broken/one.txt", reason="the file is empty"))


async def _answers(url: str, tmp: Path) -> list[Any]:
    lib = await Library.open(make_settings(tmp, database_url=url))
    try:
        out = []
        for q in (
            SearchQuery(text="vampire OR slayer", sort="title"),
            SearchQuery(characters=["Willow"]),
        ):
            result = await search(lib, q)
            out.append((result.total, [h.id for h in result.hits]))
        return out
    finally:
        await lib.close()


async def _full_text_index_is_back(url: str) -> None:
    """The copy loads story_texts without its GIN index and builds it once at the end: it is there,
    valid, used by a full-text query, and check_index notices when it is not."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            await check_index(session, recompute=False)
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                (
                    await session.execute(
                        text("EXPLAIN SELECT story_id FROM story_texts WHERE tsv @@ 'willow'::tsquery")
                    )
                ).scalars()
            )
            assert PG_INDEX in plan
            await session.execute(text(f"DROP INDEX {PG_INDEX}"))
            with pytest.raises(RuntimeError, match="missing or invalid"):
                await check_index(session, recompute=False)
            await session.rollback()
    finally:
        await engine.dispose()


async def test_sqlite_to_postgresql_and_back_is_the_same_archive(
    archive_library: Any, tmp_path: Path
) -> None:
    lib: Library = archive_library
    await _curated(lib)
    source = lib.settings.database_url
    expected = await _answers(source, tmp_path / "a")
    await lib.close()

    pg = await create_database()
    try:
        there = await copy_archive(source, pg)
        names = {t.name: t.rows for t in there}
        assert names["stories"] >= 5 and names["story_texts"] == names["stories"]
        assert all(
            names[t] >= 1 for t in ("overrides", "audit_log", "rec_history", "daily_rec", "index_failures")
        )
        assert await _answers(pg, tmp_path / "b") == expected
        await _full_text_index_is_back(pg)

        back_url = f"sqlite+aiosqlite:///{tmp_path / 'back.db'}"
        back = await copy_archive(pg, back_url)
        assert [(t.name, t.rows, t.checksum) for t in back] == [(t.name, t.rows, t.checksum) for t in there]
        assert await _answers(back_url, tmp_path / "c") == expected

        # new rows after the copy get fresh ids on PostgreSQL (the sequences moved past the copied ids)
        moved = await Library.open(make_settings(tmp_path / "d", database_url=pg))
        try:
            async with moved.transaction() as s:
                row = RecHistory(place="cli", story_id=1, kind="rec", cycle=0)
                s.add(row)
                await s.flush()
                assert row.id > names["rec_history"]
        finally:
            await moved.close()

        with pytest.raises(CopyError, match="already holds an archive"):
            await copy_archive(source, pg)
        again = await copy_archive(back_url, pg, replace=True)
        assert [t.checksum for t in again] == [t.checksum for t in there]
    finally:
        await drop_database(pg)


async def test_the_cli_copies_and_reports(archive_library: Any, tmp_path: Path, capsys: Any) -> None:
    lib: Library = archive_library
    await lib.close()
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    parser.add_argument("--stories")
    parser.add_argument("--roster")
    cli.copy.register(parser.add_subparsers(dest="command"))
    target = tmp_path / "copy.db"
    args = parser.parse_args(["--db", lib.settings.database_url, "copy-archive", "--to", str(target)])
    assert await args.handler(args) == 0
    out = capsys.readouterr().out
    assert "verified:" in out and "stories" in out
    args = parser.parse_args(["--db", lib.settings.database_url, "copy-archive", "--to", str(target)])
    assert await args.handler(args) == 1
    assert "--replace" in capsys.readouterr().err
