"""Common words' impacts (`db.textrank`). SQLite: the `story_fts_impacts` and `story_fts_lengths`
tables (empty until the next index run builds them) and `story_fts_fresh`, filled by three new
`story_texts` triggers with every story written since. PostgreSQL: nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from db.textrank import SQLITE_DOWN, SQLITE_UP

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
