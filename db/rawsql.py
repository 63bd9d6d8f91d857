"""Statements the store path runs thousands of times a run, written once as SQL text and run with
the least work per call.

Owns `Sql`: one statement with `:named` parameters. On SQLite (the synchronous driver the indexer's
writer uses) it goes straight to the driver's cursor (the statement is prepared once by sqlite3's own cache; values of typed columns, dates and
JSON, are converted by SQLAlchemy's own bind processors, so the stored bytes are what a Core
statement stores); on any other engine it runs as a `text()` construct with typed parameters
through SQLAlchemy. Building, compiling and caching a Core statement cost more than SQLite's own
work for the indexer's small per-story statements. It knows no tables beyond the types it is
given, and never imports Discord. Also `fetch_all`: one read statement's rows as plain tuples
through the driver's own fetch, `fetch_chunks`: the same rows a chunk at a time, and
`execute_interruptible`: a long statement stopped when its task is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeEngine


def _driver(conn: Connection) -> sqlite3.Connection | None:
    """The synchronous sqlite3 connection under `conn`, or None (another engine, or aiosqlite)."""
    if conn.dialect.name != "sqlite":
        return None
    driver = conn.connection.driver_connection
    return driver if isinstance(driver, sqlite3.Connection) else None


class Sql:
    """One SQL statement with `:named` parameters; `types` names the parameters that need a
    conversion (DateTime, JSON) and the column type that does it."""

    __slots__ = ("_processors", "_text", "sql", "types")

    def __init__(self, sql: str, types: Mapping[str, TypeEngine[Any]] | None = None) -> None:
        self.sql = sql
        self.types = dict(types or {})
        self._text = text(sql).bindparams(*(bindparam(k, type_=t) for k, t in self.types.items()))
        self._processors: dict[str, Any] | None = None

    def _convert(self, conn: Connection, params: dict[str, Any]) -> dict[str, Any]:
        if self._processors is None:
            dialect = conn.dialect
            found = {k: t.dialect_impl(dialect).bind_processor(dialect) for k, t in self.types.items()}
            self._processors = {k: p for k, p in found.items() if p is not None}
        if not self._processors:
            return params
        out = dict(params)
        for key, process in self._processors.items():
            if key in out:
                out[key] = process(out[key])
        return out

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """Execute once; returns something with `fetchone()`/`fetchall()`."""
        params = dict(params or {})
        driver = _driver(conn)
        if driver is not None:
            return driver.execute(self.sql, self._convert(conn, params))
        return conn.execute(self._text, params)

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per row of parameters (executemany)."""
        if not rows:
            return
        driver = _driver(conn)
        if driver is not None:
            driver.executemany(self.sql, [self._convert(conn, dict(r)) for r in rows])
            return
        conn.execute(self._text, [dict(r) for r in rows])

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.run(conn, params).fetchone()
        return None if row is None else row[0]


async def _async_driver(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection and the driver's own connection under it (aiosqlite's, asyncpg's;
    None when there is none)."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return conn, getattr(raw, "driver_connection", None)


async def fetch_all(session: AsyncSession, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """All rows of one SQL statement as plain tuples. `params` (with `?` placeholders) are for
    SQLite only; on PostgreSQL the statement must hold only constants.

    The drivers' own fetch is used where possible: SQLAlchemy's per-row processing doubles the
    cost of 500,000 rows.
    """
    conn, driver = await _async_driver(session)
    if conn.dialect.name == "sqlite" and driver is not None and hasattr(driver, "execute_fetchall"):
        return list(await driver.execute_fetchall(sql, params))
    if conn.dialect.name == "postgresql" and not params and driver is not None and hasattr(driver, "fetch"):
        return [tuple(record) for record in await driver.fetch(sql)]
    return list((await conn.exec_driver_sql(sql, params)).fetchall())


@contextlib.asynccontextmanager
async def read_snapshot(session: AsyncSession) -> AsyncIterator[None]:
    """Every `fetch_all` inside reads one state of the database (SQLite: one read transaction;
    outside it each statement sees the latest commit). Nothing changes when the session's connection
    is already in a transaction, or on another engine (each statement there is its own snapshot
    too, but no caller needs more on PostgreSQL yet)."""
    conn, driver = await _async_driver(session)
    if conn.dialect.name != "sqlite" or driver is None or driver.in_transaction:
        yield
        return
    await driver.execute("BEGIN")
    try:
        yield
    finally:
        await driver.execute("COMMIT")  # only reads were made: this just lets the snapshot go


async def fetch_chunks(
    session: AsyncSession, sql: str, params: tuple[Any, ...] = (), size: int = 10_000
) -> AsyncIterator[list[Any]]:
    """`fetch_all`'s rows, `size` at a time, for a caller that folds them into something compact
    (arrays): a few hundred thousand row tuples at once would be freed after, but pin the memory
    they were built in. On SQLite a cursor is read a chunk at a time; elsewhere the rows are read
    at once and handed out in chunks."""
    conn, driver = await _async_driver(session)
    if conn.dialect.name == "sqlite" and driver is not None and hasattr(driver, "execute_fetchall"):
        async with driver.execute(sql, params) as cursor:
            while rows := await cursor.fetchmany(size):
                yield rows
        return
    rows = await fetch_all(session, sql, params)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def execute_interruptible(session: AsyncSession, statement: Any) -> Any:
    """`session.execute(statement)`, stopped at once when the calling task is cancelled.

    On SQLite a cancelled await leaves the statement running in the database thread to its end
    (`quick_check` over a 1.6 GB archive: ~40 s), and SQLAlchemy, seeing the cancel, closes the
    connection behind it, which waits for that end too: a stopping bot was held that long. Here
    the statement runs in a task of its own that the cancel does not reach; SQLite's interrupt ends
    it (an "interrupted" error, the connection stays good), then the cancel goes on. Elsewhere the
    driver cancels the query itself."""
    conn, driver = await _async_driver(session)
    running = asyncio.ensure_future(session.execute(statement))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        interrupt = getattr(driver, "interrupt", None) if conn.dialect.name == "sqlite" else None
        if interrupt is not None:
            with contextlib.suppress(Exception):  # sqlite3_interrupt, safe from any thread
                done = interrupt()  # aiosqlite's is a coroutine (it calls sqlite3's at once)
                if asyncio.iscoroutine(done):
                    await done
        with contextlib.suppress(Exception):
            await running
        raise
