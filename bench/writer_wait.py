"""How long another writer waits for the lock while a full index runs: `python -m bench.writer_wait
[--stories 900] [--out DIR]`.

Indexes a generated archive of small stories from nothing in one Library while a second Library (its
own connections, as the CLI or a mod's confirm in another process) takes the write lock every 0.3 s
and records how long each wait was. With `--start-up` the index runs as the bot's start-up index does
(`service.startindex`: a process of its own, short batches) and the writes are the bot's own. It prints the index time, the number of writes and the longest
and median wait. It owns this measurement only (issue 12 item 7: CLI writes waited up to 31 s
against the 30 s busy timeout); the archive is written into a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from settings import ROOT, Settings


def write_archive(folder: Path, count: int) -> None:
    """`count` small distinct stories."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        body = f"Willow counted the {n}th book twice and Tara laughed at the number {n}. " * 40
        (folder / f"story-{n:05d}.txt").write_text(
            f"Title: Counting Book {n}\nAuthor: Writer {n % 37}\nRating: PG\n\n~*~\n\n{body}",
            encoding="utf-8",
        )


async def measure(stories: int, *, start_up: bool = False) -> dict[str, float]:
    from service.indexer import index_directory
    from service.library import Library
    from service.startindex import index_in_child

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_archive(tmp / "stories", stories)
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp / 'librarian.db'}",
            stories_dir=tmp / "stories",
            removed_dir=tmp / "removed",
            uploads_dir=tmp / "uploads",
            data_dir=tmp,
            roster_file=ROOT / "fandoms" / "buffyverse.yaml",
        )
        indexer, other = await Library.open(settings), await Library.open(settings)
        try:
            started = time.monotonic()
            run = index_in_child(settings) if start_up else index_directory(indexer)
            task = asyncio.create_task(run)
            waits: list[float] = []
            while not task.done():
                t0 = time.monotonic()
                async with other.transaction() as session:
                    await session.execute(text("SELECT 1"))
                waits.append(time.monotonic() - t0)
                await asyncio.sleep(0.3)
            await task
            took = time.monotonic() - started
        finally:
            await indexer.close()
            await other.close()
    return {
        "index_s": took,
        "writes": len(waits),
        "longest_wait_s": max(waits),
        "median_wait_s": statistics.median(waits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=900)
    parser.add_argument(
        "--start-up",
        action="store_true",
        help="index as the bot's start-up index does: in a process of its own, in short batches",
    )
    args = parser.parse_args()
    result = asyncio.run(measure(args.stories, start_up=args.start_up))
    print(
        f"{args.stories} stories indexed in {result['index_s']:.1f} s; {result['writes']:.0f} writes by "
        f"another connection waited at most {result['longest_wait_s']:.2f} s "
        f"(median {result['median_wait_s']:.2f} s)"
    )


if __name__ == "__main__":
    main()
