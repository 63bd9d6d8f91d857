"""Running the bot's event loop until it is told to stop, and stopping within a bound.

Owns `run_until_stopped(main, deadline)`: `main()` runs on a new event loop until it returns or
the process gets SIGINT (Ctrl-C) or SIGTERM (`docker stop`, systemd, a host's `kill`), which
cancel it: the bot then closes itself (`Librarian.close`). What is left after that (tasks still
running, the default thread pool) gets `deadline` seconds in all. `asyncio.run` would wait for it
forever: a database connection that never finishes closing (an aiosqlite worker thread gone
while a close still waits for it, seen at the end of end-to-end test modules) held the process
after SIGTERM until it was killed. Past the deadline the stuck tasks are logged by name and the
process exits at once. It must not import Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
    """The run was stopped by a signal (its name is the message)."""


def run_until_stopped(main: Callable[[], Coroutine[Any, Any, None]], deadline: float) -> None:
    """Run `main()` until it returns or a stop signal cancels it (then raise `Stopped`); its own
    exceptions propagate. The clean-up after it is bounded by `deadline` seconds."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(main(), name="librarian")
    received: list[str] = []

    def stop(sig: signal.Signals) -> None:
        if not received:
            log.info("%s received; shutting down", sig.name)
        received.append(sig.name)
        task.cancel()

    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # no loop signals
            loop.add_signal_handler(sig, stop, sig)
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        if not received:
            raise
    finally:
        clean = _finish(loop, deadline)
    if not clean:
        _exit_now(received)
    if received:
        raise Stopped(received[0])


def _finish(loop: asyncio.AbstractEventLoop, deadline: float) -> bool:
    """Cancel what is still running and wait for it, the async generators and the default thread
    pool, `deadline` seconds in all; close the loop. True when everything finished in time."""
    started = loop.time()

    def left() -> float:
        return max(0.1, deadline - (loop.time() - started))

    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(sig)
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    stuck: set[asyncio.Task[Any]] = set()
    if pending:
        _done, stuck = loop.run_until_complete(asyncio.wait(pending, timeout=left()))
        for task in _done:
            if not task.cancelled() and task.exception() is not None:
                log.warning("task %s failed while stopping", task.get_name(), exc_info=task.exception())
    clean = not stuck
    try:
        loop.run_until_complete(asyncio.wait_for(loop.shutdown_asyncgens(), left()))
        loop.run_until_complete(asyncio.wait_for(loop.shutdown_default_executor(), left()))
    except TimeoutError:
        clean = False
    if stuck:
        names = ", ".join(sorted(t.get_name() for t in stuck))
        log.warning("still running %.0f s after the stop, left behind: %s", deadline, names)
    elif not clean:
        log.warning("the thread pool did not finish within %.0f s of the stop", deadline)
    if clean:
        asyncio.set_event_loop(None)
        loop.close()
    return clean


def _exit_now(received: list[str]) -> None:
    """Leave without waiting for the threads the stuck work holds (they would hold the
    interpreter's exit too): logs and output flushed, exit code 0 after a stop signal."""
    logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0 if received else 1)
