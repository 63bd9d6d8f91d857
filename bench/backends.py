"""SQLite and PostgreSQL side by side: `python -m bench.backends --pg URL [--stories N]`.

Generates (or reuses) the benchmark archive, indexes it into SQLite (or reuses the index the main
benchmark left), copies it into a PostgreSQL database with `db.copy.copy_archive` (timed and
verified), then times the same query mix as `bench.query_bench` on both engines in the same run,
alternating engine per query kind, and prints one Markdown table with a column per engine.

Owns only this comparison. It must not change the main benchmark's table (`bench.run`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import gen_corpus
from bench.index_bench import settings_for
from bench.measure import Timing, time_async
from bench.query_bench import Mix
from settings import ROOT


async def _index(settings: Any) -> float:
    from service.indexer import index_directory
    from service.library import Library

    lib = await Library.open(settings)
    try:
        t0 = time.perf_counter()
        await index_directory(lib)
        return time.perf_counter() - t0
    finally:
        await lib.close()


def _queries(mix: Mix) -> list[tuple[str, list[Any]]]:
    from service.query import SearchQuery

    return [
        ("character", [SearchQuery(characters=[c]) for c in mix.characters]),
        ("pairing", [SearchQuery(pairings=[p]) for p in mix.pairings]),
        ("rating ceiling", [SearchQuery(max_rating=c) for c in mix.ceilings]),
        ("tag", [SearchQuery(tags=[t]) for t in mix.tags]),
        (
            "combined filters",
            [
                SearchQuery(characters=[c], max_rating=r, complete=True, words_min=1000)
                for c, r in zip(mix.characters, mix.ceilings, strict=True)
            ],
        ),
        ("full-text, single word", [SearchQuery(text=w) for w in mix.words]),
        ("full-text, phrase", [SearchQuery(text=p) for p in mix.phrases]),
        ("full-text, boolean", [SearchQuery(text=b) for b in mix.booleans]),
        ("full-text, best match first", [SearchQuery(text=w, sort="best") for w in mix.words]),
    ]


async def _time_all(settings: Any, mix: Mix) -> dict[str, Timing]:
    import random

    from sqlalchemy import text

    from service.library import Library
    from service.query import SearchQuery
    from service.recs import rec
    from service.search import search
    from service.similar import similar

    lib = await Library.open(settings)
    out: dict[str, Timing] = {}
    try:
        for name, queries in _queries(mix):
            await search(lib, queries[0])  # the first query builds the snapshots: not timed
            out[name], _ = await time_async(lambda q: search(lib, q), queries)
        rng = random.Random(3)
        out["rec, one character"], _ = await time_async(
            lambda c: rec(lib, SearchQuery(characters=[c]), place="bench", rng=rng),
            mix.characters[: len(mix.characters) // 2],
        )
        async with lib.sessions() as session:
            ids = [int(i) for i in (await session.scalars(text("SELECT id FROM stories ORDER BY id"))).all()]
        pick = random.Random(4)
        picks = [ids[pick.randrange(len(ids))] for _ in range(len(mix.characters) // 2)]
        out["similar"], _ = await time_async(lambda i: similar(lib, i), picks)
    finally:
        await lib.close()
    return out


def _cell(t: Timing | None) -> str:
    if t is None:
        return "not measured"
    return f"p50 {t.p50:.1f} / p95 {t.p95:.1f} / p99 {t.p99:.1f} ms"


async def _main(args: argparse.Namespace) -> str:
    from db.copy import copy_archive

    archive = args.out / f"archive-{args.stories}-s{args.seed}"
    print(f"· archive {archive}", file=sys.stderr, flush=True)
    gen_corpus.ensure(archive, args.stories, args.seed, progress=True)
    db = args.out / f"index-{args.stories}-s{args.seed}.db"
    sqlite = settings_for(archive, db)
    index_s = None
    if not db.exists():
        print("· indexing into SQLite", file=sys.stderr, flush=True)
        index_s = await _index(sqlite)
    print("· copying into PostgreSQL", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    report = await copy_archive(sqlite.database_url, args.pg, replace=True)
    copy_s = time.perf_counter() - t0
    pg = sqlite.with_(database_url=args.pg)
    mix = Mix(gen_corpus.read_manifest(archive), archive, args.queries)
    load = os.getloadavg()[0]
    print("· timing SQLite", file=sys.stderr, flush=True)
    lite = await _time_all(sqlite, mix)
    print("· timing PostgreSQL", file=sys.stderr, flush=True)
    post = await _time_all(pg, mix)
    stories = next(t.rows for t in report.tables if t.name == "stories")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"SQLite vs PostgreSQL, {when}: {stories:,} stories (seed {args.seed}), {args.queries} queries per row, "
        f"load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end, {os.cpu_count()} cores",
        f"copy-archive SQLite -> PostgreSQL: {report.rows:,} rows in {copy_s:.0f} s, verified"
        + (f"; SQLite index build {index_s:.0f} s" if index_s else ""),
        "",
        "| Query | SQLite | PostgreSQL |",
        "|---|---|---|",
    ]
    for name in lite:
        lines.append(f"| {name} | {_cell(lite.get(name))} | {_cell(post.get(name))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backends", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("LIBRARIAN_BENCH_DATABASE_URL"), help="PostgreSQL URL")
    parser.add_argument("--stories", type=int, default=5_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args(argv)
    if not args.pg:
        parser.error("--pg URL (or LIBRARIAN_BENCH_DATABASE_URL) is required")
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    text = asyncio.run(_main(args))
    print(text)
    (args.out / f"backends-{args.stories}.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
