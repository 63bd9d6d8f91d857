"""Bulk writes fill the full-text index once per transaction: the `story_fts_pending` table and the
triggers that use it (`db.fts.FTS_V2_DDL`). SQLite only; PostgreSQL's tsvector is a generated
column and needs nothing. No row changes: the index and the stories stay as they were.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from db.fts import FTS_V2_DDL, FTS_V2_DROP

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in FTS_V2_DDL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in FTS_V2_DROP:
            op.execute(statement)
