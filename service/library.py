"""The Librarian service context: one object holding the engine, session factory, roster and the
in-memory title index, shared by the bot and the CLI.

Owns start-up order (engine -> migrations -> roster -> title index) and shutdown. It must not
import Discord. Service functions receive a `Library` (or a session plus the pieces they need).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, AsyncSessionTransaction, async_sessionmaker

from archive.roster import Roster
from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade
from db.retry import begin_write, retry_async
from service.titles import TitleIndex
from settings import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Library:
    """Everything a command needs to answer: settings, database, roster, title index."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    roster: Roster
    titles: TitleIndex

    @classmethod
    async def open(cls, settings: Settings, *, load_titles: bool = True) -> Library:
        """Connect, apply migrations, load the roster and (by default) the title index."""
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        roster = Roster.load(settings.roster_file)
        sessions = create_sessionmaker(engine)
        titles = TitleIndex()
        lib = cls(settings=settings, engine=engine, sessions=sessions, roster=roster, titles=titles)
        if load_titles:
            await lib.reload_titles()
        return lib

    async def reload_titles(self) -> None:
        """Rebuild the in-memory title index from the database (after a bulk index run)."""
        async with self.sessions() as session:
            await self.titles.load(session)
        log.info("title index holds %s titles", len(self.titles))

    async def _open_write(self) -> tuple[AsyncSession, AsyncSessionTransaction]:
        session = self.sessions()
        try:
            tx = await session.begin()
            await begin_write(session)  # SQLite: BEGIN IMMEDIATE waits here for another writer
        except BaseException:
            await session.close()
            raise
        return session, tx

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session with a write transaction open: committed on success, rolled back on error.

        The write lock is taken first (waiting, then retrying, while another process writes: see
        `db.retry`), so the body never meets "database is locked" half-way.
        """
        session, tx = await retry_async(self._open_write, "a write")
        try:
            yield session
        except BaseException:
            await tx.rollback()
            raise
        else:
            await tx.commit()
        finally:
            await session.close()

    async def close(self) -> None:
        """Dispose of the engine (closes every pooled connection)."""
        await self.engine.dispose()
