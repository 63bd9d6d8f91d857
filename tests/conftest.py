"""Shared test fixtures: real SQLite databases in temp folders (and, for the database tests, real
PostgreSQL databases too: see `tests/pg.py`), the bundled test archive, the shared corpus.

Owns the small helpers every test file uses, and the one rule about `../shared`: only tests marked
`@pytest.mark.corpus` (they read `../shared/corpus`) or `@pytest.mark.seeds` (`../shared/seeds`) may
touch it, and they are skipped with a reason when it is absent (a clone of the repository alone).
`LIBRARIAN_SHARED_DIR` points at another shared folder (a missing path: run as if there were none).
Every other test runs on `tests/archive/` (see `tests/sample_archive.py`). Keep area-specific helpers
in their own test files.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock, PropertyMock

import discord
import pytest

from settings import ROOT, Settings

SHARED_DIR = Path(os.environ.get("LIBRARIAN_SHARED_DIR") or ROOT.parent / "shared").resolve()
SEEDS_DIR = SHARED_DIR / "seeds"
CORPUS_DIR = SHARED_DIR / "corpus"
SAMPLES_DIR = ROOT / "stories"
ROSTER_FILE = ROOT / "fandoms" / "buffyverse.yaml"
SHARED_MARKERS = {"corpus": CORPUS_DIR, "seeds": SEEDS_DIR}
"""Markers of the tests that read shared test data, and the folder each one needs."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, with the reason, every corpus/seeds test whose shared folder is absent."""
    for item in items:
        for marker, folder in SHARED_MARKERS.items():
            if item.get_closest_marker(marker) is not None and not folder.is_dir():
                reason = (
                    f"{folder} is absent (shared {marker} data lives beside the repo; LIBRARIAN_SHARED_DIR)"
                )
                item.add_marker(pytest.mark.skip(reason=reason))


def make_settings(tmp: Path, **changes: object) -> Settings:
    """Settings for a throwaway archive under `tmp`: its own SQLite file, stories, uploads and attic."""
    (tmp / "stories").mkdir(parents=True, exist_ok=True)
    base = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'librarian.db'}",
        stories_dir=tmp / "stories",
        removed_dir=tmp / "removed",
        uploads_dir=tmp / "uploads",
        data_dir=tmp,
        roster_file=ROSTER_FILE,
    )
    return base.with_(**changes) if changes else base


def fill_corpus(stories: Path) -> None:
    """Copy the bundled samples, the shared seeds and the shared corpus into `stories` (corpus tests)."""
    shutil.copytree(SAMPLES_DIR, stories / "samples", dirs_exist_ok=True)
    shutil.copytree(SEEDS_DIR, stories / "seeds", dirs_exist_ok=True)
    shutil.copytree(CORPUS_DIR / "antennapedia", stories / "antennapedia", dirs_exist_ok=True)
    shutil.copytree(CORPUS_DIR / "ao3-downloads", stories / "ao3", dirs_exist_ok=True)


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The database tests (modules in `tests.pg.DB_MODULES`) run once per backend."""
    from tests.pg import DB_MODULES

    if "db_backend" not in metafunc.fixturenames or metafunc.definition.get_closest_marker("sqlite_only"):
        return
    if metafunc.module.__name__.rsplit(".", 1)[-1] in DB_MODULES:
        # the PostgreSQL variant carries the `postgres` marker: `.ci/run`'s PostgreSQL pass is `-m postgres`
        metafunc.parametrize(
            "db_backend",
            [b if b == "sqlite" else pytest.param(b, marks=pytest.mark.postgres) for b in BACKENDS],
        )


@pytest.fixture
def db_backend() -> str:
    """Which engine the test's Library uses (parametrised over both in the database test modules)."""
    return "sqlite"


def _build_now(tmp: Path, fill: Callable[[Path], object]) -> None:
    """Build an indexed archive in `tmp`, on a thread of its own: a session fixture may be first asked
    for from inside a running event loop (an async fixture), where `asyncio.run` cannot run."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _build(tmp, fill)).result()


async def _build(tmp: Path, fill: Callable[[Path], object], database_url: str | None = None) -> None:
    from service.indexer import index_directory
    from service.library import Library

    settings = make_settings(tmp)
    if database_url is None:
        fill(settings.stories_dir)
    else:  # a PostgreSQL build indexes the stories of an existing build
        settings = settings.with_(database_url=database_url)
    lib = await Library.open(settings)
    try:
        report = await index_directory(lib)
    finally:
        await lib.close()
    assert not report.failed, f"the archive under test has files that do not index: {report.failed}"


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every bot.py it starts) gets its own DATA_DIR: no test reads or writes the
    repo's data/ folder (a host's uploads there must not change what a test sees)."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def built_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the indexed bundled test archive (`tests/archive/`), built once per run."""
    from tests.sample_archive import build

    tmp = tmp_path_factory.mktemp("archive")
    _build_now(tmp, build)
    return tmp


@pytest.fixture(scope="session")
def built_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the indexed real corpus (samples + seeds + corpus); only for corpus tests."""
    if not (CORPUS_DIR.is_dir() and SEEDS_DIR.is_dir()):
        pytest.skip(f"{SHARED_DIR} has no corpus and seeds (mark the test @pytest.mark.corpus)")
    tmp = tmp_path_factory.mktemp("corpus")
    _build_now(tmp, fill_corpus)
    return tmp


async def _private_copy(built: Path, tmp_path: Path) -> AsyncIterator[object]:
    from service.library import Library

    shutil.copytree(built, tmp_path, dirs_exist_ok=True)
    lib = await Library.open(make_settings(tmp_path))
    try:
        yield lib
    finally:
        await lib.close()


_PG_TEMPLATES: dict[str, str] = {}


async def _pg_template(key: str, build: object) -> str:
    """The name of a template database built once per run by `build(url)` (migrated, or indexed)."""
    from sqlalchemy.engine import make_url

    from tests.pg import create_database

    if key not in _PG_TEMPLATES:
        url = await create_database()
        await build(url)  # type: ignore[operator]
        _PG_TEMPLATES[key] = make_url(url).database or ""
    return _PG_TEMPLATES[key]


async def _migrate(url: str) -> None:
    from db.engine import create_engine
    from db.migrate import upgrade

    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


_PG_SCRATCH: list[str] = []


def _forget_snapshots(lib: object) -> None:
    """The scratch PostgreSQL database keeps its URL from test to test, and the service keeps its
    snapshots per URL: forget the previous test's (SQLite tests get a new file, so a new URL)."""
    from service import hits

    forget = getattr(hits, "invalidate", None)
    if forget is not None:
        forget(lib)


@pytest.fixture
async def test_database_url(db_backend: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test: a SQLite file in `tmp_path`, or this test
    process's PostgreSQL scratch database (cloned once from a migrated template, emptied per test)."""
    if db_backend == "sqlite":
        return make_settings(tmp_path).database_url
    from tests.pg import create_database, empty_database

    if not _PG_SCRATCH:
        _PG_SCRATCH.append(await create_database(template=await _pg_template("migrated", _migrate)))
    else:
        await empty_database(_PG_SCRATCH[0])
    return _PG_SCRATCH[0]


@pytest.fixture
async def blank_database_url(db_backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database with nothing in it yet (no migrations): a new SQLite file, or a new PostgreSQL
    database dropped after the test."""
    if db_backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'blank.sqlite'}"
        return
    from tests.pg import create_database, drop_database

    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
async def library(test_database_url: str, tmp_path: Path, db_backend: str) -> AsyncIterator[object]:
    """An empty, migrated Library over a fresh database (SQLite, or PostgreSQL in its variant)."""
    from service.library import Library

    lib = await Library.open(make_settings(tmp_path, database_url=test_database_url))
    if db_backend == "postgresql":
        _forget_snapshots(lib)
    try:
        yield lib
    finally:
        await lib.close()


@pytest.fixture
async def archive_library(built_archive: Path, tmp_path: Path, db_backend: str) -> AsyncIterator[object]:
    """A Library over a private copy of the indexed test archive (tests may change it freely); in
    the PostgreSQL variant the same stories, indexed once into a template database."""
    from service.library import Library

    shutil.copytree(built_archive, tmp_path, dirs_exist_ok=True)
    settings = make_settings(tmp_path)
    url = None
    if db_backend == "postgresql":
        from tests.pg import create_database, drop_database

        async def build(target: str) -> None:
            await _build(built_archive, lambda _stories: None, database_url=target)

        url = await create_database(template=await _pg_template("archive", build))
        settings = settings.with_(database_url=url)
    lib = await Library.open(settings)
    try:
        yield lib
    finally:
        await lib.close()
        if url is not None:
            await drop_database(url)


@pytest.fixture(params=["test-archive", pytest.param("corpus", marks=pytest.mark.corpus)])
async def any_archive(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[object]:
    """The test archive, and the real corpus too when it is there: checks that hold for any archive."""
    built = request.getfixturevalue("built_archive" if request.param == "test-archive" else "built_corpus")
    async for lib in _private_copy(built, tmp_path):
        yield lib


@pytest.fixture
async def corpus_library(built_corpus: Path, tmp_path: Path) -> AsyncIterator[object]:
    """A Library over a private copy of the indexed real corpus (tests marked corpus only)."""
    async for lib in _private_copy(built_corpus, tmp_path):
        yield lib


# --- Discord interaction mocks for the cog tests (tests/test_cog_*.py) ---------------------------


def make_interaction(
    *, nsfw: bool = False, user_id: int = 1001, guild_id: int | None = 42, client: object = None
) -> MagicMock:
    """A `discord.Interaction` mock (spec'd) whose sends are recorded in order in `.sent`.

    `.sent` holds one dict per message or edit: `via` (response / followup / edit / defer) plus the
    keyword arguments given (a positional content becomes `content`). `response.is_done()` turns
    True after the first response, as in discord.py.
    """
    interaction = MagicMock(spec=discord.Interaction)
    interaction.user = MagicMock(spec=discord.Member, id=user_id, display_name="Reader One")
    interaction.guild_id = guild_id
    interaction.channel_id = 555
    channel = MagicMock(spec=discord.TextChannel, id=555)
    channel.is_nsfw.return_value = nsfw
    interaction.channel = channel
    interaction.client = client
    interaction.extras = {}
    interaction.command = None
    interaction.sent = []
    state: dict[str, discord.InteractionResponseType | None] = {"type": None}
    kinds = discord.InteractionResponseType
    types = {
        "response": kinds.channel_message,
        "defer": kinds.deferred_channel_message,
        "edit": kinds.message_update,
    }

    def recorder(via: str, responds: bool) -> AsyncMock:
        async def record(*args: object, **kwargs: object) -> MagicMock:
            if responds:
                state["type"] = types[via]
            if args:
                kwargs["content"] = args[0]
            interaction.sent.append({"via": via, **kwargs})
            return MagicMock(spec=discord.WebhookMessage)

        return AsyncMock(side_effect=record)

    response = MagicMock(spec=discord.InteractionResponse)
    response.send_message = recorder("response", True)
    response.defer = recorder("defer", True)
    response.edit_message = recorder("edit", True)
    response.is_done.side_effect = lambda: state["type"] is not None
    type(response).type = PropertyMock(side_effect=lambda: state["type"])
    interaction.response = response
    followup = MagicMock(spec=discord.Webhook)
    followup.send = recorder("followup", False)
    interaction.followup = followup
    interaction.edit_original_response = recorder("edit_original", False)
    interaction.delete_original_response = recorder("delete_original", False)
    return interaction


async def invoke(command: Any, cog: object, interaction: Any, *args: object, **options: object) -> None:
    """Run a slash command as the command tree does: its checks first (`@mod_only()` …), then each
    typed option through its transformer (`Story`, `TimeZone` …), then its callback; an error goes to
    the bot's one error handler (`cogs.errors.report`), as in Discord."""
    from discord import app_commands

    from cogs.errors import report

    if interaction.client is None:  # in Discord, the interaction's client is the bot holding the cog
        interaction.client = cog.bot  # type: ignore[attr-defined]
    try:
        if not await command._check_can_run(interaction):
            raise app_commands.CheckFailure(f"The check functions for {command.name} failed.")
        for name, value in list(options.items()):
            if isinstance(value, str) and name in command._params:
                options[name] = await command._params[name].transform(interaction, value)
        await command.callback(cog, interaction, *args, **options)
    except Exception as error:
        await report(interaction, error)


def make_bot(lib: object) -> object:
    """The real `Librarian` bot object (not logged in) holding `lib`, for constructing cogs."""
    from bot import Librarian

    bot = Librarian(lib.settings)  # type: ignore[attr-defined]
    bot.lib = lib  # type: ignore[assignment]
    return bot


def assert_within_limits(sent: list[dict[str, object]]) -> None:
    """Every recorded message fits Discord: content 1..2000 characters (or an embed), embeds in limits."""
    for message in sent:
        if message["via"] in {"defer", "delete_original"}:
            continue
        content = message.get("content")
        embeds = [e for e in [message.get("embed"), *(message.get("embeds") or [])] if e]
        assert content is None or 0 < len(content) <= 2000, f"content of {len(content or '')} characters"
        assert content or embeds or "view" in message, f"an empty message: {message}"
        assert sum(len(e) for e in embeds) <= 6000
        for embed in embeds:
            assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
            assert len(embed.fields) <= 25 and len(embed.footer.text or "") <= 2048
            assert len(embed.author.name or "") <= 256
            for field in embed.fields:
                assert 0 < len(field.name) <= 256 and 0 < len(field.value) <= 1024
