"""Bursts of commands while the bot indexes at start-up, and on an idle bot (issue 12, item 3).

`python -m bench.startup_bench [--stories 5000] [--burst 50] [--idle-burst 200]`: the real bot
process (`tests/e2e/launch_bot.py`) starts on a generated archive of N stories with an EMPTY index
(so its start-up index stores all N), and as soon as its commands are registered a burst of mixed
commands is sent at once; each command's acknowledgement time (INTERACTION_CREATE dispatched ->
callback request at the fake) is measured, and whether the start-up index was still running when
the last one arrived. Once the bot is ready, a bigger burst is sent at once to the idle bot.
Targets: every command of the 50-burst within 1 s, every one of the 200-burst within 3 s.

Owns the burst orchestration only; the command mix is `bench.bot_bench`'s. It must not import the
bot's code and never touches the database itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import gen_corpus
from bench.bot_bench import LAUNCHER, READY, _commands
from bench.measure import Row, Timing, check, not_measured
from settings import ROOT

SECTION = "Bot"
BURST_TARGET_MS = 1000.0
IDLE_TARGET_MS = 3000.0
INDEX_DONE = "start-up index:"
LOOP_DONE = "event loop during the start-up index:"
STALL = re.compile(r"the event loop was blocked for (\d+) ms, in:")


def _stalls(lines: list[str]) -> str:
    """What the bot's loop watch logged (`service.loopwatch`): stalls of a second or more, with the
    innermost frame of the longest, and its own summary line for the start-up index."""
    summary = next((line.split(LOOP_DONE, 1)[1].strip() for line in lines if LOOP_DONE in line), "")
    found = [(int(m[1]), i) for i, line in enumerate(lines) if (m := STALL.search(line))]
    if not found:
        return summary or "no stall of a second or more logged"
    worst, at = max(found)
    block = []
    for line in lines[at + 1 :]:
        if not line.startswith(" "):
            break
        block.append(line.strip())
    frames = [i for i, line in enumerate(block) if line.startswith("File")]
    where = " ".join(block[frames[-1] : frames[-1] + 2]) if frames else "?"  # the innermost frame
    return f"{summary}; {len(found)} stalls ≥ 1 s logged, the longest {worst} ms in {where[:200]}"


async def _burst(fake: Any, manifest: list[dict[str, Any]], n: int) -> tuple[list[float], list[str]]:
    """Send `n` mixed commands at once; ack times in ms, and what went unanswered.

    One waiter watches for every acknowledgement: a waiter per interaction would be woken by every
    request the fake records (the fake notifies all waiters each time), and with 200 interactions
    those wake-ups, not the bot, decided when the fake got round to timing each callback."""
    mix = _commands(manifest, n // 8 + 1)[:n]

    async def one(kind: str, options: dict[str, Any]) -> Any:
        if kind.startswith("ac:"):
            return await fake.send_autocomplete(kind[3:], next(iter(options)), **options)
        return await fake.send_command(kind, **options)

    results = await asyncio.gather(*(one(kind, opts) for _, kind, opts in mix), return_exceptions=True)
    sent = [r for r in results if not isinstance(r, BaseException)]
    lost = [f"{type(r).__name__}: {r}"[:120] for r in results if isinstance(r, BaseException)]
    with contextlib.suppress(AssertionError):  # a callback refused after 3 s never sets .callback
        await fake.wait_for(lambda: all(s.callback is not None for s in sent), 30, "every acknowledgement")
    first: dict[int, Any] = {}
    for request in fake.requests:  # the first callback of each interaction, accepted or refused as late
        if request.route == "callback" and request.interaction is not None:
            first.setdefault(id(request.interaction), request)
    acks = []
    for s in sent:
        callback = first.get(id(s))
        if callback is None:
            lost.append(f"no acknowledgement within 30 s ({s.describe()})")
        else:
            acks.append((callback.at - s.dispatched_at) * 1000)
    return acks, lost


def _row(what: str, acks: list[float], lost: list[str], target: float, extra: str = "") -> Row:
    if not acks:
        return not_measured(SECTION, what, (lost or ["no answer"])[0])
    t = Timing.of(acks)
    late = sum(1 for a in acks if a > target) + len(lost)
    figure = f"{t.text()}, max {t.max:.0f} ms; {late} of {len(acks) + len(lost)} over {target:g} ms{extra}"
    if lost:
        figure += f"; {len(lost)} unanswered ({lost[0]})"
    return Row(
        SECTION,
        what,
        figure,
        target=f"every ack ≤ {target:g} ms",
        result=check(t.max if not lost else 1e9, target),
    )


async def _start_bot(
    fake: Any, archive: Path, work: Path, *, index_on_start: bool
) -> tuple[Any, list[str], Any]:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DISCORD_TOKEN": fake.bot_token,
        "DATABASE_URL": f"sqlite+aiosqlite:///{work / 'fresh.db'}",
        "STORIES_DIR": str(archive),
        "REMOVED_DIR": str(work / "removed"),
        "ROSTER_FILE": str(ROOT / "fandoms" / "buffyverse.yaml"),
        "TEST_GUILD_ID": fake.guild_id,
        "MOD_ROLE": "Mods",
        "INDEX_ON_START": "true" if index_on_start else "false",
        "LOG_LEVEL": "INFO",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(LAUNCHER),
        str(fake.port),
        cwd=str(work),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []

    async def read() -> None:
        assert proc.stdout is not None
        while raw := await proc.stdout.readline():
            lines.append(raw.decode("utf-8", "replace").rstrip())

    return proc, lines, asyncio.create_task(read())


async def _stop_bot(proc: Any, reader: Any) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader


def _stored(work: Path) -> int:
    import sqlite3

    with contextlib.closing(sqlite3.connect(work / "fresh.db")) as conn:
        return conn.execute("SELECT count(*) FROM stories").fetchone()[0]


async def run(
    archive: Path, n_stories: int, *, burst: int = 50, idle_burst: int = 200, ready_within: float = 600
) -> list[Row]:
    """Phase 1: the bot starts on `archive` with an empty index; a burst while its start-up index
    runs. Phase 2: the bot restarts on what phase 1 stored (no start-up index), and once ready a
    bigger burst at once. Each row is printed as soon as it is measured."""
    if not LAUNCHER.exists():
        return [not_measured(SECTION, "acks during a start-up index", "the e2e launcher is not there")]
    from tests.fakediscord import FakeDiscord

    manifest = gen_corpus.read_manifest(archive)
    work = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    rows: list[Row] = []
    fake = await FakeDiscord(callback_deadline=3.0).start()
    proc, lines, reader = await _start_bot(fake, archive, work, index_on_start=True)
    try:
        await fake.wait_for_commands(timeout=120)
        await asyncio.sleep(1.0)  # let the start-up index get going
        indexing = not any(INDEX_DONE in line for line in lines)
        acks, lost = await _burst(fake, manifest, burst)
        still = indexing and not any(INDEX_DONE in line for line in lines)
        during = "index still running at the last ack" if still else "the index had ended"
        what = f"ack, {burst} commands at once during a start-up index of {n_stories:,} stories"
        rows.append(_row(what, acks, lost, BURST_TARGET_MS, f" ({during})"))
        print(rows[-1].to_json(), flush=True)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < ready_within and not any(READY in line for line in lines):
            if proc.returncode is not None:
                break
            await asyncio.sleep(0.5)
        index_line = next((line for line in lines if INDEX_DONE in line), "")
        if index_line:
            rows.append(Row(SECTION, "the start-up index", index_line.split(INDEX_DONE, 1)[1].strip()[:120]))
        rows.append(Row(SECTION, "event-loop stalls during the start-up index", _stalls(lines)))
        print(rows[-1].to_json(), flush=True)
    finally:
        await _stop_bot(proc, reader)
        await fake.close()
        (work / "bot-startup.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"the bot's log during the start-up index: {work / 'bot-startup.log'}", flush=True)
    fake = await FakeDiscord(callback_deadline=3.0).start()
    proc, lines, reader = await _start_bot(fake, archive, work, index_on_start=False)
    try:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 120 and not any(READY in line for line in lines):
            if proc.returncode is not None:
                break
            await asyncio.sleep(0.2)
        await fake.wait_for_commands(timeout=60)
        await asyncio.sleep(2.0)
        acks, lost = await _burst(fake, manifest, burst)  # the same burst, no index running: the yardstick
        what = f"ack, {burst} commands at once on the idle bot ({_stored(work):,} stories indexed)"
        rows.append(_row(what, acks, lost, BURST_TARGET_MS))
        print(rows[-1].to_json(), flush=True)
        await asyncio.sleep(5.0)
        acks, lost = await _burst(fake, manifest, idle_burst)
        what = f"ack, {idle_burst} commands at once on the idle bot ({_stored(work):,} stories indexed)"
        rows.append(_row(what, acks, lost, IDLE_TARGET_MS))
        print(rows[-1].to_json(), flush=True)
        return rows
    finally:
        await _stop_bot(proc, reader)
        await fake.close()
        (work / "bot-idle.log").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.startup_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stories", type=int, default=5000)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--idle-burst", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ready-within", type=float, default=600, help="seconds to wait for the index")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    archive = args.out.resolve() / f"archive-{args.stories}-s{args.seed}"
    gen_corpus.ensure(archive, args.stories, args.seed, progress=True)
    load = os.getloadavg()[0]
    rows = asyncio.run(
        run(
            archive,
            args.stories,
            burst=args.burst,
            idle_burst=args.idle_burst,
            ready_within=args.ready_within,
        )
    )
    print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for row in rows:
        print(row.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
