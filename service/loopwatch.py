"""A watch on the bot's event loop: how long it was kept from running, and by what.

Owns `LoopWatch`: a heartbeat scheduled on the loop every `interval` seconds, and a daemon thread
that notices when the heartbeat is late. When the loop is blocked for longer than `capture_after`
the thread takes the loop thread's stack at that moment (what was blocking it); when the heartbeat
comes back the stall is logged with that stack (a warning from `warn_after`, debug below), and the
longest stall is kept for the start-up index's log line (`bench/startup_bench.py` reads it). It
only observes: it never changes what runs, must not import Discord, and costs one callback and one
thread wake-up per interval.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback

log = logging.getLogger(__name__)

INTERVAL = 0.05
CAPTURE_AFTER = 0.2
"""A stall longer than this has the blocking stack taken (and logged at debug level)."""
WARN_AFTER = 1.0
"""A stall longer than this is logged as a warning: a member's command waited that long."""
STACK_FRAMES = 8


class LoopWatch:
    """Measures event-loop stalls of the running loop; `start()` in the loop, `stop()` to end."""

    def __init__(
        self,
        *,
        interval: float = INTERVAL,
        capture_after: float = CAPTURE_AFTER,
        warn_after: float = WARN_AFTER,
    ) -> None:
        self.interval = interval
        self.capture_after = capture_after
        self.warn_after = warn_after
        self.longest = 0.0
        """The longest stall seen since the last `reset()`, in seconds."""
        self.stalls = 0
        """How many stalls longer than `capture_after` were seen since the last `reset()`."""
        self._beat = time.monotonic()
        self._stack: list[str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._handle: asyncio.TimerHandle | None = None
        self._stopped = threading.Event()

    def start(self) -> None:
        """Begin watching the running loop (call from inside it)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        self._handle = self._loop.call_later(self.interval, self._heartbeat)
        threading.Thread(target=self._watch, name="loop-watch", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        if self._handle is not None:
            self._handle.cancel()

    def reset(self) -> None:
        """Forget the longest stall and the count (a new phase begins)."""
        self.longest, self.stalls = 0.0, 0

    def summary(self) -> str:
        """`longest event-loop stall 120 ms (3 over 200 ms)`."""
        return (
            f"longest event-loop stall {self.longest * 1000:.0f} ms "
            f"({self.stalls} over {self.capture_after * 1000:.0f} ms)"
        )

    def _heartbeat(self) -> None:
        now = time.monotonic()
        stall = now - self._beat - self.interval
        self._beat = now
        stack, self._stack = self._stack, None
        if stall > self.longest:
            self.longest = stall
        if stall > self.capture_after:
            self.stalls += 1
            where = "".join(stack or ["  (no stack taken)\n"])
            level = logging.WARNING if stall >= self.warn_after else logging.DEBUG
            log.log(level, "the event loop was blocked for %.0f ms, in:\n%s", stall * 1000, where.rstrip())
        if not self._stopped.is_set() and self._loop is not None:
            self._handle = self._loop.call_later(self.interval, self._heartbeat)

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval):
            late = time.monotonic() - self._beat - self.interval
            if late > self.capture_after and self._stack is None:
                frame = sys._current_frames().get(self._loop_thread)
                if frame is not None:
                    self._stack = traceback.format_stack(frame, limit=STACK_FRAMES)
            if self._loop is not None and self._loop.is_closed():
                return
