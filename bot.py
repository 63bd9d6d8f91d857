"""Librarian's entry point: the Discord bot process, and the door to the host's command line.

Owns the `Librarian` bot (start-up order in `setup_hook`: library -> extensions -> dynamic buttons ->
background index -> test-guild sync), `python bot.py sync` (the explicit global command sync) and the
dispatch of every other command to `cli.main`. It must not hold command logic or build SQL: slash
commands live in `cogs/`, host commands in `cli/`, answers in `service/`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from settings import Settings, SettingsError

if TYPE_CHECKING:
    from service.library import Library

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "cogs.errors",
    "cogs.archive",
    "cogs.stories",
    "cogs.search",
    "cogs.recs",
    "cogs.curate",
    "cogs.dailyrec",
)
"""Extensions loaded at start, in order; one that fails to load is logged and the rest still load."""

NO_TOKEN = (
    "DISCORD_TOKEN is not set: put your bot token in .env (copy .env.example) or the environment, "
    "then run again."
)


def _intents() -> discord.Intents:
    """Slash commands only: the default intents, with every privileged one left off."""
    intents = discord.Intents.default()
    intents.members = False
    intents.presences = False
    intents.message_content = False
    intents.guilds = True
    return intents


class Librarian(commands.Bot):
    """The bot: one Library (database, roster, title index) shared by every cog."""

    settings: Settings
    lib: Library  # set in setup_hook; cogs read it when a command runs

    def __init__(self, settings: Settings, *, open_library: bool = True) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self._open_library = open_library
        self.index_done = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._announced = False

    async def setup_hook(self) -> None:
        if self._open_library:
            from service.library import Library

            self.lib = await Library.open(self.settings)
        for name in EXTENSIONS:
            try:
                await self.load_extension(name)
            except Exception:
                log.exception("could not load extension %s", name)
        if not self._open_library:  # `bot.py sync`: the command tree is all that is needed
            return
        self._add_dynamic_buttons()
        if self.settings.index_on_start:
            self._spawn(self._index_on_start(), "start-up index")
        else:
            self._spawn(self._check_on_start(), "start-up check")
        self._spawn(self._announce_ready(), "ready announcement")
        if self.settings.test_guild_id:
            await self.sync_test_guild(self.settings.test_guild_id)

    def _add_dynamic_buttons(self) -> None:
        """Buttons that keep working after a restart (their state lives in the custom_id)."""
        try:
            from cogs.buttons import DYNAMIC_ITEMS
        except Exception:
            log.exception("could not load the persistent buttons")
            return
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    def _spawn(self, coro: object, what: str) -> None:
        task = asyncio.create_task(coro, name=what)  # type: ignore[arg-type]
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def sync_test_guild(self, guild_id: int) -> None:
        """Copy the global commands to the test guild and sync them there (instant, unlike global)."""
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException:
            log.exception("could not sync commands to test guild %s", guild_id)
            return
        log.info("synced %s commands to test guild %s", len(synced), guild_id)

    async def _index_on_start(self) -> None:
        """Check the archive (repairing what a crash left), index new and changed files of the story
        and uploads folders in the background, then refresh the caches."""
        try:
            from service.indexer import index_directory

            await self._check_archive()  # mend what a crash left before indexing
            report = await index_directory(self.lib)
            log.info("start-up index: %s", report.summary())  # the run refreshed the Library's views
            from service.search import warm
            from service.stories import rating_levels

            await warm(self.lib)  # build the filter snapshots now, not in the first member's search
            await rating_levels(self.lib)  # and the age gate title autocomplete reads
            # The archive's in-memory indexes are long-lived: move them out of the garbage collector's
            # sight so a full collection never pauses a command for a few hundred milliseconds.
            gc.collect()
            gc.freeze()
        except Exception:
            log.exception("the start-up index failed; serving the archive as it was")
        finally:
            self.index_done.set()

    async def _check_archive(self) -> None:
        """The start-up consistency check (`bot.py check --repair`); a failure is logged, not fatal."""
        try:
            from service.check import check_archive

            checked = await check_archive(self.lib, repair=True)
        except Exception:
            log.exception("the start-up check failed; serving the archive as it is")
            return
        if checked.findings:
            log.warning("start-up check:\n%s", checked.summary())

    async def _check_on_start(self) -> None:
        try:
            await self._check_archive()
        finally:
            self.index_done.set()

    async def refresh_library(self) -> None:
        """Reload what is cached in memory after the archive changed: titles, names for autocomplete."""
        from service.hits import invalidate

        await self.lib.reload_titles()
        invalidate(self.lib)

    async def _announce_ready(self) -> None:
        await self.wait_until_ready()
        await self.index_done.wait()
        if not self._announced:
            self._announced = True
            log.info("Librarian ready")

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %s guilds", self.user, self.user and self.user.id, len(self.guilds))

    async def close(self) -> None:
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        # Let them unwind (roll back, return their connections) before the engine is disposed.
        await asyncio.gather(*tasks, return_exceptions=True)
        await super().close()
        lib = getattr(self, "lib", None)
        if lib is not None:
            await lib.close()


def _log_level(name: str) -> int:
    level = logging.getLevelName(name.upper())
    return level if isinstance(level, int) else logging.INFO


async def _sync_globally(settings: Settings) -> int:
    """Log in, sync the command tree globally (takes up to an hour to show everywhere), close."""
    assert settings.discord_token
    bot = Librarian(settings, open_library=False)
    async with bot:
        await bot.login(settings.discord_token)
        synced = await bot.tree.sync()
    log.info("synced %s commands globally", len(synced))
    print(f"synced {len(synced)} commands globally")
    return 0


async def _run(settings: Settings) -> None:
    assert settings.discord_token
    async with Librarian(settings) as bot:
        await bot.start(settings.discord_token)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot (no arguments), `sync`, or any command of the host's command line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] != "sync":
        import cli

        return cli.main(args)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"{exc}: fix it in .env or the environment, then run again.", file=sys.stderr)
        return 2
    if not settings.discord_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    discord.utils.setup_logging(level=_log_level(settings.log_level))
    try:
        if args:
            return asyncio.run(_sync_globally(settings))
        asyncio.run(_run(settings))
    except discord.LoginFailure:
        print(
            "DISCORD_TOKEN was rejected by Discord: check the token in .env, then run again.", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt:
        log.info("interrupted; shutting down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
