"""The fake Discord itself, exercised by a throwaway discord.py client in this process: login, command
sync, slash command, button, autocomplete, attachment download, and the errors real Discord gives.

Owns the proof that `tests/fakediscord` speaks what discord.py 2.7 expects, independent of the bot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import pytest_asyncio
from discord import app_commands

from tests.e2e.launch_bot import point_at_fake
from tests.fakediscord import CommandUsageError, FakeDiscord, button

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


class Again(discord.ui.View):
    def __init__(self, owner: int) -> None:
        super().__init__(timeout=60)
        self.owner = owner

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner:
            await interaction.response.send_message("not yours", ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Again", custom_id="again")
    async def again(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="again!", view=self)

    @discord.ui.button(label="Later", custom_id="later")
    async def later(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="later!")


def make_client(guild_id: int) -> tuple[discord.Client, app_commands.CommandTree]:
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.1)
    tree = app_commands.CommandTree(client)
    guild = discord.Object(id=guild_id)

    @tree.command(guild=guild, description="Say it back")
    @app_commands.describe(words="What to say", times="How often")
    async def echo(interaction: discord.Interaction, words: str, times: int = 1) -> None:
        nsfw = getattr(interaction.channel, "nsfw", None)
        await interaction.response.send_message(
            f"{words * times} nsfw={nsfw}", view=Again(interaction.user.id)
        )

    @echo.autocomplete("words")
    async def words_ac(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{current}{i}", value=f"{current}{i}") for i in range(3)]

    story = app_commands.Group(name="story", description="Stories", guild_ids=[guild_id])

    @story.command(description="Add one")
    async def add(interaction: discord.Interaction, file: discord.Attachment) -> None:
        await interaction.response.defer(thinking=True)
        data = await file.read()
        await interaction.followup.send(f"{file.filename}: {len(data)} bytes")

    @tree.command(guild=guild, description="Too slow")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.6)
        await interaction.response.send_message("late")

    @tree.command(guild=guild, description="Pick things")
    async def pick(
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        who: discord.Member,
        role: discord.Role,
    ) -> None:
        await interaction.response.send_message(f"{channel.name} nsfw={channel.nsfw} {who.name} {role.name}")

    @tree.command(guild=guild, description="Too long")
    async def long(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message("x" * 2001)
        except discord.HTTPException as exc:
            await interaction.response.send_message(f"refused {exc.code}")

    tree.add_command(story)
    return client, tree


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running() -> AsyncIterator[tuple[FakeDiscord, discord.Client]]:
    from discord import gateway, http

    base, default_gateway = http.Route.BASE, gateway.DiscordWebSocket.DEFAULT_GATEWAY
    fake = await FakeDiscord(callback_deadline=0.5).start()
    point_at_fake(fake.port)
    client, tree = make_client(int(fake.guild_id))
    try:
        await client.login(fake.bot_token)
        await tree.sync(guild=discord.Object(id=int(fake.guild_id)))
        task = asyncio.create_task(client.connect(reconnect=False))
        await asyncio.wait_for(client.wait_until_ready(), 15)
        yield fake, client
        await client.close()
        await asyncio.wait_for(task, 10)
    finally:
        http.Route.BASE, gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, default_gateway
        await fake.close()


async def test_login_sync_and_ready(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, client = running
    assert client.user is not None and str(client.user.id) == fake.app_id
    guild = client.get_guild(int(fake.guild_id))
    assert guild is not None
    assert {c.name: c.nsfw for c in guild.text_channels} == {
        "general": False,
        "recs": False,
        "after-dark": True,
    }
    assert set(fake.commands[fake.guild_id]) == {"echo", "story", "slow", "pick", "long"}
    assert (
        fake.gateway_connections
        and fake.session is not None
        and fake.session.identify["token"] == fake.bot_token
    )


async def test_command_and_button(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, _ = running
    sent = await fake.send_command("echo", words="ab", times=2, channel="after-dark")
    reply = await sent.reply()
    assert reply["content"] == "abab nsfw=True"
    pressed = await fake.press(sent.message(), label="Again", user="bob")
    refused = await pressed.reply()
    assert refused["content"] == "not yours" and refused["flags"] & 64
    pressed = await fake.press(sent.message(), label="Again")
    assert (await pressed.response())["type"] == 7
    assert sent.message()["content"] == "again!"
    assert button(sent.message(), "again")["custom_id"] == "again"
    later = await fake.press(sent.message(), label="Later")
    assert (await later.response())["type"] == 6
    await fake.wait_for(lambda: sent.message()["content"] == "later!", 5, "the edit after a deferred press")


async def test_autocomplete(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, _ = running
    sent = await fake.send_autocomplete("echo", "words", words="Bu")
    callback = await sent.response()
    assert callback["type"] == 8
    assert [c["name"] for c in callback["data"]["choices"]] == ["Bu0", "Bu1", "Bu2"]


async def test_subcommand_with_attachment_and_defer(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, _ = running
    data = b"Title: X\n\nOnce upon a time.\n"
    upload = fake.add_attachment("fic.txt", data, "text/plain")
    sent = await fake.send_command("story add", file=upload)
    reply = await sent.reply()
    assert reply["content"] == f"fic.txt: {len(data)} bytes"
    assert (await sent.response())["type"] == 5
    assert any(r.route == "attachment" and r.status == 200 for r in fake.requests)
    assert sent.message()["flags"] & 128 == 0  # the followup replaced the "thinking" message


async def test_channel_member_and_role_options_resolve(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, _ = running
    sent = await fake.send_command("pick", {"channel": "after-dark"}, who="mia", role="mods")
    assert (await sent.reply())["content"] == "after-dark nsfw=True mia Mods"


async def test_usage_errors_are_caught_before_sending(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, _ = running
    with pytest.raises(CommandUsageError):
        await fake.send_command("echo", wrods="typo")
    with pytest.raises(CommandUsageError):
        await fake.send_command("echo")  # `words` is required
    with pytest.raises(CommandUsageError):
        await fake.send_command("nope")


async def test_late_answer_is_refused_and_recorded(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, _ = running
    before = len(fake.errors())
    await fake.send_command("slow")
    late = await fake.wait_for_request(lambda r: r.route == "callback" and r.status == 404, 5)
    assert late.reply["code"] == 10062
    assert len(fake.errors()) == before + 1


async def test_a_message_over_discords_limits_is_refused(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, _ = running
    sent = await fake.send_command("long")
    assert (await sent.reply())["content"] == "refused 50035"
    refused = [r for r in sent.requests() if r.status == 400]
    assert len(refused) == 1 and "2001 chars" in refused[0].reply["message"]


async def test_unknown_route_is_404_json_and_recorded(running: tuple[FakeDiscord, discord.Client]) -> None:
    fake, client = running
    with pytest.raises(discord.NotFound):
        await client.http.request(discord.http.Route("GET", "/no/such/route"))
    assert fake.requests[-1].route == "unknown" and fake.requests[-1].status == 404


async def test_problem_lines_are_found_in_coloured_output(tmp_path: Path) -> None:
    from tests.e2e.conftest import ANSI, BotProcess

    coloured = "\x1b[30;1m2026-01-01 10:00:00\x1b[0m \x1b[31mERROR   \x1b[0m \x1b[35mcogs.x\x1b[0m boom"
    bot = BotProcess(proc=None, log_file=tmp_path / "log")  # type: ignore[arg-type]
    bot.lines = [
        ANSI.sub("", coloured),
        "2026-01-01 10:00:00 INFO     bot Librarian ready",
        "Traceback (most recent call last):",
    ]
    assert bot.problems() == [bot.lines[0], bot.lines[2]]
    assert bot.problems(since=1) == [bot.lines[2]]
