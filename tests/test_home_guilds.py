"""Only the right server curates: `/story …` changes the one shared archive only from the servers in
HOME_GUILD_IDS (unset: only while the bot is in one server, else a line telling the host what to
set); elsewhere it says so and nothing changes. `/dailyrec` stays per server. Cog callbacks with
spec'd Interaction mocks over a real SQLite archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest

from cogs.curate import Curate
from cogs.dailyrec import DailyRec
from service import curate
from service.curators import curation_refusal
from service.library import Library
from service.stories import story_card
from settings import Settings
from tests.conftest import make_bot, make_settings
from tests.test_cog_curate import STORY, answered, attachment, member, run
from tests.test_cog_dailyrec import target
from tests.test_dailyrec import FakePublisher

HOME, OTHER = 42, 4343


def in_guilds(count: int, lib: Library) -> MagicMock:
    """A bot (client) holding `lib` that is in `count` servers."""
    client = MagicMock(spec=discord.Client)
    # What discord.py's Client.guilds really is: a read-only SequenceProxy over its cache, not a list.
    client.guilds = discord.utils.SequenceProxy(
        [MagicMock(spec=discord.Guild, id=HOME + n) for n in range(count)]
    )
    client.lib = lib
    return client


def mod_in(guild_id: int, guilds: int, lib: Library) -> MagicMock:
    interaction = member(mod=True, client=in_guilds(guilds, lib))
    interaction.guild_id = guild_id
    return interaction


async def _cog(tmp_path: Path, **settings: Any) -> tuple[Curate, int]:
    lib = await Library.open(make_settings(tmp_path, **settings))
    upload = await curate.prepare_add(lib, "r.txt", STORY.encode())
    story_id = (await curate.commit_add(lib, upload, curate.Actor(5, "Mod", HOME))).id
    return Curate(make_bot(lib)), story_id


def test_the_rule() -> None:
    unset = Settings()
    assert curation_refusal(unset, HOME, 1) is None
    told = curation_refusal(unset, OTHER, 2)
    assert told is not None and f"HOME_GUILD_IDS={OTHER}" in told and "2 servers" in told
    named = Settings(home_guild_ids=frozenset({HOME}))
    assert curation_refusal(named, HOME, 5) is None
    elsewhere = curation_refusal(named, OTHER, 5)
    assert elsewhere is not None and "does not curate" in elsewhere
    assert curation_refusal(named, None, 1) is not None  # never from direct messages
    parsed = Settings.from_env({"HOME_GUILD_IDS": f"{HOME}, {OTHER}"}, dotenv=False)
    assert parsed.home_guild_ids == {HOME, OTHER}


async def test_a_second_servers_admin_cannot_remove_or_edit_the_shared_archive(tmp_path: Path) -> None:
    """Before: any server the bot was invited to could edit and remove the one archive's stories."""
    cog, story_id = await _cog(tmp_path)
    lib = cog.lib
    try:
        calls: list[tuple[Any, dict[str, Any]]] = [
            (cog.add, {"file": attachment("other.txt", STORY.replace("Bronze", "Tin").encode())}),
            (cog.edit, {"story": str(story_id), "field": "title", "value": "Hijacked"}),
            (cog.reset, {"story": str(story_id)}),
            (cog.remove, {"story": str(story_id)}),
            (cog.restore, {"story": str(story_id)}),
            (cog.history, {}),
        ]
        for command, kwargs in calls:
            interaction = mod_in(OTHER, guilds=2, lib=lib)
            await answered(command, cog, interaction, press="confirm", **kwargs)
            [reply] = interaction.sent
            assert reply["ephemeral"] is True and f"HOME_GUILD_IDS={OTHER}" in reply["content"]
        card = await story_card(lib, story_id)
        assert card.title == "Rain on the Bronze Roof" and lib.titles.title_of(story_id) == card.title
        assert [r.action for r in await curate.history(lib)] == ["add"]
    finally:
        await lib.close()


async def test_named_home_servers_curate_and_the_others_are_told(tmp_path: Path) -> None:
    cog, story_id = await _cog(tmp_path, home_guild_ids=frozenset({HOME}))
    lib = cog.lib
    try:
        away = mod_in(OTHER, guilds=2, lib=lib)
        await run(cog.edit, cog, away, story=str(story_id), field="author", value="Away Mod")
        assert "does not curate" in away.sent[-1]["content"]

        home = mod_in(HOME, guilds=2, lib=lib)
        await run(cog.edit, cog, home, story=str(story_id), field="author", value="Home Mod")
        assert (await story_card(lib, story_id)).author == "Home Mod"

        only = mod_in(OTHER, guilds=1, lib=lib)  # named homes rule even when the bot is in one server
        await run(cog.remove, cog, only, story=str(story_id))
        assert "does not curate" in only.sent[-1]["content"]
        assert (await story_card(lib, story_id)).author == "Home Mod"
    finally:
        await lib.close()


@pytest.mark.parametrize("homes", [frozenset(), frozenset({HOME})])
async def test_dailyrec_stays_per_server(tmp_path: Path, homes: frozenset[int]) -> None:
    lib = await Library.open(make_settings(tmp_path, home_guild_ids=homes))
    try:
        cog = DailyRec(make_bot(lib), publisher=FakePublisher())
        interaction = mod_in(OTHER, guilds=2, lib=lib)
        await cog.set_.callback(cog, interaction, target(), time="09:00", timezone="UTC")
        schedule = await cog.service.schedule(OTHER)
        assert schedule is not None and schedule.channel_id == 555, interaction.sent
    finally:
        await lib.close()
