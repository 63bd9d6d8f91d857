"""The Librarian service context: one object holding the engine, session factory, roster and the
archive's in-memory views (`lib.views`, see `service.views`), shared by the bot and the CLI.

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
from service.views import ArchiveViews
from settings import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Library:
    """Everything a command needs to answer: settings, database, roster, the archive's views."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    roster: Roster
    views: ArchiveViews

    @classmethod
    async def open(cls, settings: Settings, *, load_titles: bool = True) -> Library:
        """Connect, apply migrations, load the roster and (by default) the title index now; without
        it the views are built on first use."""
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        roster = Roster.load(settings.roster_file)
        sessions = create_sessionmaker(engine)
        lib = cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            roster=roster,
            views=ArchiveViews(sessions, roster),
        )
        if load_titles:
            await lib.views.refresh(force=True)
        return lib

    @property
    def titles(self) -> TitleIndex:
        """The title index as it is now; service code asks `await lib.views.title_index()`."""
        return self.views.titles

    async def refresh(self) -> None:
        """Bring every in-memory view in step with the archive now (after this process changed it:
        an index run, a curation). Other processes' changes are noticed without it."""
        await self.views.refresh(force=True)

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
