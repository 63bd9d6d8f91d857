"""Schema migrations, applied in code: `await upgrade(engine)` brings any database to the newest
schema, so a server's existing archive survives an upgrade.

Owns the Alembic configuration (built here, no alembic.ini needed at run time; the scripts live in
`db/migrations/`; on PostgreSQL an advisory lock makes processes starting together migrate one at
a time). It must not define tables (that is `db/models.py`) and never imports Discord.
The host may still use the Alembic CLI: `alembic -c <ini with script_location=db/migrations>`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic `Config` pointing at `db/migrations/`, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


MIGRATION_LOCK = 0x4C49_4252  # "LIBR": PostgreSQL advisory lock id held while migrating


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Several bot processes (shards) may start together on one database: one migrates, the
        # others wait for it and then find the schema up to date.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every migration up to `revision` (default: the newest); a no-op when up to date."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
    log.debug("database schema is at %s", revision)
