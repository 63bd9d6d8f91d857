"""Schema migrations, applied in code: `await upgrade(engine)` brings any database to the newest
schema, so a server's existing archive survives an upgrade.

Owns the Alembic configuration (built here, no alembic.ini needed at run time; the scripts live in
`db/migrations/`; on PostgreSQL an advisory lock makes processes starting together migrate one at
a time). It must not define tables (that is `db/models.py`) and never imports Discord.
The host may still use the Alembic CLI: `alembic -c <ini with script_location=db/migrations>`.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:  # Alembic is imported only when a migration really has to run (CLI start-up)
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"^revision\b[^=]*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\b[^=]*=\s*[\"']([^\"']+)[\"']", re.M)


@cache
def head_revision() -> str | None:
    """The newest revision in `db/migrations/versions/`, read from the scripts without Alembic
    (None when the scripts do not show exactly one head: then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        parents.update(_DOWN.findall(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current(connection: Connection) -> str | None:
    from sqlalchemy import inspect

    # Asked first, not tried: on PostgreSQL a failed statement would abort the whole transaction.
    if not inspect(connection).has_table("alembic_version"):  # a new database
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic `Config` pointing at `db/migrations/`, optionally bound to an open connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


MIGRATION_LOCK = 0x4C49_4252  # "LIBR": PostgreSQL advisory lock id held while migrating


def _upgrade(connection: Connection, revision: str) -> None:
    if revision == "head" and head_revision() is not None and _current(connection) == head_revision():
        _reseed(connection)
        return  # already at the newest schema: no need to load Alembic (the CLI starts faster)
    if connection.dialect.name == "postgresql":
        # Several bot processes (shards) may start together on one database: one migrates, the
        # others wait for it here and then find the schema up to date.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        if revision == "head" and _current(connection) == head_revision():
            _reseed(connection)
            return
    from alembic import command

    command.upgrade(alembic_config(connection), revision)
    if revision == "head":
        _reseed(connection)


def _reseed(connection: Connection) -> None:
    """The rows the migrations seed and the triggers rely on, put back if missing (db.changes)."""
    from db.changes import RESEED

    connection.exec_driver_sql(RESEED)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every migration up to `revision` (default: the newest); a no-op when up to date."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
    log.debug("database schema is at %s", revision)
