"""The index schema: SQLAlchemy 2 declarative models for stories and everything hung on them.

Owns table and column names. It must not import Discord or the parser's readers; migrations in
`db/migrations/` create exactly these tables (plus the SQLite FTS5 table, see `db/fts.py`).
All timestamps are stored as timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (what every timestamp column stores)."""
    return datetime.now(UTC)


def aware(at: datetime) -> datetime:
    """A stored timestamp as aware UTC (SQLite hands timezone columns back naive; they hold UTC)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base for every Librarian table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Story(Base):
    """One story file in the archive, with its normalised metadata (mod overrides applied)."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), unique=True)  # relative to STORIES_DIR, '/' separated
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    file_mtime: Mapped[float] = mapped_column(Float, default=0.0)
    file_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the file's bytes
    format: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(512))
    title_key: Mapped[str] = mapped_column(String(512), index=True)  # folded for sorting / duplicates
    author: Mapped[str | None] = mapped_column(String(256), index=True)
    author_key: Mapped[str | None] = mapped_column(String(256), index=True)
    rating_raw: Mapped[str | None] = mapped_column(String(128))
    rating_level: Mapped[str] = mapped_column(String(16), index=True, default="not_rated")
    rating_rank: Mapped[int] = mapped_column(Integer, index=True, default=4)  # general 0 .. not_rated 4
    summary: Mapped[str | None] = mapped_column(Text)
    words: Mapped[int] = mapped_column(Integer, index=True, default=0)
    status: Mapped[str | None] = mapped_column(String(16))  # complete | in-progress | None
    published: Mapped[str | None] = mapped_column(String(32), index=True)  # ISO date
    language: Mapped[str | None] = mapped_column(String(64))
    season: Mapped[str | None] = mapped_column(String(256))
    spoilers: Mapped[str | None] = mapped_column(String(512))
    series_name: Mapped[str | None] = mapped_column(String(256), index=True)
    series_part: Mapped[int | None] = mapped_column(Integer)
    part: Mapped[int | None] = mapped_column(Integer)
    meta: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict
    )  # full parsed StoryMeta JSON (pre-override)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    removed_path: Mapped[str | None] = mapped_column(String(1024))  # where the file was moved aside
    # The story's files all left the archive folder: it is hidden (removed_at is set too) but kept, with
    # its overrides, kudos and history, for the day the same work comes back (see db/identity.py).
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    # Ids are never reused after a delete: rec history and the audit trail keep pointing at the right story.
    __table_args__ = ({"sqlite_autoincrement": True},)

    text: Mapped[StoryText] = relationship(back_populates="story", cascade="all, delete-orphan")
    characters: Mapped[list[StoryCharacter]] = relationship(
        back_populates="story", cascade="all, delete-orphan"
    )
    relationships: Mapped[list[StoryRelationship]] = relationship(
        back_populates="story", cascade="all, delete-orphan"
    )
    tags: Mapped[list[StoryTag]] = relationship(back_populates="story", cascade="all, delete-orphan")
    overrides: Mapped[list[Override]] = relationship(back_populates="story", cascade="all, delete-orphan")
    files: Mapped[list[StoryFile]] = relationship(back_populates="story", cascade="all, delete-orphan")


class StoryFile(Base):
    """One file of a story (an AO3 work downloaded as HTML and EPUB is one story with two files).

    `stories.path` is the story's best-read file, the one its rows were made from. A retired story
    keeps its file rows: their keys are how the same work is recognised when it comes back.
    """

    __tablename__ = "story_files"

    path: Mapped[str] = mapped_column(String(1024), primary_key=True)  # relative to STORIES_DIR
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    file_mtime: Mapped[float] = mapped_column(Float, default=0.0)
    file_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the file's bytes
    format: Mapped[str] = mapped_column(String(32), default="")
    score: Mapped[int] = mapped_column(Integer, default=0)  # how much the parser read from it
    work_key: Mapped[str | None] = mapped_column(String(128), index=True)  # e.g. ao3:334557
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)  # sha256 of normalised text

    story: Mapped[Story] = relationship(back_populates="files")


class StoryText(Base):
    """The searchable text of a story; the SQLite FTS5 tables `story_fts` and `story_about` (all but
    the body, `db.about`) mirror it (external content)."""

    __tablename__ = "story_texts"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")  # tags, characters, relationships, fandoms
    body: Mapped[str] = mapped_column(Text, default="")

    story: Mapped[Story] = relationship(back_populates="text")


class StoryCharacter(Base):
    """A character a story features, with where we learned it and how often the text names them."""

    __tablename__ = "story_characters"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)  # canonical roster name
    source: Mapped[str] = mapped_column(String(8))  # header | text
    mentions: Mapped[int] = mapped_column(Integer, default=0)

    story: Mapped[Story] = relationship(back_populates="characters")

    __table_args__ = (Index("ix_story_characters_name", "name"),)


class StoryRelationship(Base):
    """One relationship in a story: `key` is the sorted member names joined (see archive.model)."""

    __tablename__ = "story_relationships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(512), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # romantic | platonic
    size: Mapped[int] = mapped_column(Integer)  # number of members (a threesome is not a pair)
    raw: Mapped[str] = mapped_column(String(512), default="")
    past: Mapped[bool] = mapped_column(Boolean, default=False)

    story: Mapped[Story] = relationship(back_populates="relationships")
    members: Mapped[list[RelationshipMember]] = relationship(
        back_populates="relationship", cascade="all, delete-orphan"
    )


class RelationshipMember(Base):
    """A member of a relationship, for "every relationship with Spike" (`Spike/*`)."""

    __tablename__ = "relationship_members"

    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("story_relationships.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(128), primary_key=True)

    relationship: Mapped[StoryRelationship] = relationship(back_populates="members")

    __table_args__ = (Index("ix_relationship_members_name", "name"),)


class StoryTag(Base):
    """A tag-like label: `kind` is tag, warning or fandom; `name` is folded, `label` as written."""

    __tablename__ = "story_tags"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    label: Mapped[str] = mapped_column(String(256))

    story: Mapped[Story] = relationship(back_populates="tags")

    __table_args__ = (Index("ix_story_tags_kind_name", "kind", "name"),)


class Override(Base):
    """A mod's correction to one field; applied after every (re-)index until `/story reset`."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(
        String(32)
    )  # title|author|rating|relationships|characters|tags|summary|series
    value: Mapped[Any] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    story: Mapped[Story] = relationship(back_populates="overrides")

    __table_args__ = (UniqueConstraint("story_id", "field", name="uq_overrides_story_field"),)


class AuditEntry(Base):
    """The audit trail: who added, edited, removed or restored what, when (never deleted)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    actor_name: Mapped[str] = mapped_column(String(128))  # a member's name, or "cli:<user>"
    action: Mapped[str] = mapped_column(String(16))  # add|edit|reset|remove|restore
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: the trail outlives stories
    story_title: Mapped[str] = mapped_column(String(512), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RecHistory(Base):
    """Stories recommended in a place (guild/channel), so recs steer away from recent repeats."""

    __tablename__ = "rec_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    place: Mapped[str] = mapped_column(String(64), index=True)  # "guild:<id>", "channel:<id>", "cli"
    story_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16), default="rec")  # rec | daily
    cycle: Mapped[int] = mapped_column(Integer, default=0)  # daily rec cycle number
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class DailyRecConfig(Base):
    """A server's daily rec schedule and its restart-safe state."""

    __tablename__ = "daily_rec"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    post_time: Mapped[str] = mapped_column(String(5))  # HH:MM local
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    max_rating: Mapped[str | None] = mapped_column(String(16))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # character/pairing filters
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    last_post_date: Mapped[str | None] = mapped_column(String(10))  # local ISO date of the last post
    last_story_id: Mapped[int | None] = mapped_column(Integer)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IndexFailure(Base):
    """A file the last index run could not read, with the reason (shown by `stats` and to mods)."""

    __tablename__ = "index_failures"

    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- the server's taste (issue 16): shelves, kudos, reading positions, privacy ----------------------
# Story ids carry no foreign key here, like the audit trail: a member's lists outlive a re-index or a
# removal (a removed story simply stops showing), and `/forget-me` is the one thing that deletes them.


class ShelfEntry(Base):
    """A story on one of a member's shelves: `shelf` is the folded name, `label` as they wrote it."""

    __tablename__ = "shelf_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigInteger)
    shelf: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))
    story_id: Mapped[int] = mapped_column(Integer, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    __table_args__ = (
        UniqueConstraint("member_id", "shelf", "story_id", name="uq_shelf_entries_member_shelf_story"),
        Index("ix_shelf_entries_member_shelf", "member_id", "shelf"),
    )


class Kudos(Base):
    """One member's kudos for one story (at most one; pressing again takes it back)."""

    __tablename__ = "kudos"

    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    story_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    __table_args__ = (Index("ix_kudos_story_id", "story_id"),)


class ReadingPosition(Base):
    """Where a member stopped reading a story: the last part posted for them (1-based) of `total`."""

    __tablename__ = "reading_positions"

    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    story_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MemberPrefs(Base):
    """A member's settings: whether others may see their shelves (private unless they say so)."""

    __tablename__ = "member_prefs"

    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    shelves_public: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ArchiveChanges(Base):
    """One row counting every write to the archive's stories and index failures, from any process.

    Kept by triggers (see `db/changes.py`), so the service's in-memory views can tell in one read
    that something changed, including a story re-indexed in place.
    """

    __tablename__ = "archive_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    changes: Mapped[int] = mapped_column(BigInteger, default=0)
