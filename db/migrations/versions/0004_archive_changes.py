"""The archive's change counter: `archive_changes` and the triggers that bump it on every write to
`stories` and `index_failures` (see `db/changes.py`), so any process's change reaches the bot's
in-memory views, including a story re-indexed in place.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.changes import CHANGES_V1_DDL, CHANGES_V1_DROP, CHANGES_V1_PG_DDL, CHANGES_V1_PG_DROP

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("changes", sa.BigInteger, nullable=False),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in CHANGES_V1_DDL if sqlite else CHANGES_V1_PG_DDL:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in CHANGES_V1_DROP if sqlite else CHANGES_V1_PG_DROP:
        op.execute(statement)
    op.drop_table("archive_changes")
