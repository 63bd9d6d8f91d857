"""Parsing files off the event loop: the indexer's parse step and its worker processes.

Owns `Job` (a file to (re-)index), `Parsed` (what reading it gave) and `parse_job` (read, sha256,
`parse_story` with the roster; every failure becomes a reason in plain words, never an exception),
run in a thread for small runs and in worker processes for big ones (`parse_all`). It must not
decide what to index (that is `service.indexer`), write to the database or import Discord.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from archive.model import StoryMeta

log = logging.getLogger(__name__)

PROCESS_POOL_BYTES = 8 * 1024 * 1024
"""Runs with more than this much to parse use worker processes; smaller ones use a thread."""
WINDOW_PER_WORKER = 8


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
