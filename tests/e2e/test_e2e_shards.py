"""Two bot processes, one shard each, against the fake Discord (two guilds, one per shard) and one
PostgreSQL database: commands from both guilds are answered (each by the process running its
shard), each guild gets one daily rec however both processes tick, and a story a mod adds through
one process is found through the other.

Skips without a PostgreSQL test server (fails in CI), like the other PostgreSQL tests.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.checks import assert_safe
from tests.e2e.conftest import LAUNCHER, READY_LINE, START_TIMEOUT, BotProcess, _fill_stories, bot_env
from tests.fakediscord import FakeDiscord, embeds, text

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]

EPHEMERAL = 1 << 6
TITLE = "The Card Catalogue of Shard Two"
UPLOAD = (
    f"Title: {TITLE}\nAuthor: Index Card\nRating: PG\nCharacters: Giles, Dawn\n"
    "Summary: Dawn files every card twice.\n\n~*~*~\n\n"
    + "Dawn filed the quillwort cards while Giles hummed in the stacks. "
    * 30
)


@dataclass
class Shards:
    fake: FakeDiscord
    bots: list[BotProcess]  # bots[i] runs the shard guild_ids[i] is on
    guilds: list[str]
    clock: Path


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shards(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shards]:
    from tests.pg import create_database, drop_database

    url = await create_database()
    tmp = tmp_path_factory.mktemp("shards")
    _fill_stories(tmp / "stories")
    clock = tmp / "now"
    clock.write_text("2026-05-04T08:00:00+00:00")
    fake = await FakeDiscord(guilds=2).start()
    guilds = fake.guild_ids
    bots: list[BotProcess] = []
    try:
        for n, guild in enumerate(guilds):  # both start at once: the migration lock serialises them
            env = {
                **bot_env(fake, tmp),
                "DATABASE_URL": url,
                "SHARD_COUNT": "2",
                "SHARD_IDS": str((int(guild) >> 22) % 2),
                "TEST_GUILD_ID": guild,
                "INDEX_ON_START": "true" if n == 0 else "false",
                "LIBRARIAN_FAKE_NOW_FILE": str(clock),
                "DAILYREC_TICK_SECONDS": "1",
            }
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(LAUNCHER),
                str(fake.port),
                cwd=str(tmp),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            bot = BotProcess(proc, tmp / f"bot{n}.log")
            bot.start_reading()
            bots.append(bot)
        for bot in bots:
            await bot.wait_for_line(READY_LINE, START_TIMEOUT)
        for guild in guilds:
            await fake.wait_for_commands(("search", "dailyrec"), timeout=20, guild=guild)
        yield Shards(fake, bots, guilds, clock)
    finally:
        codes = [await bot.stop() for bot in bots]
        await fake.close()
        await drop_database(url)
    for bot, code in zip(bots, codes, strict=True):
        assert not bot.problems(), f"a bot logged problems ({bot.log_file}):\n{bot.tail()}"
        assert code == 0, f"a bot exited with {code}:\n{bot.tail()}"


async def answer(
    fake: FakeDiscord, command: str, guild: str, values: dict | None = None, **kw: object
) -> dict:
    sent = await fake.send_command(command, values, guild=guild, **kw)
    body = await sent.reply()
    await sent.settle(quiet=0.3)
    assert_safe(sent)
    return body


async def test_each_process_runs_its_own_shard(shards: Shards) -> None:
    fake = shards.fake
    assert sorted(fake.sessions) == [0, 1]
    for guild in shards.guilds:
        session = fake.session_for(guild)
        assert session is not None and session.identify is not None
        assert session.identify["shard"] == [fake.shard_of(guild), 2]
    assert fake.session_for(shards.guilds[0]) is not fake.session_for(shards.guilds[1])


async def test_commands_from_guilds_on_both_shards_are_answered(shards: Shards) -> None:
    for guild in shards.guilds:
        stats = await answer(shards.fake, "stats", guild)
        assert "stor" in text(stats).lower()
        found = await answer(shards.fake, "search", guild, character="Willow", channel="after-dark")
        assert embeds(found), text(found)


async def test_one_daily_rec_per_guild_with_both_processes_ticking(shards: Shards) -> None:
    fake = shards.fake
    for guild in shards.guilds:
        body = await answer(fake, "dailyrec set", guild, {"channel": "recs", "time": "09:00"}, user="mia")
        assert "09:00" in text(body) or "<t:" in text(body)
    since = len(fake.requests)
    shards.clock.write_text("2026-05-04T09:00:02+00:00")
    for guild in shards.guilds:
        await fake.wait_for_post("recs", timeout=15, since=since, guild=guild)
    await asyncio.sleep(3.5)  # both processes tick every second: nothing more may be posted
    for guild in shards.guilds:
        assert len(fake.posts("recs", guild=guild)) == 1, (
            f"guild {guild} got {len(fake.posts('recs', guild=guild))}"
        )


async def test_a_story_added_through_one_process_is_found_through_the_other(shards: Shards) -> None:
    fake = shards.fake
    first, second = shards.guilds
    upload = fake.add_attachment("catalogue.txt", UPLOAD.encode(), "text/plain")
    sent = await fake.send_command("story add", file=upload, user="mia", guild=first)
    await sent.reply()
    pressed = await fake.press(sent.message(), label="Confirm", user="mia")
    assert (await pressed.response())["type"] == 7
    await fake.wait_for(
        lambda: any("Added" in text(b) for b in [*sent.bodies(), *pressed.bodies()]),
        20,
        "the bot saying Added",
    )

    for _ in range(30):  # the other process notices the change within seconds
        body = await answer(fake, "search", second, text="quillwort")
        if TITLE in text(body):
            break
        await asyncio.sleep(1)
    else:
        raise AssertionError("the story added through one process never reached the other's search")
