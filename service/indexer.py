"""The incremental indexer: walk the story folder, parse what changed, store it, drop what is gone.

Owns change detection (size+mtime, then sha256: a touched file is not re-parsed), the run's
bookkeeping (`IndexReport`, `index_failures`), committing stories in batches with a savepoint each
(so a killed run leaves a consistent index and one bad story fails alone) and refreshing the
Library's in-memory views once a run changed something. A bad file never stops a run. Parsing
lives in `service.parsing`, transactions in `db.writer`, the rows in `db.store` (the one store
path the indexer, uploads and curation share). It must not import Discord.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from archive.model import STORY_SUFFIXES, StoryMeta
from db.files import UPLOAD_PREFIX, archive_roots, is_upload
from db.models import IndexFailure, Story, utcnow
from db.store import (
    delete_story_sync,
    removed_paths,
    save_story,
    stored_files,
    touch_story_sync,
    write_story,
)
from db.writer import Writer
from service.parsing import Job, Parsed, parse_all

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)

BATCH_STORIES = 100
BATCH_BYTES = 2_000_000
"""A full build commits this many stories (or bytes of files) at a time, each in a savepoint."""


@dataclass(slots=True)
class IndexReport:
    """What an index run did: paths added/updated/removed, how many were unchanged, what failed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason in plain words)
    seconds: float = 0.0
    bytes_parsed: int = 0

    def summary(self) -> str:
        """Human lines: the counts, one line per failure with its reason, and the speed."""
        lines = [
            f"added: {len(self.added)}",
            f"updated: {len(self.updated)}",
            f"unchanged: {self.unchanged}",
            f"removed: {len(self.removed)}",
            f"failed: {len(self.failed)}",
        ]
        lines += [f"  {path}: {reason}" for path, reason in sorted(self.failed)]
        mb = self.bytes_parsed / 1_000_000
        speed = f" ({mb / self.seconds:.1f} MB/s)" if self.seconds > 0 and self.bytes_parsed else ""
        lines.append(f"parsed {mb:.1f} MB in {self.seconds:.1f} s{speed}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What indexing one file did: status added/updated/unchanged/failed, and the story or reason."""

    path: str
    status: Literal["added", "updated", "unchanged", "failed"]
    story_id: int | None = None
    title: str | None = None
    reason: str | None = None


def _walk(
    directory: Path, base: Path, skip: set[Path], prefix: str = ""
) -> list[tuple[str, str, int, float]]:
    """Story files under `directory`: (`prefix` + path relative to `base`, absolute path, size, mtime).

    Hidden files and folders, and the folders in `skip` (removed stories, uploads kept elsewhere),
    are left out; symlinked folders are not followed (as `os.walk`), symlinked files are.
    """
    found: list[tuple[str, str, int, float]] = []
    start = prefix + ("" if directory == base else directory.relative_to(base).as_posix() + "/")
    todo = [(str(directory), start)]
    while todo:
        folder, prefix = todo.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            log.warning("cannot list %s: %s", folder, exc)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if Path(entry.path).resolve() not in skip:
                        todo.append((entry.path, f"{prefix}{entry.name}/"))
                elif os.path.splitext(entry.name)[1].lower() in STORY_SUFFIXES:
                    stat = entry.stat()
                    found.append((prefix + entry.name, entry.path, stat.st_size, stat.st_mtime))
            except OSError:  # vanished or unreadable while we walked
                continue
    return found


def _roots(lib: Library, directory: Path | None) -> tuple[list[tuple[Path, Path, str]], str]:
    """The folders to walk as (folder, its archive root, the root's path prefix), and the path
    prefix this run is responsible for. A full run walks the story folder and the uploads folder."""
    if directory is None:
        walks = [(r.folder.resolve(), r.folder.resolve(), r.prefix) for r in archive_roots(lib.settings)]
        return walks, ""
    folder = directory.resolve()
    for root in reversed(archive_roots(lib.settings)):  # the uploads folder first: it may be inside
        base = root.folder.resolve()
        if folder.is_relative_to(base):
            scope = root.prefix + folder.relative_to(base).as_posix()
            scope = root.prefix if folder == base else scope + "/"
            return [(folder, base, root.prefix)], scope
    raise ValueError(f"{folder} is not inside the story folder {lib.settings.stories_dir.resolve()}")


def _walk_all(
    walks: list[tuple[Path, Path, str]], skip: set[Path], uploads_inside: bool
) -> tuple[list[tuple[str, str, int, float]], set[str]]:
    """Every story file of the walked folders (a path in a later folder wins), and the prefixes
    whose folder could be read (stories under any other prefix are never taken for gone)."""
    files: dict[str, tuple[str, str, int, float]] = {}
    readable: set[str] = set()
    for folder, base, prefix in walks:
        if not folder.is_dir():
            continue
        readable.add(prefix)
        for found in _walk(folder, base, skip, prefix):
            files[found[0]] = found
    if "" in readable and uploads_inside:
        readable.add(UPLOAD_PREFIX)  # the uploads folder is the story folder's uploads/
    return [files[path] for path in sorted(files)], readable


def _gone(path: str, on_disk: set[str], scope: str, readable: set[str]) -> bool:
    """Whether a stored story's file has left the archive (its folder was read, the file is not in it)."""
    if path in on_disk or not path.startswith(scope):
        return False
    return (UPLOAD_PREFIX if is_upload(path) else "") in readable


def store_parsed(session: Session, parsed: Parsed, roster: Any) -> tuple[int, str]:
    """Store one parsed story (or only its new mtime); returns (story id, title)."""
    job = parsed.job
    if parsed.same:
        assert job.story_id is not None
        touch_story_sync(session, job.story_id, mtime=job.mtime)
        return job.story_id, ""
    assert parsed.meta is not None
    return write_story(
        session,
        parsed.meta,
        path=job.path,
        size=parsed.size,
        mtime=job.mtime,
        sha256=parsed.sha256,
        roster=roster,
    )


async def store_file(
    session: AsyncSession, lib: Library, meta: StoryMeta, path: str, file: Path, sha256: str
) -> Story:
    """Store `meta` as the story of `file` (at `path`) inside the caller's transaction.

    What uploads and curation call: the same `db.store.write_story` the indexer's batches run, so a
    file becomes rows (overrides, identity) one way whoever stores it.
    """
    stat = await asyncio.to_thread(file.stat)
    meta = dataclasses.replace(meta, path=path)
    return await save_story(
        session, meta, path=path, size=stat.st_size, mtime=stat.st_mtime, sha256=sha256, roster=lib.roster
    )


async def refresh_views(lib: Library) -> None:
    """Bring the Library's in-memory views (titles, vocabulary, filters) in step with the database."""
    refresh = getattr(lib, "refresh", None)
    if refresh is not None:
        await refresh()
        return
    from service.hits import invalidate

    await lib.reload_titles()
    invalidate(lib)


async def _store_batch(lib: Library, writer: Writer, batch: list[Parsed]) -> list[FileOutcome]:
    """Store a batch of parsed files in one transaction (a savepoint each); outcomes in order."""
    todo = [(parsed, lib.roster) for parsed in batch if parsed.reason is None]
    results = iter(await writer.run_batch(store_parsed, todo) if todo else [])
    return [_outcome(p, None if p.reason is not None else next(results)) for p in batch]


def _outcome(parsed: Parsed, stored: tuple[int, str] | Exception | None) -> FileOutcome:
    """What storing `parsed` did: `stored` is (story id, title), the exception, or None (not stored)."""
    job = parsed.job
    if parsed.reason is not None or stored is None:
        return FileOutcome(job.path, "failed", job.story_id, reason=parsed.reason)
    if isinstance(stored, Exception):
        log.error("could not store %s", job.path, exc_info=stored)
        reason = f"could not store it ({type(stored).__name__}: {stored})"
        return FileOutcome(job.path, "failed", job.story_id, reason=reason)
    story_id, title = stored
    if parsed.same:
        return FileOutcome(job.path, "unchanged", story_id)
    return FileOutcome(job.path, "updated" if job.story_id is not None else "added", story_id, title)


def _record_failures(session: Session, failed: list[tuple[str, str]], forget: Any) -> None:
    """Forget the old failures matching `forget`, then record `failed`."""
    session.execute(delete(IndexFailure).where(forget))
    if failed:
        now = utcnow()
        rows = [{"path": p, "reason": r, "at": now} for p, r in dict(failed).items()]
        session.execute(insert(IndexFailure), rows)


def _plan(
    files: list[tuple[str, str, int, float]], stored: dict, removed: set[str], report: IndexReport
) -> list[Job]:
    jobs: list[Job] = []
    for path, file, size, mtime in files:
        if path in removed:  # a mod-removed story: its row is left alone
            continue
        known = stored.get(path)
        if known is not None and known[0] == size and known[1] == mtime:
            report.unchanged += 1
            continue
        same_size = known is not None and known[0] == size
        jobs.append(
            Job(file, path, size, mtime, known[2] if same_size else None, known[3] if known else None)
        )
    return jobs


async def index_directory(
    lib: Library, directory: Path | None = None, *, progress: bool = False
) -> IndexReport:
    """Bring the index in step with the story folder (default `lib.settings.stories_dir`).

    Unchanged files are skipped; touched ones only get their new mtime; new and edited ones are
    parsed and stored (in batched transactions, a savepoint each); files gone from disk leave the
    index, except mod-removed stories. Failures are reported with a reason and recorded in `index_failures`.
    `directory` must be inside the story folder (ValueError otherwise); only stories under it are
    considered. A missing folder raises FileNotFoundError rather than emptying the index.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    report = IndexReport()
    walks, prefix = _roots(lib, directory)
    folder = walks[0][0]
    uploads_inside = len(archive_roots(lib.settings)) == 1  # UPLOADS_DIR is the story folder's uploads/
    skip = {lib.settings.removed_dir.resolve()}
    if not uploads_inside:  # walked as its own root, never twice
        skip.add(lib.settings.uploads_dir.resolve())
    if not folder.is_dir():  # never read a missing (unmounted?) folder as "every story was deleted"
        raise FileNotFoundError(f"the story folder {folder} does not exist")
    files, readable = await asyncio.to_thread(_walk_all, walks, skip, uploads_inside)
    async with lib.sessions() as session:
        stored = await stored_files(session)
        removed = await removed_paths(session)
    jobs = _plan(files, stored, removed, report)
    on_disk = {path for path, *_ in files}

    async with Writer(lib.settings.database_url, lib.sessions, crash_at=lib.settings.crash_at) as writer:
        for path, (*_, story_id) in sorted(stored.items()):
            if _gone(path, on_disk, prefix, readable):
                await writer.run(delete_story_sync, story_id)
                report.removed.append(path)
        bar = tqdm(total=len(jobs), desc="indexing", unit="file", file=sys.stderr, disable=not progress)

        def record(outcomes: list[FileOutcome], batch: list[Parsed]) -> None:
            for outcome, parsed in zip(outcomes, batch, strict=True):
                bar.update(1)
                if outcome.status == "failed":
                    report.failed.append((outcome.path, outcome.reason or "unknown"))
                elif outcome.status == "unchanged":
                    report.unchanged += 1
                else:
                    (report.added if outcome.status == "added" else report.updated).append(outcome.path)
                    report.bytes_parsed += parsed.size

        # The writer stores one batch while the next one is parsed and gathered.
        writing: tuple[asyncio.Future[list[FileOutcome]], list[Parsed]] | None = None
        batch: list[Parsed] = []
        batch_bytes = 0
        try:
            async for parsed in parse_all(jobs, lib.roster):
                batch.append(parsed)
                batch_bytes += parsed.size
                if len(batch) < BATCH_STORIES and batch_bytes < BATCH_BYTES:
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
        forget = IndexFailure.path.startswith(prefix, autoescape=True)
        await writer.run(_record_failures, report.failed, forget)
    if report.added or report.updated or report.removed:
        await refresh_views(lib)
    report.seconds = time.perf_counter() - started
    log.info(
        "indexed %s: %s added, %s updated, %s unchanged, %s removed, %s failed in %.1f s",
        folder,
        len(report.added),
        len(report.updated),
        report.unchanged,
        len(report.removed),
        len(report.failed),
        report.seconds,
    )
    return report
