"""A small indexed archive for the taste tests (shelves, kudos, recs that learn, /top): the e2e
stories (one long general story, one explicit, eight general drabbles) in a fresh SQLite file.

Owns `taste_archive` (built once per session) and `ids_by_title`. Tests copy it, so they may change it.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import make_settings
from tests.e2e.stories import write_stories


async def _build(tmp: Path) -> None:
    from service.indexer import index_directory
    from service.library import Library

    settings = make_settings(tmp)
    write_stories(settings.stories_dir / "e2e")
    lib = await Library.open(settings)
    try:
        await index_directory(lib)
    finally:
        await lib.close()


@pytest.fixture(scope="session")
def taste_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("taste")
    asyncio.run(_build(tmp))
    return tmp


@pytest.fixture
async def lib(taste_archive: Path, tmp_path: Path) -> AsyncIterator[object]:
    from service.library import Library

    shutil.copytree(taste_archive, tmp_path, dirs_exist_ok=True)
    library = await Library.open(make_settings(tmp_path))
    try:
        yield library
    finally:
        await library.close()


async def ids_by_title(lib: object) -> dict[str, int]:
    from db.models import Story

    async with lib.sessions() as session:  # type: ignore[attr-defined]
        return {title: sid for sid, title in await session.execute(select(Story.id, Story.title))}
