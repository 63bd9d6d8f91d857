"""A real PostgreSQL server for the database tests: throwaway databases on the server named by
`LIBRARIAN_TEST_DATABASE_URL` (`.ci/postgres.sh start` prints one), cloned from templates so a
migrated (or indexed) database costs one `CREATE DATABASE ... TEMPLATE`.

Owns only creating and dropping those databases. Without the variable the PostgreSQL variants skip
with a reason, except when `LIBRARIAN_REQUIRE_POSTGRES=1` (set by `.ci/run` when it starts one),
where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy.engine import URL, make_url

ENV = "LIBRARIAN_TEST_DATABASE_URL"
DB_MODULES = frozenset(
    {
        "test_curate",
        "test_dailyrec",
        "test_db_schema",
        "test_fts",
        "test_index_batches",
        "test_indexer",
        "test_recs",
        "test_search",
        "test_search_answers",
        "test_store",
        "test_stories",
        "test_titles",
        "test_cli_query",
        "test_copy_archive",
    }
)
"""Test modules whose database tests run once per backend (the cog and e2e tests use SQLite)."""


def server_url() -> URL | None:
    """The test server's URL (its maintenance database), or None when none is configured."""
    value = os.environ.get(ENV, "").strip()
    return make_url(value) if value else None


def require_server() -> URL:
    """The server URL; skips the test when there is none (fails instead when one is required)."""
    url = server_url()
    if url is None:
        message = f"no PostgreSQL test server ({ENV} is unset; .ci/postgres.sh start DIR prints one)"
        if os.environ.get("LIBRARIAN_REQUIRE_POSTGRES", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + " but LIBRARIAN_REQUIRE_POSTGRES asks for the PostgreSQL tests")
        pytest.skip(message)
    return url


async def _admin(url: URL):  # type: ignore[no-untyped-def]
    import asyncpg

    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.query.get("host") or url.host,
        port=url.port,
        database=url.database or "postgres",
    )


async def create_database(template: str | None = None, name: str | None = None) -> str:
    """A new, empty (or `template`-cloned) database; returns its SQLAlchemy URL."""
    url = require_server()
    name = name or f"t_{uuid.uuid4().hex[:16]}"
    conn = await _admin(url)
    try:
        clone = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clone}')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_database(db_url: str) -> None:
    """Drop a database made by `create_database` (closing whatever still connects to it)."""
    url = require_server()
    name = make_url(db_url).database
    conn = await _admin(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def empty_database(db_url: str) -> None:
    """Empty every table of a migrated database (ids restart), keeping what the migrations
    themselves put there: the schema version and the seeded bookkeeping rows (`db.copy.SEEDED`:
    the change counter's one row, without which no write would ever reach the views)."""
    from db.copy import SEEDED

    keep = ["alembic_version", *sorted(SEEDED)]
    url = make_url(db_url)
    conn = await _admin(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND NOT (tablename = ANY($1::text[]))",
            keep,
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
