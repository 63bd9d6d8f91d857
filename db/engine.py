"""The database engine and session factory: one place that knows how Librarian connects.

Owns the connection settings (for SQLite: the folder is created, foreign keys are enforced, the
journal is WAL with `synchronous=NORMAL`, and a busy timeout lets the bot and the CLI share a file).
It must not know about tables or queries, and never imports Discord.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
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


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`; SQLite files get their folder created and Librarian's pragmas."""
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


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory every service uses: objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
