"""What the index section compares a build against: the same-run storage baseline (a bare SQLite
FTS5 table filled with the same bodies) and a digest of the index built, so a faster build can be
shown to store exactly what the slower one stored.

Owns `fts5_baseline(db)` (CPU seconds SQLite alone needs to index the stored bodies, one column,
the same tokenizer, 2 MB transactions), `index_digest(db)` (per table a digest of every stored
story's fields, children and text, and the ids full-text queries find; times, mtimes and ids of
child rows left out) and `compare_digest` (the reference file beside the database: written by the
first run on an archive, compared by every later one). It reads the database file with sqlite3
only; it must not build the index (`bench.index_bench`) or time queries (`bench.query_bench`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
import time
from pathlib import Path

FTS_QUERIES = (
    "willow",
    "vampire",
    "slayer",
    '"magic shop"',
    '"the library"',
    "tea -coffee",
    "slay*",
    "title:love",
    "tag:angst",
    "author:a*",
    "(spike OR angel) -buffy",
    '"i don\'t know"',
)
"""Full-text queries (the members' query language) whose matching stories the digest records."""

_STORY_FIELDS = (
    "path, format, title, title_key, author, author_key, rating_raw, rating_level, rating_rank, summary, "
    "words, status, published, language, season, spoilers, series_name, series_part, part, meta, "
    "problems, removed_at IS NULL, retired_at IS NULL"
)
_TABLES = {
    "stories": f"SELECT {_STORY_FIELDS} FROM stories ORDER BY path",
    "story_files": "SELECT f.path, s.path, f.file_size, f.file_hash, f.format, f.score, f.work_key, "
    "f.fingerprint FROM story_files f JOIN stories s ON s.id = f.story_id ORDER BY f.path",
    "story_texts": "SELECT s.path, t.title, t.author, t.summary, t.tags, t.body FROM story_texts t "
    "JOIN stories s ON s.id = t.story_id ORDER BY s.path",
    "story_characters": "SELECT s.path, c.name, c.source, c.mentions FROM story_characters c "
    "JOIN stories s ON s.id = c.story_id ORDER BY s.path, c.name",
    "story_tags": "SELECT s.path, t.kind, t.name, t.label FROM story_tags t "
    "JOIN stories s ON s.id = t.story_id ORDER BY s.path, t.kind, t.name",
    "story_relationships": "SELECT s.path, r.key, r.kind, r.size, r.raw, r.past, "
    "(SELECT group_concat(name, '|') FROM (SELECT name FROM relationship_members m "
    "WHERE m.relationship_id = r.id ORDER BY name)) FROM story_relationships r "
    "JOIN stories s ON s.id = r.story_id ORDER BY s.path, r.key, r.raw",
    "index_failures": "SELECT path, reason FROM index_failures ORDER BY path",
}


def index_digest(db: Path) -> dict[str, str]:
    """Per table (and per full-text query) a short digest of what the index at `db` holds."""
    from db.ftsquery import to_match_query

    out: dict[str, str] = {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for name, sql in _TABLES.items():
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(sql):
                digest.update(json.dumps(row, ensure_ascii=False).encode())
                count += 1
            out[name] = f"{count} rows {digest.hexdigest()[:16]}"
        for query in FTS_QUERIES:
            match = to_match_query(query)
            rows = conn.execute(
                "SELECT s.path FROM story_fts f JOIN stories s ON s.id = f.rowid WHERE story_fts MATCH ? "
                "ORDER BY s.path",
                (match,),
            ).fetchall()
            paths = "\n".join(r[0] for r in rows)
            out[f"fts {query}"] = f"{len(rows)} hits {hashlib.sha256(paths.encode()).hexdigest()[:16]}"
    finally:
        conn.close()
    return out


def compare_digest(reference: Path, fingerprint: str, found: dict[str, str]) -> str:
    """A sentence saying whether `found` equals the reference at `reference` (written when absent)."""
    if not reference.exists():
        reference.write_text(json.dumps({"fingerprint": fingerprint, "digest": found}, indent=1), "utf-8")
        return f"reference written ({reference.name}: {len(found)} tables and queries)"
    ref = json.loads(reference.read_text(encoding="utf-8"))
    if ref.get("fingerprint") != fingerprint:
        return "not compared: the reference is of another archive"
    wanted = ref.get("digest", {})
    differ = [k for k in sorted(set(wanted) | set(found)) if wanted.get(k) != found.get(k)]
    if not differ:
        return f"identical to the reference ({len(found)} tables and queries, {reference.name})"
    return f"DIFFERS from the reference in {len(differ)}: " + ", ".join(differ[:6])


def fts5_baseline(db: Path, batch_bytes: int = 2_000_000) -> tuple[float, int]:
    """(CPU seconds, bytes of text) a bare FTS5 table (the body column alone, the index's
    tokenizer) takes to index the bodies stored in `db`; reading them is not counted."""
    source = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with tempfile.TemporaryDirectory() as tmp:
        target = sqlite3.connect(Path(tmp) / "bare.db", isolation_level=None)
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("PRAGMA synchronous=NORMAL")
        target.execute("CREATE VIRTUAL TABLE bare USING fts5(body, tokenize='unicode61 remove_diacritics 2')")
        cpu = 0.0
        size = 0
        rows = source.execute("SELECT story_id, body FROM story_texts ORDER BY story_id")
        while True:
            batch: list[tuple[int, str]] = []
            got = 0
            for row in rows:
                batch.append(row)
                got += len(row[1])
                if got >= batch_bytes:
                    break
            if not batch:
                break
            size += sum(len(b.encode()) for _, b in batch)
            started = time.process_time()
            target.execute("BEGIN")
            target.executemany("INSERT INTO bare(rowid, body) VALUES (?, ?)", batch)
            target.execute("COMMIT")
            cpu += time.process_time() - started
        started = time.process_time()
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cpu += time.process_time() - started
        target.close()
    source.close()
    return cpu, size
