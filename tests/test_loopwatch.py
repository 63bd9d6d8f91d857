"""The event-loop watch (`service.loopwatch`): a blocked loop is measured and the blocking code named."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from service.loopwatch import LoopWatch


def _block_the_loop_for(seconds: float) -> None:
    time.sleep(seconds)  # what a synchronous parse or a big rebuild on the loop does


async def test_a_blocked_loop_is_logged_with_what_blocked_it(caplog: pytest.LogCaptureFixture) -> None:
    watch = LoopWatch(interval=0.02, capture_after=0.1, warn_after=0.3)
    watch.start()
    try:
        await asyncio.sleep(0.1)
        with caplog.at_level(logging.DEBUG, logger="service.loopwatch"):
            _block_the_loop_for(0.6)
            await asyncio.sleep(0.1)  # the heartbeat comes back and reports
    finally:
        watch.stop()
    assert watch.longest >= 0.4 and watch.stalls >= 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("blocked" in w and "_block_the_loop_for" in w for w in warnings)  # the stack names the culprit
    assert "longest event-loop stall" in watch.summary()
    watch.reset()
    assert watch.longest == 0 and watch.stalls == 0
