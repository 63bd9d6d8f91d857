"""The "about" full-text index: what a story says it is about (title, author, summary and tags),
without its text, and the one search over it.

"More like this" matches a story's distinctive words against what other stories say they are about.
In the whole-text index that costs as much as the words' every occurrence in every story body (FTS5
reads a word's whole position list before a column filter drops the body's; PostgreSQL rechecks
each candidate's whole `tsvector`); this index holds only the four short columns, so the same
match reads a few kilobytes.

SQLite: `story_about`, an external-content FTS5 table over `story_texts` like `story_fts`, with the
same tokenizer. Migration 0006 rewrites the `story_texts` triggers (`ABOUT_TRIGGERS`) so each one
feeds both tables, deferring inside a bulk write exactly as `story_fts` does (one trigger per event:
two would see each other's work on `story_fts_pending`); `db.fts.flush_index` fills both.
PostgreSQL: `story_texts.about_tsv`, a stored generated `tsvector` of the four columns (the same
weights as `tsv`) with its own GIN index. This module must not import Discord.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.fts import (
    _DEFERRING,
    _PENDING_OLD,
    ABOUT_COLUMNS,
    ABOUT_TABLE,
    ABOUT_TEXT,
    FTS_COLUMNS,
    FTS_PENDING,
    FTS_TABLE,
    FTS_V2_DDL,
    PG_ABOUT_INDEX,
    PG_ABOUT_INDEX_DDL,
    PG_ABOUT_TSV,
    fts_search,
)
from db.rawsql import fetch_all

_ALL = ", ".join(FTS_COLUMNS)
_ABOUT = ", ".join(ABOUT_COLUMNS)


def _insert(table: str, columns: str, when: str = "") -> str:
    values = ", ".join(f"new.{c}" for c in columns.split(", "))
    return f"INSERT INTO {table}(rowid, {columns}) SELECT new.story_id, {values}{when};"


def _delete(table: str, columns: str, when: str = "") -> str:
    values = ", ".join(f"old.{c}" for c in columns.split(", "))
    return f"INSERT INTO {table}({table}, rowid, {columns}) SELECT 'delete', old.story_id, {values}{when};"


ABOUT_TRIGGERS: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS story_texts_ai",
    "DROP TRIGGER IF EXISTS story_texts_ad",
    "DROP TRIGGER IF EXISTS story_texts_au",
    "CREATE TRIGGER story_texts_ai AFTER INSERT ON story_texts BEGIN "
    + _insert(FTS_TABLE, _ALL, f" WHERE NOT {_DEFERRING}")
    + _insert(ABOUT_TABLE, _ABOUT, f" WHERE NOT {_DEFERRING}")
    + f" INSERT OR IGNORE INTO {FTS_PENDING} (story_id) SELECT new.story_id WHERE {_DEFERRING}; END",
    "CREATE TRIGGER story_texts_ad AFTER DELETE ON story_texts BEGIN "
    + _delete(FTS_TABLE, _ALL, f" WHERE NOT {_PENDING_OLD}")
    + _delete(ABOUT_TABLE, _ABOUT, f" WHERE NOT {_PENDING_OLD}")
    + f" DELETE FROM {FTS_PENDING} WHERE story_id = old.story_id; END",
    f"CREATE TRIGGER story_texts_au AFTER UPDATE ON story_texts WHEN NOT {_PENDING_OLD} BEGIN "
    + _delete(FTS_TABLE, _ALL)
    + _delete(ABOUT_TABLE, _ABOUT)
    + _insert(FTS_TABLE, _ALL)
    + _insert(ABOUT_TABLE, _ABOUT)
    + " END",
)
"""The `story_texts` triggers from migration 0006 on (frozen: a later change needs a new migration)."""

SQLITE_UP: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE {ABOUT_TABLE} USING fts5({_ABOUT}, content='story_texts', "
    "content_rowid='story_id', tokenize='unicode61 remove_diacritics 2')",
    *ABOUT_TRIGGERS,
    f"INSERT INTO {ABOUT_TABLE}({ABOUT_TABLE}) VALUES ('rebuild')",
)
"""Migration 0006 on SQLite: the table, the triggers feeding it, and every story's row now."""
SQLITE_DOWN: tuple[str, ...] = (*FTS_V2_DDL[1:], f"DROP TABLE IF EXISTS {ABOUT_TABLE}")
"""…and back: migration 0005's triggers (its table stays), the about index gone."""

PG_UP: tuple[str, ...] = (
    f"ALTER TABLE story_texts ADD COLUMN about_tsv tsvector GENERATED ALWAYS AS ({PG_ABOUT_TSV}) STORED",
    "SET LOCAL maintenance_work_mem = '256MB'",
    PG_ABOUT_INDEX_DDL,
)
PG_DOWN: tuple[str, ...] = (
    f"DROP INDEX IF EXISTS {PG_ABOUT_INDEX}",
    "ALTER TABLE story_texts DROP COLUMN IF EXISTS about_tsv",
)


async def about_search(session: AsyncSession, words: str, limit: int) -> list[tuple[int, float]]:
    """Stories (removed ones too) whose title, author, summary or tags match `words` (the members'
    query language, without `text:` filters), best first, as (story_id, rank; lower is better)."""
    return await fts_search(session, words, limit, include_removed=True, index=ABOUT_TEXT)


COMMON_SHARE = 0.02
COMMON_FLOOR = 25
"""A word is common in the about index when more than this share of the stories (and more than
the floor, so a small archive has none) name it in their title, author, summary or tags."""
COUNTED_SHARE = 0.001
"""Words in at least this share of the stories (and at least 5) are counted; rarer ones count as 0."""
_COUNTS_SQLITE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.story_about_terms USING fts5vocab(main, {ABOUT_TABLE}, 'row')",
    "SELECT term, doc FROM temp.story_about_terms WHERE doc >= ?",
)
_COUNTS_PG = "SELECT word, ndoc FROM ts_stat('SELECT about_tsv FROM story_texts') WHERE ndoc >= :n"


@dataclass(frozen=True, slots=True)
class AboutWords:
    """How many stories name each word in their title, author, summary or tags (words named by
    fewer than `COUNTED_SHARE` of them count as 0), folded as the index folds them."""

    stories: int
    counts: dict[str, int]

    def stories_naming(self, word: str) -> int:
        return self.counts.get(word, 0)

    def is_common(self, word: str) -> bool:
        """Named by more than `COMMON_SHARE` of the stories (and more than `COMMON_FLOOR`)."""
        return self.counts.get(word, 0) > max(COMMON_SHARE * self.stories, COMMON_FLOOR)


async def about_words(session: AsyncSession) -> AboutWords:
    """The about index's word counts (`AboutWords`). About 0.1 s at 50,000 stories; callers keep
    the answer per archive state (`lib.views.figure`)."""
    stories = int(await session.scalar(text("SELECT count(*) FROM story_texts")) or 0)
    least = max(int(COUNTED_SHARE * stories), 5)
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        rows = list(await session.execute(text(_COUNTS_PG), {"n": least}))
    else:
        create, select = _COUNTS_SQLITE
        await session.execute(text(create))  # a temp table: this connection's own, nothing stored
        rows = await fetch_all(session, select, (least,))
    return AboutWords(stories, {str(term): int(doc) for term, doc in rows})
