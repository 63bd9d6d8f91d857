"""The bot section: the real bot process (`tests/e2e/launch_bot.py`) against the local fake Discord
over the benchmark archive: time from start to ready, server-side time to acknowledge each
command (INTERACTION_CREATE dispatched -> callback request arriving at the fake) and resident
memory.

Owns the command mix and the process handling. It must not import the bot's code (the bot is a
separate process) and never touches the database itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench.measure import Row, Timing, check, not_measured, peak_rss_mb
from settings import ROOT, Settings

SECTION = "Bot"
LAUNCHER = ROOT / "tests" / "e2e" / "launch_bot.py"
READY = "Librarian ready"
ACK_TARGET_MS = 200.0
RSS_TARGET_MB = 200.0


def _commands(manifest: list[dict[str, Any]], n: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, kind, options) for each interaction to send: kind is the command path or 'ac:<path>'."""
    rng = random.Random(9)
    titled = [
        m for m in manifest if m["title"] and len(m["title"]) < 60 and m["level"] in ("general", "teen")
    ]
    titled = titled or [m for m in manifest if m["title"]]
    chars = [c for m in manifest[:500] for c in m["characters"]] or ["Buffy Summers"]
    out: list[tuple[str, str, dict[str, Any]]] = []
    for _ in range(n):
        title = rng.choice(titled)["title"]
        who = rng.choice(chars)
        out += [
            ("/search character", "search", {"character": who}),
            ("/search text", "search", {"text": rng.choice(["stake", "library", "tea", "vampire", "night"])}),
            ("/fic", "fic", {"title": title}),
            ("/read", "read", {"title": title}),
            ("/rec", "rec", {"character": who}),
            ("/stats", "stats", {}),
            ("/pairings", "pairings", {}),
            ("title autocomplete", "ac:fic", {"title": title[: rng.randint(2, 8)]}),
        ]
    return out


async def run(settings: Settings, manifest: list[dict[str, Any]], *, smoke: bool) -> list[Row]:
    """Start the bot, time it to ready, send the command mix, read its memory, stop it."""
    if not (ROOT / "bot.py").exists() or not LAUNCHER.exists():
        return [not_measured(SECTION, "start to ready", "bot.py or the e2e launcher is not there yet")]
    try:
        from tests.fakediscord import FakeDiscord
    except ImportError as exc:
        return [not_measured(SECTION, "start to ready", f"fake Discord not importable ({exc})")]
    start_timeout = 120.0 if smoke else 600.0  # smoke: generous, so a loaded CI machine still measures
    fake = await FakeDiscord(callback_deadline=3.0).start()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DISCORD_TOKEN": fake.bot_token,
        "DATABASE_URL": settings.database_url,
        "STORIES_DIR": str(settings.stories_dir),
        "REMOVED_DIR": str(settings.removed_dir),
        "UPLOADS_DIR": str(settings.uploads_dir),
        "DATA_DIR": str(settings.data_dir),
        "ROSTER_FILE": str(settings.roster_file),
        "TEST_GUILD_ID": fake.guild_id,
        "MOD_ROLE": "Mods",
        "INDEX_ON_START": "true",
        "LOG_LEVEL": "INFO",  # the ready line is logged at INFO
    }
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(LAUNCHER),
        str(fake.port),
        cwd=str(Path(settings.removed_dir).parent),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []
    reader = asyncio.create_task(_read(proc, lines))
    try:
        ready_s = await _wait_ready(proc, lines, t0, start_timeout)
        if ready_s is None:
            why = f"not ready within {start_timeout:.0f} s" if proc.returncode is None else "bot exited"
            return [not_measured(SECTION, "start to ready", f"{why}; last lines: {' / '.join(lines[-3:])}")]
        await fake.wait_for_commands(timeout=30)
        rows = [
            Row(SECTION, "start to ready (unchanged-archive index on start included)", f"{ready_s:.1f} s")
        ]
        rows += await _acks(fake, manifest, 3 if smoke else 25)
        current, peak = peak_rss_mb(proc.pid)
        rows.append(
            Row(
                SECTION,
                "resident memory (RSS) after the command mix",
                f"{current:,.0f} MB now, {peak:,.0f} MB peak",
                target=f"≤ {RSS_TARGET_MB:g} MB",
                result=check(max(current, peak if peak == peak else 0), RSS_TARGET_MB),
            )
        )
        return rows
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await fake.close()


async def _read(proc: asyncio.subprocess.Process, lines: list[str]) -> None:
    assert proc.stdout is not None
    while raw := await proc.stdout.readline():
        lines.append(raw.decode("utf-8", "replace").rstrip())


async def _wait_ready(
    proc: asyncio.subprocess.Process, lines: list[str], t0: float, limit: float
) -> float | None:
    while time.perf_counter() - t0 < limit and proc.returncode is None:
        if any(READY in line for line in lines):
            return time.perf_counter() - t0
        await asyncio.sleep(0.02)
    return None


async def _acks(fake: Any, manifest: list[dict[str, Any]], n: int) -> list[Row]:
    """Send each command `n` times, one at a time; ack latency per command label."""
    by_label: dict[str, list[float]] = {}
    failures: dict[str, list[str]] = {}
    for label, kind, options in _commands(manifest, n):
        try:
            if kind.startswith("ac:"):
                focused = next(iter(options))
                sent = await fake.send_autocomplete(kind[3:], focused, **options)
            else:
                sent = await fake.send_command(kind, **options)
            await sent.response(timeout=10)
            callback = next(r for r in sent.requests() if r.route == "callback")
            by_label.setdefault(label, []).append((callback.at - sent.dispatched_at) * 1000)
            with contextlib.suppress(Exception):  # answered: let its followups finish (an idle bot)
                await sent.settle(quiet=0.5, timeout=10)
        except Exception as exc:  # one broken command must not hide the others' figures
            failures.setdefault(label, []).append(f"{type(exc).__name__}: {exc}"[:160])
    rows = []
    worst = 0.0
    for label in dict.fromkeys(lbl for lbl, _, _ in _commands(manifest, 1)):
        if label in by_label:
            t = Timing.of(by_label[label])
            worst = max(worst, t.max)
            rows.append(
                Row(
                    SECTION,
                    f"ack {label}",
                    f"{t.text()}, max {t.max:.1f} ms" + _failed(failures.get(label)),
                    target=f"≤ {ACK_TARGET_MS:g} ms",
                    result=check(t.max, ACK_TARGET_MS),
                )
            )
        else:
            rows.append(not_measured(SECTION, f"ack {label}", (failures.get(label) or ["no answer"])[0]))
    return rows


def _failed(errors: list[str] | None) -> str:
    return f"; {len(errors)} unanswered ({errors[0]})" if errors else ""
