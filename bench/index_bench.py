"""The index section: a full build of the generated archive into a fresh SQLite file (wall and CPU
time, main process and parse workers apart, the load average meanwhile, the same-run bare FTS5
baseline, and whether the index equals the reference build: `bench.index_check`), an incremental
re-index of the unchanged archive, peak memory, and the naive baseline (re-parsing every file).

Owns the database file the query and bot sections then reuse. It must not generate stories
(`bench.gen_corpus`) or time queries (`bench.query_bench`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from bench import gen_corpus
from bench.index_check import compare_digest, fts5_baseline, index_digest
from bench.measure import Row, TreeRSS, check, not_measured, ratio
from settings import ROOT, Settings

log = logging.getLogger(__name__)

SECTION = "Index"
MB_TARGET = 8.0
"""Issue 15: at least 8 MB of archive a second of wall time, and per CPU-second, on 2 cores."""
REINDEX_TARGET_S = 3.0
PARSE_SAMPLE = 2_000


def settings_for(archive: Path, db: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{db}",
        stories_dir=archive,
        removed_dir=db.parent / f"{db.stem}-removed",
        uploads_dir=db.parent / f"{db.stem}-uploads",
        data_dir=db.parent,
        roster_file=ROOT / "fandoms" / "buffyverse.yaml",
        index_on_start=True,
    )


async def impacts_row(archive: Path, db: Path) -> Row:
    """Build the common words' impacts of a reused index when they are due (`db.textrank`), after
    bringing its schema up to date."""
    from db.textrank import refresh
    from service.library import Library

    await (await Library.open(settings_for(archive, db))).close()
    t0 = time.perf_counter()
    built = await asyncio.to_thread(refresh, f"sqlite+aiosqlite:///{db}")
    measure = "common words' impacts and pairs index (reused index)"
    if built is None:
        return Row(SECTION, measure, f"already built, none due ({time.perf_counter() - t0:.1f} s to check)")
    return Row(
        SECTION,
        measure,
        f"{built.words:,} words and {built.word_pairs:,} pairs of words, {built.pairs:,} (term, story) "
        f"entries in {built.seconds:,.1f} s ({built.pairs_seconds:,.1f} s writing the pairs index)",
    )


async def run(archive: Path, db: Path, stories: int, archive_bytes: int, *, smoke: bool) -> list[Row]:
    """Build the index from nothing, re-index unchanged, and time the naive re-parse baseline."""
    try:
        from service.indexer import index_directory
        from service.library import Library
    except ImportError as exc:
        return [not_measured(SECTION, "full build", f"indexer not importable ({exc})")]
    for leftover in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        leftover.unlink(missing_ok=True)
    settings = settings_for(archive, db)
    lib = await Library.open(settings)
    try:
        with TreeRSS() as rss:
            t0 = time.perf_counter()
            report = await index_directory(lib)
            build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = await index_directory(lib)
        reindex_s = time.perf_counter() - t0
    finally:
        await lib.close()
    stored = len(report.added)
    mb = archive_bytes / 1e6
    cpu = max(rss.cpu_seconds, 1e-9)
    per_cpu = mb / cpu
    bare_cpu, bare_bytes = await asyncio.to_thread(fts5_baseline, db)
    info = gen_corpus.read_info(archive) or {}
    digest = await asyncio.to_thread(index_digest, db)
    same = compare_digest(db.with_name(f"{db.stem}-digest.json"), str(info.get("fingerprint")), digest)
    rows = [
        Row(
            SECTION,
            f"full build ({stories:,} files, {mb:,.0f} MB)",
            f"{stored / build_s:,.0f} stories/s, {mb / build_s:.1f} MB/s ({build_s:,.1f} s; "
            f"{stored:,} stored, {len(report.failed)} failed); CPU {cpu:,.0f} s = {per_cpu:.1f} MB per "
            f"CPU-second (main process {rss.cpu_main:,.0f} s, parse workers {cpu - rss.cpu_main:,.0f} s); "
            f"load average up to {rss.load_peak:.1f} on {os.cpu_count()} cores",
            baseline=f"bare FTS5 insert of the same bodies ({bare_bytes / 1e6:,.0f} MB of text): "
            f"{bare_cpu:,.0f} CPU s = {mb / max(bare_cpu, 1e-9):.1f} MB of archive per CPU-second",
            ratio=f"{cpu / max(bare_cpu, 1e-9):.1f}× its CPU",
            target=f"≥ {MB_TARGET:g} MB/s and ≥ {MB_TARGET:g} MB per CPU-second",
            result="pass" if min(mb / build_s, per_cpu) >= MB_TARGET else "miss",
        ),
        Row(SECTION, "index built vs reference build", same),
        Row(
            SECTION,
            "common words' impacts and pairs index (inside the full build)",
            f"{report.ranked_words:,} words and {report.ranked_pairs:,} pairs of words in "
            f"{report.ranking_seconds:,.1f} s ({report.pairs_seconds:,.1f} s writing the pairs index)",
        ),
    ]
    baseline_s, how = _reparse_baseline(archive, stories, smoke)
    rows.append(
        Row(
            SECTION,
            "re-index, archive unchanged",
            f"{reindex_s:.2f} s ({again.unchanged:,} unchanged, {len(again.added) + len(again.updated)} parsed)",
            baseline=f"re-parse every file: {baseline_s:,.1f} s ({how})",
            ratio=ratio(baseline_s, reindex_s),
            target=f"≤ {REINDEX_TARGET_S:g} s at 50k",
            result=check(reindex_s, REINDEX_TARGET_S) if stories >= 50_000 else "judged at 50k only",
        )
    )
    rows.append(
        Row(
            SECTION,
            "peak memory during build (RSS)",
            f"{rss.peak_tree:,.0f} MB incl. parse workers ({rss.peak_self:,.0f} MB main process)",
        )
    )
    if report.failed:
        log.warning("index failures, e.g. %s", report.failed[:3])
    return rows


def _reparse_baseline(archive: Path, stories: int, smoke: bool) -> tuple[float, str]:
    """Seconds a bot that re-parses every file on each re-index would spend (one process)."""
    from archive.parse import parse_story
    from archive.roster import Roster

    roster = Roster.load(ROOT / "fandoms" / "buffyverse.yaml")
    files = sorted(p for p in archive.rglob("*") if p.is_file() and "/." not in p.as_posix())
    size = 100 if smoke else PARSE_SAMPLE
    step = 1 if len(files) <= size else len(files) // size
    sample = files[::step]
    t0, cpu0 = time.perf_counter(), time.process_time()
    size_mb = 0.0
    for path in sample:
        data = path.read_bytes()
        size_mb += len(data) / 1e6
        parse_story(data, path.name, roster)
    spent, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    speed = f"parse alone {size_mb / max(cpu, 1e-9):.1f} MB per CPU-second"
    if len(sample) == len(files):
        return spent, f"all {len(files):,} files, one process; {speed}"
    scale = len(files) / len(sample)
    return spent * scale, f"one process; {len(sample):,}-file sample × {scale:.0f}; {speed}"
