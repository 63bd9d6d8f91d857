"""Parsing files off the event loop: the indexer's parse step, its worker processes, and parsing
untrusted uploads in a process of their own.

Owns `Job` (a file to (re-)index), `Parsed` (what reading it gave: a story with its identity keys
and how well it was read, a file that is not a story, or the reason it failed, never an
exception), `parse_all` (a thread for small runs, worker processes for big ones or when asked,
workers that die with their parent) and `parse_untrusted` (one short-lived process with a time and
memory limit). It must not decide what to index (that is `service.indexer`), write to the database
or import Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from archive.model import StoryMeta
from service.identity import fingerprint, read_score, work_key
from service.walk import FileRefused, read_capped

log = logging.getLogger(__name__)

PROCESS_POOL_BYTES = 8 * 1024 * 1024
"""Runs with more than this much to parse use worker processes; smaller ones use a thread."""
WINDOW_PER_WORKER = 8
BACKGROUND_NICE = 10
"""How much lower a background index's parse workers run than the bot's event loop."""
UPLOAD_SECONDS = 20.0
UPLOAD_MEMORY_BYTES = 1024 * 1024 * 1024
"""An upload's parse may take this long and this much address space before it is stopped."""


@dataclass(frozen=True, slots=True)
class Job:
    """One file to (re-)index."""

    file: str  # absolute path of the real file
    path: str  # relative, '/' separated: the file's key
    size: int
    mtime: float
    known_sha: str | None  # the stored hash when the size is unchanged (a touch skips the parse)
    story_id: int | None
    lead: bool = False  # the story must be read from this file now (its best file is gone)


@dataclass(slots=True)
class Parsed:
    """What parsing a job gave: a story, "bytes unchanged", not a story (`skip`), or why it failed."""

    job: Job
    size: int = 0
    sha256: str = ""
    meta: StoryMeta | None = None
    same: bool = False
    reason: str | None = None
    skip: str | None = None
    work_key: str | None = None
    fingerprint: str | None = None
    score: int = 0


def _unusable(meta: StoryMeta) -> str | None:
    """Why a parsed file is not a story (the parser marks it), or None when it is one."""
    from archive.parse import unreadable_reason

    reason = unreadable_reason(meta)
    if reason is None and not meta.body.strip():
        reason = "no story text found"
    return reason


def not_a_story(data: bytes, name: str) -> str | None:
    """The parser's classifier: why these bytes are not a story (a licence, a README, data), or None."""
    try:
        from archive.nonstory import non_story_reason
    except ImportError:  # an archive/ without the classifier: every file is a candidate story
        return None
    return non_story_reason(data, name)


def parse_data(data: bytes, job: Job, roster: Any) -> Parsed:
    """Hash, classify and parse bytes already read for `job`."""
    from archive.parse import parse_story

    result = Parsed(job, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    if job.known_sha == result.sha256 and not job.lead:
        result.same = True
        return result
    if not data.strip():
        result.reason = "the file is empty"
        return result
    result.skip = not_a_story(data, job.path)
    if result.skip is not None:
        return result
    try:
        meta = parse_story(data, job.path, roster)
    except Exception as exc:  # parse_story promises not to raise; a bug must not stop the run
        log.exception("parser failed on %s", job.path)
        result.reason = f"the parser failed ({type(exc).__name__}: {exc})"
        return result
    result.reason = _unusable(meta)
    if result.reason is None:
        result.meta = meta
        result.work_key = work_key(data)
        result.fingerprint = fingerprint(meta.body)
        result.score = read_score(meta)
    return result


def parse_job(job: Job, roster: Any) -> Parsed:
    """Read (a regular file, at most the size cap), hash, classify and parse one file."""
    try:
        data = read_capped(job.file)
    except FileRefused as exc:
        return Parsed(job, skip=str(exc))
    except OSError as exc:
        return Parsed(job, reason=f"could not read the file ({exc.strerror or exc})")
    return parse_data(data, job, roster)


# ---- worker processes ------------------------------------------------------------------------------

_WORKER_ROSTER: Any = None


def _die_with(parent: int) -> None:
    """Make this worker exit when the indexer that started it dies (kill -9 included)."""
    try:  # Linux: the kernel sends SIGKILL when our parent (the pool's manager) goes
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass

    def watch() -> None:  # everywhere: poll for the indexer itself (the parent may be a forkserver)
        while True:
            time.sleep(0.5)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _init_worker(roster_blob: bytes, parent: int, nice: int = 0) -> None:
    global _WORKER_ROSTER
    _die_with(parent)
    if nice:  # a background index: commands of the bot come first
        with contextlib.suppress(OSError, AttributeError):
            os.nice(nice)
    _WORKER_ROSTER = pickle.loads(roster_blob)


def _parse_in_worker(job: Job) -> Parsed:
    return parse_job(job, _WORKER_ROSTER)


def _context() -> Any:
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _process_pool(
    roster: Any, workers: int, nice: int = 0
) -> tuple[Executor, Callable[[Job], Parsed]] | None:
    try:
        blob = pickle.dumps(roster)
    except Exception:
        log.warning("the roster cannot be sent to worker processes; parsing in a thread")
        return None
    pool = ProcessPoolExecutor(
        workers, mp_context=_context(), initializer=_init_worker, initargs=(blob, os.getpid(), nice)
    )
    try:  # start every worker now (the caller runs this in a thread): never on the event loop
        for future in [pool.submit(os.getpid) for _ in range(workers)]:
            future.result(timeout=120)
    except Exception:
        log.warning("the parse workers did not start; parsing in a thread", exc_info=True)
        pool.shutdown(wait=False, cancel_futures=True)
        return None
    return pool, _parse_in_worker


def _thread_pool(roster: Any) -> tuple[Executor, Callable[[Job], Parsed]]:
    return ThreadPoolExecutor(1, thread_name_prefix="parse"), partial(parse_job, roster=roster)


async def parse_all(
    jobs: list[Job], roster: Any, *, processes: bool = False, background: bool = False
) -> AsyncIterator[Parsed]:
    """Parse `jobs` off the event loop, a bounded window at a time, yielding in `jobs` order (so
    new stories get their ids in path order, run after run).

    Worker processes are used for big runs, or always with `processes`; with `background` (the
    bot's start-up index) they run at a lower priority, so the event loop's commands come first
    (a small run parses in one thread: starting worker processes would cost more than it saves). When a worker dies (killed, out of memory) a fresh pool
    takes over and the jobs in flight are tried once more there; a file that breaks the pool again
    fails alone with the reason, and the run goes on.
    """
    if not jobs:
        return
    loop = asyncio.get_running_loop()
    cpus = os.cpu_count() or 1
    workers = max(1, min(cpus, len(jobs)))
    use_processes = cpus > 1 and (processes or sum(j.size for j in jobs) > PROCESS_POOL_BYTES)
    nice = BACKGROUND_NICE if background else 0
    pooled = await asyncio.to_thread(_process_pool, roster, workers, nice) if use_processes else None
    executor, work = pooled or _thread_pool(roster)
    todo = iter(jobs)
    in_flight: deque[tuple[asyncio.Future[Parsed], Job, int, Executor]] = deque()

    def replace(broken: Executor) -> None:
        nonlocal executor, work
        if broken is not executor:
            return  # already replaced
        log.warning("a parse worker stopped (killed or out of memory); starting new ones")
        broken.shutdown(wait=False, cancel_futures=True)
        executor, work = (use_processes and _process_pool(roster, workers, nice)) or _thread_pool(roster)

    def submit(job: Job | None = None, tries: int = 0, *, front: bool = False) -> None:
        job = job or next(todo, None)
        if job is None:
            return
        try:
            future = loop.run_in_executor(executor, work, job)
        except (BrokenExecutor, RuntimeError):
            replace(executor)
            future = loop.run_in_executor(executor, work, job)
        entry = (future, job, tries, executor)
        in_flight.appendleft(entry) if front else in_flight.append(entry)

    try:
        for _ in range(WINDOW_PER_WORKER * workers):
            submit()
        while in_flight:
            future, job, tries, ran_in = in_flight.popleft()
            try:
                result = await future
            except BrokenExecutor:
                replace(ran_in)
                if tries == 0:
                    submit(job, 1, front=True)
                    continue
                result = Parsed(
                    job, reason="the parser's worker stopped on this file (out of memory or killed)"
                )
            submit()
            yield result
    finally:
        for future, *_ in in_flight:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)


# ---- untrusted uploads -----------------------------------------------------------------------------


class ParseLimit(Exception):
    """Parsing an upload went over its time or memory limit; the message says which."""


class NotAStory(Exception):
    """An upload the classifier reads as no story (a licence, a README, data); the message says why,
    as an index run would say it when skipping the file."""


def _untrusted_child(
    conn: Any, data: bytes, name: str, roster_blob: bytes | None, memory: int, parent: int
) -> None:
    _die_with(parent)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except Exception:  # no resource module or limit refused: the time limit still holds
        pass
    try:
        from archive.parse import parse_story

        skip = not_a_story(data, name)  # what an index run would skip is refused here too
        if skip is not None:
            conn.send(("skip", skip))
            return
        roster = pickle.loads(roster_blob) if roster_blob else None
        conn.send(("ok", parse_story(data, name, roster)))
    except MemoryError:
        conn.send(("memory", None))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


async def parse_untrusted(
    data: bytes,
    name: str,
    roster: Any,
    *,
    seconds: float = UPLOAD_SECONDS,
    memory: int = UPLOAD_MEMORY_BYTES,
) -> StoryMeta:
    """`parse_story` in a process of its own, stopped after `seconds` or beyond `memory` bytes of
    address space (ParseLimit), so no file can stall or exhaust the bot; a file the classifier reads
    as no story (a licence, a README) raises NotAStory with the reason."""
    try:
        blob = pickle.dumps(roster) if roster is not None else None
    except Exception:
        blob = None
    context = _context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_untrusted_child, args=(send, data, name, blob, memory, os.getpid()), daemon=True
    )
    child.start()
    send.close()
    try:
        if not await asyncio.to_thread(receive.poll, seconds):
            raise ParseLimit(f"reading it took longer than {seconds:.0f} seconds")
        try:
            status, value = await asyncio.to_thread(receive.recv)
        except EOFError:
            raise ParseLimit("reading it needed more memory than a story may") from None
    finally:
        if child.is_alive():
            child.kill()
        await asyncio.to_thread(child.join, 5)
        receive.close()
    if status == "skip":
        raise NotAStory(value)
    if status == "memory":
        raise ParseLimit("reading it needed more memory than a story may")
    if status != "ok":
        raise ParseLimit(f"the parser failed ({value})")
    return value
