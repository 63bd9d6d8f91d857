"""Shared test fixtures: real SQLite databases in temp folders, the sample archive, the shared corpus.

Owns the small helpers every test file uses. Keep area-specific helpers in their own test files.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock, PropertyMock

import discord
import pytest

from settings import ROOT, Settings

SEEDS_DIR = ROOT.parent / "shared" / "seeds"
CORPUS_DIR = ROOT.parent / "shared" / "corpus"
SAMPLES_DIR = ROOT / "stories"
ROSTER_FILE = ROOT / "fandoms" / "buffyverse.yaml"


def need(path: Path) -> Path:
    """Skip the calling test politely when shared test data is absent (a clone elsewhere)."""
    if not path.exists():
        pytest.skip(f"{path} is absent (shared test data lives beside the repo)")
    return path


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


def fill_archive(stories: Path, *, corpus: bool) -> None:
    """Copy the bundled samples, the seeds and (optionally) the shared corpus into `stories`."""
    shutil.copytree(SAMPLES_DIR, stories / "samples", dirs_exist_ok=True)
    if SEEDS_DIR.exists():
        shutil.copytree(SEEDS_DIR, stories / "seeds", dirs_exist_ok=True)
    if corpus and CORPUS_DIR.exists():
        shutil.copytree(CORPUS_DIR / "antennapedia", stories / "antennapedia", dirs_exist_ok=True)
        shutil.copytree(CORPUS_DIR / "ao3-downloads", stories / "ao3", dirs_exist_ok=True)


async def _build(tmp: Path, corpus: bool) -> None:
    from service.indexer import index_directory
    from service.library import Library

    settings = make_settings(tmp)
    fill_archive(settings.stories_dir, corpus=corpus)
    lib = await Library.open(settings)
    try:
        await index_directory(lib)
    finally:
        await lib.close()


@pytest.fixture(scope="session")
def built_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding an indexed archive (samples + seeds + corpus), built once per test run."""
    tmp = tmp_path_factory.mktemp("archive")
    asyncio.run(_build(tmp, corpus=True))
    return tmp


@pytest.fixture
async def library(tmp_path: Path) -> AsyncIterator[object]:
    """An empty, migrated Library over a fresh SQLite file."""
    from service.library import Library

    lib = await Library.open(make_settings(tmp_path))
    try:
        yield lib
    finally:
        await lib.close()


@pytest.fixture
async def archive_library(built_archive: Path, tmp_path: Path) -> AsyncIterator[object]:
    """A Library over a private copy of the indexed archive (tests may change it freely)."""
    from service.library import Library

    shutil.copytree(built_archive, tmp_path, dirs_exist_ok=True)
    lib = await Library.open(make_settings(tmp_path))
    try:
        yield lib
    finally:
        await lib.close()


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
