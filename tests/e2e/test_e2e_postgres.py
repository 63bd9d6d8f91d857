"""The real bot process on PostgreSQL, as one shard of two, against the fake Discord: it indexes
into PostgreSQL, answers members (full text included) and a mod, and a story added by a second
process (`bot.py add`, the host's CLI) on the same database is found through the bot within seconds.

The fake Discord serves one guild; the bot runs `SHARD_COUNT=2` with `SHARD_IDS` naming the shard
that guild is on ((guild_id >> 22) % 2), so it is the sharded bot (AutoShardedBot) that connects.
Skips without a PostgreSQL test server (fails in CI), like the other PostgreSQL tests.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import ROOT, shard_of
from tests.e2e.checks import assert_safe
from tests.e2e.conftest import E2E
from tests.fakediscord import FakeDiscord, embeds, text

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]

ADDED = "The Circulation Desk at Midnight"
STORY = (
    f"Title: {ADDED}\nAuthor: Late Fees\nRating: PG\nCharacters: Giles, Dawn\n"
    "Summary: Dawn learns the card catalogue.\n\n~*~*~\n\n"
    + "Dawn sorted the periwinkle index cards while Giles polished his glasses. "
    * 30
)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    from tests.pg import create_database, drop_database

    url = asyncio.run(create_database())
    yield url
    asyncio.run(drop_database(url))


@pytest.fixture(scope="module")
def bot_settings(pg_url: str) -> dict[str, object]:
    return {
        "DATABASE_URL": pg_url,
        "SHARD_COUNT": "2",
        "SHARD_IDS": lambda fake: str(shard_of(int(fake.guild_id), 2)),
    }


async def reply(fake: FakeDiscord, command: str, **options: object) -> dict:
    sent = await fake.send_command(command, **options)
    body = await sent.reply()
    await sent.settle(quiet=0.3)
    assert_safe(sent)
    return body


async def test_the_sharded_bot_identifies_with_its_shard(e2e: E2E) -> None:
    identify = e2e.fake.session.identify if e2e.fake.session else None
    assert identify is not None
    assert identify.get("shard") == [shard_of(int(e2e.fake.guild_id), 2), 2]
    assert any("running shards" in line for line in e2e.bot.lines)


async def test_members_search_the_postgresql_archive(e2e: E2E) -> None:
    stats = await reply(e2e.fake, "stats", channel="general")
    assert "stor" in text(stats).lower()
    found = await reply(e2e.fake, "search", text="Willow OR Buffy", channel="after-dark")
    assert embeds(found), text(found)
    nothing = await reply(e2e.fake, "search", text='"zzqx unheard of"', channel="general")
    assert "no" in text(nothing).lower() or "nothing" in text(nothing).lower()


async def test_a_story_added_by_another_process_is_found_through_the_bot(
    e2e: E2E, pg_url: str, tmp_path: Path
) -> None:
    upload = tmp_path / "circulation.txt"
    upload.write_text(STORY, encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "--db",
        pg_url,
        "--stories",
        str(e2e.stories),
        "add",
        str(upload),
        "--yes",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, out.decode()

    async def found() -> bool:
        body = await reply(e2e.fake, "search", text="periwinkle", channel="general")
        return ADDED in text(body)

    for _ in range(20):  # the bot's snapshots notice the other process's write within seconds
        if await found():
            break
        await asyncio.sleep(1)
    else:
        raise AssertionError("the story added by the CLI never reached the bot's search")
