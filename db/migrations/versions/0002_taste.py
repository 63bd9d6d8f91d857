"""The server's taste: members' shelves, kudos, reading positions and privacy settings (issue 16).

Only adds tables, so an existing archive upgrades without touching its stories or history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shelf_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.BigInteger, nullable=False),
        sa.Column("shelf", sa.String(64), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("added_at", UTC_TS, nullable=False),
        sa.UniqueConstraint("member_id", "shelf", "story_id", name="uq_shelf_entries_member_shelf_story"),
    )
    op.create_index("ix_shelf_entries_member_shelf", "shelf_entries", ["member_id", "shelf"])
    op.create_index("ix_shelf_entries_story_id", "shelf_entries", ["story_id"])
    op.create_index("ix_shelf_entries_added_at", "shelf_entries", ["added_at"])
    op.create_table(
        "kudos",
        sa.Column("member_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("story_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_kudos_story_id", "kudos", ["story_id"])
    op.create_index("ix_kudos_at", "kudos", ["at"])
    op.create_table(
        "reading_positions",
        sa.Column("member_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("story_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "member_prefs",
        sa.Column("member_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("shelves_public", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("member_prefs")
    op.drop_table("reading_positions")
    op.drop_index("ix_kudos_at", "kudos")
    op.drop_index("ix_kudos_story_id", "kudos")
    op.drop_table("kudos")
    op.drop_index("ix_shelf_entries_added_at", "shelf_entries")
    op.drop_index("ix_shelf_entries_story_id", "shelf_entries")
    op.drop_index("ix_shelf_entries_member_shelf", "shelf_entries")
    op.drop_table("shelf_entries")
