"""The bot's process stops on SIGINT and SIGTERM, and within a bound (`service.lifecycle`): a task
that will not finish is named and left, never waited for forever; and a long SQLite statement
stops when its task is cancelled (`db.rawsql.execute_interruptible`)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from settings import ROOT

SCRIPT = """
import asyncio, logging, sys
sys.path.insert(0, {root!r})
from service.lifecycle import Stopped, run_until_stopped
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

async def stubborn():
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # will not stop

async def main():
    if {stubborn!r}:
        asyncio.get_running_loop().create_task(stubborn(), name="stubborn")
    print("started", flush=True)
    await asyncio.sleep(3600)

try:
    run_until_stopped(main, {deadline!r})
except Stopped as exc:
    print("stopped by", exc, flush=True)
"""


def _run(
    tmp_path: Path, sig: signal.Signals, *, stubborn: bool, deadline: float = 2.0
) -> tuple[int, str, float]:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(root=str(ROOT), stubborn=stubborn, deadline=deadline), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=deadline + 20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the process did not stop")
    return proc.returncode, out, time.monotonic() - sent


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_stops_the_run_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    code, out, _took = _run(tmp_path, sig, stubborn=False)
    assert code == 0, out
    assert f"{sig.name} received; shutting down" in out
    assert f"stopped by {sig.name}" in out
    assert "left behind" not in out


def test_a_task_that_will_not_stop_is_named_and_left_after_the_deadline(tmp_path: Path) -> None:
    code, out, took = _run(tmp_path, signal.SIGTERM, stubborn=True, deadline=2.0)
    assert code == 0, out
    assert "left behind: stubborn" in out, out
    assert took < 10, f"took {took:.1f} s to stop with a 2 s deadline"


async def test_a_cancelled_task_stops_its_long_sqlite_statement(library: object, db_backend: str) -> None:
    """The statement is interrupted in the database thread, not left running to its end, and the
    session's connection is usable again at once."""
    if db_backend != "sqlite":
        pytest.skip("SQLite's interrupt; PostgreSQL's driver cancels the query itself")
    from db.backend import execute_interruptible

    slow = text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000000) "
        "SELECT count(*) FROM c"
    )

    async def count() -> None:
        async with library.sessions() as session:  # type: ignore[attr-defined]
            await execute_interruptible(session, slow)

    task = asyncio.create_task(count())
    await asyncio.sleep(0.5)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with library.sessions() as session:  # type: ignore[attr-defined]
        assert (await session.execute(text("SELECT 1"))).scalar() == 1
    assert time.monotonic() - started < 5, "the statement ran on after its task was cancelled"
