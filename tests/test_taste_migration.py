"""The taste migration (0002) upgrades an archive made at the previous head without losing anything."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from db.engine import create_engine
from db.migrate import alembic_config, upgrade

TASTE_TABLES = {"shelf_entries", "kudos", "reading_positions", "member_prefs"}


def test_one_head_only() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


async def test_an_archive_at_the_previous_head_upgrades_with_its_data(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO stories (path, file_size, file_mtime, file_hash, format, title, title_key,"
                    " rating_level, rating_rank, words, meta, problems, added_at, indexed_at)"
                    " VALUES ('a.txt', 1, 0, :h, 'markdown', 'Kept', 'kept', 'general', 0, 5, '{}', '[]',"
                    " '2026-01-01', '2026-01-01')"
                ),
                {"h": "0" * 64},
            )
            await conn.execute(
                text(
                    "INSERT INTO rec_history (place, story_id, kind, cycle, at) VALUES ('guild:1', 1, 'daily', 1, '2026-01-02')"
                )
            )
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert not TASTE_TABLES & tables
        await upgrade(engine)
        async with engine.begin() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            stories = (await conn.execute(text("SELECT title, words FROM stories"))).all()
            history = (await conn.execute(text("SELECT place, story_id FROM rec_history"))).all()
            hits = (
                await conn.execute(text("SELECT count(*) FROM story_fts WHERE story_fts MATCH 'Kept'"))
            ).scalar()
            await conn.execute(
                text("INSERT INTO kudos (member_id, story_id, at) VALUES (7, 1, '2026-01-03')")
            )
        assert tables >= TASTE_TABLES
        assert stories == [("Kept", 5)] and history == [("guild:1", 1)]
        assert hits == 0  # the FTS table survived the upgrade (the query would fail without it)
    finally:
        await engine.dispose()
