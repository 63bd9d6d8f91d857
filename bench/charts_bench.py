"""How long `/stats` and `/top` take to draw their charts at fandom scale:
`python -m bench.charts_bench [--stories N] [--members M]`.

Owns a throwaway archive of N story rows (titles, ratings, words, publication dates, one pairing
each) written straight into a migrated SQLite file, M members' kudos and shelvings spread over a
year, and the timings: matplotlib's import (paid once, by the first chart), the figures
(`service.charts.stats_figures`, `service.top.top`) and the drawing (`render_stats`, `render_top`).
It must not parse files: parsing speed is `bench/index_bench.py`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from db.models import Kudos, RelationshipMember, ShelfEntry, Story, StoryRelationship, utcnow
from service.library import Library
from service.query import SearchQuery
from settings import ROOT, Settings

LEVELS = ["general", "teen", "mature", "explicit", "not_rated"]
PAIRS = [("Buffy Summers", "Spike"), ("Tara Maclay", "Willow Rosenberg"), ("Angel", "Buffy Summers"),
         ("Faith Lehane", "Buffy Summers"), ("Rupert Giles", "Jenny Calendar"), ("Spike", "Xander Harris")]  # fmt: skip


async def _fill(lib: Library, stories: int, members: int, rng: random.Random) -> None:
    now = utcnow()
    rows = [
        {
            "id": i, "path": f"s/{i}.txt", "file_size": 1, "file_mtime": 0.0, "file_hash": f"{i:064d}",
            "format": "mailing-list", "title": f"Story {i}", "title_key": f"story {i}", "author": f"a{i % 900}",
            "rating_level": LEVELS[i % 5], "rating_rank": i % 5, "words": rng.randint(100, 80_000),
            "published": f"{rng.randint(1998, 2026)}-01-01", "meta": {}, "problems": [],
            "added_at": now, "indexed_at": now,
        }
        for i in range(1, stories + 1)
    ]  # fmt: skip
    rels, members_rows, kudos, shelved = [], [], [], []
    for i in range(1, stories + 1):
        a, b = PAIRS[i % len(PAIRS)]
        rels.append(
            {
                "id": i,
                "story_id": i,
                "key": f"{a}/{b}",
                "kind": "romantic",
                "size": 2,
                "raw": "",
                "past": False,
            }
        )
        members_rows += [{"relationship_id": i, "name": a}, {"relationship_id": i, "name": b}]
    for m in range(members):
        for sid in rng.sample(range(1, stories + 1), 20):
            at = now - timedelta(days=rng.randint(0, 365))
            kudos.append({"member_id": m, "story_id": sid, "at": at})
            shelved.append(
                {"member_id": m, "shelf": "to-read", "label": "to-read", "story_id": sid, "added_at": at}
            )
    async with lib.transaction() as session:
        for model, batch in ((Story, rows), (StoryRelationship, rels), (RelationshipMember, members_rows),
                             (Kudos, kudos), (ShelfEntry, shelved)):  # fmt: skip
            for start in range(0, len(batch), 5000):
                await session.execute(insert(model), batch[start : start + 5000])


async def run(stories: int, members: int) -> dict[str, tuple[float, float]]:
    """(wall seconds, CPU seconds of this process) per step."""
    from service import charts, top

    out: dict[str, tuple[float, float]] = {}
    clock = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        out[name] = (wall - clock[0], cpu - clock[1])
        clock[:] = [wall, cpu]

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'c.db'}",
            stories_dir=Path(tmp),
            removed_dir=Path(tmp) / "removed",
            roster_file=ROOT / "fandoms" / "buffyverse.yaml",
        )
        lib = await Library.open(settings, load_titles=False)
        try:
            await _fill(lib, stories, members, random.Random(1))
            lap("fill")
            import matplotlib.figure  # noqa: F401  (what the first chart pays once)

            lap("matplotlib import")
            for label in ("first", "again"):
                figures = await charts.stats_figures(lib, allowed_levels=frozenset({"general", "teen"}))
                lap(f"/stats figures ({label})")
                charts.render_stats(figures)
                lap(f"/stats draw ({label})")
                result = await top.top(lib, SearchQuery(), period="ever")
                lap(f"/top figures ({label})")
                charts.render_top(result, title="Top stories of all time")
                lap(f"/top draw ({label})")
        finally:
            await lib.close()
    del out["fill"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.charts_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stories", type=int, default=50_000)
    parser.add_argument("--members", type=int, default=500)
    args = parser.parse_args(argv)
    timings = asyncio.run(run(args.stories, args.members))
    print(f"{args.stories:,} stories, {args.members} members x 20 kudos and shelvings")
    print(f"  {'step':<26} {'wall ms':>8} {'CPU ms':>8}")
    for name, (wall, cpu) in timings.items():
        print(f"  {name:<26} {wall * 1000:8.0f} {cpu * 1000:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
