"""What differs between the two database engines, in one small interface: everything above `db/`
calls these functions and never asks which engine it runs on.

Owns the engine-specific pieces that are not full text (full text lives in `db/fts.py`): the fast
raw fetch, "insert or ignore", and the bulk-load helpers `copy-archive` needs (id sequences,
triggers that must not fire twice). It must not define tables or import Discord.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.rawsql import execute_interruptible, fetch_all, fetch_chunks

__all__ = [
    "bulk_load_begin",
    "bulk_load_end",
    "engine_name",
    "execute_interruptible",
    "fetch_all",
    "fetch_chunks",
    "insert_ignore",
    "reset_ids",
]


def engine_name(conn: Connection | AsyncConnection | AsyncSession) -> str:
    """`sqlite` or `postgresql` (for logs, reports and benchmarks; never for branching above db/)."""
    bind = conn.get_bind() if isinstance(conn, AsyncSession) else conn
    return bind.dialect.name


async def insert_ignore(session: AsyncSession, table: Any, **values: Any) -> None:
    """Insert one row unless its key is already there (INSERT OR IGNORE / ON CONFLICT DO NOTHING)."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    await session.execute(insert(table).values(**values).on_conflict_do_nothing())


async def bulk_load_begin(conn: AsyncConnection) -> None:
    """Before tables are filled in bulk (empty, in one transaction): on PostgreSQL the full-text
    index is dropped, to be built once by `bulk_load_end` (SQLite: nothing to do)."""
    if conn.dialect.name == "postgresql":
        from db.fts import PG_BULK_BEGIN

        for statement in PG_BULK_BEGIN:
            await conn.exec_driver_sql(statement)


async def bulk_load_end(conn: AsyncConnection) -> None:
    """After a bulk load, in the same transaction: what `bulk_load_begin` set aside is rebuilt."""
    if conn.dialect.name == "postgresql":
        from db.fts import PG_BULK_END

        for statement in PG_BULK_END:
            await conn.exec_driver_sql(statement)


def reset_ids(conn: Connection, tables: list[Table]) -> None:
    """After rows were copied in with their ids: make the next generated id follow the largest one
    (PostgreSQL sequences; SQLite's AUTOINCREMENT counter follows inserted ids by itself)."""
    if conn.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or pk[0].type.python_type is not int:
            continue
        name = pk[0].name
        seq = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": name}
        ).scalar()
        if seq:
            conn.execute(
                text(f"SELECT setval(:s, coalesce((SELECT max({name}) FROM {table.name}), 0) + 1, false)"),
                {"s": seq},
            )
