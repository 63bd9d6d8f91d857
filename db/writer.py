"""Running synchronous store functions a transaction (or a batch of savepoints) at a time.

Owns the `Writer`: on SQLite it runs `fn(session, *args)` through a synchronous engine in one
dedicated thread (one event-loop hop per transaction instead of one per statement); elsewhere it
runs them through the async session factory. Each transaction takes the write lock first and
retries while another process holds it, and a batch pauses after committing so a waiting writer
gets in (`db.retry`). It knows nothing about files, parsing or what to
index (that is `service.indexer`), and never imports Discord.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import sessionmaker

from db.crashpoint import crash_point
from db.engine import create_sync_engine, sync_sqlite_url
from db.fts import defer_index, flush_index
from db.retry import is_locked, retry_sync, yield_lock

log = logging.getLogger(__name__)

T = TypeVar("T")


class Writer:
    """Runs `fn(session, *args)` in its own transaction, committed on success, rolled back on error."""

    def __init__(
        self, database_url: str, sessions: async_sessionmaker[AsyncSession], *, crash_at: str | None = None
    ) -> None:
        self._async_sessions = sessions
        self._crash = SimpleNamespace(crash_at=crash_at)  # the LIBRARIAN_CRASH_AT test hook
        url = sync_sqlite_url(database_url)
        self._engine = create_sync_engine(url) if url else None
        self._sessions = sessionmaker(self._engine, expire_on_commit=False) if self._engine else None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="index-writer") if self._engine else None

    def _in_tx(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        assert self._sessions is not None
        sessions = self._sessions

        def attempt() -> T:
            with sessions.begin() as session:
                session.connection()  # BEGIN IMMEDIATE: wait for another writer before any work
                started = time.monotonic()
                result = fn(session, *args)
            yield_lock(time.monotonic() - started)
            return result

        return retry_sync(attempt, "an index write")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """One transaction around `fn(session, *args)`, off the event loop where possible."""
        if self._thread is None:
            async with self._async_sessions() as session, session.begin():
                return await session.run_sync(fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._in_tx, fn, args)

    def _batch_in_tx(self, fn: Callable[..., T], items: list[tuple[Any, ...]]) -> list[T | Exception]:
        assert self._sessions is not None
        sessions = self._sessions

        def attempt() -> list[T | Exception]:
            results: list[T | Exception] = []
            with sessions.begin() as session:
                conn = session.connection()  # BEGIN IMMEDIATE: wait for another writer before any work
                started = time.monotonic()
                defer_index(conn)  # full-text rows in one statement at the end, not one per savepoint
                for args in items:
                    try:
                        with session.begin_nested():  # a SAVEPOINT: one bad story leaves the rest
                            results.append(fn(session, *args))
                    except Exception as exc:
                        if is_locked(exc):
                            raise
                        results.append(exc)
                flush_index(conn)
                crash_point(self._crash, "index:mid-batch")
            crash_point(self._crash, "index:after-batch")
            yield_lock(time.monotonic() - started)  # a waiting writer (the CLI, a mod) gets in now
            return results

        return retry_sync(attempt, "an index batch")

    async def run_batch(self, fn: Callable[..., T], items: list[tuple[Any, ...]]) -> list[T | Exception]:
        """`fn(session, *args)` for each args in `items`, all in ONE transaction, each in its own
        savepoint: an exception rolls back (and is returned for) that item only.

        A killed run still leaves a consistent index: the batch commits whole or not at all.
        Fewer, larger transactions save the per-commit work (WAL frames, FTS5 segment flushes), and
        the batch's new full-text rows go in by one statement before the commit (`db.fts`).
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
