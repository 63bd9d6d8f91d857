"""Writes that wait their turn: taking SQLite's write lock up front, and retrying when it stays taken.

Owns the rule every write path follows (the bot's commands, the CLI, the indexer's writer thread, the
daily rec): a write transaction starts with `BEGIN IMMEDIATE`, so it waits for another writer (the
connection's busy timeout) *before* doing anything, instead of failing half-way with "database is
locked" when a read snapshot goes stale; when the lock is still taken after the busy timeout, the
attempt is rolled back and tried again after a pause, up to `WRITE_PATIENCE` seconds in all. Only a
lock error is retried; any other error goes up at once. The indexer's long runs keep each lock short
(`yield_lock`) so a waiting writer gets in. It must not know about tables or Discord.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

T = TypeVar("T")

WRITE_PATIENCE = 180.0
"""How long (seconds, all attempts together) a write waits for the lock before it gives up."""
RETRY_PAUSE = 0.25
"""The first pause between two attempts; it doubles up to `RETRY_PAUSE_MAX`."""
RETRY_PAUSE_MAX = 4.0
YIELD_SHARE = 0.1
"""After holding the write lock for t seconds, a long writer pauses t * YIELD_SHARE (at most
`YIELD_MAX`): SQLite's busy handler polls a waiting writer every 100 ms, so the waiter gets in within
about a second instead of starving behind back-to-back batches."""
YIELD_MAX = 0.15
_LOCKED = ("database is locked", "database table is locked", "database schema is locked", "busy")


class DatabaseBusy(RuntimeError):
    """Another writer held the archive for longer than `WRITE_PATIENCE`; nothing was changed."""

    def __init__(self, what: str, waited: float) -> None:
        super().__init__(
            f"the archive was busy with another write for {waited:.0f} s, so {what} was not done; "
            "try again in a minute"
        )


def is_locked(exc: BaseException) -> bool:
    """Whether `exc` is SQLite saying another connection holds the lock (worth another try)."""
    orig = getattr(exc, "orig", exc)
    message = str(orig).lower()
    return isinstance(exc, OperationalError | _sqlite_error()) and any(word in message for word in _LOCKED)


def _sqlite_error() -> type[BaseException]:
    import sqlite3

    return sqlite3.OperationalError


def _next_pause(pause: float, started: float, what: str, exc: BaseException) -> float:
    waited = time.monotonic() - started
    if waited + pause > WRITE_PATIENCE:
        raise DatabaseBusy(what, waited) from exc
    log.warning("%s waits for another writer (%.0f s so far): %s", what, waited, exc)
    return pause


async def retry_async(attempt: Callable[[], Awaitable[T]], what: str) -> T:
    """`await attempt()`, again after a pause while it fails on a held lock (DatabaseBusy at last)."""
    started, pause = time.monotonic(), RETRY_PAUSE
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not is_locked(exc):
                raise
            await asyncio.sleep(_next_pause(pause, started, what, exc))
            pause = min(pause * 2, RETRY_PAUSE_MAX)


def retry_sync(attempt: Callable[[], T], what: str) -> T:
    """`attempt()` in a worker thread, again after a pause while it fails on a held lock."""
    started, pause = time.monotonic(), RETRY_PAUSE
    while True:
        try:
            return attempt()
        except Exception as exc:
            if not is_locked(exc):
                raise
            time.sleep(_next_pause(pause, started, what, exc))
            pause = min(pause * 2, RETRY_PAUSE_MAX)


async def begin_write(session: AsyncSession) -> None:
    """Take the write lock at the start of `session`'s transaction (SQLite: BEGIN IMMEDIATE).

    Other databases lock rows as they go; nothing to do there.
    """
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))


def yield_lock(held: float) -> None:
    """Pause briefly after a long write transaction so a waiting writer can take the lock."""
    if held > 0:
        time.sleep(min(held * YIELD_SHARE, YIELD_MAX))
