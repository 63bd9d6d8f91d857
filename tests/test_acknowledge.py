"""Every slash command is acknowledged before it touches the database (issue 12, item 3).

Each command of the bot's real command tree is run the way Discord's INTERACTION_CREATE runs it
(`tree._call`: the tree's check, then the command's checks, option transformers and callback) over
the indexed test archive, all at once, with every SQL statement recorded beside what the command
sent. The first thing each command sends must be its acknowledgement, before any statement; and a
private answer must never follow a public acknowledgement (it would show in the channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands
from sqlalchemy import event, select

from bot import EXTENSIONS
from cogs.tree import LibrarianTree, acknowledge, is_private
from cogs.views import Confirm
from db.models import Story
from service.library import Library
from tests.conftest import make_bot, make_interaction

CURRENT: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar("sent", default=None)
OPTION = discord.AppCommandOptionType
VALUES = {"time": "09:00"}


def _leaves(tree: app_commands.CommandTree) -> list[app_commands.Command[Any, ..., Any]]:
    return [c for c in tree.walk_commands() if isinstance(c, app_commands.Command)]


def _data(command: app_commands.Command[Any, ..., Any], story_id: int) -> dict[str, Any]:
    """The interaction data Discord would send for `command` with its required options filled."""
    options: list[dict[str, Any]] = []
    resolved: dict[str, dict[str, Any]] = {}
    for param in command.parameters:
        if not param.required:
            continue
        value: Any
        if param.type is OPTION.string:
            value = param.choices[0].value if param.choices else VALUES.get(param.name, str(story_id))
        elif param.type in (OPTION.integer, OPTION.number):
            value = param.min_value or 1
        elif param.type is OPTION.boolean:
            value = True
        elif param.type is OPTION.channel:
            value = "555"
            resolved.setdefault("channels", {})[value] = {
                "id": value, "name": "general", "type": 0, "permissions": "0", "guild_id": "42"
            }  # fmt: skip
        elif param.type is OPTION.attachment:
            value = "777"
            resolved.setdefault("attachments", {})[value] = {
                "id": value, "filename": "story.txt", "size": 10, "proxy_url": "http://127.0.0.1:9/a",
                "url": "http://127.0.0.1:9/a",
            }  # fmt: skip
        else:
            raise AssertionError(f"add a value for option type {param.type} ({command.qualified_name})")
        options.append({"name": param.name, "type": param.type.value, "value": value})
    node: Any = command
    while node.parent is not None:  # /shelf add → {"name": "shelf", "options": [{"name": "add", ...}]}
        kind = 1 if node is command else 2  # a subcommand, or a subcommand group
        options = [{"name": node.name, "type": kind, "options": options}]
        node = node.parent
    data: dict[str, Any] = {"id": "1", "name": node.name, "type": 1, "options": options}
    if resolved:
        data["resolved"] = resolved
    return data


def _interaction(bot: Any, command: Any, story_id: int) -> MagicMock:
    interaction = make_interaction(client=bot)
    interaction.type = discord.InteractionType.application_command
    interaction.command = command
    interaction.data = _data(command, story_id)
    interaction.permissions = discord.Permissions(manage_guild=True, send_messages=True)
    interaction.app_permissions = discord.Permissions.all()
    interaction.user.roles = []
    interaction.user.name = "mia"
    interaction.guild = None
    return interaction


@pytest.fixture
async def bot(archive_library: Library, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real bot (not logged in) with every extension loaded, over the indexed test archive."""

    async def no_answer(self: Confirm) -> bool:  # nobody presses Confirm: the command ends at once
        self.stop()
        return True

    monkeypatch.setattr(Confirm, "wait", no_answer)

    def record(*_args: Any) -> None:
        sent = CURRENT.get()
        if sent is not None:
            sent.append({"via": "db"})

    event.listen(archive_library.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with make_bot(archive_library) as bot:  # as a started bot is (its background loops wait)
            for name in EXTENSIONS:
                await bot.load_extension(name)
            yield bot
    finally:
        event.remove(archive_library.engine.sync_engine, "before_cursor_execute", record)


async def _run(bot: Any, interaction: MagicMock) -> None:
    CURRENT.set(interaction.sent)
    with contextlib.suppress(Exception):  # what the command did next is not this test's business
        await bot.tree._call(interaction)


async def test_the_bot_runs_the_acknowledging_tree(bot: Any) -> None:
    assert isinstance(bot.tree, LibrarianTree)
    assert len(_leaves(bot.tree)) >= 20  # every cog loaded: /fic, /read, /search, /shelf …, /story …


async def test_every_command_is_acknowledged_before_it_reads_the_database(
    bot: Any, archive_library: Library
) -> None:
    async with archive_library.sessions() as session:
        story_id = int(await session.scalar(select(Story.id).order_by(Story.id).limit(1)) or 0)
    await archive_library.views.refresh(force=True)  # the views' own first read is not a command's
    commands = _leaves(bot.tree)
    interactions = [_interaction(bot, command, story_id) for command in commands]
    # all at once, as a burst arrives: each command's statements are recorded in its own context
    await asyncio.gather(
        *(asyncio.create_task(_run(bot, i), context=contextvars.copy_context()) for i in interactions)
    )
    late, leaks = [], []
    silent = [f"/{c.qualified_name}" for c, i in zip(commands, interactions, strict=True) if len(i.sent) < 2]
    assert not silent, f"commands that never answered (did they run at all?): {silent}"
    for command, interaction in zip(commands, interactions, strict=True):
        moves = [m["via"] for m in interaction.sent]
        if not moves or moves[0] not in ("defer", "response"):
            late.append(f"/{command.qualified_name}: {moves[:4]}")
            continue
        public = interaction.sent[0]["via"] == "defer" and interaction.sent[0].get("ephemeral") is not True
        deleted = False
        for message in interaction.sent[1:]:
            deleted = deleted or message["via"] == "delete_original"
            if public and not deleted and message["via"] == "followup" and message.get("ephemeral"):
                leaks.append(f"/{command.qualified_name}")
    assert not late, "commands that did something before acknowledging:\n" + "\n".join(late)
    assert not leaks, f"private answers after a public acknowledgement (shown to the channel): {leaks}"
    touched = sum(1 for i in interactions if any(m["via"] == "db" for m in i.sent))
    assert touched >= len(commands) // 2  # the check means something: most commands do read the database


async def test_private_commands_are_acknowledged_privately(bot: Any) -> None:
    by_name = {c.qualified_name: c for c in _leaves(bot.tree)}
    for name in ("shelf add", "shelf show", "story add", "story remove", "dailyrec show", "forget-me"):
        assert is_private(by_name[name]), name
    for name in ("fic", "read", "search", "rec", "stats", "top"):
        assert not is_private(by_name[name]), name
    interaction = make_interaction(client=bot)
    interaction.command = by_name["shelf show"]
    await acknowledge(interaction)
    await acknowledge(interaction)  # already acknowledged: nothing more is sent
    assert [(m["via"], m["ephemeral"]) for m in interaction.sent] == [("defer", True)]


async def test_a_burst_is_acknowledged_before_any_command_starts_its_work(bot: Any) -> None:
    """Three commands arrive together; their acknowledgements take a while (Discord is slow). None of
    them may start its work (leave the tree's check) before all three are acknowledged."""
    tree: LibrarianTree = bot.tree
    fic = next(c for c in _leaves(tree) if c.name == "fic")
    gate = asyncio.Event()
    events: list[str] = []
    interactions = []
    for n in range(3):
        interaction = make_interaction(client=bot, user_id=2000 + n)
        interaction.type = discord.InteractionType.application_command
        interaction.command = fic
        record = interaction.response.defer.side_effect

        async def slow_defer(*args: Any, _n: int = n, _record: Any = record, **kwargs: Any) -> Any:
            await gate.wait()
            events.append(f"acknowledged {_n}")
            return await _record(*args, **kwargs)

        interaction.response.defer.side_effect = slow_defer
        interactions.append(interaction)

    async def check(n: int) -> None:
        assert await tree.interaction_check(interactions[n])
        events.append(f"work {n}")

    tasks = [asyncio.create_task(check(n)) for n in range(3)]
    await asyncio.sleep(0.05)
    assert events == []  # every one of them is waiting on its acknowledgement
    gate.set()
    await asyncio.gather(*tasks)
    assert events[:3] == ["acknowledged 0", "acknowledged 1", "acknowledged 2"], events
    assert sorted(events[3:]) == ["work 0", "work 1", "work 2"]
