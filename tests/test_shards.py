"""Running at scale: SHARD_COUNT / SHARD_IDS make a sharded bot over this process's shards, and the
daily rec scheduler of each process serves the servers on its own shards (the database claim
still guards against two processes posting the same day)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from discord.ext import commands

from bot import Librarian, ShardedLibrarian, make_bot
from service.dailyrec import DailyRecService
from settings import Settings, SettingsError, shard_of
from tests.test_dailyrec import FakePublisher, add_stories


def test_shard_settings_are_read_and_checked() -> None:
    plain = Settings.from_env({}, dotenv=False)
    assert (plain.shard_count, plain.shard_ids) == (None, None)
    both = Settings.from_env({"SHARD_COUNT": "4", "SHARD_IDS": "2, 0,2"}, dotenv=False)
    assert (both.shard_count, both.shard_ids) == (4, (2, 0))
    assert Settings.from_env({"SHARD_COUNT": "3"}, dotenv=False).shard_ids is None
    for env, words in [
        ({"SHARD_IDS": "0"}, "needs SHARD_COUNT"),
        ({"SHARD_COUNT": "0"}, "at least 1"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "between 0 and 1"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "one"}, "whole numbers"),
        ({"SHARD_COUNT": "two"}, "whole number"),
    ]:
        with pytest.raises(SettingsError, match=words):
            Settings.from_env(env, dotenv=False)


def test_a_guild_belongs_to_one_shard() -> None:
    guilds = [(n << 22) + 12345 for n in range(10)]
    assert [shard_of(g, 2) for g in guilds] == [n % 2 for n in range(10)]
    first = Settings(shard_count=2, shard_ids=(0,))
    second = Settings(shard_count=2, shard_ids=(1,))
    for guild in guilds:
        assert first.owns_guild(guild) != second.owns_guild(guild)
    assert Settings().owns_guild(guilds[1]) and Settings(shard_count=2).owns_guild(guilds[1])


async def test_the_bot_is_sharded_only_when_asked() -> None:
    plain = make_bot(Settings(), open_library=False)
    assert type(plain) is Librarian and not isinstance(plain, commands.AutoShardedBot)
    sharded = make_bot(Settings(shard_count=4, shard_ids=(1, 3)), open_library=False)
    assert isinstance(sharded, ShardedLibrarian) and isinstance(sharded, commands.AutoShardedBot)
    assert (sharded.shard_count, sharded.shard_ids) == (4, [1, 3])
    await plain.close()  # (an AutoShardedClient that never connected cannot be closed: discord.py)


async def test_each_process_posts_the_daily_recs_of_its_own_shards(library: Any) -> None:
    await add_stories(library, ["general"] * 4)
    guilds = [(1 << 22) * 10, (1 << 22) * 11]  # shard 0 and shard 1 of 2
    setup = DailyRecService(library, FakePublisher(), rng=random.Random(1))
    for guild in guilds:
        await setup.configure(guild, 555, "09:00", "UTC", now=datetime(2026, 5, 4, tzinfo=UTC))
    moment = datetime(2026, 5, 4, 9, 0, 1, tzinfo=UTC)
    posted = {}
    for shard in (0, 1):
        pub = FakePublisher()
        svc = DailyRecService(library, pub, rng=random.Random(shard))
        await svc.run_due(moment, Settings(shard_count=2, shard_ids=(shard,)).owns_guild)
        posted[shard] = [guild for guild, _channel, _story in pub.posts]
    assert posted == {0: [guilds[0]], 1: [guilds[1]]}
