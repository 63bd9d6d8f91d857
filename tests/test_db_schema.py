"""The migrated schema: it matches `db/models.py` on SQLite and PostgreSQL, upgrading is idempotent,
data survives, downgrading removes everything, and the engine sets Librarian's SQLite pragmas."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_sessionmaker
from db.migrate import alembic_config, upgrade
from db.models import Base, Story
from db.store import stored_files

FTS_OBJECTS = {
    ("table", "story_fts"),
    ("table", "story_about"),
    ("trigger", "story_texts_ai"),
    ("trigger", "story_texts_ad"),
    ("trigger", "story_texts_au"),
}


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _describe(engine: AsyncEngine) -> dict[str, dict]:
    def describe(sync_conn) -> dict[str, dict]:
        insp = inspect(sync_conn)
        out = {}
        for table in insp.get_table_names():
            out[table] = {
                "columns": {c["name"]: c["nullable"] for c in insp.get_columns(table)},
                "pk": insp.get_pk_constraint(table)["constrained_columns"],
                "indexes": {
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(table)
                    if not i.get("duplicates_constraint")  # PostgreSQL: a UNIQUE constraint's own index
                },
            }
        return out

    async with engine.connect() as conn:
        return await conn.run_sync(describe)


async def _master(engine: AsyncEngine) -> list[tuple]:
    async with engine.connect() as conn:
        return (
            await conn.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY type, name"))
        ).all()


FULL_TEXT_EXTRAS = {"tsv", "ix_story_texts_tsv", "about_tsv", "ix_story_texts_about_tsv"}
"""PostgreSQL's full-text columns and indexes on story_texts (made by the migrations, not the models)."""


async def test_migrated_schema_matches_models(blank_database_url: str) -> None:
    engine = create_engine(blank_database_url)
    try:
        await upgrade(engine)
        schema = await _describe(engine)
    finally:
        await engine.dispose()
    for table in Base.metadata.sorted_tables:
        assert table.name in schema, f"migration lacks table {table.name}"
        got = schema[table.name]
        got["columns"] = {k: v for k, v in got["columns"].items() if k not in FULL_TEXT_EXTRAS}
        got["indexes"] = {i for i in got["indexes"] if i[0] not in FULL_TEXT_EXTRAS}
        assert got["columns"] == {c.name: c.nullable for c in table.columns}, table.name
        assert got["pk"] == [c.name for c in table.primary_key], table.name
        want = {(i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes}
        assert got["indexes"] == want, table.name
    extra = {
        t
        for t in schema
        if t not in Base.metadata.tables and not t.startswith(("story_fts", "story_about", "story_pairs"))
    }
    assert extra == {"alembic_version"}


async def test_fts_table_and_triggers_exist(tmp_path: Path) -> None:
    engine = create_engine(_url(tmp_path / "db.sqlite"))
    try:
        await upgrade(engine)
        objects = {(kind, name) for kind, name, _ in await _master(engine)}
    finally:
        await engine.dispose()
    assert objects >= FTS_OBJECTS


async def test_upgrade_twice_is_a_no_op_and_data_survives(blank_database_url: str) -> None:
    url = blank_database_url
    engine = create_engine(url)
    await upgrade(engine)
    before = await _describe(engine)
    async with create_sessionmaker(engine)() as session, session.begin():
        session.add(
            Story(path="a.txt", file_hash="0" * 64, format="markdown", title="Kept", title_key="kept")
        )
    await engine.dispose()

    engine = create_engine(url)  # a restart: a new engine on the existing file
    try:
        await upgrade(engine)
        await upgrade(engine)
        assert await _describe(engine) == before
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        async with create_sessionmaker(engine)() as session:
            files = await stored_files(session)
    finally:
        await engine.dispose()
    assert versions == [ScriptDirectory.from_config(alembic_config()).get_current_head()]
    assert list(files) == ["a.txt"]


async def test_engine_sets_pragmas_and_creates_the_folder(tmp_path: Path) -> None:
    db_file = tmp_path / "nested" / "deeper" / "db.sqlite"
    engine = create_engine(_url(db_file))
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("foreign_keys", "journal_mode", "synchronous", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert db_file.parent.is_dir()
    assert pragmas["foreign_keys"] == 1
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["synchronous"] == 1  # NORMAL
    assert pragmas["busy_timeout"] > 0


async def test_sessions_keep_objects_readable_after_commit(tmp_path: Path) -> None:
    engine = create_engine(_url(tmp_path / "db.sqlite"))
    try:
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            story = Story(
                path="b.txt", file_hash="1" * 64, format="markdown", title="Readable", title_key="readable"
            )
            session.add(story)
            await session.commit()
            assert story.title == "Readable"  # no lazy refresh needed (expire_on_commit=False)
    finally:
        await engine.dispose()


async def test_the_change_counter_moves_with_every_write_and_only_then(blank_database_url: str) -> None:
    from sqlalchemy import update

    from db.changes import change_count

    engine = create_engine(blank_database_url)
    sessions = create_sessionmaker(engine)
    try:
        await upgrade(engine)
        async with sessions() as session:
            start = await change_count(session)
        async with sessions() as session, session.begin():
            story = Story(path="c.txt", file_hash="2" * 64, format="markdown", title="One", title_key="one")
            session.add(story)
        async with sessions() as session:
            added = await change_count(session)
            assert await change_count(session) == added  # reading moves nothing
        async with sessions() as session, session.begin():
            await session.execute(update(Story).values(title="Two"))  # in place: same id, same count
        async with sessions() as session:
            edited = await change_count(session)
    finally:
        await engine.dispose()
    assert start < added < edited


async def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds(blank_database_url: str) -> None:
    from alembic import command

    engine = create_engine(blank_database_url)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        assert set(await _describe(engine)) == {"alembic_version"}
        await upgrade(engine)
        assert set(await _describe(engine)) >= {t.name for t in Base.metadata.sorted_tables}
    finally:
        await engine.dispose()


async def test_an_archive_from_before_deferred_full_text_upgrades_whole(tmp_path: Path) -> None:
    """Migration 0005 only swaps the full-text triggers: stories indexed before it stay searchable,
    and stories written after it are indexed too."""
    from db.fts import check_index, match_ids

    engine = create_engine(_url(tmp_path / "db.sqlite"))
    try:
        await upgrade(engine, "0004")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO stories (id, path, file_size, file_mtime, file_hash, format, title, "
                    "title_key, rating_level, rating_rank, words, meta, problems, added_at, indexed_at) "
                    "VALUES (1, 'old.txt', 0, 0, '', 'txt', 'Old', 'old', 'general', 0, 2, '{}', '[]', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            await conn.execute(
                text("INSERT INTO story_texts VALUES (1, 'Old', '', '', '', 'the hellmouth yawned')")
            )
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                text("UPDATE story_texts SET body = 'the hellmouth closed' WHERE story_id = 1")
            )
        async with create_sessionmaker(engine)() as session:
            await check_index(session)
            assert await match_ids(session, "hellmouth") == [1]
            assert await match_ids(session, "yawned") == []
            assert await match_ids(session, "closed") == [1]
    finally:
        await engine.dispose()


async def test_the_about_index_is_filled_for_an_archive_from_before_it(blank_database_url: str) -> None:
    """Migration 0006 indexes what every existing story says it is about, keeps both full-text
    indexes in step afterwards, and goes back to 0005 cleanly (both engines)."""
    from alembic import command

    from db.about import about_search
    from db.fts import check_index, match_ids

    engine = create_engine(blank_database_url)
    sessions = create_sessionmaker(engine)
    try:
        await upgrade(engine, "0005")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO stories (id, path, file_size, file_mtime, file_hash, format, title, "
                    "title_key, rating_level, rating_rank, words, meta, problems, added_at, indexed_at) "
                    "VALUES (1, 'old.txt', 0, 0, '', 'txt', 'Old Moon', 'old moon', 'general', 0, 2, '{}', "
                    "'[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO story_texts (story_id, title, author, summary, tags, body) "
                    "VALUES (1, 'Old Moon', 'quill', 'a crypt at dawn', 'angst', 'the hellmouth yawned')"
                )
            )
        await upgrade(engine)
        async with sessions() as session:
            assert [sid for sid, _ in await about_search(session, "crypt OR moon", 5)] == [1]
            assert await about_search(session, "hellmouth", 5) == []
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE story_texts SET summary = 'a tower' WHERE story_id = 1"))
        async with sessions() as session:
            await check_index(session)
            assert await about_search(session, "crypt", 5) == []
            assert [sid for sid, _ in await about_search(session, "tower", 5)] == [1]
            assert await match_ids(session, "hellmouth") == [1]
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0005"))
        async with sessions() as session, session.begin():
            await session.execute(
                text("UPDATE story_texts SET body = 'the hellmouth closed' WHERE story_id = 1")
            )
        async with sessions() as session:
            assert await match_ids(session, "closed") == [1]
    finally:
        await engine.dispose()
