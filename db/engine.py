"""The database engine and session factory: one place that knows how Librarian connects.

Owns the connection settings (for SQLite: the folder is created, foreign keys are enforced, the
journal is WAL with `synchronous=NORMAL`, and a busy timeout lets the bot and the CLI share a file;
for PostgreSQL: a plain `postgresql://` or `postgres://` URL gets the asyncpg driver).
It must not know about tables or queries, and never imports Discord.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another writer before giving up."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def async_url(url: str) -> str:
    """`url` with an async driver: `postgresql://` and `postgres://` become `postgresql+asyncpg://`."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`; SQLite files get their folder created and Librarian's pragmas."""
    url = async_url(url)
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if (
        is_sqlite
        and parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    log.debug("engine created for %s", parsed.render_as_string(hide_password=True))
    return engine


def sync_sqlite_url(url: str) -> str | None:
    """The synchronous (pysqlite) twin of a SQLite URL, or None for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.set(drivername="sqlite").render_as_string(hide_password=False)


def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below takes over


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sync_engine(url: str) -> Engine:
    """A synchronous engine with the same pragmas, for bulk writes from one worker thread.

    On SQLite its transactions start with BEGIN IMMEDIATE: a writer that reads before it writes
    then waits for another writer (busy timeout) instead of failing on a stale snapshot.
    """
    engine = sa_create_engine(url, connect_args={"check_same_thread": False})
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _no_implicit_begin)
        event.listen(engine, "begin", _begin_immediate)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory every service uses: objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
