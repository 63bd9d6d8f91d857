"""The benchmark: `python -m bench.run [--stories 50000] [--smoke] [--out bench/out]`.

Generates (or reuses, keyed by N and seed) a synthetic archive, builds the index, times the
queries, the title index at 100,000 titles and the real bot against the local fake Discord, then
prints ONE table (figures, same-run baselines, targets with pass/miss) and writes it as Markdown
and JSON into `--out`. `--smoke` runs the same code at 300 stories with few queries, in well
under a minute. A section whose dependency is missing says "not measured: <why>".
It owns orchestration only; each section lives in its own module.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path

from bench import gen_corpus
from bench.measure import Row, markdown, not_measured
from settings import ROOT

log = logging.getLogger(__name__)

SMOKE_STORIES = 300
FULL_STORIES = 50_000


def machine() -> str:
    """CPU model, cores, RAM, Python and SQLite versions, in one line."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), model)
    except OSError:
        pass
    ram = ""
    try:
        import psutil

        ram = f", {psutil.virtual_memory().total / 2**30:.1f} GiB RAM"
    except ImportError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores{ram}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {platform.system()} {platform.release()}"
    )


async def _section(name: str, measure: str, coro: Awaitable[list[Row]]) -> list[Row]:
    """Run one section; a crash becomes a "not measured" row naming the error, not a lost table."""
    print(f"· {name.lower()}: {measure}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        rows = await coro
    except Exception as exc:
        log.exception("the %s section failed", name)
        rows = [not_measured(name, measure, f"{type(exc).__name__}: {exc}"[:200])]
    print(f"  {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return rows


async def _sections(args: argparse.Namespace, archive: Path, info: dict) -> list[Row]:
    from bench import bot_bench, index_bench, query_bench

    db = args.out / f"index-{args.stories}-s{args.seed}.db"
    reuse = args.reuse_index and db.exists()
    if reuse:
        rows = [not_measured("Index", "full build", f"--reuse-index: {db.name} as it was")]
        rows.append(await index_bench.impacts_row(archive, db))
    else:
        rows = await _section(
            "Index",
            "full build",
            index_bench.run(archive, db, args.stories, int(info["bytes"]), smoke=args.smoke),
        )
    if not reuse and (not rows[0].measured or " 0 stored" in rows[0].figure):
        why = "the index was not built"
        return [*rows, not_measured("Queries", "search", why), not_measured("Bot", "start to ready", why)]
    if args.index_only:
        return [
            *rows,
            not_measured("Queries", "search", "--index-only"),
            not_measured("Bot", "start to ready", "--index-only"),
        ]
    settings = index_bench.settings_for(archive, db)
    manifest = gen_corpus.read_manifest(archive)
    rows += await _section(
        "Queries",
        "search",
        query_bench.run(
            settings, manifest, archive, smoke=args.smoke, fingerprint=str(info.get("fingerprint", ""))
        ),
    )
    rows += await _section(
        "Queries", "title autocomplete", asyncio.to_thread(query_bench.titles_at_scale, args.smoke)
    )
    if args.no_bot:
        rows.append(not_measured("Bot", "start to ready", "--no-bot"))
    else:
        rows += await _section("Bot", "start to ready", bot_bench.run(settings, manifest, smoke=args.smoke))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=None, help=f"archive size (default {FULL_STORIES:,})")
    parser.add_argument("--smoke", action="store_true", help=f"tiny run ({SMOKE_STORIES} stories), for CI")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "out", help="where archives and results go"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--no-bot", action="store_true", help="skip the bot section")
    parser.add_argument(
        "--reuse-index", action="store_true", help="keep the index database already in --out (no build)"
    )
    parser.add_argument("--index-only", action="store_true", help="only the index section")
    args = parser.parse_args(argv)
    args.stories = args.stories or (SMOKE_STORIES if args.smoke else FULL_STORIES)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]

    archive = args.out / f"archive-{args.stories}-s{args.seed}"
    print(f"· archive {archive}", file=sys.stderr, flush=True)
    got, reused = gen_corpus.ensure(archive, args.stories, args.seed, progress=not args.smoke)
    info = got if isinstance(got, dict) else gen_corpus.read_info(archive) or {}
    rows = asyncio.run(_sections(args, archive, info))

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    made = "reused" if reused else f"generated in {info.get('seconds', 0):.0f} s"
    head = [
        f"Librarian benchmark, {when}, N = {args.stories:,} stories (seed {args.seed}){' — SMOKE' if args.smoke else ''}",
        f"Machine: {machine()}",
        f"Load average (1 min): {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end, on {os.cpu_count()} cores",
        f"Archive: {info.get('bytes', 0) / 1e6:,.0f} MB, {info.get('words', 0):,} words, "
        f"{made}; formats " + ", ".join(f"{k} {v:,}" for k, v in (info.get("formats") or {}).items()),
        f"Prose: {info.get('prose_source', '?')}",
    ]
    table = markdown(rows)
    text = "\n".join(head) + "\n\n" + table + "\n"
    print(text)
    stem = f"results-{args.stories}{'-smoke' if args.smoke else ''}"
    (args.out / f"{stem}.md").write_text(text, encoding="utf-8")
    payload = {
        "head": head,
        "rows": [r.to_json() for r in rows],
        "seconds": round(time.perf_counter() - started, 1),
    }
    (args.out / f"{stem}.json").write_text(
        json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    print(f"wrote {args.out / (stem + '.md')} in {payload['seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
