"""Exact bm25 for common words and phrases without FTS5 ranking every story that holds them (SQLite).

FTS5's bm25 reads every hit's position lists and size record: about 3 µs a story, 60-140 ms for a
word in half of 50,000 stories, more for a query of several, hundreds of ms for a phrase of common
words. But bm25 of one phrase (a word is a phrase of one) in one story is
`idf * w(k1+1) / (w + k1(1 - b + b·D/avgdl))`, with `w` the story's column-weighted count of the
phrase and `D` its length in tokens, and a query's score is the sum of its phrases' terms. So for
each word found in at least `MIN_STORIES` stories, and each pair of neighbouring words (`of the`)
as common, one build keeps its impacts: every story holding it with its `w` (compressed,
`story_fts_impacts`), and every story's `D` (`story_fts_lengths`). Longer and rarer phrases of
common words are counted in the pairs index (`db.pairs`). A search recomputes each term with the
archive's numbers then (`idf` from how many stories hold it now, `avgdl` from FTS5's own averages
record), in FTS5's order of operations, so the ranks are FTS5's to the last bit.

A story written since the build is "fresh" (`story_fts_fresh`, filled by triggers on every insert,
update and delete of `story_texts`): its part is taken from FTS5 now. For a word, stories added
since are scored by FTS5 itself (one `rowid >` range); a story whose text changed, or that is gone
(and for a phrase, any fresh story), is looked up (`rowid IN`, `rowid >`) and counted by
`highlight()` (at most `MAX_EDITED` matches; more, and the query is ranked by FTS5 until the next
index run). An index run patches the fresh stories in (`patch`: each read by FTS5's own tokenizer
in a one-row temp table; seconds), or builds again when many changed. `ranked_matches` answers a
query of plain words and phrases (ASCII, no prefix, no column) joined all by OR or by AND and NOT,
with some left out, when at least one is common or a phrase; anything else (prefixes, column
filters, OR mixed with NOT, rare words only) returns None and the caller asks FTS5. A search's
reads are one read transaction (`db.rawsql.read_snapshot`): a build or a write committing meanwhile
cannot mix two states. PostgreSQL ranks with its own index and never uses this. Must not import the
service layer.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from db.bm25 import averages, doc_tokens, idf_of, pack, recovered_w, terms, unpack, varints, within
from db.engine import sync_sqlite_url
from db.fts import FTS_COLUMNS, FTS_TABLE, FTS_WEIGHTS
from db.ftsquery import Term, parse_query
from db.pairs import (
    FORGET_PAIRS,
    PAIRS_STATE,
    PAIRS_TABLE,
    Built,
    exact_tokens,
    one_row_table,
    phrase_counts,
    phrase_impacts,
    phrase_weights,
    read_state,
    save_state,
    story_pairs,
    write_pairs,
)
from db.rawsql import fetch_all, read_snapshot

log = logging.getLogger(__name__)

IMPACTS_TABLE = "story_fts_impacts"
LENGTHS_TABLE = "story_fts_lengths"
FRESH_TABLE = "story_fts_fresh"

MIN_STORIES = 5000
"""A word or a pair of words (`of the`) gets impacts of its own when at least this many stories
hold it, and so does a three-word phrase found that common in a build's sample (`db.pairs`):
below, FTS5 ranks a word in under about 15 ms, and the pairs index a phrase of common words in
under about 60 ms."""
PAIRABLE = 1000
"""A word found in at least this many stories (or `MIN_STORIES`, if lower) is written to the pairs
index with its neighbours (`db.pairs`): a phrase with a rarer word is left to FTS5, which finds it
through that word's short list (under about 60 ms at 50,000 stories)."""
MAX_EDITED = 8
"""Stories holding a word whose text changed since the build that a search counts itself (about
2.5 ms each); more, and FTS5 ranks the query until the next build."""
MAX_LOOKED_UP = 400
"""Stories changed since the build that a search looks up at all (one `rowid IN` list per word)."""
REBUILD_SHARE = 0.02
"""An index run rebuilds the impacts once this share of the archive (or `MIN_REBUILD` stories) is
fresh: a build reads every common word's whole list (about 150 s at 50,000 stories). Fewer fresh
stories are patched in (`patch`: seconds)."""
MIN_REBUILD = 200

WHOLE_WEIGHTS = all(float(x).is_integer() for x in FTS_WEIGHTS)
"""`w` is read back from bm25 by rounding to a whole number: with a fractional column weight no
impacts are built (every search is FTS5's)."""

_WORD = re.compile(r"[A-Za-z0-9]+")
_WEIGHTS = ", ".join(str(w) for w in FTS_WEIGHTS)
_RANKED = f"SELECT rowid, bm25({FTS_TABLE}, {_WEIGHTS}) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?"

SQLITE_UP: tuple[str, ...] = (
    f"CREATE TABLE {IMPACTS_TABLE} (term TEXT PRIMARY KEY, stories INTEGER NOT NULL, "
    "ids BLOB NOT NULL, w BLOB NOT NULL) WITHOUT ROWID",
    f"CREATE TABLE {LENGTHS_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), newest INTEGER NOT NULL, "
    "ids BLOB NOT NULL, d BLOB NOT NULL)",
    f"CREATE TABLE {FRESH_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, story_id INTEGER NOT NULL)",
    *(
        f"CREATE TRIGGER story_texts_fresh_{suffix} AFTER {event} ON story_texts BEGIN "
        f"INSERT INTO {FRESH_TABLE} (story_id) VALUES ({row}.story_id); END"
        for suffix, event, row in (("ai", "INSERT", "new"), ("au", "UPDATE", "new"), ("ad", "DELETE", "old"))
    ),
)
"""Migration 0007 on SQLite (frozen: a later change needs a new migration). PostgreSQL: nothing."""
SQLITE_DOWN: tuple[str, ...] = (
    *(f"DROP TRIGGER IF EXISTS story_texts_fresh_{suffix}" for suffix in ("ad", "au", "ai")),
    f"DROP TABLE IF EXISTS {FRESH_TABLE}",
    f"DROP TABLE IF EXISTS {LENGTHS_TABLE}",
    f"DROP TABLE IF EXISTS {IMPACTS_TABLE}",
)


FORGET_IMPACTS: tuple[str, ...] = (
    f"DELETE FROM {IMPACTS_TABLE}",
    f"DELETE FROM {LENGTHS_TABLE}",
    *FORGET_PAIRS,
)
"""Drop the impacts (SQLite), when the full-text index was rebuilt behind the triggers' back: every
search is FTS5's until the next index run builds them again (`due`: none stored)."""


def _indexed(conn: sqlite3.Connection) -> tuple[int, bytes | None]:
    """(stories in the full-text index, its averages record): one small row, where `count(*)` of
    `story_texts` reads every story's first page (2 s cold, 0.1 s warm at 50,000)."""
    row = conn.execute(f"SELECT block FROM {FTS_TABLE}_data WHERE id = 1").fetchone()
    return (varints(bytes(row[0]))[0], bytes(row[0])) if row else (0, None)


# --- which queries -------------------------------------------------------------------------------


def _unit(node: object) -> str | None:
    """A term as FTS5 reads it: its words folded and joined by spaces (`"you're a"` is `you re a`),
    when it is plain ASCII without a prefix or column; else None."""
    if not isinstance(node, Term) or node.prefix or node.column is not None or not node.words.isascii():
        return None
    words = _WORD.findall(node.words.lower())
    return " ".join(words) if words else None


@dataclass(frozen=True, slots=True)
class PlainWords:
    """A query of plain words and phrases (each a "unit": `stake`, `of the`): stories holding every
    one of `wanted` (or any, when `any_of`), and none of `unwanted`; `phrases`: every unit in the
    order FTS5 numbers its phrases."""

    wanted: tuple[str, ...]
    unwanted: tuple[str, ...]
    any_of: bool
    phrases: tuple[str, ...]


def plain_words(user_text: str) -> PlainWords | None:
    """The query as `PlainWords` when FTS5 ranks it as the sum of one term per word or phrase: one,
    or several joined all by OR, or by AND and NOT (FTS5's NOT binds tighter than AND, so no story
    it finds holds one after a NOT), then some left out. Plain: ASCII, no prefix, no column (FTS5
    folds the case of ASCII letters and nothing else). None for anything else."""
    parsed = parse_query(user_text)
    if parsed is None or parsed.include is None:
        return None
    items = parsed.include.items
    words = [_unit(item) for item in items[0::2]]
    left_out = [_unit(node) for node in parsed.exclude]
    operators = set(items[1::2])
    if any(w is None for w in (*words, *left_out)) or not (
        operators <= {"AND", "NOT"} or operators == {"OR"}
    ):
        return None
    named = [w for w in words if w is not None]
    unwanted = [named[i + 1] for i, op in enumerate(items[1::2]) if op == "NOT"]
    wanted = [w for i, w in enumerate(named) if i == 0 or items[2 * i - 1] != "NOT"]
    out = [w for w in left_out if w is not None]
    return PlainWords(tuple(wanted), (*unwanted, *out), operators == {"OR"}, (*named, *out))


# --- search ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Now:
    """What every word of one query shares: FTS5's numbers now, the stored lengths, fresh stories."""

    rows: int
    avgdl: float
    newest: int
    length_ids: np.ndarray
    lengths: np.ndarray
    fresh: np.ndarray


async def _now(session: AsyncSession) -> _Now | None:
    stored = await fetch_all(session, f"SELECT newest, ids, d FROM {LENGTHS_TABLE} WHERE id = 1")
    if not stored:
        return None
    block = await fetch_all(session, f"SELECT block FROM {FTS_TABLE}_data WHERE id = 1")
    if not block:
        return None
    rows, avgdl = averages(bytes(block[0][0]))
    if not rows:  # every story deleted since the build
        return None
    fresh = [r[0] for r in await fetch_all(session, f"SELECT DISTINCT story_id FROM {FRESH_TABLE}")]
    newest, ids, d = stored[0]
    return _Now(
        rows, avgdl, int(newest), unpack(ids, True), unpack(d), np.array(sorted(fresh), dtype=np.int64)
    )


async def ranked_matches(session: AsyncSession, user_text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Every story (removed ones too) a query of plain words matches, sorted by id, with FTS5's
    bm25 rank of each (lower is better), from the stored impacts; None when the query is not one
    `plain_words` covers, none of its words has impacts, or too many of a word's stories changed
    since the build (the caller then asks FTS5)."""
    query = plain_words(user_text)
    conn = await session.connection()
    if query is None or conn.dialect.name != "sqlite":
        return None
    async with read_snapshot(session):  # the impacts, FTS5's numbers and fresh stories: one state
        each = await _each_word(session, query)
    if each is None:
        return None
    sets = [each[w][0] for w in query.wanted]
    hits = sets[0]
    for ids in sets[1:]:
        hits = np.union1d(hits, ids) if query.any_of else np.intersect1d(hits, ids, assume_unique=True)
    for word in query.unwanted:
        hits = hits[~within(hits, each[word][0])]
    score = np.zeros(len(hits))
    for word in query.phrases:  # FTS5's sum, phrase by phrase, in its order
        ids, t = each[word]
        held = within(hits, ids)
        at = np.searchsorted(ids, hits[held])
        term = np.zeros(len(hits))
        term[held] = t[at]
        score = score + term
    return hits, -1.0 * score


async def _each_word(
    session: AsyncSession, query: PlainWords
) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """(ids, term) of every story holding each word or phrase of the query now, or None (see
    `ranked_matches`)."""
    distinct = tuple(dict.fromkeys(query.phrases))
    stored = {
        term: (ids, w)
        for term, ids, w in await fetch_all(
            session,
            f"SELECT term, ids, w FROM {IMPACTS_TABLE} WHERE term IN ({','.join('?' * len(distinct))})",
            distinct,
        )
    }
    if not stored and not any(" " in unit for unit in distinct):
        return None  # rare words only: FTS5 ranks them as fast
    now = await _now(session)
    if now is None:
        return None
    each: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for unit in distinct:
        if unit in stored:
            found = await _from_impacts(session, unit, stored[unit], now)
        elif " " in unit:
            found = await _from_pairs(session, unit, now)
        else:
            found = await _from_fts(session, unit)
        if found is None:
            return None
        each[unit] = found
    return each


async def _from_fts(session: AsyncSession, word: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A word without impacts (a rare one, or one that became common since the build): FTS5 ranks
    it alone, its term the negated rank."""
    found = np.array(await fetch_all(session, _RANKED, (f'"{word}"',)), dtype=np.float64).reshape(-1, 2)
    order = np.argsort(found[:, 0], kind="stable")
    return found[order, 0].astype(np.int64), -found[order, 1]


async def _from_impacts(
    session: AsyncSession, unit: str, stored: tuple[bytes, bytes], now: _Now
) -> tuple[np.ndarray, np.ndarray] | None:
    """(ids, term) of every story holding a common word (or pair of words) now: the stored impacts
    of stories unchanged since the build, FTS5's own for the fresh ones."""
    ids, w = unpack(stored[0], True), unpack(stored[1]).astype(np.float64)
    kept = ~within(ids, now.fresh)
    return await _with_fresh(session, unit, ids[kept], w[kept], now)


async def _from_pairs(session: AsyncSession, unit: str, now: _Now) -> tuple[np.ndarray, np.ndarray] | None:
    """(ids, term) of every story holding a phrase now, from the pairs index (`db.pairs`) for the
    stories unchanged since it was written, FTS5's own for the fresh ones; None when the pairs
    index cannot answer it (a word in it is not common enough to be paired)."""
    found = await phrase_counts(session, unit.split())
    if found is None:
        return None
    ids, w = found
    kept = ~within(ids, now.fresh)
    return await _with_fresh(session, unit, ids[kept], w[kept], now)


async def _with_fresh(
    session: AsyncSession, unit: str, ids: np.ndarray, w: np.ndarray, now: _Now
) -> tuple[np.ndarray, np.ndarray] | None:
    """The terms of the stories unchanged since the build (`ids`, their `w`), with those of the fresh
    stories holding the unit now: the changed ones counted (`_counted`, at most `MAX_EDITED`), the
    added ones ranked by FTS5 (a word) or counted too (a phrase: FTS5's rank would count the stories
    holding it in the whole archive, the very cost avoided)."""
    at = np.searchsorted(now.length_ids, ids).clip(0, max(len(now.length_ids) - 1, 0))
    if len(ids) and not np.array_equal(now.length_ids[at], ids):
        return None  # a story the lengths do not know: only after a failed write; FTS5 ranks
    d = now.lengths[at].astype(np.float64)
    edited = now.fresh[now.fresh <= now.newest]
    if len(edited) > MAX_LOOKED_UP:  # many changed (a re-read): FTS5 ranks until the next build
        return None
    phrase = " " in unit
    holding = np.zeros(0, dtype=np.int64)
    if len(edited):
        marks = ",".join("?" * len(edited))
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? AND rowid IN ({marks})"
        holding = np.array(
            [r[0] for r in await fetch_all(session, sql, (f'"{unit}"', *map(int, edited)))], dtype=np.int64
        )
    added: np.ndarray | None = None
    if len(now.fresh) and now.fresh[-1] > now.newest:
        if phrase:
            sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? AND rowid > ?"
            new = [r[0] for r in await fetch_all(session, sql, (f'"{unit}"', now.newest))]
            holding = np.concatenate([holding, np.array(new, dtype=np.int64)])
        else:
            added = np.array(
                await fetch_all(session, _RANKED + " AND rowid > ?", (f'"{unit}"', now.newest)),
                dtype=np.float64,
            ).reshape(-1, 2)
    if len(holding) > MAX_EDITED or (len(holding) and not _countable(unit)):
        return None
    counted = (holding, *await _counted(session, unit, holding)) if len(holding) else None
    hits = len(ids) + (len(counted[0]) if counted else 0) + (len(added) if added is not None else 0)
    idf = idf_of(now.rows, hits)
    out_ids, out_t = [ids], [terms(w, d, idf, now.avgdl)]
    if counted:
        out_ids.append(counted[0])
        out_t.append(terms(counted[1], counted[2], idf, now.avgdl))
    if added is not None:
        out_ids.append(added[:, 0].astype(np.int64))
        out_t.append(-added[:, 1])
    all_ids = np.concatenate(out_ids)
    order = np.argsort(all_ids, kind="stable")
    return all_ids[order], np.concatenate(out_t)[order]


def _countable(unit: str) -> bool:
    """Whether `highlight()` marks every occurrence of `unit` apart: it merges overlapping ones, and
    two occurrences of a phrase overlap only if a word of it comes back (`you you`)."""
    words = unit.split()
    return len(set(words)) == len(words)


async def _counted(session: AsyncSession, word: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(w, D) of a few stories, counted now: each column's `highlight()` is its text plus two marks
    around every occurrence of the word."""
    lengths = ", ".join(
        f"(length(highlight({FTS_TABLE}, {i}, '[', ']')) - length(coalesce({c}, ''))) / 2"
        for i, c in enumerate(FTS_COLUMNS)
    )
    marks = ",".join("?" * len(ids))
    sql = f"SELECT rowid, {lengths} FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? AND rowid IN ({marks})"
    counts = {int(r[0]): r[1:] for r in await fetch_all(session, sql, (f'"{word}"', *map(int, ids)))}
    sizes = await fetch_all(
        session, f"SELECT id, sz FROM {FTS_TABLE}_docsize WHERE id IN ({marks})", tuple(map(int, ids))
    )
    length = {int(i): doc_tokens(sz) for i, sz in sizes}
    w = [sum(float(n) * x for n, x in zip(counts[int(i)], FTS_WEIGHTS, strict=True)) for i in ids]
    return np.array(w), np.array([float(length[int(i)]) for i in ids])


# --- the build -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What one build made: words with impacts, (word, story) pairs kept, seconds; for a patch,
    `patched` fresh stories brought in (and `words` re-packed); `word_pairs`: pairs of words
    (`of the`) with impacts of their own, `pairs_seconds` the time writing the pairs index took."""

    words: int
    pairs: int
    seconds: float
    patched: int = 0
    word_pairs: int = 0
    pairs_seconds: float = 0.0


def fresh_count(conn: sqlite3.Connection) -> int:
    """How many stories were written since the last build."""
    return int(conn.execute(f"SELECT count(DISTINCT story_id) FROM {FRESH_TABLE}").fetchone()[0])


def due(conn: sqlite3.Connection) -> str | None:
    """What an index run should do with the impacts: "build" them (the archive is big enough for a
    word to qualify and they or the pairs index are missing, or a large share of it changed: a build
    also finds words that became common), "patch" in the stories written since, or nothing (None)."""
    stories = _indexed(conn)[0]
    fresh = fresh_count(conn)
    if stories < MIN_STORIES or not WHOLE_WEIGHTS:
        return "build" if fresh else None  # nothing to keep: only empty the fresh table
    if conn.execute(f"SELECT 1 FROM {LENGTHS_TABLE}").fetchone() is None:
        return "build"
    dead = conn.execute(f"SELECT dead FROM {PAIRS_STATE}").fetchone()
    if dead is None:
        return "build"
    if max(fresh, int(dead[0])) >= max(MIN_REBUILD, REBUILD_SHARE * stories):
        return "build"
    return "patch" if fresh else None


def build(conn: sqlite3.Connection) -> BuildReport:
    """Write the pairs index (`db.pairs`), then build every common word's and word pair's impacts from
    one snapshot and write them in one transaction. Stories written meanwhile stay fresh (their rows
    in `story_fts_fresh` come after the first one read here)."""
    started = time.perf_counter()
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.story_fts_terms USING fts5vocab(main, {FTS_TABLE}, 'row')"
    )
    upto = int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {FRESH_TABLE}").fetchone()[0])
    stories, record = _indexed(conn)
    big = WHOLE_WEIGHTS and record is not None and stories >= MIN_STORIES
    vocabulary = "SELECT term, doc FROM temp.story_fts_terms WHERE doc >= ?"
    found = conn.execute(vocabulary, (min(PAIRABLE, MIN_STORIES),)).fetchall() if big else []
    pairable = frozenset(term for term, _ in found if _WORD.fullmatch(term))
    common = frozenset(term for term, held in found if held >= MIN_STORIES and term in pairable)
    built = write_pairs(conn, pairable, MIN_STORIES) if big else None
    pairs_seconds = time.perf_counter() - started
    conn.execute("BEGIN")
    try:
        newest = int(conn.execute("SELECT coalesce(max(story_id), 0) FROM story_texts").fetchone()[0])
        stories, record = _indexed(conn)
        sized = conn.execute(f"SELECT id, sz FROM {FTS_TABLE}_docsize ORDER BY id").fetchall() if big else []
        doc_ids = np.array([r[0] for r in sized], dtype=np.int64)
        doc_len = np.array([float(doc_tokens(r[1])) for r in sized])
        del sized
        words = list(_impacts(conn, record, common, doc_ids, doc_len)) if big and record else []
        pairs = list(phrase_impacts(conn, built, MIN_STORIES)) if built is not None else []
    finally:
        conn.execute("COMMIT")
    rows = words + pairs
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sql in FORGET_IMPACTS:
            conn.execute(sql)
        if big:
            conn.execute(
                f"INSERT INTO {LENGTHS_TABLE} (id, newest, ids, d) VALUES (1, ?, ?, ?)",
                (newest, pack(doc_ids, True), pack(doc_len)),
            )
        if built is not None:
            save_state(conn, pairable, built, 0)
        else:
            conn.execute(f"INSERT INTO {PAIRS_TABLE} ({PAIRS_TABLE}) VALUES ('delete-all')")
        conn.executemany(f"INSERT INTO {IMPACTS_TABLE} (term, stories, ids, w) VALUES (?, ?, ?, ?)", rows)
        conn.execute(f"DELETE FROM {FRESH_TABLE} WHERE seq <= ?", (upto,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    report = BuildReport(
        len(words),
        sum(r[1] for r in rows),
        time.perf_counter() - started,
        word_pairs=len(pairs),
        pairs_seconds=pairs_seconds,
    )
    log.info(
        "impacts: %s common words and %s common word pairs, %s (term, story) entries in %.1f s "
        "(the pairs index %.1f s)",
        report.words,
        report.word_pairs,
        report.pairs,
        report.seconds,
        report.pairs_seconds,
    )
    return report


def _impacts(
    conn: sqlite3.Connection, record: bytes, common: frozenset[str], doc_ids: np.ndarray, doc_len: np.ndarray
) -> Iterator[tuple[str, int, bytes, bytes]]:
    """Each common word with its stories and their `w`, as rows to store. `w` is read back from
    FTS5's own bm25 of the word alone (exactly: every one is checked by scoring it again)."""
    rows, avgdl = averages(record)
    for term in sorted(common):
        found = np.array(conn.execute(_RANKED, (f'"{term}"',)).fetchall(), dtype=np.float64).reshape(-1, 2)
        order = np.argsort(found[:, 0], kind="stable")
        ids, rank = found[order, 0].astype(np.int64), found[order, 1]
        d = doc_len[np.searchsorted(doc_ids, ids)]
        w = recovered_w(rank, d, idf_of(rows, len(ids)), avgdl)
        if not len(ids) or w is None:
            log.warning("word impacts: %r does not score as FTS5 does; left to FTS5", term)
            continue
        yield term, len(ids), pack(ids, True), pack(w)


def patch(conn: sqlite3.Connection) -> BuildReport:
    """Bring the impacts and the pairs index up to date with the stories written since they were
    built (the fresh ones) without reading any word's whole list: each fresh story is read by FTS5's
    own tokenizer in a one-row temp table (its length checked against the main index's), its
    entries replace the old ones, and its pairs go in as a new row of the pairs index. Counted in
    one read snapshot (7 s at 50,000 stories, mostly re-packing the arrays), written in one short
    transaction, and only if nothing was written meanwhile (else nothing: the next index run
    patches it all). Raises ValueError if a count disagrees (then `build`)."""
    started = time.perf_counter()
    one_row_table(conn)
    conn.execute("BEGIN")  # read and count in one snapshot, without the write lock
    try:
        upto = int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {FRESH_TABLE}").fetchone()[0])
        state = read_state(conn)
        if state is None:  # a build is writing the pairs index: it brings these stories in
            return BuildReport(0, 0, time.perf_counter() - started)
        pairable, built, dead = state
        _, length_blob, d_blob = conn.execute(
            f"SELECT newest, ids, d FROM {LENGTHS_TABLE} WHERE id = 1"
        ).fetchone()
        fresh = np.array(
            sorted(r[0] for r in conn.execute(f"SELECT DISTINCT story_id FROM {FRESH_TABLE}")), dtype=np.int64
        )
        stored = {r[0] for r in conn.execute(f"SELECT term FROM {IMPACTS_TABLE}")}
        sizes = sorted({len(term.split()) for term in stored})
        counted: dict[int, dict[str, float]] = {}
        lengths: dict[int, float] = {}
        pair_rows: list[tuple[int, ...]] = []
        new_rows: list[tuple[int, int, int]] = []
        for story in fresh.tolist():
            row = conn.execute(
                f"SELECT {', '.join(FTS_COLUMNS)} FROM story_texts WHERE story_id = ?", (story,)
            ).fetchone()
            if row is None:
                continue  # deleted: its entries go
            columns = exact_tokens(conn, tuple(row))
            total = sum(len(tokens) for tokens in columns)
            size = conn.execute(f"SELECT sz FROM {FTS_TABLE}_docsize WHERE id = ?", (story,)).fetchone()
            if size is None or doc_tokens(size[0]) != total:
                raise ValueError(
                    f"story {story}: counted {total} tokens, the full-text index holds another number"
                )
            counted[story], lengths[story] = phrase_weights(columns, stored, sizes), float(total)
            length, texts = story_pairs(columns, pairable)
            row_id = built.next_row + len(new_rows)
            pair_rows.append((row_id, *texts))
            new_rows.append((row_id, story, length))
        rows = []
        for term, blob_ids, blob_w in conn.execute(f"SELECT term, ids, w FROM {IMPACTS_TABLE}").fetchall():
            ids, ws = unpack(blob_ids, True), unpack(blob_w).astype(np.float64)
            keep = ~within(ids, fresh)
            held = [(story, found[term]) for story, found in counted.items() if term in found]
            ids = np.concatenate([ids[keep], np.array([s for s, _ in held], dtype=np.int64)])
            ws = np.concatenate([ws[keep], np.array([x for _, x in held])])
            order = np.argsort(ids, kind="stable")
            rows.append((len(ids), pack(ids[order], True), pack(ws[order]), term))
        old_ids, old_d = unpack(length_blob, True), unpack(d_blob).astype(np.float64)
        keep = ~within(old_ids, fresh)
        all_ids = np.concatenate([old_ids[keep], np.array(list(lengths), dtype=np.int64)])
        all_d = np.concatenate([old_d[keep], np.array(list(lengths.values()))])
        order = np.argsort(all_ids, kind="stable")
        newest = int(conn.execute("SELECT coalesce(max(story_id), 0) FROM story_texts").fetchone()[0])
        live = ~within(built.ids, fresh)
        added = np.array(new_rows, dtype=np.int64).reshape(-1, 3)
        patched = Built(
            np.concatenate([built.rows[live], added[:, 0]]),
            np.concatenate([built.ids[live], added[:, 1]]),
            np.concatenate([built.d[live], added[:, 2]]),
            built.next_row + len(new_rows),
        )
        dead += int((~live).sum())
    finally:
        conn.execute("COMMIT")
    conn.execute("BEGIN IMMEDIATE")
    try:
        now = conn.execute(f"SELECT next_row FROM {PAIRS_STATE}").fetchone()
        if (
            int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {FRESH_TABLE}").fetchone()[0]) != upto
            or now is None
            or int(now[0]) != built.next_row
        ):
            conn.execute("ROLLBACK")  # written meanwhile: the next index run patches it all
            return BuildReport(0, 0, time.perf_counter() - started)
        conn.executemany(f"UPDATE {IMPACTS_TABLE} SET stories = ?, ids = ?, w = ? WHERE term = ?", rows)
        conn.execute(
            f"UPDATE {LENGTHS_TABLE} SET newest = ?, ids = ?, d = ? WHERE id = 1",
            (newest, pack(all_ids[order], True), pack(all_d[order])),
        )
        conn.executemany(
            f"INSERT INTO {PAIRS_TABLE} (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
            pair_rows,
        )
        save_state(conn, pairable, patched, dead)
        conn.execute(f"DELETE FROM {FRESH_TABLE} WHERE seq <= ?", (upto,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    phrases = sum(1 for r in rows if " " in r[3])
    report = BuildReport(
        len(rows) - phrases, sum(r[0] for r in rows), time.perf_counter() - started, len(fresh), phrases
    )
    log.info(
        "impacts: %s stories brought in, %s words and pairs re-packed in %.1f s",
        len(fresh),
        len(rows),
        report.seconds,
    )
    return report


def refresh(database_url: str, *, force: bool = False, build_ok: bool = True) -> BuildReport | None:
    """Bring the impacts up to date after an index run (`due`): build them, or patch in the stories
    written since; with `force`, build; without `build_ok`, only a patch (the bot between index
    runs: a build is minutes of CPU). None when the database is not an SQLite file or nothing was
    done. Its own connection: a build's reads hold no lock; the writes wait for other writers."""
    url = sync_sqlite_url(database_url)
    if url is None:
        return None
    conn = sqlite3.connect(make_url(url).database or "", isolation_level=None, timeout=60.0)
    try:
        step = "build" if force else due(conn)
        if step == "build" and not build_ok:
            return None
        if step == "patch":
            try:
                return patch(conn)
            except ValueError as exc:
                log.warning("word impacts: %s; building them again", exc)
                step = "build" if build_ok else ""
        return build(conn) if step == "build" else None
    finally:
        conn.close()
