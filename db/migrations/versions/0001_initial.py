"""Initial schema: every table in db/models.py, plus the full-text index over story_texts (FTS5 on
SQLite, a generated tsvector column with a GIN index on PostgreSQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.fts import FTS_V1_DDL, FTS_V1_DROP, PG_FTS_DROP, pg_fts_ddl

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TS = sa.DateTime(timezone=True)


def _story_fk() -> sa.ForeignKey:
    return sa.ForeignKey("stories.id", ondelete="CASCADE")


def _index(table: str, *columns: str, unique: bool = False, name: str | None = None) -> None:
    op.create_index(name or f"ix_{table}_{columns[0]}", table, list(columns), unique=unique)


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String(1024), nullable=False, unique=True),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("file_mtime", sa.Float, nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("title_key", sa.String(512), nullable=False),
        sa.Column("author", sa.String(256)),
        sa.Column("author_key", sa.String(256)),
        sa.Column("rating_raw", sa.String(128)),
        sa.Column("rating_level", sa.String(16), nullable=False),
        sa.Column("rating_rank", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("words", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("published", sa.String(32)),
        sa.Column("language", sa.String(64)),
        sa.Column("season", sa.String(256)),
        sa.Column("spoilers", sa.String(512)),
        sa.Column("series_name", sa.String(256)),
        sa.Column("series_part", sa.Integer),
        sa.Column("part", sa.Integer),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
        sa.Column("added_at", UTC_TS, nullable=False),
        sa.Column("indexed_at", UTC_TS, nullable=False),
        sa.Column("removed_at", UTC_TS),
        sa.Column("removed_path", sa.String(1024)),
        sqlite_autoincrement=True,  # a deleted story's id is never given to another
    )
    for column in (
        "file_hash",
        "title_key",
        "author",
        "author_key",
        "rating_level",
        "rating_rank",
        "words",
        "published",
        "series_name",
        "removed_at",
    ):
        _index("stories", column)

    op.create_table(
        "story_texts",
        sa.Column("story_id", sa.Integer, _story_fk(), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "story_characters",
        sa.Column("story_id", sa.Integer, _story_fk(), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("mentions", sa.Integer, nullable=False),
    )
    _index("story_characters", "name")
    op.create_table(
        "story_relationships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("story_id", sa.Integer, _story_fk(), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("raw", sa.String(512), nullable=False),
        sa.Column("past", sa.Boolean, nullable=False),
    )
    _index("story_relationships", "story_id")
    _index("story_relationships", "key")
    op.create_table(
        "relationship_members",
        sa.Column(
            "relationship_id",
            sa.Integer,
            sa.ForeignKey("story_relationships.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(128), primary_key=True),
    )
    _index("relationship_members", "name")
    op.create_table(
        "story_tags",
        sa.Column("story_id", sa.Integer, _story_fk(), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("label", sa.String(256), nullable=False),
    )
    _index("story_tags", "kind", "name", name="ix_story_tags_kind_name")
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("story_id", sa.Integer, _story_fk(), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("actor_name", sa.String(128)),
        sa.Column("at", UTC_TS, nullable=False),
        sa.UniqueConstraint("story_id", "field", name="uq_overrides_story_field"),
    )
    _index("overrides", "story_id")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTC_TS, nullable=False),
        sa.Column("guild_id", sa.BigInteger),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("actor_name", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("story_id", sa.Integer),
        sa.Column("story_title", sa.String(512), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    for column in ("at", "actor_id", "story_id"):
        _index("audit_log", column)
    op.create_table(
        "rec_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("place", sa.String(64), nullable=False),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
    )
    for column in ("place", "story_id", "at"):
        _index("rec_history", column)
    op.create_table(
        "daily_rec",
        sa.Column("guild_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("post_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("max_rating", sa.String(16)),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("last_post_date", sa.String(10)),
        sa.Column("last_story_id", sa.Integer),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("updated_by", sa.String(128)),
        sa.Column("updated_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "index_failures",
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in FTS_V1_DDL:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        unaccent = bind.exec_driver_sql(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'"
        ).scalar()
        for statement in pg_fts_ddl(bool(unaccent)):
            op.execute(statement)


def downgrade() -> None:
    name = op.get_bind().dialect.name
    for statement in {"sqlite": FTS_V1_DROP, "postgresql": PG_FTS_DROP}.get(name, ()):
        op.execute(statement)
    for table in (
        "index_failures",
        "daily_rec",
        "rec_history",
        "audit_log",
        "overrides",
        "story_tags",
        "relationship_members",
        "story_relationships",
        "story_characters",
        "story_texts",
        "stories",
    ):
        op.drop_table(table)
