"""Full-text search on either engine: the indexes, keeping them in step, and the ranked searches.

Members' text is parsed and rendered by `db.ftsquery` (the only door for user text: it is always a
bound parameter, never part of the SQL); this module runs the searches.

SQLite: `story_fts` is an external-content FTS5 table over `story_texts` (rowid = `story_id`), kept
in step by AFTER INSERT/UPDATE/DELETE triggers (a bulk write defers its inserts to one statement
per transaction: `defer_index`/`flush_index`); ranking is bm25 with column weights. PostgreSQL:
`story_texts.tsv` is a stored generated tsvector (weights A-D for title, author, summary+tags,
body) with a GIN index; ranking is ts_rank with the same weight ratios. Both fold case and
diacritics and do not stem. The smaller "about" index (titles, authors, summaries and tags only;
`story_about` / `about_tsv`) is searched by `db.about`; this module names it and fills it with the
main one. This module must not import Discord.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from db.ftsquery import PG_COLUMN_WEIGHTS, PG_CONFIG, PG_FOLD, parse_text, to_match_query, to_tsquery_sql
from db.rawsql import fetch_all

FTS_TABLE = "story_fts"
FTS_COLUMNS = ("title", "author", "summary", "tags", "body")
FTS_WEIGHTS = (10.0, 5.0, 3.0, 3.0, 1.0)
"""bm25 column weights, in `FTS_COLUMNS` order: a title hit counts ten times a body hit."""

ABOUT_TABLE = "story_about"
ABOUT_COLUMNS = ("title", "author", "summary", "tags")
"""SQLite: the small full-text index of what a story says it is about, without its text (migration
0006, `db.about`); filled with `story_fts` by the same triggers and by `flush_index`."""

_COLS = ", ".join(FTS_COLUMNS)
_NEW = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
_DELETE_OLD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.story_id, {_OLD});"
_INSERT_NEW = f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.story_id, {_NEW});"

FTS_V1_DDL: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_COLS}, content='story_texts', "
    "content_rowid='story_id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER story_texts_ai AFTER INSERT ON story_texts BEGIN {_INSERT_NEW} END",
    f"CREATE TRIGGER story_texts_ad AFTER DELETE ON story_texts BEGIN {_DELETE_OLD} END",
    f"CREATE TRIGGER story_texts_au AFTER UPDATE ON story_texts BEGIN {_DELETE_OLD} {_INSERT_NEW} END",
)
"""The SQLite statements migration 0001 runs (frozen: a later change needs a new migration)."""

FTS_V1_DROP: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS story_texts_au",
    "DROP TRIGGER IF EXISTS story_texts_ad",
    "DROP TRIGGER IF EXISTS story_texts_ai",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)

FTS_PENDING = "story_fts_pending"
"""SQLite: story ids whose full-text rows a bulk write adds in one go before it commits. Empty in
every committed state; the row with id 0 marks "this transaction defers" (see `defer_index`)."""
_DEFERRING = f"EXISTS (SELECT 1 FROM {FTS_PENDING} WHERE story_id = 0)"
_PENDING_OLD = f"EXISTS (SELECT 1 FROM {FTS_PENDING} WHERE story_id = old.story_id)"

_NEW_ROW = ", ".join(["new.story_id", *(f"new.{c}" for c in FTS_COLUMNS)])
_OLD_ROW = ", ".join(["'delete'", "old.story_id", *(f"old.{c}" for c in FTS_COLUMNS)])

FTS_V2_DDL: tuple[str, ...] = (
    f"CREATE TABLE {FTS_PENDING} (story_id INTEGER PRIMARY KEY)",
    "DROP TRIGGER IF EXISTS story_texts_ai",
    "DROP TRIGGER IF EXISTS story_texts_ad",
    "DROP TRIGGER IF EXISTS story_texts_au",
    f"CREATE TRIGGER story_texts_ai AFTER INSERT ON story_texts BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) SELECT {_NEW_ROW} WHERE NOT {_DEFERRING}; "
    f"INSERT OR IGNORE INTO {FTS_PENDING} (story_id) SELECT new.story_id WHERE {_DEFERRING}; END",
    f"CREATE TRIGGER story_texts_ad AFTER DELETE ON story_texts BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) SELECT {_OLD_ROW} WHERE NOT {_PENDING_OLD}; "
    f"DELETE FROM {FTS_PENDING} WHERE story_id = old.story_id; END",
    f"CREATE TRIGGER story_texts_au AFTER UPDATE ON story_texts WHEN NOT {_PENDING_OLD} "
    f"BEGIN {_DELETE_OLD} {_INSERT_NEW} END",
)
"""The SQLite statements migration 0005 runs (frozen). Every writer of `story_texts` still keeps
the full-text index in step by triggers, except inside a transaction that called `defer_index`:
there new rows are only noted in `story_fts_pending` (a row still pending that is updated or deleted
needs no full-text change), and `flush_index` adds them all in one statement before the commit.
FTS5 writes its pending terms to disk at every SAVEPOINT once it is part of a transaction, so a
bulk write of a savepoint per story that fed FTS5 row by row made a tiny segment per story. (One
trigger per event, statements in order: two AFTER DELETE triggers would see each other's work.)"""

FTS_V2_DROP: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS story_texts_ai",
    "DROP TRIGGER IF EXISTS story_texts_ad",
    "DROP TRIGGER IF EXISTS story_texts_au",
    *FTS_V1_DDL[1:],
    f"DROP TABLE IF EXISTS {FTS_PENDING}",
)
"""Migration 0005's downgrade: back to the version 1 triggers."""


def defer_index(conn: Connection) -> None:
    """From now until `flush_index` in this transaction, stories added to `story_texts` get their
    full-text rows in one go (SQLite; PostgreSQL's generated tsvector needs nothing)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT OR IGNORE INTO {FTS_PENDING} (story_id) VALUES (0)")


def flush_index(conn: Connection) -> None:
    """Add the full-text rows of every story added since `defer_index`, and stop deferring. Must
    run in the same transaction, before it commits."""
    if conn.dialect.name != "sqlite":
        return
    for table, columns in ((FTS_TABLE, FTS_COLUMNS), (ABOUT_TABLE, ABOUT_COLUMNS)):
        conn.exec_driver_sql(
            f"INSERT INTO {table}(rowid, {', '.join(columns)}) SELECT t.story_id, "
            f"{', '.join('t.' + c for c in columns)} "
            f"FROM {FTS_PENDING} AS p JOIN story_texts AS t ON t.story_id = p.story_id ORDER BY p.story_id"
        )
    conn.exec_driver_sql(f"DELETE FROM {FTS_PENDING}")


_PG_WEIGHTS = "'{" + ",".join(str(w / FTS_WEIGHTS[0]) for w in (1.0, 3.0, 5.0, 10.0)) + "}'"
"""ts_rank weights {D, C, B, A}: body 1, summary/tags 3, author 5, title 10 (as FTS_WEIGHTS)."""


def _pg_vector(column: str, weight: str) -> str:
    return f"setweight(to_tsvector({PG_CONFIG}, {PG_FOLD}(coalesce({column}, ''))), '{weight}')"


PG_TSV = " || ".join(
    _pg_vector(column, weight)
    for column, weight in (("title", "A"), ("author", "B"), ("summary", "C"), ("tags", "C"), ("body", "D"))
)
"""The expression `story_texts.tsv` is generated from."""
PG_ABOUT_TSV = " || ".join(_pg_vector(column, PG_COLUMN_WEIGHTS[column]) for column in ABOUT_COLUMNS)
"""The expression `story_texts.about_tsv` is generated from (migration 0006): `tsv` without the body."""


def pg_fts_ddl(unaccent: bool) -> tuple[str, ...]:
    """The PostgreSQL statements migration 0001 runs: the fold function, the tsvector column, its
    GIN index. `unaccent` says whether the unaccent extension can be used (else diacritics stay)."""
    body = "SELECT public.unaccent('public.unaccent'::regdictionary, $1)" if unaccent else "SELECT $1"
    return (
        *(("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public",) if unaccent else ()),
        f"CREATE OR REPLACE FUNCTION {PG_FOLD}(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
        f"PARALLEL SAFE AS $$ {body} $$",
        f"ALTER TABLE story_texts ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({PG_TSV}) STORED",
        "CREATE INDEX ix_story_texts_tsv ON story_texts USING gin (tsv)",
    )


PG_FTS_DROP: tuple[str, ...] = (
    "DROP INDEX IF EXISTS ix_story_texts_tsv",
    "ALTER TABLE story_texts DROP COLUMN IF EXISTS tsv",
    f"DROP FUNCTION IF EXISTS {PG_FOLD}(text)",
)

# --- search ----------------------------------------------------------------------------------------


async def match_ids(session: AsyncSession, user_text: str) -> list[int]:
    """Ids of every story (removed ones too) the text names, unranked: those it asks for, or, when
    it only leaves words out (`-tea`, `NOT tea`), those it leaves out (the caller inverts)."""
    parsed = parse_text(user_text)
    if parsed is None:
        return []
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        rendered = to_tsquery_sql(user_text, exclude_only=parsed.expression is None)
        if rendered is None:
            return []
        sql, params = rendered
        rows = await session.execute(text(f"SELECT story_id FROM story_texts WHERE tsv @@ {sql}"), params)
        return [int(r[0]) for r in rows]
    query = parsed.expression or parsed.exclude
    if query is None:
        return []
    rows = await fetch_all(session, f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?", (query,))
    return [int(r[0]) for r in rows]


async def ranked_matches(session: AsyncSession, user_text: str) -> list[tuple[int, float]]:
    """Every story (removed ones too) the text asks for, each with its rank (lower is better; bm25
    with column weights on SQLite, minus ts_rank on PostgreSQL), unordered: the match and the
    ranking in one statement, one MATCH. Empty when the text only leaves words out."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        return await _pg_search(session, user_text, None, True)
    query = to_match_query(user_text)
    if query is None:
        return []
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    sql = f"SELECT rowid, bm25({FTS_TABLE}, {weights}) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?"
    return await fetch_all(session, sql, (query,))


@dataclass(frozen=True, slots=True)
class FullText:
    """One full-text index as a search reads it: the SQLite FTS5 table and its bm25 column weights,
    the PostgreSQL tsvector column (ranked with the same weight ratios)."""

    table: str
    weights: tuple[float, ...]
    vector: str


WHOLE_TEXT = FullText(FTS_TABLE, FTS_WEIGHTS, "tsv")
ABOUT_TEXT = FullText(ABOUT_TABLE, FTS_WEIGHTS[: len(ABOUT_COLUMNS)], "about_tsv")
"""Every column, and the about index (`db.about`): all but the body, with the same weights."""


async def fts_search(
    session: AsyncSession,
    user_text: str,
    limit: int | None = None,
    *,
    include_removed: bool = False,
    index: FullText = WHOLE_TEXT,
) -> list[tuple[int, float]]:
    """Stories matching `user_text` in `index`, best first, as (story_id, rank; lower is better).

    Column weights favour title, then author, then summary and tags, then body (bm25 on SQLite,
    minus ts_rank on PostgreSQL). Mod-removed stories are left out unless `include_removed`.
    """
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        return await _pg_search(session, user_text, limit, include_removed, index.vector)
    query = to_match_query(user_text)
    if query is None:
        return []
    table = index.table
    weights = ", ".join(str(w) for w in index.weights)
    removed = "" if include_removed else "AND s.removed_at IS NULL "
    join = "" if include_removed else "JOIN stories AS s ON s.id = f.rowid "  # the join costs 2-3x
    sql = (
        f"SELECT f.rowid, bm25({table}, {weights}) AS rank FROM {table} AS f "
        f"{join}WHERE {table} MATCH ? {removed}"
        "ORDER BY rank, f.rowid" + (" LIMIT ?" if limit is not None else "")
    )
    params = (query,) if limit is None else (query, int(limit))
    return [(int(story_id), float(rank)) for story_id, rank in await fetch_all(session, sql, params)]


async def _pg_search(
    session: AsyncSession, user_text: str, limit: int | None, include_removed: bool, vector: str = "tsv"
) -> list[tuple[int, float]]:
    rendered = to_tsquery_sql(user_text)
    if rendered is None:
        return []
    tsquery, bound = rendered
    params: dict[str, object] = dict(bound)
    removed = "" if include_removed else "JOIN stories AS s ON s.id = t.story_id AND s.removed_at IS NULL "
    sql = (
        f"SELECT t.story_id, -ts_rank({_PG_WEIGHTS}, t.{vector}, q.q, 1) AS rank "
        f"FROM (SELECT {tsquery} AS q) AS q JOIN story_texts AS t ON t.{vector} @@ q.q {removed}"
        "ORDER BY rank, t.story_id" + (" LIMIT :limit" if limit is not None else "")
    )
    if limit is not None:
        params["limit"] = int(limit)
    rows = await session.execute(text(sql), params)
    return [(int(story_id), float(rank)) for story_id, rank in rows]


PG_INDEX = "ix_story_texts_tsv"
PG_ABOUT_INDEX = "ix_story_texts_about_tsv"
PG_ABOUT_INDEX_DDL = f"CREATE INDEX IF NOT EXISTS {PG_ABOUT_INDEX} ON story_texts USING gin (about_tsv)"
PG_BULK_BEGIN: tuple[str, ...] = (
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"DROP INDEX IF EXISTS {PG_ABOUT_INDEX}",
)
"""PostgreSQL, before rows are loaded in bulk into an empty `story_texts`: the GIN index goes (one
build at the end costs a fraction of updating it row by row)."""
PG_BULK_END: tuple[str, ...] = (
    "SET LOCAL maintenance_work_mem = '256MB'",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON story_texts USING gin (tsv)",
    PG_ABOUT_INDEX_DDL,
)
"""…and after: the index built once over every row (the same definition as migration 0001's)."""


async def check_index(session: AsyncSession, *, recompute: bool = True) -> None:
    """Raise when the full-text index disagrees with `story_texts` (FTS5's integrity check; on
    PostgreSQL, every stored tsvector recomputed, or with `recompute=False` only checked present
    and indexed: right after the rows were written PostgreSQL has just computed them itself)."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        if recompute:
            stale = await session.scalar(
                text(f"SELECT count(*) FROM story_texts WHERE tsv IS DISTINCT FROM ({PG_TSV})")
            )
        else:
            stale = await session.scalar(text("SELECT count(*) FROM story_texts WHERE tsv IS NULL"))
        if recompute:
            stale = stale or await session.scalar(
                text(f"SELECT count(*) FROM story_texts WHERE about_tsv IS DISTINCT FROM ({PG_ABOUT_TSV})")
            )
        if stale:
            raise RuntimeError(f"{stale} stories have a stale full-text entry")
        for index in (PG_INDEX, PG_ABOUT_INDEX):
            valid = await session.scalar(
                text(
                    "SELECT i.indisvalid FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
                    "WHERE c.relname = :n"
                ),
                {"n": index},
            )
            if not valid:
                raise RuntimeError(f"the full-text index {index} is missing or invalid")
        return
    for table in (FTS_TABLE, ABOUT_TABLE):
        await session.execute(text(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)"))
