"""The incremental indexer: walk the story folder, parse what changed, store it, drop what is gone.

Owns change detection (size+mtime, then sha256), the parse pipeline (off the event loop: threads
for small runs, a process pool for big ones), one transaction per story, failure reporting
(`index_failures`) and keeping the in-memory title index in step. A bad file never stops a run.
It must not build story rows itself (that is `db/store.py`) and never imports Discord.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import pickle
import sys
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, insert, select

from archive.model import StoryMeta
from db.models import IndexFailure, Story, utcnow
from db.store import delete_story, removed_paths, save_story, stored_files, touch_story

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)

STORY_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".epub"})
PROCESS_POOL_BYTES = 8 * 1024 * 1024
"""Runs with more than this much to parse use worker processes; smaller ones use a thread."""
WINDOW_PER_WORKER = 8


@dataclass(frozen=True, slots=True)
class _Job:
    file: str  # absolute path
    path: str  # relative, '/' separated: the story's key
    size: int
    mtime: float
    known_sha: str | None  # the stored hash when only the mtime changed (a touch skips the parse)
    story_id: int | None


@dataclass(slots=True)
class _Parsed:
    job: _Job
    size: int = 0
    sha256: str = ""
    meta: StoryMeta | None = None
    same: bool = False  # bytes unchanged: only the mtime moved
    reason: str | None = None


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


# --- parsing (runs in a worker thread or process) ------------------------------------------------

_WORKER_ROSTER: Any = None


def _init_worker(roster_blob: bytes) -> None:
    global _WORKER_ROSTER
    _WORKER_ROSTER = pickle.loads(roster_blob)


def _parse_in_worker(job: _Job) -> _Parsed:
    return _parse(job, _WORKER_ROSTER)


def _unusable(meta: StoryMeta) -> str | None:
    if meta.body.strip():
        return None
    why = "; ".join(meta.problems[:3])
    return "no story text found" + (f" ({why})" if why else "")


def _parse(job: _Job, roster: Any) -> _Parsed:
    """Read, hash and parse one file; every failure becomes a reason, never an exception."""
    from archive.parse import parse_story

    try:
        data = Path(job.file).read_bytes()
    except OSError as exc:
        return _Parsed(job, reason=f"could not read the file ({exc.strerror or exc})")
    sha = hashlib.sha256(data).hexdigest()
    result = _Parsed(job, size=len(data), sha256=sha)
    if job.known_sha == sha:
        result.same = True
        return result
    if not data:
        result.reason = "the file is empty"
        return result
    try:
        meta = parse_story(data, job.path, roster)
    except Exception as exc:  # parse_story promises not to raise; a bug must not stop the run
        log.exception("parser failed on %s", job.path)
        result.reason = f"the parser failed ({type(exc).__name__}: {exc})"
        return result
    result.reason = _unusable(meta)
    result.meta = meta if result.reason is None else None
    return result


def _pool(jobs: list[_Job], roster: Any) -> tuple[Executor, Callable[[_Job], _Parsed]]:
    workers = os.cpu_count() or 1
    if workers > 1 and sum(j.size for j in jobs) > PROCESS_POOL_BYTES:
        try:
            blob = pickle.dumps(roster)
        except Exception:
            log.warning("the roster cannot be sent to worker processes; parsing in a thread")
        else:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context(method),
                initializer=_init_worker,
                initargs=(blob,),
            )
            return pool, _parse_in_worker
    return ThreadPoolExecutor(1, thread_name_prefix="parse"), lambda job: _parse(job, roster)


async def _parse_all(jobs: list[_Job], roster: Any) -> AsyncIterator[_Parsed]:
    """Parse `jobs` off the event loop, a bounded window at a time, yielding in completion order."""
    if not jobs:
        return
    loop = asyncio.get_running_loop()
    executor, work = _pool(jobs, roster)
    window = WINDOW_PER_WORKER * getattr(executor, "_max_workers", 1)
    todo = iter(jobs)
    pending: set[asyncio.Future[_Parsed]] = set()

    def submit() -> None:
        job = next(todo, None)
        if job is not None:
            pending.add(loop.run_in_executor(executor, work, job))

    try:
        for _ in range(window):
            submit()
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                submit()
                yield future.result()
    finally:
        for future in pending:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)


# --- walking --------------------------------------------------------------------------------------


def _walk(directory: Path, base: Path, skip: Path) -> list[tuple[str, str, int, float]]:
    """Story files under `directory`: (path relative to `base`, absolute path, size, mtime)."""
    found: list[tuple[str, str, int, float]] = []
    for folder, dirs, files in os.walk(directory):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() != skip)
        for name in sorted(files):
            file = here / name
            if name.startswith(".") or file.suffix.lower() not in STORY_SUFFIXES:
                continue
            try:
                stat = file.stat()
            except OSError:
                continue
            found.append((file.relative_to(base).as_posix(), str(file), stat.st_size, stat.st_mtime))
    return found


def _roots(lib: Library, directory: Path | None) -> tuple[Path, Path, str]:
    """(folder to walk, folder paths are relative to, path prefix this run is responsible for)."""
    root = lib.settings.stories_dir.resolve()
    folder = (directory or root).resolve()
    if folder == root or folder.is_relative_to(root):
        prefix = folder.relative_to(root).as_posix()
        return folder, root, "" if prefix == "." else prefix + "/"
    return folder, folder, ""


def _titles(lib: Library, method: str, *args: Any) -> None:
    fn = getattr(getattr(lib, "titles", None), method, None)
    if fn is not None:
        fn(*args)


# --- storing --------------------------------------------------------------------------------------


async def _store(lib: Library, parsed: _Parsed) -> FileOutcome:
    job = parsed.job
    if parsed.reason is not None:
        return FileOutcome(job.path, "failed", job.story_id, reason=parsed.reason)
    if parsed.same:
        assert job.story_id is not None
        async with lib.transaction() as session:
            await touch_story(session, job.story_id, mtime=job.mtime)
        return FileOutcome(job.path, "unchanged", job.story_id)
    assert parsed.meta is not None
    try:
        async with lib.transaction() as session:
            story = await save_story(
                session,
                parsed.meta,
                path=job.path,
                size=parsed.size,
                mtime=job.mtime,
                sha256=parsed.sha256,
                roster=lib.roster,
            )
    except Exception as exc:
        log.exception("could not store %s", job.path)
        return FileOutcome(
            job.path, "failed", job.story_id, reason=f"could not store it ({type(exc).__name__}: {exc})"
        )
    _titles(lib, "add", story.id, story.title)
    status: Literal["added", "updated"] = "updated" if job.story_id is not None else "added"
    return FileOutcome(job.path, status, story.id, title=story.title)


async def _record_failures(lib: Library, failed: list[tuple[str, str]], *, forget: Any) -> None:
    """Forget the old failures matching the `forget` condition, then record `failed`."""
    async with lib.transaction() as session:
        await session.execute(delete(IndexFailure).where(forget))
        if failed:
            now = utcnow()
            rows = [{"path": p, "reason": r, "at": now} for p, r in dict(failed).items()]
            await session.execute(insert(IndexFailure), rows)


async def index_directory(
    lib: Library, directory: Path | None = None, *, progress: bool = False
) -> IndexReport:
    """Bring the index in step with the story folder (default `lib.settings.stories_dir`).

    Unchanged files are skipped; touched ones only get their new mtime; new and edited ones are
    parsed and stored (one transaction each); files gone from disk leave the index, except
    mod-removed stories. Failures are reported with a reason and recorded in `index_failures`.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    report = IndexReport()
    folder, base, prefix = _roots(lib, directory)
    skip = lib.settings.removed_dir.resolve()
    files = await asyncio.to_thread(_walk, folder, base, skip) if folder.is_dir() else []
    async with lib.sessions() as session:
        stored = await stored_files(session)
        removed = await removed_paths(session)

    jobs: list[_Job] = []
    on_disk: set[str] = set()
    for path, file, size, mtime in files:
        on_disk.add(path)
        if path in removed:
            continue
        known = stored.get(path)
        if known is not None and known[0] == size and known[1] == mtime:
            report.unchanged += 1
            continue
        same_size = known is not None and known[0] == size
        jobs.append(
            _Job(file, path, size, mtime, known[2] if same_size else None, known[3] if known else None)
        )

    for path, (*_, story_id) in sorted(stored.items()):
        if path.startswith(prefix) and path not in on_disk:
            async with lib.transaction() as session:
                await delete_story(session, story_id)
            _titles(lib, "remove", story_id)
            report.removed.append(path)

    bar = tqdm(total=len(jobs), desc="indexing", unit="file", file=sys.stderr, disable=not progress)
    try:
        async for parsed in _parse_all(jobs, lib.roster):
            outcome = await _store(lib, parsed)
            bar.update(1)
            if outcome.status == "failed":
                report.failed.append((outcome.path, outcome.reason or "unknown"))
            elif outcome.status == "unchanged":
                report.unchanged += 1
            else:
                (report.added if outcome.status == "added" else report.updated).append(outcome.path)
                report.bytes_parsed += parsed.size
    finally:
        bar.close()
    await _record_failures(lib, report.failed, forget=IndexFailure.path.startswith(prefix, autoescape=True))
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


async def index_file(lib: Library, file: Path) -> FileOutcome:
    """Index one file inside the story folder now (what `/story add` calls after saving it)."""
    root = lib.settings.stories_dir.resolve()
    file = (file if file.is_absolute() else root / file).resolve()
    if not file.is_relative_to(root):
        raise ValueError(f"{file} is not inside the story folder {root}")
    path = file.relative_to(root).as_posix()
    async with lib.sessions() as session:
        row = (
            await session.execute(
                select(Story.file_size, Story.file_hash, Story.id, Story.removed_at).where(Story.path == path)
            )
        ).first()
    if row is not None and row.removed_at is not None:
        return FileOutcome(path, "failed", row.id, reason="a removed story has this path; restore it instead")
    try:
        stat = file.stat()
    except OSError as exc:
        outcome = FileOutcome(path, "failed", reason=f"could not read the file ({exc.strerror or exc})")
    else:
        same_size = row is not None and row.file_size == stat.st_size
        known_sha = row.file_hash if same_size else None
        job = _Job(str(file), path, stat.st_size, stat.st_mtime, known_sha, row.id if row else None)
        outcome = await _store(lib, await asyncio.to_thread(_parse, job, lib.roster))
    failed = [(path, outcome.reason or "")] if outcome.status == "failed" else []
    await _record_failures(lib, failed, forget=IndexFailure.path == path)
    return outcome
