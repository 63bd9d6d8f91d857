"""Exact bm25 for common words without FTS5 ranking every story that holds them (SQLite).

FTS5's bm25 reads every hit's position lists and size record: about 3 µs a story, 60-140 ms for a
word in half of 50,000 stories, more for a query of several. But bm25 of one word in one story is
`idf * w(k1+1) / (w + k1(1 - b + b·D/avgdl))`, with `w` the story's column-weighted count of the
word and `D` its length in tokens, and a query's score is the sum of its words' terms. So for each
word found in at least `MIN_STORIES` stories, one build keeps its impacts: every story holding it
with its `w` (compressed, `story_fts_impacts`), and every story's `D` (`story_fts_lengths`). A
search recomputes each word's terms with the archive's numbers then (`idf` from how many stories
hold the word now, `avgdl` from FTS5's own averages record), in FTS5's order of operations, so the
ranks are FTS5's to the last bit.

A story written since the build is "fresh" (`story_fts_fresh`, filled by triggers on every insert,
update and delete of `story_texts`): its impacts are taken from FTS5 now. Stories added since are
scored by FTS5 itself (one `rowid >` range); a story whose text changed, or that is gone, is looked
up (`rowid IN`) and counted by `highlight()` (at most `MAX_EDITED` matches; more, and the query is
ranked by FTS5 until the next index run). An index run patches the fresh stories in (`patch`: each
counted by FTS5's own tokenizer in a one-row temp table; seconds), or builds again when many changed. `ranked_matches` answers a query of one common word, or plain
words joined all by OR or by AND and NOT, with words to leave out; anything else (phrases, prefixes,
column filters, OR mixed with NOT) returns None and the caller asks FTS5. A search's reads are
one read transaction (`db.rawsql.read_snapshot`): a build or a write committing meanwhile cannot
mix two states. PostgreSQL ranks with its own index and never uses this. Must not import the
service layer.
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import sync_sqlite_url
from db.fts import FTS_COLUMNS, FTS_TABLE, FTS_WEIGHTS
from db.ftsquery import Term, parse_query
from db.rawsql import fetch_all, read_snapshot

log = logging.getLogger(__name__)

IMPACTS_TABLE = "story_fts_impacts"
LENGTHS_TABLE = "story_fts_lengths"
FRESH_TABLE = "story_fts_fresh"

MIN_STORIES = 5000
"""A word gets impacts when at least this many stories hold it: below, FTS5 ranks it in under
about 15 ms anyway."""
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

K1, B = 1.2, 0.75
"""FTS5's bm25 constants (fts5_aux.c)."""
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


FORGET_IMPACTS: tuple[str, ...] = (f"DELETE FROM {IMPACTS_TABLE}", f"DELETE FROM {LENGTHS_TABLE}")
"""Drop the impacts (SQLite), when the full-text index was rebuilt behind the triggers' back: every
search is FTS5's until the next index run builds them again (`due`: none stored)."""


# --- numbers as FTS5 keeps and computes them -------------------------------------------------------


def _varints(blob: bytes) -> list[int]:
    """SQLite's big-endian varints, as FTS5 stores its averages and each story's column sizes."""
    out: list[int] = []
    i = 0
    while i < len(blob):
        value = 0
        for j in range(9):
            byte = blob[i]
            i += 1
            if j == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def _averages(blob: bytes) -> tuple[int, float]:
    """(stories, mean length in tokens) from FTS5's averages record, as bm25 computes them (0.0 with
    no story)."""
    numbers = _varints(blob)
    return numbers[0], float(sum(numbers[1:])) / float(numbers[0]) if numbers[0] else 0.0


def _tokens(size: bytes) -> int:
    """A story's length in tokens, from its FTS5 docsize record (one varint per column)."""
    return sum(_varints(bytes(size)))


def _indexed(conn: sqlite3.Connection) -> tuple[int, bytes | None]:
    """(stories in the full-text index, its averages record): one small row, where `count(*)` of
    `story_texts` reads every story's first page (2 s cold, 0.1 s warm at 50,000)."""
    row = conn.execute(f"SELECT block FROM {FTS_TABLE}_data WHERE id = 1").fetchone()
    return (_varints(bytes(row[0]))[0], bytes(row[0])) if row else (0, None)


def _idf(rows: int, hits: int) -> float:
    idf = math.log((rows - hits + 0.5) / (hits + 0.5))
    return idf if idf > 0.0 else 1e-6


def terms(w: np.ndarray, d: np.ndarray, idf: float, avgdl: float) -> np.ndarray:
    """One word's bm25 term for stories with weighted counts `w` and lengths `d`, in FTS5's own
    order of operations (fts5Bm25Function), so equal to its value to the last bit."""
    return idf * ((w * (K1 + 1.0)) / (w + K1 * (1 - B + B * d / avgdl)))


def _pack(values: np.ndarray, delta: bool = False) -> bytes:
    values = values.astype(np.int64)
    if delta:
        values = np.diff(values, prepend=0)
    return zlib.compress(values.astype("<u4").tobytes(), 1)


def _unpack(blob: bytes, delta: bool = False) -> np.ndarray:
    values = np.frombuffer(zlib.decompress(blob), dtype="<u4").astype(np.int64)
    return np.cumsum(values) if delta else values


# --- which queries -------------------------------------------------------------------------------


def _word(node: object) -> str | None:
    if isinstance(node, Term) and not node.prefix and node.column is None and _WORD.fullmatch(node.words):
        return node.words.lower()
    return None


@dataclass(frozen=True, slots=True)
class PlainWords:
    """A query of plain words: stories holding every one of `wanted` (or any, when `any_of`), and
    none of `unwanted`; `phrases`: every word in the order FTS5 numbers its phrases."""

    wanted: tuple[str, ...]
    unwanted: tuple[str, ...]
    any_of: bool
    phrases: tuple[str, ...]


def plain_words(user_text: str) -> PlainWords | None:
    """The query as `PlainWords` when FTS5 ranks it as the sum of one term per word: one plain word,
    or plain words joined all by OR, or by AND and NOT (FTS5's NOT binds tighter than AND, so no
    story it finds holds a word after a NOT), then words left out. Plain: ASCII letters and digits
    (FTS5 folds their case and nothing else). None for anything else."""
    parsed = parse_query(user_text)
    if parsed is None or parsed.include is None:
        return None
    items = parsed.include.items
    words = [_word(item) for item in items[0::2]]
    left_out = [_word(node) for node in parsed.exclude]
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
    rows, avgdl = _averages(bytes(block[0][0]))
    if not rows:  # every story deleted since the build
        return None
    fresh = [r[0] for r in await fetch_all(session, f"SELECT DISTINCT story_id FROM {FRESH_TABLE}")]
    newest, ids, d = stored[0]
    return _Now(
        rows, avgdl, int(newest), _unpack(ids, True), _unpack(d), np.array(sorted(fresh), dtype=np.int64)
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
        hits = hits[~_within(hits, each[word][0])]
    score = np.zeros(len(hits))
    for word in query.phrases:  # FTS5's sum, phrase by phrase, in its order
        ids, t = each[word]
        held = _within(hits, ids)
        at = np.searchsorted(ids, hits[held])
        term = np.zeros(len(hits))
        term[held] = t[at]
        score = score + term
    return hits, -1.0 * score


async def _each_word(
    session: AsyncSession, query: PlainWords
) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """(ids, term) of every story holding each word of the query now, or None (see `ranked_matches`)."""
    distinct = tuple(dict.fromkeys(query.phrases))
    stored = {
        term: (ids, w)
        for term, ids, w in await fetch_all(
            session,
            f"SELECT term, ids, w FROM {IMPACTS_TABLE} WHERE term IN ({','.join('?' * len(distinct))})",
            distinct,
        )
    }
    if not stored:
        return None
    now = await _now(session)
    if now is None:
        return None
    each: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for word in distinct:
        found = await (
            _from_impacts(session, word, stored[word], now) if word in stored else _from_fts(session, word)
        )
        if found is None:
            return None
        each[word] = found
    return each


async def _from_fts(session: AsyncSession, word: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A word without impacts (a rare one, or one that became common since the build): FTS5 ranks
    it alone, its term the negated rank."""
    found = np.array(await fetch_all(session, _RANKED, (f'"{word}"',)), dtype=np.float64).reshape(-1, 2)
    order = np.argsort(found[:, 0], kind="stable")
    return found[order, 0].astype(np.int64), -found[order, 1]


async def _from_impacts(
    session: AsyncSession, word: str, stored: tuple[bytes, bytes], now: _Now
) -> tuple[np.ndarray, np.ndarray] | None:
    """(ids, term) of every story holding the word now: the stored impacts of stories unchanged since
    the build, FTS5's own for the fresh ones."""
    ids, w = _unpack(stored[0], True), _unpack(stored[1]).astype(np.float64)
    kept = ~_within(ids, now.fresh)
    ids, w = ids[kept], w[kept]
    d = now.lengths[np.searchsorted(now.length_ids, ids)].astype(np.float64)
    edited = now.fresh[now.fresh <= now.newest]
    if len(edited) > MAX_LOOKED_UP:  # many changed (a re-read): FTS5 ranks until the next build
        return None
    counted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    if len(edited):
        marks = ",".join("?" * len(edited))
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? AND rowid IN ({marks})"
        holding = np.array(
            [r[0] for r in await fetch_all(session, sql, (f'"{word}"', *map(int, edited)))], dtype=np.int64
        )
        if len(holding) > MAX_EDITED:
            return None
        if len(holding):
            counted = (holding, *await _counted(session, word, holding))
    added: np.ndarray | None = None
    if len(now.fresh) and now.fresh[-1] > now.newest:
        added = np.array(
            await fetch_all(session, _RANKED + " AND rowid > ?", (f'"{word}"', now.newest)), dtype=np.float64
        ).reshape(-1, 2)
    hits = len(ids) + (len(counted[0]) if counted else 0) + (len(added) if added is not None else 0)
    idf = _idf(now.rows, hits)
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


def _within(ids: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of `ids` are in `sorted_ids`."""
    if not len(sorted_ids):
        return np.zeros(len(ids), dtype=bool)
    at = np.searchsorted(sorted_ids, ids).clip(0, len(sorted_ids) - 1)
    return sorted_ids[at] == ids


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
    length = {int(i): _tokens(sz) for i, sz in sizes}
    w = [sum(float(n) * x for n, x in zip(counts[int(i)], FTS_WEIGHTS, strict=True)) for i in ids]
    return np.array(w), np.array([float(length[int(i)]) for i in ids])


# --- the build -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What one build made: words with impacts, (word, story) pairs kept, seconds; for a patch,
    `patched` fresh stories brought in (and `words` re-packed)."""

    words: int
    pairs: int
    seconds: float
    patched: int = 0


def fresh_count(conn: sqlite3.Connection) -> int:
    """How many stories were written since the last build."""
    return int(conn.execute(f"SELECT count(DISTINCT story_id) FROM {FRESH_TABLE}").fetchone()[0])


def due(conn: sqlite3.Connection) -> str | None:
    """What an index run should do with the impacts: "build" them (the archive is big enough for a
    word to qualify and they are missing, or a large share of it changed: a build also finds words
    that became common), "patch" in the stories written since, or nothing (None)."""
    stories = _indexed(conn)[0]
    fresh = fresh_count(conn)
    if stories < MIN_STORIES:
        return "build" if fresh else None  # nothing to keep: only empty the fresh table
    if conn.execute(f"SELECT 1 FROM {LENGTHS_TABLE}").fetchone() is None:
        return "build"
    if fresh >= max(MIN_REBUILD, REBUILD_SHARE * stories):
        return "build"
    return "patch" if fresh else None


def build(conn: sqlite3.Connection) -> BuildReport:
    """Build every common word's impacts from one snapshot, then write them in one transaction.
    Stories written meanwhile stay fresh (their rows in `story_fts_fresh` come after the snapshot's)."""
    started = time.perf_counter()
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.story_fts_terms USING fts5vocab(main, {FTS_TABLE}, 'row')"
    )
    conn.execute("BEGIN")
    try:
        upto = int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {FRESH_TABLE}").fetchone()[0])
        newest = int(conn.execute("SELECT coalesce(max(story_id), 0) FROM story_texts").fetchone()[0])
        stories, averages = _indexed(conn)
        big = WHOLE_WEIGHTS and averages is not None and stories >= MIN_STORIES
        sized = conn.execute(f"SELECT id, sz FROM {FTS_TABLE}_docsize ORDER BY id").fetchall() if big else []
        doc_ids = np.array([r[0] for r in sized], dtype=np.int64)
        doc_len = np.array([float(_tokens(r[1])) for r in sized])
        del sized
        words = list(_impacts(conn, averages, doc_ids, doc_len)) if big and averages else []
    finally:
        conn.execute("COMMIT")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sql in FORGET_IMPACTS:
            conn.execute(sql)
        if big:
            conn.execute(
                f"INSERT INTO {LENGTHS_TABLE} (id, newest, ids, d) VALUES (1, ?, ?, ?)",
                (newest, _pack(doc_ids, True), _pack(doc_len)),
            )
        conn.executemany(f"INSERT INTO {IMPACTS_TABLE} (term, stories, ids, w) VALUES (?, ?, ?, ?)", words)
        conn.execute(f"DELETE FROM {FRESH_TABLE} WHERE seq <= ?", (upto,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    report = BuildReport(len(words), sum(n for _, n, _, _ in words), time.perf_counter() - started)
    log.info("word impacts: %s common words, %s pairs in %.1f s", report.words, report.pairs, report.seconds)
    return report


def _impacts(
    conn: sqlite3.Connection, averages: bytes, doc_ids: np.ndarray, doc_len: np.ndarray
) -> Iterator[tuple[str, int, bytes, bytes]]:
    """Each common word with its stories and their `w`, as rows to store. `w` is read back from
    FTS5's own bm25 of the word alone (exactly: every one is checked by scoring it again)."""
    rows, avgdl = _averages(averages)
    common = conn.execute("SELECT term FROM temp.story_fts_terms WHERE doc >= ?", (MIN_STORIES,)).fetchall()
    for (term,) in common:
        if not _WORD.fullmatch(term):
            continue
        found = np.array(conn.execute(_RANKED, (f'"{term}"',)).fetchall(), dtype=np.float64).reshape(-1, 2)
        order = np.argsort(found[:, 0], kind="stable")
        ids, rank = found[order, 0].astype(np.int64), found[order, 1]
        d = doc_len[np.searchsorted(doc_ids, ids)]
        idf = _idf(rows, len(ids))
        w = np.rint(K1 * (1 - B + B * d / avgdl) / ((K1 + 1.0) / (rank / -idf) - 1.0))
        if not np.array_equal(-1.0 * (0.0 + terms(w, d, idf, avgdl)), rank) or w.max() >= 2**32:
            log.warning("word impacts: %r does not score as FTS5 does; left to FTS5", term)
            continue
        yield term, len(ids), _pack(ids, True), _pack(w)


_TOKENIZE = re.compile(r"tokenize\s*=\s*'([^']*)'")


def patch(conn: sqlite3.Connection) -> BuildReport:
    """Bring the impacts up to date with the stories written since they were built (the fresh ones)
    without reading any word's whole list: each fresh story's columns are counted by FTS5's own
    tokenizer in a one-row temp table (its length checked against the main index's), and its entries
    replace the old ones. Counted in one read snapshot (7 s at 50,000 stories, mostly re-packing the
    words' arrays), written in one short transaction, and only if nothing was written meanwhile
    (else nothing: the next index run patches it all). Raises ValueError if a count disagrees (then
    `build`)."""
    started = time.perf_counter()
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone()[0]
    found = _TOKENIZE.search(ddl)
    tokenize = f", tokenize='{found.group(1)}'" if found else ""
    columns = ", ".join(FTS_COLUMNS)
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.story_fts_one USING fts5({columns}{tokenize})")
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.story_fts_one_terms USING fts5vocab(temp, story_fts_one, 'col')"
    )
    weight = dict(zip(FTS_COLUMNS, FTS_WEIGHTS, strict=True))
    conn.execute("BEGIN")  # read and count in one snapshot, without the write lock
    try:
        upto = int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {FRESH_TABLE}").fetchone()[0])
        _, length_blob, d_blob = conn.execute(
            f"SELECT newest, ids, d FROM {LENGTHS_TABLE} WHERE id = 1"
        ).fetchone()
        fresh = np.array(
            sorted(r[0] for r in conn.execute(f"SELECT DISTINCT story_id FROM {FRESH_TABLE}")), dtype=np.int64
        )
        counted: dict[int, dict[str, float]] = {}
        lengths: dict[int, float] = {}
        stored = {r[0] for r in conn.execute(f"SELECT term FROM {IMPACTS_TABLE}")}
        for story in fresh.tolist():
            row = conn.execute(f"SELECT {columns} FROM story_texts WHERE story_id = ?", (story,)).fetchone()
            if row is None:
                continue  # deleted: its entries go
            conn.execute("DELETE FROM temp.story_fts_one")
            conn.execute(f"INSERT INTO temp.story_fts_one (rowid, {columns}) VALUES (1, ?, ?, ?, ?, ?)", row)
            w: dict[str, float] = {}
            total = 0
            for term, column, count in conn.execute("SELECT term, col, cnt FROM temp.story_fts_one_terms"):
                total += count
                if term in stored:
                    w[term] = w.get(term, 0.0) + weight[column] * count
            size = conn.execute(f"SELECT sz FROM {FTS_TABLE}_docsize WHERE id = ?", (story,)).fetchone()
            if size is None or _tokens(size[0]) != total:
                raise ValueError(
                    f"story {story}: counted {total} tokens, the full-text index holds another number"
                )
            counted[story], lengths[story] = w, float(total)
        rows = []
        for term, blob_ids, blob_w in conn.execute(f"SELECT term, ids, w FROM {IMPACTS_TABLE}").fetchall():
            ids, ws = _unpack(blob_ids, True), _unpack(blob_w).astype(np.float64)
            keep = ~_within(ids, fresh)
            held = [(story, found[term]) for story, found in counted.items() if term in found]
            ids = np.concatenate([ids[keep], np.array([s for s, _ in held], dtype=np.int64)])
            ws = np.concatenate([ws[keep], np.array([x for _, x in held])])
            order = np.argsort(ids, kind="stable")
            rows.append((len(ids), _pack(ids[order], True), _pack(ws[order]), term))
        old_ids, old_d = _unpack(length_blob, True), _unpack(d_blob).astype(np.float64)
        keep = ~_within(old_ids, fresh)
        all_ids = np.concatenate([old_ids[keep], np.array(list(lengths), dtype=np.int64)])
        all_d = np.concatenate([old_d[keep], np.array(list(lengths.values()))])
        order = np.argsort(all_ids, kind="stable")
        newest = int(conn.execute("SELECT coalesce(max(story_id), 0) FROM story_texts").fetchone()[0])
    finally:
        conn.execute("COMMIT")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {FRESH_TABLE}").fetchone()[0]) != upto:
            conn.execute("ROLLBACK")  # written meanwhile: the next index run patches it all
            return BuildReport(0, 0, time.perf_counter() - started)
        conn.executemany(f"UPDATE {IMPACTS_TABLE} SET stories = ?, ids = ?, w = ? WHERE term = ?", rows)
        conn.execute(
            f"UPDATE {LENGTHS_TABLE} SET newest = ?, ids = ?, d = ? WHERE id = 1",
            (newest, _pack(all_ids[order], True), _pack(all_d[order])),
        )
        conn.execute(f"DELETE FROM {FRESH_TABLE} WHERE seq <= ?", (upto,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    report = BuildReport(len(rows), sum(r[0] for r in rows), time.perf_counter() - started, len(fresh))
    log.info(
        "word impacts: %s stories brought in, %s words re-packed in %.1f s",
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
