"""The archive's change counter: one number that grows with every write to `stories` or
`index_failures`, whichever process makes it (the bot, `bot.py add`, `bot.py index`, curation).

Owns the triggers that keep `archive_changes.changes` (migration 0004 runs `CHANGES_V1_DDL`) and
`change_count`, the one cheap read the service's in-memory views compare to know they are stale
(a story re-indexed in place changes neither the number of stories nor the newest id, so counting
rows would miss it). It must not import the service layer or Discord.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ArchiveChanges

_BUMP = "UPDATE archive_changes SET changes = changes + 1 WHERE id = 1;"
_WATCHED = (("stories", "stories"), ("index_failures", "index_failures"))

CHANGES_V1_DDL: tuple[str, ...] = (
    "INSERT INTO archive_changes (id, changes) VALUES (1, 0)",
    *(
        f"CREATE TRIGGER {name}_changed_{suffix} AFTER {event} ON {table} BEGIN {_BUMP} END"
        for name, table in _WATCHED
        for suffix, event in (("ai", "INSERT"), ("au", "UPDATE"), ("ad", "DELETE"))
    ),
)
"""The SQLite statements migration 0004 runs (frozen: a later change needs a new migration)."""

CHANGES_V1_PG_DDL: tuple[str, ...] = (
    "INSERT INTO archive_changes (id, changes) VALUES (1, 0)",
    "CREATE FUNCTION archive_changed() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN {_BUMP} RETURN NULL; END $$",
    *(
        f"CREATE TRIGGER {name}_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION archive_changed()"
        for name, table in _WATCHED
    ),
)
"""The PostgreSQL twin of `CHANGES_V1_DDL`: one statement-level trigger per watched table (the
counter only has to move, not count rows), so another process's writes reach the views there too."""

CHANGES_V1_PG_DROP: tuple[str, ...] = (
    *(f"DROP TRIGGER IF EXISTS {name}_changed ON {table}" for name, table in _WATCHED),
    "DROP FUNCTION IF EXISTS archive_changed()",
)

CHANGES_V1_DROP: tuple[str, ...] = tuple(
    f"DROP TRIGGER IF EXISTS {name}_changed_{suffix}" for name, _ in _WATCHED for suffix in ("ai", "au", "ad")
)


RESEED = (
    "INSERT INTO archive_changes (id, changes) SELECT 1, 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM archive_changes WHERE id = 1)"
)
"""Puts the counter's one row back when something removed it (a restored partial dump, a host
emptying tables by hand): without it every trigger's UPDATE matches nothing and no write would
ever reach the views again. `db.migrate.upgrade` runs it on every start, on both engines."""


async def change_count(session: AsyncSession) -> int:
    """How many writes the archive has seen (0 on a database without the counter row)."""
    return int(await session.scalar(select(ArchiveChanges.changes).where(ArchiveChanges.id == 1)) or 0)
