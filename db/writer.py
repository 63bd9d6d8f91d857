"""Running synchronous store functions a transaction (or a batch of savepoints) at a time.

Owns the `Writer`: on SQLite it runs `fn(session, *args)` through a synchronous engine in one
dedicated thread (one event-loop hop per transaction instead of one per statement); elsewhere it
runs them through the async session factory. It knows nothing about files, parsing or what to
index (that is `service.indexer`), and never imports Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import sessionmaker

from db.engine import create_sync_engine, sync_sqlite_url

log = logging.getLogger(__name__)

T = TypeVar("T")


class Writer:
    """Runs `fn(session, *args)` in its own transaction, committed on success, rolled back on error."""

    def __init__(self, database_url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._async_sessions = sessions
        url = sync_sqlite_url(database_url)
        self._engine = create_sync_engine(url) if url else None
        self._sessions = sessionmaker(self._engine, expire_on_commit=False) if self._engine else None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="index-writer") if self._engine else None

    def _in_tx(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        assert self._sessions is not None
        with self._sessions.begin() as session:
            return fn(session, *args)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """One transaction around `fn(session, *args)`, off the event loop where possible."""
        if self._thread is None:
            async with self._async_sessions() as session, session.begin():
                return await session.run_sync(fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._in_tx, fn, args)

    def _batch_in_tx(self, fn: Callable[..., T], items: list[tuple[Any, ...]]) -> list[T | Exception]:
        assert self._sessions is not None
        results: list[T | Exception] = []
        with self._sessions.begin() as session:
            for args in items:
                try:
                    with session.begin_nested():  # a SAVEPOINT: one bad story leaves the rest
                        results.append(fn(session, *args))
                except Exception as exc:
                    results.append(exc)
        return results

    async def run_batch(self, fn: Callable[..., T], items: list[tuple[Any, ...]]) -> list[T | Exception]:
        """`fn(session, *args)` for each args in `items`, all in ONE transaction, each in its own
        savepoint: an exception rolls back (and is returned for) that item only.

        A killed run still leaves a consistent index: the batch commits whole or not at all.
        Fewer, larger transactions save the per-commit work (WAL frames, FTS5 segment flushes).
        """
        if self._thread is None:
            return [await self._settled(fn, args) for args in items]
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, self._batch_in_tx, fn, items)
        except Exception as exc:  # the transaction itself failed: store them one by one as before
            log.warning("a batch of %s stories failed (%s); storing them one by one", len(items), exc)
            return [await self._settled(fn, args) for args in items]

    async def _settled(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T | Exception:
        try:
            return await self.run(fn, *args)
        except Exception as exc:
            return exc

    async def close(self) -> None:
        """Finish pending writes and close the writer's connections."""
        if self._thread is not None:
            await asyncio.to_thread(self._thread.shutdown, wait=True)
        if self._engine is not None:
            self._engine.dispose()

    async def __aenter__(self) -> Writer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
