"""Stories outlive their files: `stories.retired_at`, and `story_files` (every file of a story, with
the keys that recognise the same work again: AO3 work id, normalised-text fingerprint).

Existing stories keep their ids and everything hung on them: each gets one `story_files` row for
the file it was indexed from (score -1: not read since the upgrade; the next index run fingerprints it
from the stored text, and AO3 keys are filled in when the file is read again).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stories", sa.Column("retired_at", sa.DateTime(timezone=True)))
    op.create_index("ix_stories_retired_at", "stories", ["retired_at"])
    op.create_table(
        "story_files",
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("file_mtime", sa.Float, nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("work_key", sa.String(128)),
        sa.Column("fingerprint", sa.String(64)),
    )
    for column in ("story_id", "file_hash", "work_key", "fingerprint"):
        op.create_index(f"ix_story_files_{column}", "story_files", [column])
    op.execute(
        "INSERT INTO story_files (path, story_id, file_size, file_mtime, file_hash, format, score) "
        "SELECT path, id, file_size, file_mtime, file_hash, format, -1 FROM stories"
    )


def downgrade() -> None:
    op.drop_table("story_files")
    op.drop_index("ix_stories_retired_at", table_name="stories")
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("retired_at")
