"""Storing what the indexer parsed, and the one store path uploads and curation share.

Owns `store_parsed` (one parsed file through `db.store.write_story`, identity keys and all),
`store_file` (the same for a file an upload or a curation step put in place, inside the caller's
transaction), `store_all` (a run's files parsed and stored a batch at a time, a savepoint per
story, the next batch parsed while one is written; every outcome goes into the run's report) and
`refresh_views`. It decides nothing about which files to index or remove (`service.indexer`) and
must not import Discord.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from archive.model import StoryMeta
from db.models import Story
from db.store import Stored, save_story, touch_story_sync, write_story
from db.writer import Writer
from service.identity import fingerprint
from service.indexreport import IndexReport
from service.parsing import Job, Parsed, parse_all

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)

BATCH_STORIES = 100
BATCH_BYTES = 2_000_000
"""A full build commits this many stories (or bytes of files) at a time, each in a savepoint."""
BACKGROUND_BATCH = 20
"""The bot's start-up index writes this many stories a transaction (short GIL-holding slices)."""


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What indexing one file did, and the story or reason."""

    path: str
    status: Literal["added", "updated", "unchanged", "failed", "skipped", "same_work", "returned"]
    story_id: int | None = None
    title: str | None = None
    reason: str | None = None


# ---- the one store path --------------------------------------------------------------------------


def store_parsed(session: Session, parsed: Parsed, roster: Any) -> Stored:
    """Store one parsed file (or only its new mtime) through `db.store.write_story`."""
    job = parsed.job
    if parsed.same:
        assert job.story_id is not None
        touch_story_sync(session, job.story_id, mtime=job.mtime, path=job.path)
        return Stored(job.story_id, "", "unchanged")
    assert parsed.meta is not None
    return write_story(
        session,
        parsed.meta,
        path=job.path,
        size=parsed.size,
        mtime=job.mtime,
        sha256=parsed.sha256,
        roster=roster,
        work_key=parsed.work_key,
        fingerprint=parsed.fingerprint,
        score=parsed.score,
        primary=job.lead,
        among="all",
    )


async def store_file(
    session: AsyncSession, lib: Library, meta: StoryMeta, path: str, file: Path, sha256: str
) -> Story:
    """Store `meta` as the story of `file` (at `path`) inside the caller's transaction.

    What uploads and curation call: the same `db.store.write_story` the indexer's batches run, so a
    file becomes rows (overrides, identity, retired stories coming back) one way whoever stores it.
    """
    from service.identity import read_score, work_key

    stat = await asyncio.to_thread(file.stat)
    data = await asyncio.to_thread(file.read_bytes)
    meta = dataclasses.replace(meta, path=path)
    return await save_story(
        session,
        meta,
        path=path,
        size=stat.st_size,
        mtime=stat.st_mtime,
        sha256=sha256,
        roster=lib.roster,
        work_key=work_key(data),
        fingerprint=fingerprint(meta.body),
        score=read_score(meta),
        primary=True,
        among="retired",
    )


async def refresh_views(lib: Library) -> None:
    """Bring the Library's in-memory views (titles, vocabulary, filters) in step with the database,
    then count the names the archive learned in the text of the stories that need it
    (`service.inference`)."""
    from service.inference import infer_learned

    await lib.refresh()
    await infer_learned(lib)


# ---- storing a run's files -----------------------------------------------------------------------


async def _store_batch(lib: Library, writer: Writer, batch: list[Parsed]) -> list[FileOutcome]:
    """Store a batch of parsed files in one transaction (a savepoint each); outcomes in order."""
    storable = [p for p in batch if p.reason is None and p.skip is None]
    results = iter(
        await writer.run_batch(store_parsed, [(p, lib.roster) for p in storable]) if storable else []
    )
    return [_outcome(p, next(results) if p.reason is None and p.skip is None else None) for p in batch]


def _outcome(parsed: Parsed, stored: Stored | Exception | None) -> FileOutcome:
    """What storing `parsed` did: `stored` is what `write_story` said, the exception, or None."""
    job = parsed.job
    if parsed.skip is not None:
        return FileOutcome(job.path, "skipped", job.story_id, reason=parsed.skip)
    if parsed.reason is not None or stored is None:
        return FileOutcome(job.path, "failed", job.story_id, reason=parsed.reason)
    if isinstance(stored, Exception):
        log.error("could not store %s", job.path, exc_info=stored)
        reason = f"could not store it ({type(stored).__name__}: {stored})"
        return FileOutcome(job.path, "failed", job.story_id, reason=reason)
    if stored.how == "refused":
        reason = f"the same work as removed story #{stored.story_id} “{stored.title}” (/story restore brings it back)"
        return FileOutcome(job.path, "skipped", stored.story_id, reason=reason)
    status: Any = {
        "unchanged": "unchanged",
        "new": "added",
        "updated": "updated",
        "joined": "same_work",
        "returned": "returned",
    }[stored.how]
    return FileOutcome(job.path, status, stored.story_id, stored.title)


async def store_all(
    lib: Library, writer: Writer, jobs: list[Job], report: IndexReport, *, background: bool, progress: bool
) -> None:
    """Parse `jobs` and store them a batch at a time; the writer stores one batch while the next is
    parsed. Everything that happened goes into `report`."""
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc="indexing", unit="file", file=sys.stderr, disable=not progress)

    def record(outcomes: list[FileOutcome], batch: list[Parsed]) -> None:
        for outcome, parsed in zip(outcomes, batch, strict=True):
            bar.update(1)
            if outcome.status == "failed":
                report.failed.append((outcome.path, outcome.reason or "unknown"))
            elif outcome.status == "skipped":
                report.skipped.append((outcome.path, outcome.reason or "not a story"))
            elif outcome.status == "unchanged":
                report.unchanged += 1
            else:
                if outcome.status == "same_work":
                    report.same_work.append((outcome.path, f"“{outcome.title}” (#{outcome.story_id})"))
                else:
                    getattr(report, outcome.status).append(outcome.path)
                report.bytes_parsed += parsed.size

    writing: tuple[asyncio.Future[list[FileOutcome]], list[Parsed]] | None = None
    batch: list[Parsed] = []
    batch_bytes = 0
    try:
        most, most_bytes = (
            (BACKGROUND_BATCH, BATCH_BYTES // 4) if background else (BATCH_STORIES, BATCH_BYTES)
        )
        async for parsed in parse_all(jobs, lib.roster, background=background):
            batch.append(parsed)
            batch_bytes += parsed.size
            if len(batch) < most and batch_bytes < most_bytes:
                continue
            if writing is not None:
                record(await writing[0], writing[1])
            writing = (asyncio.ensure_future(_store_batch(lib, writer, batch)), batch)
            batch, batch_bytes = [], 0
        if writing is not None:
            record(await writing[0], writing[1])
            writing = None
        if batch:
            record(await _store_batch(lib, writer, batch), batch)
    finally:
        if writing is not None:  # an error or cancellation: let the batch in flight finish
            await asyncio.gather(writing[0], return_exceptions=True)
        bar.close()
