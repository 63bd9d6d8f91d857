"""bot.py: the no-token message, and what `setup_hook` wires up (cogs, commands, buttons, start-up index)."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot import NO_TOKEN, Librarian
from bot import main as bot_main
from cogs.buttons import ContinueButton, ReadButton, SimilarButton
from tests.conftest import SAMPLES_DIR, make_settings

MEMBER_COMMANDS = {"search", "fic", "read", "rec", "characters", "pairings", "stats"}
NAME_LIKE = {"title", "like", "character", "exclude_character", "pairing", "exclude_pairing", "author"}


@pytest.mark.parametrize("args", [[], ["sync"]])
def test_without_a_token_the_bot_exits_2_with_one_line_saying_what_to_set(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`bot.py` and `bot.py sync` as the script calls them (`bot.main`), in this process."""
    monkeypatch.setenv("DISCORD_TOKEN", "")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert bot_main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert line == NO_TOKEN
    assert line.startswith("DISCORD_TOKEN is not set") and ".env" in line  # says what to set, and where
    assert not (tmp_path / "x.db").exists(), "nothing is opened before the token is known"


async def test_setup_hook_loads_every_cog_indexes_in_the_background_and_announces_ready(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, index_on_start=True)
    shutil.copytree(SAMPLES_DIR, settings.stories_dir / "samples")
    caplog.set_level(logging.INFO)
    async with Librarian(settings) as bot:
        await bot.setup_hook()
        assert not bot.index_done.is_set(), "the index runs in the background, not inside setup_hook"
        await asyncio.wait_for(bot.index_done.wait(), 120)
        assert len(bot.lib.titles) > 0, "the title index was refreshed after the start-up index"
        assert "Librarian ready" not in caplog.text, "not ready before Discord's on_ready"
        bot._ready.set()  # what discord.py does when the gateway says READY
        for _ in range(50):
            if "Librarian ready" in caplog.text:
                break
            await asyncio.sleep(0.02)
        assert "Librarian ready" in caplog.text
        assert "start-up index" in caplog.text
        assert "could not load extension" not in caplog.text

        commands = {c.name: c for c in bot.tree.get_commands()}
        assert set(commands) >= MEMBER_COMMANDS
        assert bot.allowed_mentions is not None and bot.allowed_mentions.to_dict()["parse"] == []
        assert not bot.intents.message_content and not bot.intents.members and bot.intents.guilds
        dynamic = bot._connection._view_store._dynamic_items.values()  # Read, More like this, Continue
        assert {ReadButton, SimilarButton, ContinueButton} <= set(dynamic)


async def test_every_command_and_option_is_described_and_names_autocomplete(tmp_path: Path) -> None:
    async with Librarian(make_settings(tmp_path, index_on_start=False)) as bot:
        await bot.setup_hook()
        for command in bot.tree.walk_commands():
            assert command.description and command.description != "…"
            if isinstance(command, app_commands.Group):
                continue
            assert len(command.parameters) <= 25
            for param in command.parameters:
                assert param.description and param.description != "…", f"/{command.name} {param.name}"
                assert len(param.description) <= 100
                if param.name in NAME_LIKE:
                    assert param.autocomplete, f"/{command.name} {param.name} has no autocomplete"


def test_intents_leave_every_privileged_one_off() -> None:
    bot = Librarian(make_settings(Path("/tmp")), open_library=False)
    privileged = discord.Intents.none()
    privileged.members = privileged.presences = privileged.message_content = True
    assert bot.intents.value & privileged.value == 0


async def test_sync_logs_in_syncs_every_command_globally_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discord import http

    from bot import sync_globally
    from tests.fakediscord.server import FakeDiscord

    async with FakeDiscord() as fake:
        monkeypatch.setattr(http.Route, "BASE", fake.api_base)
        settings = make_settings(tmp_path, discord_token=fake.bot_token, test_guild_id=int(fake.guild_id))
        assert await sync_globally(settings) == 0
    assert set(fake.commands[None]) >= MEMBER_COMMANDS
    assert fake.guild_id not in fake.commands, "sync is global only, whatever TEST_GUILD_ID says"
    assert not fake.errors(), [str(r) for r in fake.errors()]
    assert not (tmp_path / "librarian.db").exists(), "sync needs no database"


async def test_closing_while_a_tick_is_inside_the_database_leaves_no_task_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite once hung for 20 minutes in event-loop teardown: the bot closed its library while the
    daily rec tick, cancelled mid-query, was still closing its SQLite connection, which then never
    finished. Closing the bot must wait for its background work to end, in that order."""
    from sqlalchemy import text

    from service.dailyrec import DailyRecService

    inside = asyncio.Event()

    async def busy(self: DailyRecService, now: object) -> list[object]:
        async with self.lib.sessions() as session:
            while True:  # a long query, as on a loaded machine
                await session.execute(text("SELECT count(*) FROM stories"))
                inside.set()

    monkeypatch.setattr(DailyRecService, "run_due", busy)
    async with Librarian(make_settings(tmp_path, index_on_start=False)) as bot:
        await bot.setup_hook()
        bot._ready.set()  # what discord.py does when the gateway says READY: the tick starts
        await asyncio.wait_for(inside.wait(), 60)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert left == [], f"tasks still running after close(): {left}"


async def test_the_database_check_runs_after_ready_and_mends_the_full_text_index(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The start-up check's costly half (the database file's own check: 11 s at 100,000 stories)
    no longer holds back ready: it runs once the index is done, and still rebuilds a full-text
    index whose rows disagree with the stories (here every story lost its entry; a text changed
    behind the triggers' back is `bot.py check`'s to find, `tests/test_crash.py`)."""
    from sqlalchemy import text

    from db.fts import FTS_COLUMNS, FTS_TABLE, check_index, match_ids
    from service.library import Library

    settings = make_settings(tmp_path, index_on_start=True)
    shutil.copytree(SAMPLES_DIR, settings.stories_dir / "samples")
    lib = await Library.open(settings)
    try:
        from service.indexer import index_directory

        await index_directory(lib)
        columns = ", ".join(FTS_COLUMNS)
        async with lib.transaction() as session:  # the stories stay, their full-text entries go
            await session.execute(
                text(
                    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {columns}) "
                    f"SELECT 'delete', story_id, {columns} FROM story_texts"
                )
            )
            assert not await match_ids(session, "Willow")
    finally:
        await lib.close()
    caplog.set_level(logging.INFO)
    async with Librarian(settings) as bot:
        await bot.setup_hook()
        await asyncio.wait_for(bot.index_done.wait(), 120)
        checking = [t for t in bot._background if t.get_name() == "start-up index"]
        assert checking, "the database check is still to come once the index is done"
        await asyncio.wait_for(asyncio.gather(*checking), 120)
        assert "fts-out-of-step" in caplog.text or "full-text index disagrees" in caplog.text
        async with bot.lib.sessions() as session:
            await check_index(session)
            assert len(await match_ids(session, "Willow")) > 1
