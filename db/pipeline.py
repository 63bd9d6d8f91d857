"""The indexer's two workers: parsing files off the event loop, and writing stories from one thread.

Owns the parse step (read, sha256, `parse_story` with the roster; every failure becomes a reason in
plain words, never an exception) run in a thread for small runs and in worker processes for big
ones, and the `Writer`, which runs synchronous store functions a transaction (or a batch) at a
time: on SQLite through a synchronous engine in one dedicated thread (one event-loop hop per story instead
of one per statement), elsewhere through the async session. It must not decide what to index
(that is `db/indexer.py`) and never imports Discord.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import pickle
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from archive.model import StoryMeta
from db.crashpoint import crash_point
from db.engine import create_sync_engine, sync_sqlite_url
from db.retry import is_locked, retry_sync, yield_lock
from db.store import touch_story_sync, write_story

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)

PROCESS_POOL_BYTES = 8 * 1024 * 1024
"""Runs with more than this much to parse use worker processes; smaller ones use a thread."""
WINDOW_PER_WORKER = 8
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Job:
    """One file to (re-)index."""

    file: str  # absolute path
    path: str  # relative, '/' separated: the story's key
    size: int
    mtime: float
    known_sha: str | None  # the stored hash when the size is unchanged (a touch skips the parse)
    story_id: int | None


@dataclass(slots=True)
class Parsed:
    """What parsing a job gave: a story, "bytes unchanged", or the reason it failed."""

    job: Job
    size: int = 0
    sha256: str = ""
    meta: StoryMeta | None = None
    same: bool = False
    reason: str | None = None


def _unusable(meta: StoryMeta) -> str | None:
    """Why a parsed file is not a story (the parser marks it), or None when it is one."""
    from archive.parse import unreadable_reason

    reason = unreadable_reason(meta)
    if reason is None and not meta.body.strip():
        reason = "no story text found"
    return reason


def parse_job(job: Job, roster: Any) -> Parsed:
    """Read, hash and parse one file."""
    from archive.parse import parse_story

    try:
        data = Path(job.file).read_bytes()
    except OSError as exc:
        return Parsed(job, reason=f"could not read the file ({exc.strerror or exc})")
    result = Parsed(job, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    if job.known_sha == result.sha256:
        result.same = True
    elif not data:
        result.reason = "the file is empty"
    else:
        try:
            meta = parse_story(data, job.path, roster)
        except Exception as exc:  # parse_story promises not to raise; a bug must not stop the run
            log.exception("parser failed on %s", job.path)
            result.reason = f"the parser failed ({type(exc).__name__}: {exc})"
        else:
            result.reason = _unusable(meta)
            result.meta = meta if result.reason is None else None
    return result


_WORKER_ROSTER: Any = None


def _init_worker(roster_blob: bytes) -> None:
    global _WORKER_ROSTER
    _WORKER_ROSTER = pickle.loads(roster_blob)


def _parse_in_worker(job: Job) -> Parsed:
    return parse_job(job, _WORKER_ROSTER)


def _pool(jobs: list[Job], roster: Any) -> tuple[Executor, Callable[[Job], Parsed], int]:
    workers = os.cpu_count() or 1
    if workers > 1 and sum(j.size for j in jobs) > PROCESS_POOL_BYTES:
        try:
            blob = pickle.dumps(roster)
        except Exception:
            log.warning("the roster cannot be sent to worker processes; parsing in a thread")
        else:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            context = multiprocessing.get_context(method)
            pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=_init_worker, initargs=(blob,)
            )
            return pool, _parse_in_worker, workers
    return ThreadPoolExecutor(1, thread_name_prefix="parse"), partial(parse_job, roster=roster), 1


async def parse_all(jobs: list[Job], roster: Any) -> AsyncIterator[Parsed]:
    """Parse `jobs` off the event loop, a bounded window at a time, yielding in `jobs` order (so
    new stories get their ids in path order, run after run).

    When a worker process dies (killed, out of memory) its jobs are parsed again in a thread, so
    a broken pool never stops a run.
    """
    if not jobs:
        return
    loop = asyncio.get_running_loop()
    executor, work, workers = _pool(jobs, roster)
    todo = iter(jobs)
    in_flight: deque[tuple[asyncio.Future[Parsed], Job]] = deque()

    def submit() -> None:
        nonlocal executor, work
        job = next(todo, None)
        if job is None:
            return
        try:
            future = loop.run_in_executor(executor, work, job)
        except BrokenExecutor:
            log.warning("the parse workers stopped; parsing the rest in a thread")
            executor.shutdown(wait=False, cancel_futures=True)
            executor, work = (
                ThreadPoolExecutor(1, thread_name_prefix="parse"),
                partial(parse_job, roster=roster),
            )
            future = loop.run_in_executor(executor, work, job)
        in_flight.append((future, job))

    try:
        for _ in range(WINDOW_PER_WORKER * workers):
            submit()
        while in_flight:
            future, job = in_flight.popleft()
            try:
                result = await future
            except BrokenExecutor:
                result = await asyncio.to_thread(parse_job, job, roster)
            submit()
            yield result
    finally:
        for future, _ in in_flight:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)


class Writer:
    """Runs `fn(session, *args)` in its own transaction, committed on success, rolled back on error."""

    def __init__(self, lib: Library) -> None:
        self._lib = lib
        url = sync_sqlite_url(lib.settings.database_url)
        self._engine = create_sync_engine(url) if url else None
        self._sessions = sessionmaker(self._engine, expire_on_commit=False) if self._engine else None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="index-writer") if self._engine else None

    def _in_tx(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        assert self._sessions is not None
        sessions = self._sessions

        def attempt() -> T:
            with sessions.begin() as session:
                session.connection()  # BEGIN IMMEDIATE: wait for another writer before any work
                started = time.monotonic()
                result = fn(session, *args)
            yield_lock(time.monotonic() - started)
            return result

        return retry_sync(attempt, "an index write")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """One transaction around `fn(session, *args)`, off the event loop where possible."""
        if self._thread is None:
            async with self._lib.transaction() as session:
                return await session.run_sync(fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._in_tx, fn, args)

    def _batch_in_tx(self, fn: Callable[..., T], items: list[tuple[Any, ...]]) -> list[T | Exception]:
        assert self._sessions is not None
        sessions = self._sessions
        settings = self._lib.settings

        def attempt() -> list[T | Exception]:
            results: list[T | Exception] = []
            with sessions.begin() as session:
                session.connection()  # BEGIN IMMEDIATE: wait for another writer before any work
                started = time.monotonic()
                for args in items:
                    try:
                        with session.begin_nested():  # a SAVEPOINT: one bad story leaves the rest
                            results.append(fn(session, *args))
                    except Exception as exc:
                        if is_locked(exc):
                            raise
                        results.append(exc)
                crash_point(settings, "index:mid-batch")
            crash_point(settings, "index:after-batch")
            yield_lock(time.monotonic() - started)  # a waiting writer (the CLI, a mod) gets in now
            return results

        return retry_sync(attempt, "an index batch")

    async def run_batch(self, fn: Callable[..., T], items: list[tuple[Any, ...]]) -> list[T | Exception]:
        """`fn(session, *args)` for each args in `items`, all in ONE transaction, each in its own
        savepoint: an exception rolls back (and is returned for) that item only.

        A killed run still leaves a consistent index: the batch commits whole or not at all.
        Fewer, larger transactions save the per-commit work (WAL frames, FTS5 segment flushes).
        """
        if self._thread is None:
            return [await self._settled(fn, args) for args in items]
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, self._batch_in_tx, fn, items)
        except Exception as exc:  # the transaction itself failed: store them one by one as before
            log.warning("a batch of %s stories failed (%s); storing them one by one", len(items), exc)
            return [await self._settled(fn, args) for args in items]

    async def _settled(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T | Exception:
        try:
            return await self.run(fn, *args)
        except Exception as exc:
            return exc

    async def close(self) -> None:
        """Finish pending writes and close the writer's connections."""
        if self._thread is not None:
            await asyncio.to_thread(self._thread.shutdown, wait=True)
        if self._engine is not None:
            self._engine.dispose()

    async def __aenter__(self) -> Writer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


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
