"""Librarian's entry point: the Discord bot process, and the door to the host's command line.

Owns the `Librarian` bot (start-up order in `setup_hook`: library -> extensions -> dynamic buttons ->
background index -> test-guild sync), the global command sync `cli.sync` calls, the one-line answers
to a rejected token or an unreachable Discord, and the dispatch of every command to `cli.main` (before
discord.py is imported: the command line must start at once). It must not hold command logic or build SQL: slash
commands live in `cogs/`, host commands in `cli/`, answers in `service/`.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.argv[1:]:
    # The host's command line starts here, before discord.py is even imported, so that `bot.py --help`
    # and `bot.py parse` answer at once; only the bot itself (no command) reads on.
    import cli

    sys.exit(cli.main(sys.argv[1:]))

import asyncio
import gc
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord.ext import commands

from cogs.tree import LibrarianTree
from service import chartworker
from service.lifecycle import Stopped, run_until_stopped
from service.loopwatch import LoopWatch
from service.memory import give_back_memory_every
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
    "cogs.shelves",
    "cogs.top",
)
"""Extensions loaded at start, in order; one that fails to load is logged and the rest still load."""

SHUTDOWN_WAIT = 10.0
"""Seconds `close()` waits for cancelled background work to finish before closing the database."""

STOP_DEADLINE = 10.0
"""Seconds the stop may take after `close()`: tasks still running then are named and left."""

IMPACTS_EVERY = 300.0
"""Seconds between the bot's looks at whether stories mods changed should be brought into the
common words' impacts and the pairs index (`db.textrank`; a look reads four small rows, a patch
takes seconds at 50,000 stories)."""

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

    def __init__(self, settings: Settings, *, open_library: bool = True, **options: object) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=LibrarianTree,  # every slash command is acknowledged before anything else runs
            **options,
        )
        self.settings = settings
        self._open_library = open_library
        self.index_done = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._announced = False
        self.loop_watch = LoopWatch()

    async def setup_hook(self) -> None:
        self.loop_watch.start()
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
        self._spawn(self._start_charts(), "chart process")
        self._spawn(give_back_memory_every(), "memory trim")
        if self.settings.index_on_start:  # the one process that indexes keeps the impacts up to date
            self._spawn(self._patch_impacts_every(), "word impacts")
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
        and uploads folders in a background process, then build the archive's views."""
        try:
            from service.startindex import index_in_child

            await self._check_archive(database=False)  # mend what a crash left before indexing
            self.loop_watch.reset()
            # In a process of its own: parsing and writing never hold this process's interpreter, so
            # the event loop answers commands at full speed meanwhile (the views follow the change
            # counter as stories arrive).
            report = await index_in_child(self.settings)
            log.info("start-up index: %s", report.summary())
            await self.lib.refresh()  # what the child changed, in every view now
            await self.lib.views.warm()  # every in-memory view now, not in the first member's command
            log.info("event loop during the start-up index: %s", self.loop_watch.summary())
            # The archive's in-memory indexes are long-lived: move them out of the garbage collector's
            # sight so a full collection never pauses a command for a few hundred milliseconds.
            gc.collect()
            gc.freeze()
        except Exception:
            log.exception("the start-up index failed; serving the archive as it was")
        finally:
            self.index_done.set()
        # The database's own check reads every page (11 s at 100,000 stories): after ready, while
        # commands are answered. Read-only: FTS5's integrity check (a write) runs only when the
        # full-text rows disagree with the stories, and a damaged full-text index is rebuilt.
        await self._check_archive(files=False)

    async def _check_archive(self, *, database: bool = True, files: bool = True) -> None:
        """The start-up consistency check (`bot.py check --repair`, or the part asked for); a failure
        is logged, not fatal."""
        started = time.monotonic()
        part = "the files and rows" if not database else "the database" if not files else "everything"
        try:
            from service.check import check_archive

            checked = await check_archive(
                self.lib, repair=True, database=database, files=files, thorough=False
            )
        except Exception:
            log.exception("the start-up check failed; serving the archive as it is")
            return
        if checked.findings:
            log.warning("start-up check:\n%s", checked.summary())
        found = f"{len(checked.findings)} findings" if checked.findings else "nothing wrong"
        log.info("start-up check of %s: %s (%.1f s)", part, found, time.monotonic() - started)

    async def _check_on_start(self) -> None:
        try:
            await self._check_archive(database=False)
        finally:
            self.index_done.set()
        await self._check_archive(files=False)  # after ready, as after a start-up index

    async def _patch_impacts_every(self) -> None:
        """Between index runs, bring the stories mods added or edited into the common words' impacts
        (`db.textrank.patch`: seconds, in a thread, never a build), so their searches stay fast."""
        from db.textrank import refresh

        await self.index_done.wait()
        while True:
            await asyncio.sleep(IMPACTS_EVERY)
            try:
                await asyncio.to_thread(refresh, self.settings.database_url, build_ok=False)
            except Exception:
                log.warning("could not bring changed stories into the word impacts", exc_info=True)

    async def _start_charts(self) -> None:
        try:
            await chartworker.start()  # the first /stats or /top then draws at once
        except Exception:
            log.warning("could not start the chart process; charts start on first use", exc_info=True)

    async def _announce_ready(self) -> None:
        await self.wait_until_ready()
        await self.index_done.wait()
        if not self._announced:
            self._announced = True
            log.info("Librarian ready")

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %s guilds", self.user, self.user and self.user.id, len(self.guilds))

    async def close(self) -> None:
        # Background work is cancelled and waited for (bounded) before the cogs unload and the
        # library closes: a task cancelled mid-query still has a database connection to close, and
        # closing the engine under it left that task waiting forever (a hung shutdown, a hung suite).
        background = [task for task in self._background if task is not asyncio.current_task()]
        for task in background:
            task.cancel()
        if background:
            await asyncio.wait(background, timeout=SHUTDOWN_WAIT)
        await super().close()
        self.loop_watch.stop()
        chartworker.close()
        lib = getattr(self, "lib", None)
        if lib is not None:
            await lib.close()


class ShardedLibrarian(Librarian, commands.AutoShardedBot):
    """The same bot over several shards in one process (SHARD_COUNT, and SHARD_IDS for the ones
    this process runs); other processes run the other shards against the same database."""

    def __init__(self, settings: Settings, *, open_library: bool = True) -> None:
        shard_ids = list(settings.shard_ids) if settings.shard_ids is not None else None
        super().__init__(
            settings, open_library=open_library, shard_count=settings.shard_count, shard_ids=shard_ids
        )


def make_bot(settings: Settings, *, open_library: bool = True) -> Librarian:
    """The bot the settings ask for: sharded when SHARD_COUNT is set, else one plain connection."""
    if settings.shard_count is not None:
        return ShardedLibrarian(settings, open_library=open_library)
    return Librarian(settings, open_library=open_library)


def _log_level(name: str) -> int:
    level = logging.getLevelName(name.upper())
    return level if isinstance(level, int) else logging.INFO


def setup_logging(settings: Settings) -> None:
    """discord.py's console logging, once, at the configured level."""
    discord.utils.setup_logging(level=_log_level(settings.log_level))


async def sync_globally(settings: Settings) -> int:
    """Log in, sync the command tree globally (takes up to an hour to show everywhere), close."""
    assert settings.discord_token
    bot = Librarian(settings, open_library=False)
    async with bot:
        await bot.login(settings.discord_token)
        synced = await bot.tree.sync()
    log.info("synced %s commands globally", len(synced))
    print(f"synced {len(synced)} commands globally")
    return 0


def discord_problem(exc: BaseException) -> str | None:
    """One line for the host when Discord cannot be used (rejected token, unreachable), else None."""
    if isinstance(exc, discord.LoginFailure):
        return "DISCORD_TOKEN was rejected by Discord: check the token in .env, then run again."
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return "Discord refused the intents the bot asked for; see the bot's page in the developer portal."
    if isinstance(exc, discord.HTTPException):
        return f"Discord answered {exc.status} ({exc.text or 'no reason given'}): try again later."
    if isinstance(exc, discord.GatewayNotFound | discord.ConnectionClosed):
        return "could not connect to Discord's gateway: check the network, then run again."
    if isinstance(exc, aiohttp.ClientError):  # DNS, refused connection, TLS, timeouts
        return f"could not reach Discord ({exc}): check the network, then run again."
    return None


async def _run(settings: Settings) -> None:
    assert settings.discord_token
    async with make_bot(settings) as bot:
        if settings.shard_count is not None:
            log.info("running shards %s of %s", settings.shard_ids or "all", settings.shard_count)
        await bot.start(settings.discord_token)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot (no arguments), or any command of the host's command line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        import cli

        return cli.main(args)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc.advice(), file=sys.stderr)
        return 2
    if not settings.discord_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    setup_logging(settings)
    try:
        run_until_stopped(lambda: _run(settings), STOP_DEADLINE)
    except (Stopped, KeyboardInterrupt):
        log.info("stopped")
    except Exception as exc:
        problem = discord_problem(exc)
        if problem is None:
            raise
        log.debug("the bot stopped", exc_info=True)
        print(problem, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
