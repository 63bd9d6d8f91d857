"""Copying a whole archive from one database to another (SQLite to PostgreSQL and back), verified.

Owns `copy_archive(source_url, target_url)`: the target is migrated by the same Alembic scripts,
every table of `db/models.py` is copied in foreign-key order with its ids (stories, texts,
characters, relationships, tags, overrides, the audit trail, rec history, daily rec state, index
failures), id counters are moved past the copied ids, the full-text index is checked, and then
each table is compared on both sides by row count and a checksum of every row. It refuses a target
that already holds data unless told to replace it. It must not import Discord or parse files.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.backend import bulk_load_begin, bulk_load_end, reset_ids
from db.engine import async_url, create_engine, create_sessionmaker
from db.fts import check_index
from db.migrate import upgrade
from db.models import Base

log = logging.getLogger(__name__)

BATCH_ROWS = 500
SEEDED = frozenset({"archive_changes"})
"""Bookkeeping tables the migrations fill themselves (and triggers keep): a fresh target already
has their rows, so they do not make it "hold an archive", and they are copied last, over what the
copy's own writes did to them."""


class CopyError(Exception):
    """The copy could not be made or did not verify; the message says why in plain words."""


@dataclass(slots=True)
class TableCopy:
    """One table's figures: rows copied, and the checksum both sides agreed on."""

    name: str
    rows: int
    checksum: str


@dataclass(slots=True)
class CopyReport:
    """What `copy_archive` did: where from and to, and each table's figures."""

    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def __iter__(self) -> Iterator[TableCopy]:
        return iter(self.tables)


def _tables() -> list[Table]:
    tables = list(Base.metadata.sorted_tables)  # parents before children
    return [t for t in tables if t.name not in SEEDED] + [t for t in tables if t.name in SEEDED]


def _order(table: Table) -> list[Any]:
    return list(table.primary_key.columns)


def _canonical(value: Any) -> Any:
    """One spelling per value whichever engine read it (SQLite hands back naive UTC datetimes)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def _fix(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def table_checksum(conn: AsyncConnection, table: Table) -> tuple[int, str]:
    """(row count, sha256 over every row in primary-key order) for one table."""
    digest = hashlib.sha256()
    count = 0
    result = await conn.stream(select(table).order_by(*_order(table)))
    async for rows in result.partitions(BATCH_ROWS):
        for row in rows:
            values = [_canonical(v) for v in row]
            digest.update(json.dumps(values, sort_keys=True, ensure_ascii=False, default=str).encode())
            digest.update(b"\n")
            count += 1
    return count, digest.hexdigest()


async def _is_empty(conn: AsyncConnection) -> bool:
    for table in _tables():
        if table.name not in SEEDED and await conn.scalar(select(func.count()).select_from(table)):
            return False
    return True


async def _copy_table(source: AsyncConnection, target: AsyncConnection, table: Table) -> int:
    copied = 0
    result = await source.stream(select(table).order_by(*_order(table)))
    names = [c.name for c in table.columns]
    async for rows in result.partitions(BATCH_ROWS):
        await target.execute(table.insert(), [dict(zip(names, map(_fix, row), strict=True)) for row in rows])
        copied += len(rows)
    return copied


def _label(url: str) -> str:
    return make_url(async_url(url)).render_as_string(hide_password=True)


async def copy_archive(
    source_url: str,
    target_url: str,
    *,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every table from `source_url` to `target_url` and verify it; raises CopyError."""
    if make_url(async_url(source_url)) == make_url(async_url(target_url)):
        raise CopyError("the source and the target are the same database")
    report = CopyReport(_label(source_url), _label(target_url))
    source, target = create_engine(source_url), create_engine(target_url)
    try:
        await upgrade(source)
        await upgrade(target)
        await _copy(source, target, replace=replace, progress=progress)
        async with create_sessionmaker(target)() as session:
            try:
                await check_index(session, recompute=False)  # the target computed its own
            except Exception as exc:
                raise CopyError(f"the copied full-text index does not match the stories: {exc}") from exc
        async with source.connect() as src, target.connect() as dst:
            for table in _tables():
                want = await table_checksum(src, table)
                got = await table_checksum(dst, table)
                if want != got:
                    raise CopyError(
                        f"table {table.name} differs after the copy: {want[0]} rows in the source, "
                        f"{got[0]} in the target (or their contents differ)"
                    )
                report.tables.append(TableCopy(table.name, want[0], want[1]))
    finally:
        await source.dispose()
        await target.dispose()
    log.info("copied %s rows from %s to %s", report.rows, report.source, report.target)
    return report


async def _copy(
    source: AsyncEngine, target: AsyncEngine, *, replace: bool, progress: Callable[[str, int], None] | None
) -> None:
    async with source.connect() as src, target.begin() as dst:
        if not await _is_empty(dst):
            if not replace:
                raise CopyError("the target database already holds an archive; use --replace to overwrite it")
            for table in reversed(_tables()):
                await dst.execute(delete(table))
        await bulk_load_begin(dst)
        for table in _tables():
            if table.name in SEEDED:  # the target's own row (and what the copy's writes did to it) gives way
                await dst.execute(delete(table))
            copied = await _copy_table(src, dst, table)
            if progress:
                progress(table.name, copied)
        await bulk_load_end(dst)
        await dst.run_sync(reset_ids, _tables())
