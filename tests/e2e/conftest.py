"""End-to-end fixtures: the fake Discord plus ONE real bot process per test module.

Owns starting `tests/e2e/launch_bot.py` with a private database and stories folder (the repo's
`stories/`, the bundled test archive `tests/archive/`, and two small stories written here: one
explicit, one long and general), waiting for `Librarian ready` and the command sync, and failing a test on any
traceback or ERROR line the bot logs and on any request the fake refused. It must not import the
bot's code: the bot is a separate process.
"""

# ruff: noqa: ASYNC109  (tests wait with an explicit timeout argument, as the e2e API promises)

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import ROSTER_FILE, SAMPLES_DIR
from tests.e2e.stories import write_stories
from tests.fakediscord import FakeDiscord, Recorded
from tests.sample_archive import build as build_test_archive

LAUNCHER = Path(__file__).with_name("launch_bot.py")
READY_LINE = "Librarian ready"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
HUNG = "--- still running"
READ_FOLLOWUPS = 2
"""Parts `/read` posts after the first, before its Continue button (the bot's READ_FOLLOWUPS)."""
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PROBLEM = re.compile(r"Traceback \(most recent call last\)|\bERROR\b|\bCRITICAL\b")


@dataclass
class BotProcess:
    """The bot under test: its process and every line it has printed so far."""

    proc: asyncio.subprocess.Process
    log_file: Path
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _new_line: asyncio.Event = field(default_factory=asyncio.Event)

    def start_reading(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log_file.open("w", encoding="utf-8") as log:
            while raw := await self.proc.stdout.readline():
                line = ANSI.sub("", raw.decode("utf-8", "replace").rstrip("\n"))
                self.lines.append(line)
                log.write(line + "\n")
                log.flush()
                self._new_line.set()

    async def wait_for_line(self, text: str, timeout: float) -> str:
        """The first output line containing `text`; fails early if the bot exits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = next((line for line in self.lines if text in line), None)
            if found is not None:
                return found
            if self.proc.returncode is not None or loop.time() > deadline:
                why = (
                    f"exited with {self.proc.returncode}" if self.proc.returncode is not None else "timed out"
                )
                raise AssertionError(f"bot {why} before printing {text!r}:\n" + self.tail())
            self._new_line.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_line.wait(), 0.5)

    def problems(self, since: int = 0) -> list[str]:
        """Traceback and ERROR/CRITICAL lines from line `since` on."""
        return [line for line in self.lines[since:] if PROBLEM.search(line)]

    def tail(self, count: int = 60) -> str:
        """The last `count` lines, and all of a hung bot's thread stacks."""
        start = len(self.lines) - count
        hung = [i for i, line in enumerate(self.lines) if line.startswith(HUNG)]
        if hung:
            start = min(start, hung[0] - 10)
        return "\n".join(self.lines[max(start, 0) :])

    async def stop(self) -> int:
        """SIGTERM, as a host stops the bot; its exit code. A bot still running after
        STOP_TIMEOUT prints every thread's stack (SIGUSR1, into its log) and is killed."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                self.lines.append(f"{HUNG} {STOP_TIMEOUT:.0f} s after SIGTERM: its threads ---")
                self.proc.send_signal(signal.SIGUSR1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.proc.wait(), 2)
                if self.proc.returncode is None:
                    self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)
        return self.proc.returncode or 0


@dataclass
class E2E:
    """What a test gets: the fake Discord, the bot process, and the bot's stories folder."""

    fake: FakeDiscord
    bot: BotProcess
    stories: Path
    uploads: Path
    checked: int = 0  # bot output lines already checked for problems by a test

    def refused(self, since: int = 0) -> list[Recorded]:
        return [r for r in self.fake.requests[since:] if r.status >= 400]

    def share_commands(self) -> None:
        """Make the commands the bot synced to the first guild usable in every guild, as a global
        sync (`bot.py sync`) does in production: the bot itself syncs only to TEST_GUILD_ID."""
        synced = self.fake.commands[self.fake.guild_id]
        for guild in self.fake.guild_ids[1:]:
            self.fake.commands[guild] = synced


def _fill_stories(stories: Path) -> None:
    shutil.copytree(SAMPLES_DIR, stories / "samples", dirs_exist_ok=True)
    build_test_archive(stories / "archive")
    write_stories(stories / "e2e")


def bot_env(fake: FakeDiscord, tmp: Path) -> dict[str, str]:
    """The bot's whole configuration, so a developer's `.env` cannot leak into the test."""
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "FAKE_DISCORD_PORT": str(fake.port),
        "DISCORD_TOKEN": fake.bot_token,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'librarian.db'}",
        "STORIES_DIR": str(tmp / "stories"),
        "REMOVED_DIR": str(tmp / "removed"),
        "UPLOADS_DIR": str(tmp / "uploads"),
        "DATA_DIR": str(tmp),
        "ROSTER_FILE": str(ROSTER_FILE),
        "TEST_GUILD_ID": fake.guild_id,
        "MOD_ROLE": "Mods",
        "READ_FOLLOWUPS": str(READ_FOLLOWUPS),
        "INDEX_ON_START": "true",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="module")
def bot_settings() -> dict[str, object]:
    """Extra environment for the bot of one test module: override this fixture in the module
    (e.g. `return {"ADDS_PER_DAY": "1"}`) to start its bot with other settings. A value may be a
    function of the started `FakeDiscord` (e.g. to name the shard its guild is on)."""
    return {}


@pytest.fixture(scope="module")
def fake_guilds() -> int:
    """How many servers the bot is in on the fake Discord: override in a module to have more (the
    commands are synced to the first; `E2E.share_commands` makes them usable in the others)."""
    return 1


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def e2e(
    tmp_path_factory: pytest.TempPathFactory, bot_settings: dict[str, object], fake_guilds: int
) -> AsyncIterator[E2E]:
    """The fake Discord and one bot process logged in to it, ready, with its commands synced."""
    tmp = tmp_path_factory.mktemp("e2e")
    _fill_stories(tmp / "stories")
    fake = await FakeDiscord(guilds=fake_guilds).start()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(LAUNCHER),
        str(fake.port),
        cwd=str(tmp),
        env={**bot_env(fake, tmp), **{k: v(fake) if callable(v) else v for k, v in bot_settings.items()}},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    bot = BotProcess(proc, tmp / "bot.log")
    bot.start_reading()
    try:
        await bot.wait_for_line(READY_LINE, START_TIMEOUT)
        await fake.wait_for_commands(timeout=10)
        starting = bot.problems()
        first = bot.lines.index(starting[0]) if starting else 0
        assert not starting, "the bot logged problems while starting:\n" + "\n".join(
            bot.lines[first : first + 40]
        )
        env = E2E(fake=fake, bot=bot, stories=tmp / "stories", uploads=tmp / "uploads")
        yield env
    finally:
        code = await bot.stop()
        await fake.close()
    problems = bot.problems(env.checked)
    assert not problems, f"the bot logged problems (full log in {bot.log_file}):\n{bot.tail()}"
    assert code == 0, f"the bot exited with {code}:\n{bot.tail()}"


@pytest_asyncio.fixture(loop_scope="module", autouse=True)
async def clean_run(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Fail the test if, while it ran, the bot logged a traceback/ERROR or the fake refused a request."""
    if "e2e" not in request.fixturenames:
        yield
        return
    env: E2E = request.getfixturevalue("e2e")
    lines, requests = len(env.bot.lines), len(env.fake.requests)
    yield
    await asyncio.sleep(0.2)  # let a late log line or request arrive
    problems = env.bot.problems(lines)
    env.checked = len(env.bot.lines)
    assert not problems, "the bot logged problems:\n" + "\n".join(env.bot.lines[lines:][-60:])
    refused = env.refused(requests)
    details = "\n".join(f"{r} {r.reply}" for r in refused)
    assert not refused, f"the fake refused requests (real Discord would too):\n{details}"
