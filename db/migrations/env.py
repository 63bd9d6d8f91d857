"""Alembic environment for Librarian: runs migrations on the connection `db.migrate` hands over
(`config.attributes["connection"]`), or, from the Alembic CLI, on `sqlalchemy.url`.

It must not create tables itself; only the scripts in `versions/` change the schema.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)
else:  # the Alembic CLI: a plain synchronous URL (e.g. sqlite:///data/librarian.db)
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
