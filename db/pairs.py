"""An index of word pairs, so phrases of common words rank without FTS5 reading their position lists
(SQLite).

A phrase like "of the" costs FTS5 hundreds of milliseconds at 50,000 stories: it reads every
position of both words in every story holding both, twice (once to match, once to count the
stories for bm25). Here each story's columns are rewritten as the pairs of neighbouring words,
`of_the the_door ...`, into a second FTS5 table (`story_pairs`, contentless), so a phrase of n words
is a phrase of n-1 pairs there, whose position lists are short. Only pairs of two "pairable" words
are written (ASCII words in at least `db.textrank.PAIRABLE` stories, chosen at the build); a gap
gets one `BREAK` token, so two pairs never look adjacent when they are not. A phrase with a rarer
word is left to FTS5, which is quick for it. A story's words are read as FTS5 reads them: here when
every character is one whose reading is known (ASCII, typographic punctuation, letters and digits),
checked against FTS5's own count of each column, with FTS5 folding the non-ASCII words; else by
FTS5 itself.

bm25 there is not bm25 in the main index (other lengths), but FTS5's own numbers for the pairs
table give back each story's column-weighted count `w` of the phrase exactly (`db.bm25`), and the
caller scores `w` with the main index's numbers. Rows are never deleted (a contentless table
cannot be, without the old text): a changed story gets a new row and its old one is dropped from
`story_pairs_state`, the map of live rows to stories with each row's length in pairs. Must not import
the service layer; `db.textrank` owns when it is built, patched and used.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import re
import sqlite3
import zlib
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from archive.wordscan import FOLDED_WORD_BYTES, TYPOGRAPHIC, plain_punctuation
from db.bm25 import averages, idf_of, pack, recovered_w, unpack, varints
from db.fts import FTS_COLUMNS, FTS_TABLE, FTS_WEIGHTS
from db.rawsql import fetch_all

log = logging.getLogger(__name__)

PAIRS_TABLE = "story_pairs"
PAIRS_STATE = "story_pairs_state"
BREAK = "_"
"""The token standing for a gap between pairs (a pair with a word that is not pairable)."""
CHUNK = 500
"""Stories written to the pairs table per transaction during a build (the write lock is held
about half a second each)."""
SAMPLE = 500
"""Stories a build counts three-word phrases in (a few seconds; a phrase in a tenth of the stories is
found about 50 times)."""
LIKELY = 0.7
"""A sampled phrase is tried for impacts of its own when its share of the sample is at least this
much of the threshold's share (then kept only if really that common)."""

_COLUMNS = ", ".join(FTS_COLUMNS)
_WEIGHTS = ", ".join(str(w) for w in FTS_WEIGHTS)
_PAIR_TOKENIZER = "unicode61 tokenchars '_'"

SQLITE_UP: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE {PAIRS_TABLE} USING fts5({_COLUMNS}, content='', tokenize=\"{_PAIR_TOKENIZER}\")",
    f"CREATE TABLE {PAIRS_STATE} (id INTEGER PRIMARY KEY CHECK (id = 1), words BLOB NOT NULL, "
    "next_row INTEGER NOT NULL, rows BLOB NOT NULL, ids BLOB NOT NULL, d BLOB NOT NULL, "
    "dead INTEGER NOT NULL)",
)
"""Migration 0008 on SQLite (frozen: a later change needs a new migration). PostgreSQL: nothing."""
SQLITE_DOWN: tuple[str, ...] = (f"DROP TABLE IF EXISTS {PAIRS_STATE}", f"DROP TABLE IF EXISTS {PAIRS_TABLE}")

FORGET_PAIRS: tuple[str, ...] = (f"DELETE FROM {PAIRS_STATE}",)
"""Stop using the pairs (their rows stay until the next build empties the table)."""

_RANKED = f"SELECT rowid, bm25({PAIRS_TABLE}, {_WEIGHTS}) FROM {PAIRS_TABLE} WHERE {PAIRS_TABLE} MATCH ?"


# --- a story's words, as FTS5 reads them ------------------------------------------------------------


def quick_tokens(text: str | None) -> list[str] | None:
    """The words FTS5's unicode61 tokenizer reads in `text`, folded, when that is certain without it:
    ASCII text, or text whose only other characters are typographic punctuation (all separators).
    None otherwise (ask FTS5: `exact_tokens`)."""
    if not text:
        return []
    if not plain_punctuation(text):
        return None
    return text.encode().translate(FOLDED_WORD_BYTES).decode("ascii").split()


def exact_tokens(conn: sqlite3.Connection, row: tuple[str | None, ...]) -> list[list[str]]:
    """Each column's words as FTS5 itself reads them (its tokenizer, in a one-row temp table made by
    `one_row_table`): the folded terms in position order."""
    conn.execute("DELETE FROM temp.story_fts_one")
    conn.execute(f"INSERT INTO temp.story_fts_one (rowid, {_COLUMNS}) VALUES (1, ?, ?, ?, ?, ?)", row)
    at: list[dict[int, str]] = [{} for _ in FTS_COLUMNS]
    index = {c: i for i, c in enumerate(FTS_COLUMNS)}
    for term, column, offset in conn.execute("SELECT term, col, offset FROM temp.story_fts_one_places"):
        at[index[column]][int(offset)] = term
    return [[found[i] for i in sorted(found)] for found in at]


_TOKENIZE = re.compile(r"tokenize\s*=\s*'([^']*)'")


def one_row_table(conn: sqlite3.Connection) -> None:
    """A temp FTS5 table with the main index's columns and tokenizer, and its vocabulary by place
    (`story_fts_one_places`), to read one story as FTS5 reads it."""
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone()[0]
    found = _TOKENIZE.search(ddl)
    tokenize = f", tokenize='{found.group(1)}'" if found else ""
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.story_fts_one USING fts5({_COLUMNS}{tokenize})")
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.story_fts_one_places USING fts5vocab(temp, story_fts_one, 'instance')"
    )


_ANY_WORD = re.compile(r"[^\W_]+")
_OTHER = re.compile(f"[^\\x00-\\x7f{TYPOGRAPHIC}]")
"""A character that is neither ASCII nor typographic punctuation."""


def story_tokens(conn: sqlite3.Connection, row: tuple[str | None, ...], sizes: list[int]) -> list[list[str]]:
    """Each column's words, of the lengths FTS5 counted (`sizes`, from its size record): read here
    when the text is plain (`quick_tokens`); else, when every other character is a letter or digit
    to Python too, split here, with each word that is not plain ASCII checked to be one word to FTS5
    and folded by it (one small row, the words kept apart); else read whole by FTS5 (`exact_tokens`,
    40 ms a story: emoji, combining marks, private-use and symbol characters, which FTS5 may read
    as part of a word where Python does not)."""
    quick = [quick_tokens(text) for text in row]
    if all(q is not None for q in quick) and [len(q or ()) for q in quick] == sizes:
        return [q or [] for q in quick]
    unsure = {ch for text in row for ch in _OTHER.findall(text or "")}
    columns = [_ANY_WORD.findall(text or "") for text in row]
    if not all(ch.isalnum() for ch in unsure) or [len(c) for c in columns] != sizes:
        return exact_tokens(conn, row)
    odd = sorted({t for c in columns for t in c if not t.isascii()})
    folded: dict[str, str] = {}
    if odd:
        conn.execute("DELETE FROM temp.story_fts_one")
        conn.execute("INSERT INTO temp.story_fts_one (rowid, body) VALUES (1, ?)", (" zz ".join(odd),))
        places = sorted(conn.execute("SELECT offset, term FROM temp.story_fts_one_places").fetchall())
        # each one word to FTS5 too: a letter of a newer Unicode may be a separator to it
        if [o for o, _ in places] != list(range(2 * len(odd) - 1)) or any(t != "zz" for _, t in places[1::2]):
            return exact_tokens(conn, row)
        folded = dict(zip(odd, (term for _, term in places[0::2]), strict=True))
    return [[folded[t] if t in folded else t.lower() for t in c] for c in columns]


# --- pairs ------------------------------------------------------------------------------------------


def pair_tokens(tokens: list[str], pairable: frozenset[str]) -> list[str]:
    """One column as its pairs of pairable neighbours (`of_the`, `the_door`), with `BREAK` for each gap
    between two pairs."""
    out: list[str] = []
    prev: str | None = None
    gap = False
    for token in tokens:
        if token in pairable:
            if prev is not None:
                if gap:
                    out.append(BREAK)
                    gap = False
                out.append(prev + "_" + token)
            prev = token
        else:
            prev = None
            gap = bool(out)
    return out


def story_pairs(columns: list[list[str]], pairable: frozenset[str]) -> tuple[int, tuple[str, ...]]:
    """A story's row in the pairs table: its length in pairs (gaps included), and each column's
    text (`pair_tokens` joined)."""
    pairs = [pair_tokens(tokens, pairable) for tokens in columns]
    return sum(len(p) for p in pairs), tuple(" ".join(p) for p in pairs)


def phrase_weights(columns: list[list[str]], wanted: set[str], sizes: list[int]) -> dict[str, float]:
    """The column-weighted count in one story of each word or phrase in `wanted` (`"stake"`,
    `"of the"`, `"in the morning"`), whose lengths in words are `sizes`."""
    w: dict[str, float] = {}
    for n in sizes:
        for tokens, weight in zip(columns, FTS_WEIGHTS, strict=True):
            runs = zip(*(tokens[i:] for i in range(n)), strict=False)
            for run, count in Counter(runs).items():
                phrase = " ".join(run)
                if phrase in wanted:
                    w[phrase] = w.get(phrase, 0.0) + weight * count
    return w


def pack_words(words: frozenset[str]) -> bytes:
    return zlib.compress("\n".join(sorted(words)).encode("ascii"), 6)


def unpack_words(blob: bytes) -> frozenset[str]:
    return frozenset(zlib.decompress(blob).decode("ascii").split("\n"))


@dataclass(slots=True)
class Built:
    """The pairs table as written: live rows (sorted), their stories, their lengths in pairs; from a
    build, also `triples`: the three-word phrases of pairable words likely common enough for impacts
    of their own (counted in a sample of the stories)."""

    rows: np.ndarray
    ids: np.ndarray
    d: np.ndarray
    next_row: int
    triples: list[str] = field(default_factory=list)

    @classmethod
    def stored(cls, next_row: int, rows: bytes, ids: bytes, d: bytes) -> Built:
        """The map as `save_state` stored it."""
        return cls(unpack(rows, True), unpack(ids), unpack(d), int(next_row))


def write_pairs(conn: sqlite3.Connection, pairable: frozenset[str], common_at: int = 0) -> Built:
    """Empty the pairs table and write every story's pairs, `CHUNK` stories per transaction (row =
    story id). The state row is deleted first, so no search uses a half-written table. From
    `POOL_FROM` stories up, a worker process reads and splits the next stories while this one writes
    (`_Splitter`). About `SAMPLE` stories have their three-word phrases counted: those likely in
    `common_at` stories or more become `Built.triples`. The next row for patches is never the one
    the last build had (`textrank.patch` checks it before it writes)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        before = conn.execute(f"SELECT next_row FROM {PAIRS_STATE}").fetchone()
        conn.execute(f"DELETE FROM {PAIRS_STATE}")
        conn.execute(f"INSERT INTO {PAIRS_TABLE} ({PAIRS_TABLE}) VALUES ('delete-all')")
        conn.execute(f"INSERT INTO {PAIRS_TABLE} ({PAIRS_TABLE}, rank) VALUES ('automerge', ?)", (AUTOMERGE,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    ids = [r[0] for r in conn.execute(f"SELECT id FROM {FTS_TABLE}_docsize ORDER BY id")]
    every = max(1, len(ids) // SAMPLE)
    ranges = [(ids[i], ids[min(i + CHUNK, len(ids)) - 1]) for i in range(0, len(ids), CHUNK)]
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    seen: Counter[tuple[str, str, str]] = Counter()
    rows: list[int] = []
    lengths: list[int] = []
    with _Splitter(conn, path if len(ids) >= POOL_FROM else "", pairable, every) as splitter:
        for split, sampled in splitter.map(ranges):
            seen.update(sampled)
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    f"INSERT INTO {PAIRS_TABLE} (rowid, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    [(story, *texts) for story, _, texts in split],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            rows += [story for story, _, _ in split]
            lengths += [n for _, n, _ in split]
    found = np.array(rows, dtype=np.int64)
    sampled_stories = sum(1 for story in rows if story % every == 0)
    cut = LIKELY * common_at * sampled_stories / max(len(rows), 1) if common_at else math.inf
    triples = sorted(" ".join(t) for t, n in seen.items() if n >= cut)
    # never the last build's next row: a patch counted against that build must see it is gone
    next_row = max(int(found.max()) + 1 if len(found) else 1, int(before[0]) + 1 if before else 1)
    return Built(found, found.copy(), np.array(lengths, dtype=np.int64), next_row, triples)


AUTOMERGE = 8
"""FTS5's automerge for the pairs table (its default is 4): fewer merges while it is written, a fifth
less CPU, at about 2 % more space (measured at 10,000 stories)."""
POOL_FROM = 2000
"""Stories from which a build splits them in a worker process (starting one costs about a second)."""
AHEAD = 3
"""Chunks a worker may split ahead of the writer."""

_Split = tuple[list[tuple[int, int, tuple[str, ...]]], Counter[tuple[str, str, str]]]


class _Splitter:
    """Reads and splits ranges of stories into pairs (`_split_range`): in one worker process with its
    own connection when given the database's path, else here, on the writer's connection."""

    def __init__(self, conn: sqlite3.Connection, path: str, pairable: frozenset[str], every: int) -> None:
        self.conn, self.path, self.pairable, self.every = conn, path, pairable, every
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Splitter:
        if self.path:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            try:
                self.pool = ProcessPoolExecutor(
                    1,
                    mp_context=multiprocessing.get_context(method),
                    initializer=_start_worker,
                    initargs=(self.path, pack_words(self.pairable), self.every),
                )
            except (OSError, RuntimeError, ValueError):
                log.warning("no worker process for the pairs; splitting here", exc_info=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def map(self, ranges: list[tuple[int, int]]) -> Iterator[_Split]:
        """Each range split, in order; if the worker dies (killed, out of memory), the rest are split
        here."""
        done = 0
        if self.pool is not None:
            pending: deque[Future[_Split]] = deque()
            try:
                for lo, hi in ranges:
                    pending.append(self.pool.submit(_split_in_worker, lo, hi))
                    if len(pending) >= AHEAD:
                        yield pending.popleft().result()
                        done += 1
                while pending:
                    yield pending.popleft().result()
                    done += 1
                return
            except BrokenExecutor:
                log.warning("the pairs worker stopped; the rest of the stories are split here", exc_info=True)
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
        one_row_table(self.conn)
        for lo, hi in ranges[done:]:
            yield _split_range(self.conn, lo, hi, self.pairable, self.every)


_WORKER: tuple[sqlite3.Connection, frozenset[str], int] | None = None


def _start_worker(path: str, words: bytes, every: int) -> None:
    global _WORKER
    reader = sqlite3.connect(path, isolation_level=None)
    one_row_table(reader)
    _WORKER = (reader, unpack_words(words), every)


def _split_in_worker(lo: int, hi: int) -> _Split:
    assert _WORKER is not None
    reader, pairable, every = _WORKER
    return _split_range(reader, lo, hi, pairable, every)


def _split_range(
    reader: sqlite3.Connection, lo: int, hi: int, pairable: frozenset[str], every: int
) -> _Split:
    """Each story from `lo` to `hi`: (story, its length in pairs, each column's pair text), and the
    three-word phrases of pairable words of the sampled ones (one story in `every`), each counted
    once a story."""
    chunk = reader.execute(
        f"SELECT t.story_id, {', '.join('t.' + c for c in FTS_COLUMNS)}, z.sz FROM story_texts AS t "
        f"JOIN {FTS_TABLE}_docsize AS z ON z.id = t.story_id WHERE t.story_id BETWEEN ? AND ? "
        "ORDER BY t.story_id",
        (lo, hi),
    ).fetchall()
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for story, *texts, size in chunk:
        columns = story_tokens(reader, tuple(texts), varints(bytes(size)))
        if story % every == 0:
            seen.update(
                {
                    t
                    for tokens in columns
                    for t in zip(tokens, tokens[1:], tokens[2:], strict=False)
                    if t[0] in pairable and t[1] in pairable and t[2] in pairable
                }
            )
        out.append((story, *story_pairs(columns, pairable)))
    return out, seen


def save_state(conn: sqlite3.Connection, pairable: frozenset[str], built: Built, dead: int) -> None:
    """Publish the map of live rows (inside the caller's write transaction)."""
    conn.execute(f"DELETE FROM {PAIRS_STATE}")
    conn.execute(
        f"INSERT INTO {PAIRS_STATE} (id, words, next_row, rows, ids, d, dead) VALUES (1, ?, ?, ?, ?, ?, ?)",
        (pack_words(pairable), built.next_row, pack(built.rows, True), pack(built.ids), pack(built.d), dead),
    )


def read_state(conn: sqlite3.Connection) -> tuple[frozenset[str], Built, int] | None:
    row = conn.execute(
        f"SELECT words, next_row, rows, ids, d, dead FROM {PAIRS_STATE} WHERE id = 1"
    ).fetchone()
    if row is None:
        return None
    words, next_row, rows, ids, d, dead = row
    return unpack_words(words), Built.stored(next_row, rows, ids, d), int(dead)


def phrase_impacts(
    conn: sqlite3.Connection, built: Built, min_stories: int
) -> Iterator[tuple[str, int, bytes, bytes]]:
    """Every pair of words in at least `min_stories` stories (`"of the"`), and every sampled three-word
    phrase (`Built.triples`) as common, with its stories and their `w` as rows to store (see
    `db.textrank`), read back from the pairs table's bm25 (checked by scoring again; a phrase that
    does not score as FTS5 does is left out)."""
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.story_pairs_terms USING fts5vocab(main, {PAIRS_TABLE}, 'row')"
    )
    block = conn.execute(f"SELECT block FROM {PAIRS_TABLE}_data WHERE id = 1").fetchone()
    if block is None:
        return
    nrow, avgdl = averages(bytes(block[0]))
    common = conn.execute("SELECT term FROM temp.story_pairs_terms WHERE doc >= ?", (min_stories,)).fetchall()
    phrases = [t.replace("_", " ") for (t,) in common if t != BREAK and "_" in t] + built.triples
    for phrase in phrases:
        words = phrase.split()
        query = " ".join(f"{a}_{b}" for a, b in pairwise(words))
        found = inverted(conn.execute(_RANKED, (f'"{query}"',)).fetchall(), built, nrow, avgdl)
        if found is None:
            log.warning("phrase impacts: %r does not score as FTS5 does; left to the pairs index", phrase)
        elif len(found[0]) >= min_stories:
            yield phrase, len(found[0]), pack(found[0], True), pack(found[1])


def inverted(
    found: list[tuple[int, float]], built: Built, nrow: int, avgdl: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """(stories, w) of the live rows among a pairs-table bm25 answer, sorted by story; None if a
    value does not score back as FTS5 scored it."""
    got = np.array(found, dtype=np.float64).reshape(-1, 2)
    rows, rank = got[:, 0].astype(np.int64), got[:, 1]
    idf = idf_of(nrow, len(rows))  # FTS5's, from every row holding it, dead ones too
    at = np.searchsorted(built.rows, rows).clip(0, max(len(built.rows) - 1, 0))
    live = built.rows[at] == rows if len(built.rows) else np.zeros(len(rows), dtype=bool)
    at, rank = at[live], rank[live]
    w = recovered_w(rank, built.d[at].astype(np.float64), idf, avgdl)
    if w is None:
        return None
    ids = built.ids[at]
    order = np.argsort(ids, kind="stable")
    return ids[order], w[order]


# --- a search ---------------------------------------------------------------------------------------


async def phrase_counts(session: AsyncSession, tokens: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """(stories, w) for a phrase of two or more words from the pairs table, as it was written (the
    caller sets the changed stories aside); None when there is no pairs table or a word is not
    pairable."""
    state = await fetch_all(session, f"SELECT words, next_row, rows, ids, d FROM {PAIRS_STATE} WHERE id = 1")
    if not state or len(tokens) < 2:
        return None
    words, next_row, rows, ids, d = state[0]
    pairable = unpack_words(words)
    if not all(t in pairable for t in tokens):
        return None
    block = await fetch_all(session, f"SELECT block FROM {PAIRS_TABLE}_data WHERE id = 1")
    if not block:
        return None
    nrow, avgdl = averages(bytes(block[0][0]))
    built = Built.stored(next_row, rows, ids, d)
    phrase = " ".join(f"{a}_{b}" for a, b in pairwise(tokens))
    found = await fetch_all(session, _RANKED, (f'"{phrase}"',))
    return inverted([tuple(r) for r in found], built, nrow, avgdl)
