"""The "about" full-text index (`db.about`): titles, authors, summaries and tags without the story
text, for "more like this". SQLite: the `story_about` FTS5 table, filled now, and the `story_texts`
triggers rewritten to feed it beside `story_fts`. PostgreSQL: the generated `about_tsv` column and
its GIN index. No row changes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from db.about import PG_DOWN, PG_UP, SQLITE_DOWN, SQLITE_UP

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(statement)
