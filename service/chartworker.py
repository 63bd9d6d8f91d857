"""Drawing charts in a process of their own, so matplotlib never holds the bot's interpreter.

Owns `draw(render, *args)`: `render(*args, **kwargs)` (a module-level function of `service.charts`
returning PNG bytes, its arguments plain data) run in one long-lived worker process, started by
`start()` (the bot calls it in the background at start-up) or on the first chart, dying with the bot. Drawing in a thread of the bot's own process held its
interpreter lock for seconds under load (six `/stats` at once stalled the event loop 2.6 s; in a
process, 0.3 s: `bench/startup_bench.py`, BENCHMARKS.md). When no process can be started, the chart
is drawn in a thread as before. It decides nothing about how a chart looks and must not import
Discord.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from typing import Any

from service.parsing import _context, _die_with

log = logging.getLogger(__name__)

_POOL: list[Executor] = []
_LOCK = threading.Lock()


def _init(parent: int) -> None:
    _die_with(parent)


def _pool() -> Executor | None:
    """The drawing process (started once, from a worker thread: never on the event loop)."""
    with _LOCK:
        if not _POOL:
            try:
                pool = ProcessPoolExecutor(
                    1, mp_context=_context(), initializer=_init, initargs=(os.getpid(),)
                )
                pool.submit(os.getpid).result(timeout=120)
            except Exception:
                log.warning("could not start the chart process; drawing in a thread", exc_info=True)
                return None
            _POOL.append(pool)
        return _POOL[0]


async def draw(render: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
    """`render(*args, **kwargs)` in the chart process (a thread when there is none); its bytes."""
    pool = await asyncio.to_thread(_pool)
    if pool is None:
        return await asyncio.to_thread(render, *args, **kwargs)
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(pool, _call, render, args, kwargs)
    except BrokenExecutor:  # the process died (killed, out of memory): a new one next time
        with _LOCK:
            if _POOL and _POOL[0] is pool:
                _POOL.clear()
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def _call(render: Callable[..., bytes], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    return render(*args, **kwargs)


def _import_matplotlib() -> bool:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401

    return True


async def start() -> None:
    """Start the chart process and load matplotlib there now (the bot does this in the background
    at start-up), so the first `/stats` does not wait for either."""
    pool = await asyncio.to_thread(_pool)
    if pool is not None:
        await asyncio.get_running_loop().run_in_executor(pool, _import_matplotlib)


def close() -> None:
    """Stop the chart process (the bot is closing)."""
    with _LOCK:
        pools, _POOL[:] = list(_POOL), []
    for pool in pools:
        pool.shutdown(wait=False, cancel_futures=True)
