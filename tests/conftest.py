"""Shared test fixtures: real SQLite databases in temp folders, the sample archive, the shared corpus.

Owns the small helpers every test file uses. Keep area-specific helpers in their own test files.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

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
    """Settings for a throwaway archive under `tmp`: its own SQLite file, stories and attic."""
    (tmp / "stories").mkdir(parents=True, exist_ok=True)
    base = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'librarian.db'}",
        stories_dir=tmp / "stories",
        removed_dir=tmp / "removed",
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
    from db.indexer import index_directory
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
